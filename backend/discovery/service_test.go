package discovery

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
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

func TestTXTReannouncedThrottled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now() // the first announcement; InfoPoll ticks from here
		ads, active, _ := r.adv.snapshot()
		if len(ads) != 1 || !active || ads[0].Instance != "alpha" || ads[0].Port != 47800 || len(ads[0].Ifaces) != 1 || ads[0].Ifaces[0].Name != "eth0" {
			t.Fatalf("first ad %+v", ads)
		}
		if want := []string{"txtvers=1", "proto=1", "id=aaaa0001", "name=alpha", "members=0", "rooms=4", "code=0", "ver=test"}; !slices.Equal(ads[0].Text, want) {
			t.Errorf("TXT %q, want %q", ads[0].Text, want)
		}
		// Members join one every 100 ms for 10 s, between InfoPoll ticks
		// (at +50 ms, +150 ms, …, +9.95 s).
		go func() {
			time.Sleep(50 * time.Millisecond)
			for i := 1; i <= 100; i++ {
				r.own.set(func(o *Own) { o.Members = i })
				if i < 100 {
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
		// Re-announced exactly every AnnounceMin, with the count of that moment.
		for k := 1; time.Duration(k)*announceMin <= 10*time.Second; k++ {
			due := time.Duration(k) * announceMin
			at(t, start, due-ns)
			if ads, _, _ := r.adv.snapshot(); len(ads) != k {
				t.Fatalf("%d announcements at +%v, want %d", len(ads), due-ns, k)
			}
			at(t, start, due)
			ads, _, _ := r.adv.snapshot()
			if want := fmt.Sprintf("members=%d", k*20); len(ads) != k+1 || !slices.Contains(ads[k].Text, want) {
				t.Fatalf("at +%v: %d announcements, last %q; want %d, with %s", due, len(ads), ads[len(ads)-1].Text, k+1, want)
			}
		}
		// The join code turns on right after the last one: announced when
		// AnnounceMin has passed, not before.
		at(t, start, 10*time.Second+250*time.Millisecond)
		r.own.set(func(o *Own) { o.JoinCode = true })
		due := 10*time.Second + announceMin
		at(t, start, due-ns)
		ads, _, _ = r.adv.snapshot()
		if len(ads) != 6 || slices.Contains(ads[len(ads)-1].Text, "code=1") {
			t.Errorf("join code announced before +%v: %d announcements, last %q", due, len(ads), ads[len(ads)-1].Text)
		}
		at(t, start, due)
		ads, _, _ = r.adv.snapshot()
		if last := ads[len(ads)-1]; len(ads) != 7 || !slices.Contains(last.Text, "code=1") || !slices.Contains(last.Text, "members=100") {
			t.Errorf("join code not announced at +%v: %d announcements, last %q", due, len(ads), last.Text)
		}
		if p := r.s.Peers()[0]; !p.JoinCode || p.Members != 100 {
			t.Errorf("self %+v", p)
		}
	})
}

func TestGoodbyeOnStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		synctest.Wait()
		r.stop()
		if _, active, closes := r.adv.snapshot(); active || closes != 1 {
			t.Errorf("after stop: active=%v closes=%d", active, closes)
		}
		if n := r.br.live(); n != 0 {
			t.Errorf("%d browse rounds left", n)
		}
	})
}

