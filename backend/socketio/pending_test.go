package socketio_test

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"lanchat/backend/server/pending"
	"lanchat/backend/socketio"
	"lanchat/backend/socketio/sioclient"
)

// Sessions that have not given a name count against Pending, not
// MaxSessions: Engine.IO handshakes cannot fill the host. Named clients do,
// and a handshake when MaxSessions are named gets 503.
func TestUnnamedSessionsDoNotFillTheHost(t *testing.T) {
	h := newTestHost(t, socketio.Config{MaxSessions: 2})
	for range 10 {
		dial(t, h, sioclient.Polling) // connected, no name
	}
	a, ra := dial(t, h, sioclient.WebSocket)
	_ = a.Emit("join_lobby", map[string]string{"username": "Ana"})
	ra.waitFor(t, "message", "Ana entrou no Lobby.")
	b, rb := dial(t, h, sioclient.WebSocket)
	_ = b.Emit("join_lobby", map[string]string{"username": "Bia"})
	rb.waitFor(t, "message", "Bia entrou no Lobby.")
	if st := h.sio.Pending(); st.Waiting != 10 {
		t.Errorf("pending %+v, want the 10 unnamed sessions", st)
	}
	resp, err := http.Get(h.base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "full") {
		t.Errorf("handshake with 2 named of 2: %d %q, want 503", resp.StatusCode, body)
	}
}

// Over the per-address limit, the unnamed session that has waited longest
// is closed; named ones never are.
func TestUnnamedSessionEvicted(t *testing.T) {
	h := newTestHost(t, socketio.Config{Pending: pending.Limits{PerAddr: 2, EvictAfter: 20 * time.Millisecond}})
	named, rn := dial(t, h, sioclient.WebSocket)
	_ = named.Emit("join_lobby", map[string]string{"username": "Ana"})
	rn.waitFor(t, "message", "Ana entrou no Lobby.")
	oldest, _ := dial(t, h, sioclient.WebSocket)
	time.Sleep(50 * time.Millisecond) // past EvictAfter
	second, _ := dial(t, h, sioclient.Polling)
	third, _ := dial(t, h, sioclient.WebSocket)
	select {
	case <-oldest.Done():
	case <-time.After(wait):
		t.Fatal("the oldest unnamed session was not closed")
	}
	for _, c := range []*sioclient.Client{named, second, third} {
		select {
		case <-c.Done():
			t.Fatalf("a session that should stay was closed: %v", c.Err())
		default:
		}
	}
	_ = third.Emit("join_lobby", map[string]string{"username": "Caio"})
	rn.waitFor(t, "message", "Caio entrou no Lobby.")
	if st := h.sio.Pending(); st.Evicted != 1 || st.Waiting != 1 {
		t.Errorf("pending %+v, want 1 evicted and 1 waiting", st)
	}
}
