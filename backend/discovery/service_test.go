package discovery

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

func foundB(addrs ...string) Found {
	f := Found{Instance: "bravo", Host: "lanchat-bbbb0002.local.", Port: 47800,
		Text: Own{Name: "bravo", Protocol: 1, Rooms: 4}.TXT("bbbb0002")}
	for _, a := range addrs {
		f.Addrs = append(f.Addrs, net.ParseIP(a))
	}
	return f
}

var infoB = Info{ID: "bbbb0002", Name: "bravo", Protocol: 1, Port: 47800, Rooms: 4}

// The default timing, as doc.go and Timing state it. The tests below move
// virtual time by exactly these and check the state at the last instant
// before a deadline and at the deadline itself, so a changed default or a
// changed rule fails them.
const (
	probeEvery   = time.Second            // Timing.ProbeEvery
	probeTimeout = time.Second            // Timing.ProbeTimeout
	retryAfter   = 250 * time.Millisecond // Timing.RetryAfter
	manualRetry  = 5 * time.Second        // Timing.ManualRetry
	rebrowse     = 5 * time.Second        // Timing.Rebrowse
	ifacePoll    = 3 * time.Second        // Timing.IfacePoll
	infoPoll     = 500 * time.Millisecond // Timing.InfoPoll
	announceMin  = 2 * time.Second        // Timing.AnnounceMin
	quiet        = 10 * time.Second       // Timing.Quiet
	ns           = time.Nanosecond
)

// at moves virtual time on to start+d and lets every goroutine due by then
// run, so the state can be checked at that exact instant.
func at(t *testing.T, start time.Time, d time.Duration) {
	t.Helper()
	wait := time.Until(start.Add(d))
	if wait < 0 {
		t.Fatalf("+%v is already past (now +%v)", d, time.Since(start))
	}
	time.Sleep(wait)
	synctest.Wait()
}

func TestFoundPeerIsListedAndDroppedWhenRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now()
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		// listed on the first probe, at the instant it is found: no waiting for a timer
		p, ok := r.peer("bbbb0002")
		if !ok || p.Addr != "10.0.0.2:47800" || p.URL != "http://10.0.0.2:47800/" || !p.MDNS || p.Self || p.Name != "bravo" || !p.LastSeen.Equal(start) {
			t.Fatalf("peer %+v listed=%v", p, ok)
		}
		if got := r.eventsFor("bbbb0002"); !slices.Equal(got, []EventType{Added}) {
			t.Fatalf("events %v", got)
		}

		// It quits right after that probe, the worst moment: the next probe
		// is refused, the retry too, and the second refusal drops it, 1.25 s
		// later (within the 2 s promised).
		r.prober.setMode("10.0.0.2:47800", refuse)
		drop := probeEvery + retryAfter
		at(t, start, drop-ns)
		if _, ok := r.peer("bbbb0002"); !ok {
			t.Fatalf("a refusing peer was dropped before +%v (one refused probe must not drop it)", drop)
		}
		at(t, start, drop)
		if _, ok := r.peer("bbbb0002"); ok {
			t.Fatalf("a refusing peer is still listed at +%v, after two refused probes", drop)
		}
		if got := r.eventsFor("bbbb0002"); !slices.Equal(got, []EventType{Added, Removed}) {
			t.Errorf("events %v", got)
		}
	})
}

func TestSilentPeerDroppedWithinSixSeconds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now()
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		// Silent right after a good probe, the worst moment: the probes at
		// +1 s, +2.25 s and +3.5 s each time out after ProbeTimeout, and the
		// third failure drops it, 4.5 s after it fell silent (within 6 s).
		r.prober.setMode("10.0.0.2:47800", hang)
		drop := probeEvery + 3*probeTimeout + 2*retryAfter
		at(t, start, drop-ns)
		if _, ok := r.peer("bbbb0002"); !ok {
			t.Fatalf("a silent peer was dropped before +%v (two lost probes must not drop it)", drop)
		}
		at(t, start, drop)
		if _, ok := r.peer("bbbb0002"); ok {
			t.Fatalf("a silent peer is still listed at +%v, after three lost probes", drop)
		}
		if got := r.eventsFor("bbbb0002"); !slices.Equal(got, []EventType{Added, Removed}) {
			t.Errorf("events %v", got)
		}
	})
}

