package nstest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"lanchat/backend/discovery"
	"lanchat/backend/discovery/mdns"
)

const roleEnv = "LANCHAT_NSTEST_ROLE"

func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "browse" {
		os.Exit(browseChild())
	}
	code := m.Run()
	CleanupBuild()
	os.Exit(code)
}

// foundJSON is what the browse child prints per service found.
type foundJSON struct {
	Instance string            `json:"instance"`
	Port     int               `json:"port"`
	TXT      map[string]string `json:"txt"`
	Addrs    []string          `json:"addrs"`
}

type printer struct{ enc *json.Encoder }

func (p printer) Found(f discovery.Found) {
	j := foundJSON{Instance: f.Instance, Port: f.Port, TXT: discovery.ParseTXT(f.Text)}
	for _, a := range f.Addrs {
		j.Addrs = append(j.Addrs, a.String())
	}
	p.enc.Encode(j)
}

func (printer) Traffic(discovery.Traffic) {}

// browseChild runs inside a host's namespace: it browses on eth0 with the
// mdns adapter for a while and prints what it finds, one JSON per line.
func browseChild() int {
	all, err := discovery.ListIfaces()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	use, _ := discovery.SelectIfaces(all, []string{"eth0"})
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := mdns.New().Browse(ctx, use, printer{json.NewEncoder(os.Stdout)}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// browseFrom runs the browse child in h and returns what it found by host id.
func browseFrom(t *testing.T, h *Host) map[string]foundJSON {
	t.Helper()
	p := h.Start(t, []string{roleEnv + "=browse"}, os.Args[0], "-test.run=^$")
	if err := p.Wait(20 * time.Second); err != nil {
		t.Fatalf("browse child: %v", err)
	}
	out := map[string]foundJSON{}
	for _, l := range p.Out.All() {
		var f foundJSON
		if json.Unmarshal([]byte(l.Text), &f) == nil {
			out[f.TXT["id"]] = f
		}
	}
	return out
}

func maxDur(ds ...time.Duration) time.Duration { return slices.Max(ds) }

// (a) three hosts on a bridge list each other with the right address,
// port and TXT; an alive peer never flaps.
func TestThreeHostsListEachOther(t *testing.T) {
	Require(t)
	t.Parallel()
	bin := Lanchat(t)
	lan := NewLAN(t)
	a, b, c := lan.AddHost("hosta", 1), lan.AddHost("hostb", 2), lan.AddHost("hostc", 3)
	la, lb := a.Serve(t, bin, ""), b.Serve(t, bin, "")
	idA, idB := la.SelfID(t), lb.SelfID(t)
	la.MustList(t, 0, idB, b)
	lb.MustList(t, 0, idA, a)

	lc := c.Serve(t, bin, "")
	idC := lc.SelfID(t)
	seen := []time.Duration{
		la.MustList(t, 0, idC, c).At.Sub(lc.Started),
		lb.MustList(t, 0, idC, c).At.Sub(lc.Started),
		lc.MustList(t, 0, idA, a).At.Sub(lc.Started),
		lc.MustList(t, 0, idB, b).At.Sub(lc.Started),
	}
	t.Logf("a third host is listed by both others, and lists them, %v after it starts (each: %v)", maxDur(seen...), seen)

	found := browseFrom(t, a)
	for _, p := range []struct {
		h  *Host
		id string
	}{{b, idB}, {c, idC}} {
		f, ok := found[p.id]
		if !ok {
			t.Errorf("browsing from %s did not find %s: %+v", a.Name, p.h.Name, found)
			continue
		}
		want := map[string]string{"txtvers": "1", "proto": "1", "id": p.id, "name": p.h.Name,
			"members": "0", "rooms": "4", "code": "0", "ver": "dev"}
		for k, v := range want {
			if f.TXT[k] != v {
				t.Errorf("%s TXT %s=%q, want %q (all: %v)", p.h.Name, k, f.TXT[k], v, f.TXT)
			}
		}
		if f.Port != Port || !slices.Equal(f.Addrs, []string{p.h.IP}) || f.Instance != p.h.Name {
			t.Errorf("%s advertised as %q port %d at %v, want %q port %d at [%s]", p.h.Name, f.Instance, f.Port, f.Addrs, p.h.Name, Port, p.h.IP)
		}
	}

	var peers discovery.PeersJSON
	if err := a.GetJSON(a.URL("/api/peers"), &peers); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range peers.Peers {
		ids = append(ids, p.ID)
		if p.ID == idA && !p.Self {
			t.Errorf("own host not marked self: %+v", p)
		}
	}
	if len(peers.Peers) != 3 || !slices.Contains(ids, idB) || !slices.Contains(ids, idC) || peers.Peers[0].ID != idA {
		t.Errorf("GET /api/peers on %s = %+v", a.Name, peers.Peers)
	}

	// Alive peers stay listed across several probe rounds and re-browses.
	time.Sleep(6 * time.Second)
	for _, s := range []*Serving{la, lb, lc} {
		if pl, ok := s.WaitEvent(0, "removed", "", 0); ok {
			t.Errorf("%s dropped an alive peer: %+v", s.Host.Name, pl)
		}
	}
	var d discovery.Diagnosis
	if err := b.GetJSON(b.URL("/api/discovery"), &d); err != nil {
		t.Fatal(err)
	}
	if !d.Enabled || !d.OwnEcho || !d.OthersSeen || len(d.Interfaces) != 1 || d.Interfaces[0].Name != "eth0" || len(d.ReachableFrom) != 2 {
		t.Errorf("diagnosis on a working LAN: %+v", d)
	}
}

// (b) clean quit, (d) restart with the same id, (c) kill -9, and a pulled
// link: each time the others drop the host (and list it again after the
// restart).
func TestDepartures(t *testing.T) {
	Require(t)
	t.Parallel()
	bin := Lanchat(t)
	lan := NewLAN(t)
	a, b, c := lan.AddHost("hosta", 1), lan.AddHost("hostb", 2), lan.AddHost("hostc", 3)
	la, lb, lc := a.Serve(t, bin, ""), b.Serve(t, bin, ""), c.Serve(t, bin, "")
	idB, idC := lb.SelfID(t), lc.SelfID(t)
	la.MustList(t, 0, idB, b)
	la.MustList(t, 0, idC, c)

	t.Run("clean quit", func(t *testing.T) {
		t0 := time.Now()
		lb.Signal(syscall.SIGINT)
		pl, ok := la.WaitEvent(0, "removed", idB, 20*time.Second)
		if !ok {
			t.Fatalf("%s still lists %s after it quit", a.Name, b.Name)
		}
		t.Logf("dropped %v after a clean quit", pl.At.Sub(t0))
		if err := lb.Wait(10 * time.Second); err != nil {
			t.Errorf("lanchat did not exit cleanly: %v", err)
		}
	})
	t.Run("restart keeps the id", func(t *testing.T) {
		from := len(la.Out.All())
		lb2 := b.Serve(t, bin, lb.DataDir)
		if id := lb2.SelfID(t); id != idB {
			t.Fatalf("restarted host has id %s, was %s", id, idB)
		}
		pl := la.MustList(t, from, idB, b)
		t.Logf("listed again %v after the restart", pl.At.Sub(lb2.Started))
		lb = lb2
	})
	t.Run("kill -9", func(t *testing.T) {
		from := len(la.Out.All())
		t0 := time.Now()
		lb.Signal(syscall.SIGKILL)
		pl, ok := la.WaitEvent(from, "removed", idB, 20*time.Second)
		if !ok {
			t.Fatalf("%s still lists %s after kill -9", a.Name, b.Name)
		}
		t.Logf("dropped %v after kill -9", pl.At.Sub(t0))
	})
	t.Run("pulled link", func(t *testing.T) {
		t0 := time.Now()
		c.SetLink("eth0", false)
		pl, ok := la.WaitEvent(0, "removed", idC, 20*time.Second)
		if !ok {
			t.Fatalf("%s still lists %s after its link went down", a.Name, c.Name)
		}
		t.Logf("dropped %v after the link went down", pl.At.Sub(t0))
		from := len(la.Out.All())
		c.SetLink("eth0", true)
		la.MustList(t, from, idC, c) // found again once the link is back
	})
}

// (e) a docker0-like interface on the same wire: its address is never
// advertised, and the diagnosis says why it is skipped.
func TestVirtualInterfaceNotAdvertised(t *testing.T) {
	Require(t)
	t.Parallel()
	bin := Lanchat(t)
	lan := NewLAN(t)
	a, b := lan.AddHost("hosta", 1), lan.AddHost("hostb", 2)
	b.AddIface("docker0", "172.31.0.1/16")
	la, lb := a.Serve(t, bin, ""), b.Serve(t, bin, "")
	idB := lb.SelfID(t)
	la.MustList(t, 0, idB, b)

	found := browseFrom(t, a)
	if f, ok := found[idB]; !ok || !slices.Equal(f.Addrs, []string{b.IP}) {
		t.Errorf("%s advertised %+v (found: %v), want only %s", b.Name, f, ok, b.IP)
	}
	var peers discovery.PeersJSON
	if err := a.GetJSON(a.URL("/api/peers"), &peers); err != nil {
		t.Fatal(err)
	}
	for _, p := range peers.Peers {
		if p.ID == idB && (p.Addr != b.IP+":47800" || slices.ContainsFunc(p.Addrs, func(s string) bool { return strings.HasPrefix(s, "172.31.") })) {
			t.Errorf("%s lists %s with %s %v", a.Name, b.Name, p.Addr, p.Addrs)
		}
	}
	var d discovery.Diagnosis
	if err := b.GetJSON(b.URL("/api/discovery"), &d); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(d.Skipped, discovery.Skipped{Name: "docker0", Reason: "container bridge or VPN tunnel"}) ||
		len(d.Interfaces) != 1 || d.Interfaces[0].Name != "eth0" {
		t.Errorf("diagnosis interfaces %+v skipped %+v", d.Interfaces, d.Skipped)
	}

	// Chosen explicitly, the same interface is used.
	c := lan.AddHost("hostc", 3)
	c.AddIface("docker0", "172.30.0.1/16")
	lc := c.Serve(t, bin, "", "--iface", "docker0")
	lc.SelfID(t)
	if err := waitFor(20*time.Second, func() bool {
		var d discovery.Diagnosis
		return c.GetJSON(c.URL("/api/discovery"), &d) == nil && len(d.Interfaces) == 1 && d.Interfaces[0].Name == "docker0" && d.Enabled
	}); err != nil {
		t.Errorf("--iface docker0: %v", err)
	}
}

// (f) multicast dropped on the bridge: the diagnosis says so, and a host
// added by address is listed, remembered and listed again after a restart.
func TestMulticastBlocked(t *testing.T) {
	Require(t, "nft")
	t.Parallel()
	bin := Lanchat(t)
	lan := NewLAN(t)
	lan.BlockMulticast()
	a, b := lan.AddHost("hosta", 1), lan.AddHost("hostb", 2)
	la, lb := a.Serve(t, bin, ""), b.Serve(t, bin, "")
	la.SelfID(t)
	idB := lb.SelfID(t)

	var d discovery.Diagnosis
	err := waitFor(30*time.Second, func() bool {
		d = discovery.Diagnosis{}
		return a.GetJSON(a.URL("/api/discovery"), &d) == nil && len(d.Hints) > 0
	})
	if err != nil {
		t.Fatalf("no hint: %v: %+v", err, d)
	}
	if d.OthersSeen || !d.OwnEcho || !strings.Contains(d.Hints[0], "no multicast seen") {
		t.Errorf("diagnosis with multicast blocked: %+v", d)
	}
	if _, ok := la.WaitEvent(0, "added", idB, 0); ok {
		t.Fatalf("%s found %s although multicast is blocked", a.Name, b.Name)
	}

	body := strings.NewReader(fmt.Sprintf(`{"addr": "http://%s:%d/"}`, b.IP, Port))
	resp, err := a.HTTPClient().Post(a.URL("/api/peers"), "application/json", body)
	if err != nil {
		t.Fatal(err)
	}
	var p discovery.Peer
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || p.ID != idB || !p.Manual {
		t.Fatalf("POST /api/peers: %s %+v", resp.Status, p)
	}
	if pl := la.MustList(t, 0, idB, b); pl.Fields["manual"] != "yes" {
		t.Errorf("manual peer line %+v", pl)
	}

	// Remembered in the data dir: listed again after a restart.
	la.Signal(syscall.SIGINT)
	if err := la.Wait(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(filepath.Join(la.DataDir, "peers.json"))
	if err != nil || !bytes.Contains(raw, []byte(idB)) {
		t.Errorf("peers.json: %v %s", err, raw)
	}
	la2 := a.Serve(t, bin, la.DataDir)
	la2.MustList(t, 0, idB, b)
}

// (g) avahi, an independent mDNS stack, resolves our service with its TXT,
// and a _lanchat._tcp service avahi-publish announces is listed by us.
func TestAvahiInterop(t *testing.T) {
	Require(t, "avahi-daemon", "avahi-browse", "avahi-publish", "dbus-daemon")
	t.Parallel()
	bin := Lanchat(t)
	lan := NewLAN(t)
	a, x := lan.AddHost("hosta", 1), lan.AddHost("avahix", 9)
	la := a.Serve(t, bin, "")
	idA := la.SelfID(t)

	// A lanchat server without mDNS in x: avahi announces it for us.
	xdata := t.TempDir()
	lx := x.Start(t, nil, bin, "serve", "--no-discovery", "--name", "avahi-peer", "--data-dir", xdata, "--addr", ":47900")
	_ = lx
	var idX string
	if err := waitFor(20*time.Second, func() bool {
		b, err := os.ReadFile(filepath.Join(xdata, "host-id"))
		idX = strings.TrimSpace(string(b))
		return err == nil && idX != ""
	}); err != nil {
		t.Fatal(err)
	}

	conf := filepath.Join(t.TempDir(), "avahi-daemon.conf")
	os.WriteFile(conf, []byte("[server]\nallow-interfaces=eth0\nuse-ipv6=no\nenable-dbus=yes\nratelimit-burst=1000\n[wide-area]\nenable-wide-area=no\n[publish]\npublish-workstation=no\npublish-hinfo=no\n"), 0o644)
	script := `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/dbus /run/avahi-daemon
dbus-daemon --system --fork --nopidfile
avahi-daemon -f "$1" --no-chroot --no-rlimits -D
i=0; until avahi-browse -at -p >/dev/null 2>&1; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.1; done
echo READY
exec avahi-publish -s "Avahi peer" _lanchat._tcp 47900 "txtvers=1" "id=$2" "name=Avahi peer"`
	av := x.Start(t, nil, "unshare", "-m", "sh", "-c", script, "avahi", conf, idX)
	if _, _, ok := av.Out.Wait(0, 20*time.Second, func(s string) bool { return s == "READY" }); !ok {
		t.Fatalf("avahi did not start: %v %s", av.Out.All(), av.Stderr())
	}

	// avahi-browse, in avahi's mount namespace, resolves our service.
	var line string
	err := waitFor(20*time.Second, func() bool {
		out, _ := exec.Command("ip", "netns", "exec", x.NS, "nsenter", "-t", fmt.Sprint(av.Cmd.Process.Pid), "-m",
			"avahi-browse", "-rpt", "_lanchat._tcp").Output()
		for _, l := range strings.Split(string(out), "\n") {
			if strings.HasPrefix(l, "=") && strings.Contains(l, "id="+idA) {
				line = l
				return true
			}
		}
		return false
	})
	if err != nil {
		t.Fatalf("avahi-browse never resolved %s", a.Name)
	}
	// =;eth0;IPv4;hosta;_lanchat._tcp;local;lanchat-ID.local;10.99.x.1;47800;"ver=dev" ...
	f := strings.SplitN(line, ";", 10)
	if len(f) < 10 || f[3] != a.Name || f[7] != a.IP || f[8] != "47800" ||
		!strings.Contains(f[9], `"name=hosta"`) || !strings.Contains(f[9], `"proto=1"`) || !strings.Contains(f[9], `"rooms=4"`) {
		t.Errorf("avahi-browse resolved: %s", line)
	}

	// And we list the service avahi publishes.
	pl, ok := la.WaitEvent(0, "added", idX, 20*time.Second)
	if !ok {
		t.Fatalf("%s never listed the service avahi publishes; output %v", a.Name, la.Out.All())
	}
	if pl.Addr != x.IP+":47900" || pl.Fields["mdns"] != "yes" || pl.Fields["name"] != "avahi-peer" {
		t.Errorf("avahi-published peer listed as %+v", pl)
	}
}

func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("condition not met in %v", timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}