func TestLoopbackOnlyThenInterfaceAppears(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil, loIface)
		defer r.stop()
		synctest.Wait()
		start := time.Now() // IfacePoll ticks from here
		d := r.s.Diagnosis()
		if d.Enabled || !strings.Contains(d.Reason, "no usable network interface") || !strings.Contains(d.Reason, "lo: loopback") || len(d.Hints) == 0 {
			t.Errorf("diagnosis %+v", d)
		}
		if ads, _, _ := r.adv.snapshot(); len(ads) != 0 {
			t.Errorf("advertised with no interface: %+v", ads)
		}
		if p := r.s.Peers()[0]; p.Addr != "127.0.0.1:47800" || !p.Self {
			t.Errorf("self %+v", p)
		}

		// Interfaces appear: picked up at the next IfacePoll tick.
		r.ifs.set(loIface, eth0, iface("docker0", 3, lanFlags, "172.17.0.1"), iface("wg0", 4, lanFlags, "10.8.0.2"))
		at(t, start, ifacePoll-ns)
		if ads, _, _ := r.adv.snapshot(); len(ads) != 0 || r.s.Diagnosis().Enabled {
			t.Fatalf("advertised before the interface table was read again: %+v", ads)
		}
		at(t, start, ifacePoll)
		ads, active, _ := r.adv.snapshot()
		if len(ads) != 1 || !active || len(ads[0].Ifaces) != 1 || ads[0].Ifaces[0].Name != "eth0" {
			t.Fatalf("ads %+v", ads)
		}
		if d := r.s.Diagnosis(); !d.Enabled || len(d.Interfaces) != 1 || !slices.Equal(d.Interfaces[0].Addrs, []string{"10.0.0.1"}) {
			t.Errorf("diagnosis %+v", d)
		}
		// the address changes: re-announced without a restart
		r.ifs.set(loIface, iface("eth0", 2, lanFlags, "10.0.0.77"))
		at(t, start, 2*ifacePoll-ns)
		if ads, _, _ := r.adv.snapshot(); len(ads) != 1 {
			t.Fatalf("re-announced before the interface table was read again: %+v", ads)
		}
		at(t, start, 2*ifacePoll)
		ads, _, _ = r.adv.snapshot()
		if last := ads[len(ads)-1]; len(ads) != 2 || !last.Ifaces[0].Addrs[0].Equal(net.ParseIP("10.0.0.77")) {
			t.Errorf("ads after the address change %+v", ads)
		}
		if p := r.s.Peers()[0]; p.Addr != "10.0.0.77:47800" {
			t.Errorf("self %+v", p)
		}
		// the interface goes down: goodbye, discovery off
		r.ifs.set(loIface, iface("eth0", 2, lanFlags&^net.FlagUp, "10.0.0.77"))
		at(t, start, 3*ifacePoll-ns)
		if _, active, closes := r.adv.snapshot(); !active || closes != 0 {
			t.Fatalf("goodbye before the interface table was read again: active=%v closes=%d", active, closes)
		}
		at(t, start, 3*ifacePoll)
		if _, active, closes := r.adv.snapshot(); active || closes != 1 {
			t.Errorf("after the interface went down: active=%v closes=%d", active, closes)
		}
		if d := r.s.Diagnosis(); d.Enabled || !strings.Contains(d.Reason, "eth0: down") {
			t.Errorf("diagnosis %+v", d)
		}
	})
}

func TestExplicitInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *Config) { c.Ifaces = []string{"docker0", "nope"} },
			loIface, eth0, iface("docker0", 3, lanFlags, "172.17.0.1"))
		defer r.stop()
		synctest.Wait()
		ads, _, _ := r.adv.snapshot()
		if len(ads) != 1 || len(ads[0].Ifaces) != 1 || ads[0].Ifaces[0].Name != "docker0" {
			t.Fatalf("ads %+v", ads)
		}
		d := r.s.Diagnosis()
		if !slices.Contains(d.Skipped, Skipped{Name: "nope", Reason: "chosen with --iface but not found"}) ||
			!slices.Contains(d.Skipped, Skipped{Name: "eth0", Reason: "not chosen with --iface"}) {
			t.Errorf("skipped %+v", d.Skipped)
		}
	})
}

