package discovery

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

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