func TestAlivePeerDoesNotFlap(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		addr := "10.0.0.2:47800"
		r.prober.set(addr, fakeHost{info: infoB})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		good := time.Now() // the last good probe
		listed := func(what string, want time.Time) {
			t.Helper()
			if p, ok := r.peer("bbbb0002"); !ok {
				t.Fatalf("dropped %s", what)
			} else if !p.LastSeen.Equal(want) {
				t.Fatalf("%s: last seen %v, want %v", what, p.LastSeen, want)
			}
		}
		// A slow, lossy peer: two probes in a row time out, or one is
		// refused (a busy listen queue), then it answers again.
		for i := range 10 {
			r.prober.setMode(addr, hang)
			at(t, good, probeEvery+probeTimeout+retryAfter+probeTimeout) // the second timeout
			listed(fmt.Sprintf("in round %d after two timeouts in a row", i), good)
			r.prober.setMode(addr, answer)
			at(t, good, probeEvery+probeTimeout+retryAfter+probeTimeout+retryAfter)
			good = good.Add(probeEvery + probeTimeout + retryAfter + probeTimeout + retryAfter)
			listed(fmt.Sprintf("in round %d when it answers again", i), good)

			r.prober.setMode(addr, refuse)
			at(t, good, probeEvery) // the refusal
			listed(fmt.Sprintf("in round %d after one refused probe", i), good)
			r.prober.setMode(addr, answer)
			at(t, good, probeEvery+retryAfter)
			good = good.Add(probeEvery + retryAfter)
			listed(fmt.Sprintf("in round %d when it answers after the refusal", i), good)
		}
		if got := r.eventsFor("bbbb0002"); !slices.Equal(got, []EventType{Added}) {
			t.Errorf("events %v, want only added", got)
		}
	})
}

func TestPrefersIPv4ThatAnswers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now()
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB, mode: hang})
		r.prober.set("10.0.1.2:47800", fakeHost{info: infoB})
		r.prober.set("[fd00::2]:47800", fakeHost{info: infoB})
		r.br.found(foundB("fd00::2", "10.0.0.2", "10.0.1.2", "fe80::2"))
		// The first probe asks every address at once and ends when the
		// hanging one times out, with the first IPv4 address that answered.
		at(t, start, probeTimeout-ns)
		if _, ok := r.peer("bbbb0002"); ok {
			t.Fatalf("listed before the first probe ended: %+v", r.s.Peers())
		}
		at(t, start, probeTimeout)
		p, ok := r.peer("bbbb0002")
		if !ok || p.Addr != "10.0.1.2:47800" {
			t.Fatalf("listed %v as %+v, want 10.0.1.2:47800", ok, p)
		}
		if !slices.Equal(p.Addrs, []string{"10.0.0.2:47800", "10.0.1.2:47800", "[fd00::2]:47800"}) {
			t.Errorf("addrs %v (IPv4 first, no link-local)", p.Addrs)
		}
		// The preferred address answers again: the one that works is kept (no churn).
		r.prober.setMode("10.0.0.2:47800", answer)
		next := probeTimeout + probeEvery
		at(t, start, next)
		if p, _ := r.peer("bbbb0002"); p.Addr != "10.0.1.2:47800" || !p.LastSeen.Equal(start.Add(next)) {
			t.Errorf("after a probe at +%v that both IPv4 addresses answered: %s, last seen %v", next, p.Addr, p.LastSeen)
		}
		// IPv4 gone: the next probe moves to IPv6, and the peer stays listed.
		r.prober.setMode("10.0.0.2:47800", refuse)
		r.prober.setMode("10.0.1.2:47800", refuse)
		next += probeEvery
		at(t, start, next-ns)
		if p, _ := r.peer("bbbb0002"); p.Addr != "10.0.1.2:47800" {
			t.Errorf("address changed before the next probe: %s", p.Addr)
		}
		at(t, start, next)
		if p, ok := r.peer("bbbb0002"); !ok || p.Addr != "[fd00::2]:47800" {
			t.Errorf("with IPv4 gone the IPv6 address is used: %v %+v", ok, p)
		}
		if got := r.eventsFor("bbbb0002"); slices.Contains(got, Removed) {
			t.Errorf("events %v", got)
		}
	})
}