func TestNameClashMadeUnique(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now() // InfoPoll ticks from here
		other := Found{Instance: "alpha", Port: 47800, Text: Own{Name: "alpha"}.TXT("0000aaaa"), Addrs: []net.IP{net.ParseIP("10.0.0.3")}}
		r.prober.set("10.0.0.3:47800", fakeHost{info: Info{ID: "0000aaaa", Name: "alpha"}})
		r.br.found(other)
		// renamed at the next InfoPoll tick
		at(t, start, infoPoll-ns)
		if ads, _, _ := r.adv.snapshot(); len(ads) != 1 || ads[0].Instance != "alpha" {
			t.Fatalf("renamed before the next own check: %+v", ads)
		}
		at(t, start, infoPoll)
		ads, _, _ := r.adv.snapshot()
		if last := ads[len(ads)-1]; len(ads) != 2 || last.Instance != "alpha (2)" {
			t.Errorf("instance after a clash with a smaller id: %q (%d ads)", last.Instance, len(ads))
		}
		// a clash with a larger id: the other one renames, we keep ours
		r.br.found(Found{Instance: "alpha (2)", Port: 47800, Text: Own{Name: "alpha"}.TXT("ffff0000"), Addrs: []net.IP{net.ParseIP("10.0.0.4")}})
		at(t, start, 2*infoPoll)
		ads, _, _ = r.adv.snapshot()
		if last := ads[len(ads)-1]; len(ads) != 2 || last.Instance != "alpha (2)" {
			t.Errorf("instance after a clash with a larger id: %q (%d ads)", last.Instance, len(ads))
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

func TestQuietNetworkHint(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now() // discovery started

		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.1")}) // our own echo only
		noMulticast := func(h string) bool { return strings.Contains(h, "no multicast seen from other machines in 10 s") }
		at(t, start, quiet-ns)
		if d := r.s.Diagnosis(); slices.ContainsFunc(d.Hints, noMulticast) {
			t.Fatalf("quiet-network hint before +%v: %q", quiet, d.Hints)
		}
		at(t, start, quiet)
		d := r.s.Diagnosis()
		if len(d.Hints) == 0 || !noMulticast(d.Hints[0]) || d.OthersSeen {
			t.Fatalf("hints at +%v: %q", quiet, d.Hints)
		}
		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.9")})
		if d := r.s.Diagnosis(); !d.OthersSeen || slices.ContainsFunc(d.Hints, func(h string) bool { return strings.Contains(h, "no multicast") }) {
			t.Errorf("after traffic from another machine: %+v", d)
		}
	})
}

func TestReachableFromAndUnanswered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now()
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB, peers: []Peer{{ID: "bbbb0002", Self: true}, {ID: "aaaa0001"}}})
		r.br.found(foundB("10.0.0.2"))
		// found, but its port is firewalled
		r.prober.set("10.0.0.3:47800", fakeHost{mode: hang})
		r.br.found(Found{Instance: "charlie", Port: 47800, Text: Own{Name: "charlie"}.TXT("cccc0003"), Addrs: []net.IP{net.ParseIP("10.0.0.3")}})
		// bravo is asked for its list on its third good probe (then every AskEvery-th)
		asked := 2 * probeEvery
		at(t, start, asked-ns)
		if d := r.s.Diagnosis(); len(d.ReachableFrom) != 0 {
			t.Errorf("reachable from %v before bravo was asked", d.ReachableFrom)
		}
		at(t, start, asked)
		if d := r.s.Diagnosis(); !slices.Equal(d.ReachableFrom, []string{"bravo"}) || d.Peers != 1 {
			t.Errorf("reachable from %v, peers %d at +%v", d.ReachableFrom, d.Peers, asked)
		}
		// charlie's three probes time out: at +1 s, +2.25 s and +3.5 s
		given := 3*probeTimeout + 2*retryAfter
		at(t, start, given-ns)
		if d := r.s.Diagnosis(); len(d.Unanswered) != 0 {
			t.Errorf("unanswered %+v before +%v", d.Unanswered, given)
		}
		at(t, start, given)
		d := r.s.Diagnosis()
		if !slices.Equal(d.ReachableFrom, []string{"bravo"}) || d.Peers != 1 {
			t.Errorf("reachable from %v, peers %d", d.ReachableFrom, d.Peers)
		}
		if len(d.Unanswered) != 1 || d.Unanswered[0].Name != "charlie" ||
			!slices.ContainsFunc(d.Hints, func(h string) bool { return strings.Contains(h, "charlie was found but did not answer") }) {
			t.Errorf("unanswered %+v hints %q", d.Unanswered, d.Hints)
		}
		if _, ok := r.peer("cccc0003"); ok {
			t.Error("an unanswering host is listed")
		}
	})
}

