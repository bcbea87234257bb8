package host

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"lanchat/backend/discovery"
)

// Two hosts on loopback with mDNS off: the discovery routes are served, the
// diagnosis says discovery is off, and a host added by address is listed.
func TestDiscoveryWiring(t *testing.T) {
	start := func(name string) (*Host, func()) {
		h, err := New(Config{Addr: "127.0.0.1:0", Name: name, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := h.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
		return h, func() { cancel(); wg.Wait() }
	}
	a, stopA := start("alpha")
	defer stopA()
	b, stopB := start("bravo")
	defer stopB()
	base := func(h *Host) string { return "http://127.0.0.1:" + strconv.Itoa(h.Port()) }

	var d discovery.Diagnosis
	getJSON(t, base(a)+"/api/discovery", &d)
	if d.Enabled || !strings.Contains(d.Reason, "turned off") {
		t.Errorf("diagnosis %+v", d)
	}
	// The host's own origin policy guards adding peers: a foreign page is refused.
	for origin, want := range map[string]int{"http://evil.example": http.StatusForbidden, base(a): http.StatusConflict} {
		req, _ := http.NewRequest("POST", base(a)+"/api/peers", strings.NewReader(`{"addr":"`+base(a)+`/"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Origin", origin)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("POST /api/peers from %s: %d, want %d", origin, r.StatusCode, want)
		}
	}
	resp, err := http.Post(base(a)+"/api/peers", "application/json", strings.NewReader(`{"addr":"`+base(b)+`/"}`))
	if err != nil {
		t.Fatal(err)
	}
	var p discovery.Peer
	json.NewDecoder(resp.Body).Decode(&p)
	resp.Body.Close()
	if resp.StatusCode != 200 || p.ID != b.ID || p.Name != "bravo" || !p.Manual || p.Rooms != 4 {
		t.Fatalf("POST /api/peers: %d %+v", resp.StatusCode, p)
	}
	var peers discovery.PeersJSON
	getJSON(t, base(a)+"/api/peers", &peers)
	if len(peers.Peers) != 2 || !peers.Peers[0].Self || peers.Peers[0].ID != a.ID || peers.Peers[1].ID != b.ID {
		t.Errorf("peers %+v", peers.Peers)
	}
	// b stops: a drops it
	stopB()
	deadline := time.Now().Add(10 * time.Second)
	for len(a.Discovery.Peers()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("stopped host still listed: %+v", a.Discovery.Peers())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}
