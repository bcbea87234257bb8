package discovery

import (
	"net"
	"slices"
	"testing"
	"time"
)

func TestIsVirtual(t *testing.T) {
	for name, want := range map[string]bool{
		"eth0": false, "enp3s0": false, "wlan0": false, "wlp2s0": false, "en0": false, "Ethernet": false, "Wi-Fi": false,
		"docker0": true, "br-1a2b": true, "veth12ab": true, "virbr0": true, "tun0": true, "tap1": true, "wg0": true,
		"utun3": true, "tailscale0": true, "vEthernet (WSL)": true, "zt0": true, "cni0": true, "lxcbr0": true,
	} {
		if got := IsVirtual(name); got != want {
			t.Errorf("IsVirtual(%q) = %v", name, got)
		}
	}
}

func TestSelectIfaces(t *testing.T) {
	all := []Iface{loIface, eth0, iface("wlan0", 3, lanFlags), iface("docker0", 4, lanFlags, "172.17.0.1"),
		iface("eth1", 5, lanFlags&^net.FlagUp, "10.1.0.1"), iface("ptp0", 6, net.FlagUp, "10.2.0.1")}
	use, skipped := SelectIfaces(all, nil)
	var names []string
	for _, i := range use {
		names = append(names, i.Name)
	}
	if !slices.Equal(names, []string{"eth0"}) {
		t.Errorf("use %v", names)
	}
	want := []Skipped{{"lo", "loopback"}, {"wlan0", "no address"}, {"docker0", "container bridge or VPN tunnel"},
		{"eth1", "down"}, {"ptp0", "no multicast"}}
	if !slices.Equal(skipped, want) {
		t.Errorf("skipped %v", skipped)
	}
	use, _ = SelectIfaces(all, []string{"lo"})
	if len(use) != 1 || use[0].Name != "lo" {
		t.Errorf("explicit lo: %v", use)
	}
}

func TestLinkFingerprint(t *testing.T) {
	const fp = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
	for link, want := range map[string]string{
		"http://10.0.0.2:47800/#fp=" + fp:                   fp,
		"http://10.0.0.2:47800/#as=Ana&fp=" + fp:            fp,
		"http://10.0.0.2:47800/#fp=ABCD-EFGH":               "abcdefgh",
		"http://10.0.0.2:47800/":                            "",
		"http://10.0.0.2:47800/?fp=" + fp:                   "",
		"10.0.0.2":                                          "",
		"http://10.0.0.2:47800/#fp=" + fp + "&fp=elsewhere": fp,
	} {
		if got := LinkFingerprint(link); got != want {
			t.Errorf("LinkFingerprint(%q) = %q, want %q", link, got, want)
		}
	}
}

func TestParseAddr(t *testing.T) {
	for in, want := range map[string]string{
		"10.0.0.2:47800": "10.0.0.2:47800", "10.0.0.2": "10.0.0.2:47800", " http://10.0.0.2:5000/ ": "10.0.0.2:5000",
		"http://host.local": "host.local:47800", "[fd00::1]:80": "[fd00::1]:80", "fd00::1": "[fd00::1]:47800",
		"http://[fd00::1]:9/room": "[fd00::1]:9", "https://chat.school.example/": "chat.school.example:47800",
		"http://10.0.0.2:47800/#fp=abc": "10.0.0.2:47800",
	} {
		if got, err := ParseAddr(in); err != nil || got != want {
			t.Errorf("ParseAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"", "ws://x/", "ftp://x", "x:0", "x:99999", "a b", "http://:80", "x:y"} {
		if got, err := ParseAddr(in); err == nil {
			t.Errorf("ParseAddr(%q) = %q, want an error", in, got)
		}
	}
}

func TestInstanceNames(t *testing.T) {
	if got := InstanceName(" Ana.Laptop\\x\n "); got != "Ana-Laptop-x" {
		t.Errorf("InstanceName = %q", got)
	}
	long := InstanceName(string(make([]rune, 0)) + "ção-ção-ção-ção-ção-ção-ção-ção-ção-ção-ção-ção-ção-ção")
	if len(long) > 63 {
		t.Errorf("%d bytes", len(long))
	}
	taken := map[string]bool{"a": true, "a (2)": true}
	if got := uniqueName("a", func(s string) bool { return taken[s] }); got != "a (3)" {
		t.Errorf("uniqueName = %q", got)
	}
	if baseOf("a (3)") != "a" || baseOf("a (b)") != "a (b)" {
		t.Error("baseOf")
	}
}

func TestTXTRoundTrip(t *testing.T) {
	o := Own{Name: "João's PC", Version: "1.2", Protocol: 1, Members: 3, Rooms: 5, JoinCode: true}
	m := ParseTXT(o.TXT("id1"))
	if m["name"] != "João's PC" || m["members"] != "3" || m["rooms"] != "5" || m["code"] != "1" || m["id"] != "id1" || m["proto"] != "1" {
		t.Errorf("TXT %v", m)
	}
}

func TestPeerSame(t *testing.T) {
	p := Peer{ID: "a", Addrs: []string{"x"}, LastSeen: time.Now()}
	q := p
	q.LastSeen = q.LastSeen.Add(time.Second)
	if !p.same(q) {
		t.Error("LastSeen alone counts as a change")
	}
	q.Members = 1
	if p.same(q) {
		t.Error("members change not seen")
	}
}
