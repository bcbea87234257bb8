package discovery

import (
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

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
