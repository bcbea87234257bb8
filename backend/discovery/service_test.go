package discovery

import (
	"context"
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

func TestFoundPeerIsListedAndDroppedWhenRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		p, ok := r.peer("bbbb0002")
		if !ok || p.Addr != "10.0.0.2:47800" || p.URL != "http://10.0.0.2:47800/" || !p.MDNS || p.Self || p.Name != "bravo" {
			t.Fatalf("peer %+v listed=%v", p, ok)
		}
		// listed on the first probe: no waiting for a timer
		synctest.Wait()
		if got := r.eventsFor("bbbb0002"); !slices.Equal(got, []EventType{Added}) {
			t.Fatalf("events %v", got)
		}

		r.prober.setMode("10.0.0.2:47800", refuse)
		t0 := time.Now()
		for {
			if _, ok := r.peer("bbbb0002"); !ok {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if gone := time.Since(t0); gone > 2*time.Second {
			t.Errorf("a refusing peer was dropped after %v, want ≤ 2 s", gone)
		}
		synctest.Wait()
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
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		time.Sleep(700 * time.Millisecond) // mid-interval, the worst moment
		r.prober.setMode("10.0.0.2:47800", hang)
		t0 := time.Now()
		for {
			if _, ok := r.peer("bbbb0002"); !ok {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		if gone := time.Since(t0); gone > 6*time.Second {
			t.Errorf("a silent peer was dropped after %v, want ≤ 6 s", gone)
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
		// A slow, lossy peer: two probes in a row time out, or one is
		// refused (a busy listen queue), then it answers again.
		for range 10 {
			r.prober.setMode(addr, hang)
			time.Sleep(2*time.Second + 10*time.Millisecond)
			r.prober.setMode(addr, answer)
			time.Sleep(1500 * time.Millisecond)
			r.prober.setMode(addr, refuse)
			time.Sleep(100 * time.Millisecond)
			r.prober.setMode(addr, answer)
			time.Sleep(2 * time.Second)
		}
		synctest.Wait()
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
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB, mode: hang})
		r.prober.set("10.0.1.2:47800", fakeHost{info: infoB})
		r.prober.set("[fd00::2]:47800", fakeHost{info: infoB})
		r.br.found(foundB("fd00::2", "10.0.0.2", "10.0.1.2", "fe80::2"))
		time.Sleep(2 * time.Second)
		p, ok := r.peer("bbbb0002")
		if !ok || p.Addr != "10.0.1.2:47800" {
			t.Fatalf("listed %v as %+v, want 10.0.1.2:47800", ok, p)
		}
		if !slices.Equal(p.Addrs, []string{"10.0.0.2:47800", "10.0.1.2:47800", "[fd00::2]:47800"}) {
			t.Errorf("addrs %v (IPv4 first, no link-local)", p.Addrs)
		}
		r.prober.setMode("10.0.0.2:47800", answer)
		time.Sleep(2 * time.Second)
		if p, _ := r.peer("bbbb0002"); p.Addr != "10.0.1.2:47800" {
			t.Errorf("the address that works is kept (no churn); got %s", p.Addr)
		}
		r.prober.setMode("10.0.0.2:47800", refuse)
		r.prober.setMode("10.0.1.2:47800", refuse)
		time.Sleep(3500 * time.Millisecond)
		if p, ok := r.peer("bbbb0002"); !ok || p.Addr != "[fd00::2]:47800" {
			t.Errorf("with IPv4 gone the IPv6 address is used: %v %+v", ok, p)
		}
	})
}

func TestDedupeByHostID(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, nil)
		defer r.stop()
		synctest.Wait()
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
		time.Sleep(3500 * time.Millisecond)
		var n int
		for _, p := range r.s.Peers() {
			if p.ID == "bbbb0002" {
				n++
			}
		}
		if n != 1 {
			t.Errorf("host listed %d times: %+v", n, r.s.Peers())
		}
		synctest.Wait()
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
		ads, active, _ := r.adv.snapshot()
		if len(ads) != 1 || !active || ads[0].Instance != "alpha" || ads[0].Port != 47800 || len(ads[0].Ifaces) != 1 || ads[0].Ifaces[0].Name != "eth0" {
			t.Fatalf("first ad %+v", ads)
		}
		if want := []string{"txtvers=1", "proto=1", "id=aaaa0001", "name=alpha", "members=0", "rooms=4", "code=0", "ver=test"}; !slices.Equal(ads[0].Text, want) {
			t.Errorf("TXT %q, want %q", ads[0].Text, want)
		}
		// members join one every 100 ms for 10 s
		for i := 1; i <= 100; i++ {
			r.own.set(func(o *Own) { o.Members = i })
			time.Sleep(100 * time.Millisecond)
		}
		time.Sleep(3500 * time.Millisecond)
		ads, _, _ = r.adv.snapshot()
		if n := len(ads) - 1; n < 2 || n > 6 {
			t.Errorf("%d re-announcements in 10 s, want about one per 2 s", n)
		}
		if last := ads[len(ads)-1]; !slices.Contains(last.Text, "members=100") {
			t.Errorf("last TXT %q", last.Text)
		}
		r.own.set(func(o *Own) { o.JoinCode = true })
		time.Sleep(3500 * time.Millisecond)
		ads, _, _ = r.adv.snapshot()
		if last := ads[len(ads)-1]; !slices.Contains(last.Text, "code=1") {
			t.Errorf("join code not announced: %q", last.Text)
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

		r.ifs.set(loIface, eth0, iface("docker0", 3, lanFlags, "172.17.0.1"), iface("wg0", 4, lanFlags, "10.8.0.2"))
		time.Sleep(3500 * time.Millisecond)
		ads, active, _ := r.adv.snapshot()
		if len(ads) != 1 || !active || len(ads[0].Ifaces) != 1 || ads[0].Ifaces[0].Name != "eth0" {
			t.Fatalf("ads %+v", ads)
		}
		if d := r.s.Diagnosis(); !d.Enabled || len(d.Interfaces) != 1 || !slices.Equal(d.Interfaces[0].Addrs, []string{"10.0.0.1"}) {
			t.Errorf("diagnosis %+v", d)
		}
		// the address changes: re-announced without a restart
		r.ifs.set(loIface, iface("eth0", 2, lanFlags, "10.0.0.77"))
		time.Sleep(3500 * time.Millisecond)
		ads, _, _ = r.adv.snapshot()
		if last := ads[len(ads)-1]; len(ads) != 2 || !last.Ifaces[0].Addrs[0].Equal(net.ParseIP("10.0.0.77")) {
			t.Errorf("ads after the address change %+v", ads)
		}
		if p := r.s.Peers()[0]; p.Addr != "10.0.0.77:47800" {
			t.Errorf("self %+v", p)
		}
		// the interface goes down: goodbye, discovery off
		r.ifs.set(loIface, iface("eth0", 2, lanFlags&^net.FlagUp, "10.0.0.77"))
		time.Sleep(3500 * time.Millisecond)
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
		other := Found{Instance: "alpha", Port: 47800, Text: Own{Name: "alpha"}.TXT("0000aaaa"), Addrs: []net.IP{net.ParseIP("10.0.0.3")}}
		r.prober.set("10.0.0.3:47800", fakeHost{info: Info{ID: "0000aaaa", Name: "alpha"}})
		r.br.found(other)
		time.Sleep(time.Second)
		ads, _, _ := r.adv.snapshot()
		if last := ads[len(ads)-1]; last.Instance != "alpha (2)" {
			t.Errorf("instance after a clash with a smaller id: %q", last.Instance)
		}
		// a clash with a larger id: the other one renames, we keep ours
		r.br.found(Found{Instance: "alpha (2)", Port: 47800, Text: Own{Name: "alpha"}.TXT("ffff0000"), Addrs: []net.IP{net.ParseIP("10.0.0.4")}})
		time.Sleep(time.Second)
		ads, _, _ = r.adv.snapshot()
		if last := ads[len(ads)-1]; last.Instance != "alpha (2)" {
			t.Errorf("instance after a clash with a larger id: %q", last.Instance)
		}
	})
}