func TestHTTPHandlers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		mux := http.NewServeMux()
		// The host passes the server's origin policy; this one refuses one page.
		r.s.Register(mux.Handle, func(req *http.Request) bool { return req.Header.Get("Origin") != "http://evil.example" })
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB})
		do := func(method, body, ctype, origin string) *httptest.ResponseRecorder {
			req := httptest.NewRequest(method, "http://10.0.0.1:47800/api/peers", strings.NewReader(body))
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			if origin != "" {
				req.Header.Set("Origin", origin)
			}
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, req)
			return w
		}
		for _, c := range []struct {
			body, ctype, origin string
			code                int
		}{
			{`{"addr":"10.0.0.2:47800"}`, "text/plain", "", 415},
			{`{"addr":`, "application/json", "", 400},
			{`{"addr":"ftp://x/"}`, "application/json", "", 400},
			{`{"addr":"10.0.0.2:47800"}`, "application/json", "http://evil.example", 403},
			{`{"addr":"10.0.0.5:47800"}`, "application/json", "", 502},
			{`{"addr":"10.0.0.1:47800"}`, "application/json", "", 409},
			{`{"addr":"http://10.0.0.2:47800/"}`, "application/json; charset=utf-8", "wails://wails", 200},
		} {
			if c.body == `{"addr":"10.0.0.1:47800"}` {
				r.prober.set("10.0.0.1:47800", fakeHost{info: Info{ID: "aaaa0001"}})
			}
			if w := do("POST", c.body, c.ctype, c.origin); w.Code != c.code {
				t.Errorf("POST %s (%s, origin %q): %d %s, want %d", c.body, c.ctype, c.origin, w.Code, w.Body, c.code)
			}
		}
		w := do("GET", "", "", "")
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"id":"bbbb0002"`) || !strings.Contains(w.Body.String(), `"self":true`) {
			t.Errorf("GET /api/peers: %d %s", w.Code, w.Body)
		}
		req := httptest.NewRequest("GET", "/api/discovery", nil)
		w = httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != 200 || !strings.Contains(w.Body.String(), `"interfaces":[{"name":"eth0","addrs":["10.0.0.1"]}]`) {
			t.Errorf("GET /api/discovery: %d %s", w.Code, w.Body)
		}
	})
}

func TestUnknownAnnouncementStartsFreshBrowse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		start := time.Now() // the first browse round; Rebrowse ticks from here
		rounds := func() int {
			r.br.mu.Lock()
			defer r.br.mu.Unlock()
			return r.br.rounds
		}
		const minGap = 200 * time.Millisecond // announcements start no round sooner after the last one
		at(t, start, minGap-ns)
		before := rounds()
		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.2"), Announced: []string{"bravo"}})
		synctest.Wait()
		if rounds() != before {
			t.Fatalf("an announcement %v after the last round started a browse", minGap-ns)
		}
		at(t, start, minGap)
		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.1"), Announced: []string{"alpha"}}) // our own
		synctest.Wait()
		if rounds() != before {
			t.Fatal("own announcement started a browse")
		}
		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.2"), Announced: []string{"bravo"}})
		synctest.Wait()
		if rounds() != before+1 {
			t.Fatalf("rounds %d, want %d", rounds(), before+1)
		}
		if n := r.br.live(); n != 2 {
			t.Errorf("%d rounds live, want the new one and the previous", n)
		}
		// and browsing starts afresh every Rebrowse anyway
		at(t, start, rebrowse-ns)
		if rounds() != before+1 {
			t.Fatalf("rounds %d before +%v, want %d", rounds(), rebrowse, before+1)
		}
		at(t, start, rebrowse)
		if rounds() != before+2 {
			t.Fatalf("rounds %d at +%v, want %d", rounds(), rebrowse, before+2)
		}
		if n := r.br.live(); n != 2 {
			t.Errorf("%d rounds live, want the new one and the previous", n)
		}
	})
}