func TestDedupeByHostID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now()
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB})
		r.prober.set("192.168.5.2:47800", fakeHost{info: infoB})
		r.br.found(foundB("10.0.0.2"))
		f := foundB("192.168.5.2") // the same host seen on another interface
		r.br.found(f)
		// a service without TXT id (another stack) at a third address
		r.prober.set("10.0.9.9:4000", fakeHost{info: infoB})
		r.br.found(Found{Instance: "bravo-other", Port: 4000, Addrs: []net.IP{net.ParseIP("10.0.9.9")}})
		synctest.Wait()
		// and added by hand
		p, err := r.s.AddManual(context.Background(), "http://192.168.5.2:47800/")
		if err != nil || p.ID != "bbbb0002" || !p.Manual || !p.MDNS {
			t.Fatalf("AddManual: %+v %v", p, err)
		}
		synctest.Wait()
		// Listed once now and after each of the next three probes.
		for i := range 4 {
			at(t, start, time.Duration(i)*probeEvery)
			var n int
			for _, p := range r.s.Peers() {
				if p.ID == "bbbb0002" {
					n++
					if !p.LastSeen.Equal(start.Add(time.Duration(i) * probeEvery)) {
						t.Errorf("+%v: last seen %v", time.Duration(i)*probeEvery, p.LastSeen)
					}
				}
			}
			if n != 1 {
				t.Fatalf("+%v: host listed %d times: %+v", time.Duration(i)*probeEvery, n, r.s.Peers())
			}
		}
		if got := r.eventsFor("bbbb0002"); got[0] != Added || slices.Contains(got, Removed) {
			t.Errorf("events %v", got)
		}
	})
}

func TestOwnEchoIsSelfNotPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		own := Found{Instance: "alpha", Port: 47800, Text: Own{Name: "alpha"}.TXT("aaaa0001"), Addrs: []net.IP{net.ParseIP("10.0.0.1")}}
		r.br.found(own)
		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.1"), Iface: "eth0"})
		synctest.Wait()
		peers := r.s.Peers()
		if len(peers) != 1 || !peers[0].Self || peers[0].ID != "aaaa0001" || peers[0].Addr != "10.0.0.1:47800" || peers[0].Name != "alpha" {
			t.Fatalf("peers %+v", peers)
		}
		d := r.s.Diagnosis()
		if !d.OwnEcho || !d.MDNSSeen || d.OthersSeen {
			t.Errorf("diagnosis %+v", d)
		}
		if _, err := r.s.AddManual(context.Background(), "10.0.0.1"); err == nil {
			t.Error("adding this computer by address succeeded")
		}
	})
}

func TestManualHostRememberedAndReprobed(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *Config) { c.DataDir = dir; c.MDNS = false })
		synctest.Wait()
		start := time.Now()
		r.prober.set("192.168.1.20:47800", fakeHost{info: infoB})
		p, err := r.s.AddManual(context.Background(), "192.168.1.20")
		if err != nil || !p.Manual || p.MDNS || p.Addr != "192.168.1.20:47800" {
			t.Fatalf("AddManual %+v %v", p, err)
		}
		if _, err := r.s.AddManual(context.Background(), "192.168.1.99:47800"); err == nil {
			t.Error("a host that does not answer was added")
		}
		synctest.Wait() // its watcher's first probe
		// it goes away, and comes back: remembered hosts are re-probed
		r.prober.setMode("192.168.1.20:47800", refuse)
		drop := probeEvery + retryAfter
		at(t, start, drop-ns)
		if _, ok := r.peer("bbbb0002"); !ok {
			t.Fatalf("manual host dropped before +%v", drop)
		}
		at(t, start, drop)
		if _, ok := r.peer("bbbb0002"); ok {
			t.Errorf("unreachable manual host still listed at +%v", drop)
		}
		r.prober.setMode("192.168.1.20:47800", answer)
		back := drop + manualRetry
		at(t, start, back-ns)
		if _, ok := r.peer("bbbb0002"); ok {
			t.Errorf("manual host listed again before its re-probe at +%v", back)
		}
		at(t, start, back)
		if _, ok := r.peer("bbbb0002"); !ok {
			t.Errorf("manual host not listed again at +%v", back)
		}
		if d := r.s.Diagnosis(); d.Enabled || len(d.Hints) == 0 || !strings.Contains(d.Hints[0], "discovery is off") {
			t.Errorf("diagnosis with mDNS off %+v", d)
		}
		r.stop()
		raw, err := os.ReadFile(filepath.Join(dir, "peers.json"))
		if err != nil || !strings.Contains(string(raw), `"addr": "192.168.1.20:47800"`) || !strings.Contains(string(raw), "bbbb0002") ||
			strings.Contains(string(raw), "192.168.1.99") {
			t.Fatalf("peers.json %v %s", err, raw)
		}

		// a new run with the same data dir lists it on start
		r2 := newRig(t, func(c *Config) { c.DataDir = dir; c.MDNS = false })
		r2.prober.set("192.168.1.20:47800", fakeHost{info: infoB})
		synctest.Wait()
		if p, ok := r2.peer("bbbb0002"); !ok || !p.Manual {
			t.Errorf("remembered host not listed on start: %+v", r2.s.Peers())
		}
		r2.stop()
	})
}