func TestManualHostRememberedAndReprobed(t *testing.T) {
	dir := t.TempDir()
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *Config) { c.DataDir = dir; c.MDNS = false })
		r.prober.set("192.168.1.20:47800", fakeHost{info: infoB})
		p, err := r.s.AddManual(context.Background(), "192.168.1.20")
		if err != nil || !p.Manual || p.MDNS || p.Addr != "192.168.1.20:47800" {
			t.Fatalf("AddManual %+v %v", p, err)
		}
		if _, err := r.s.AddManual(context.Background(), "192.168.1.99:47800"); err == nil {
			t.Error("a host that does not answer was added")
		}
		// it goes away, and comes back: remembered hosts are re-probed
		r.prober.setMode("192.168.1.20:47800", refuse)
		time.Sleep(3500 * time.Millisecond)
		if _, ok := r.peer("bbbb0002"); ok {
			t.Error("unreachable manual host still listed")
		}
		r.prober.setMode("192.168.1.20:47800", answer)
		time.Sleep(6 * time.Second)
		if _, ok := r.peer("bbbb0002"); !ok {
			t.Error("manual host not listed again")
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
		r.br.traffic(Traffic{From: net.ParseIP("10.0.0.1")}) // our own echo only
		time.Sleep(11 * time.Second)
		d := r.s.Diagnosis()
		if len(d.Hints) == 0 || !strings.Contains(d.Hints[0], "no multicast seen from other machines in 10 s") || d.OthersSeen {
			t.Fatalf("hints %q", d.Hints)
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
		r.prober.set("10.0.0.2:47800", fakeHost{info: infoB, peers: []Peer{{ID: "bbbb0002", Self: true}, {ID: "aaaa0001"}}})
		r.br.found(foundB("10.0.0.2"))
		// found, but its port is firewalled
		r.prober.set("10.0.0.3:47800", fakeHost{mode: hang})
		r.br.found(Found{Instance: "charlie", Port: 47800, Text: Own{Name: "charlie"}.TXT("cccc0003"), Addrs: []net.IP{net.ParseIP("10.0.0.3")}})
		time.Sleep(6 * time.Second)
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
		rounds := func() int {
			r.br.mu.Lock()
			defer r.br.mu.Unlock()
			return r.br.rounds
		}
		time.Sleep(time.Second)
		before := rounds()
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
	})
}
