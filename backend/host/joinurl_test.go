package host

import (
	"net"
	"slices"
	"testing"
)

func TestJoinURLs(t *testing.T) {
	lan := []net.IP{net.ParseIP("192.168.1.20").To4(), net.ParseIP("10.0.0.7").To4()}
	for _, c := range []struct {
		name  string
		bound net.IP
		names []string
		lan   []net.IP
		want  []string
	}{
		{"every address: one link per LAN address", net.IPv4zero, nil, lan,
			[]string{"http://192.168.1.20:47800/#fp=k", "http://10.0.0.7:47800/#fp=k"}},
		{"every address (IPv6 form)", net.IPv6unspecified, nil, lan[:1],
			[]string{"http://192.168.1.20:47800/#fp=k"}},
		{"with a certificate its names come first, over https", net.IPv4zero, []string{"chat.school.test"}, lan[:1],
			[]string{"https://chat.school.test:47800/#fp=k", "http://192.168.1.20:47800/#fp=k"}},
		{"no LAN address: this computer", net.IPv4zero, nil, nil,
			[]string{"http://127.0.0.1:47800/#fp=k"}},
		{"one address: that one only", net.ParseIP("10.0.0.7"), nil, lan,
			[]string{"http://10.0.0.7:47800/#fp=k"}},
		{"loopback: no dead LAN links", net.ParseIP("127.0.0.1"), []string{"chat.school.test"}, lan,
			[]string{"http://127.0.0.1:47800/#fp=k"}},
		{"IPv6 loopback", net.IPv6loopback, nil, lan,
			[]string{"http://[::1]:47800/#fp=k"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := joinURLs(c.bound, 47800, c.names, c.lan, "k"); !slices.Equal(got, c.want) {
				t.Errorf("got %v, want %v", got, c.want)
			}
		})
	}
}

// A host started on 127.0.0.1 says so: its only link is the loopback one.
func TestLoopbackHostHasOnlyItsLoopbackLink(t *testing.T) {
	h := runHost(t, Config{Name: "Sala 3"})
	if !h.LoopbackOnly() {
		t.Fatal("a host on 127.0.0.1 is not loopback-only")
	}
	if urls := h.JoinURLs(); len(urls) != 1 || urls[0] != "http://"+h.ln.Addr().String()+"/#fp="+h.Fingerprint() {
		t.Fatalf("join links %v", urls)
	}
}
