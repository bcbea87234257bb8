package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

func TestReadLimitClosesWith1009(t *testing.T) {
	h := startHost(t, chat.Config{MaxText: 100 << 10}, Config{MaxFrame: 64 << 10})
	a := join(t, h, "Alice")
	big := protocol.MustEncode(protocol.Send{Room: "lobby", ClientID: "big", Text: strings.Repeat("x", 65<<10)})
	a.sendRaw(websocket.TextMessage, big)
	if code := expectClose(a); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	// Just under the limit is fine.
	b := join(t, h, "Bob")
	sendText(b, "lobby", "fits", strings.Repeat("y", 60<<10))
}

func TestRateLimit(t *testing.T) {
	h := startHost(t, chat.Config{RatePerSecond: 1, RateBurst: 3}, Config{})
	a := join(t, h, "Alice")
	for i := range 3 {
		sendText(a, "lobby", fmt.Sprint(i), "ok")
	}
	a.send(protocol.Send{Room: "lobby", ClientID: "over", Text: "too fast"})
	e := expectError(a, protocol.CodeRateLimited)
	if e.Ref != "over" {
		t.Errorf("ref %q", e.Ref)
	}
}

func TestSlowReaderIsDroppedRoomKeepsFlowing(t *testing.T) {
	h := startHost(t, chat.Config{RatePerSecond: 1 << 20, RateBurst: 1 << 20, MaxText: 8192}, Config{QueueBytes: 64 << 10, QueueHardBytes: 256 << 10})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	join(t, h, "Slow") // never reads again

	// Bob reads all the time, on his own goroutine.
	seqs := make(chan uint64, 10000)
	var got atomic.Int64 // messages Bob has read
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(seqs)
		for {
			_, data, err := b.ws.ReadMessage()
			if err != nil {
				return
			}
			for _, part := range strings.Split(string(data), "\n") {
				var m protocol.Message
				if json.Unmarshal([]byte(part), &m) == nil && m.Type == protocol.TypeMessage {
					seqs <- m.Seq
					got.Add(1)
				}
			}
		}
	}()
	text := strings.Repeat("z", 8000)
	// Alice keeps at most 6 messages (48 KB) ahead of Bob, so Bob stays under
	// the soft budget however busy the machine is; Slow falls behind alone.
	for i := 0; i < 5000 && h.hub.Stats().Members == 3; i++ {
		waitFor(t, "Bob to keep up", func() bool { return got.Load() >= int64(i-6) })
		sendText(a, "lobby", fmt.Sprint(i), text)
	}
	waitFor(t, "the slow reader to be dropped", func() bool { return h.hub.Stats().Members == 2 })
	// The room still works, and Bob got every message, in order.
	last := sendText(a, "lobby", "last", "still flowing").Seq
	for want := uint64(1); want <= last; want++ {
		if got := <-seqs; got != want {
			t.Fatalf("Bob got seq %d, want %d", got, want)
		}
	}
	b.ws.Close()
	<-readerDone
}

// MaxConns counts members: connections that have not said hello yet do
// not take a place, and a hello when the host is full gets server_full.
func TestMaxConnections(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{MaxConns: 2})
	waiting := dial(t, h) // no hello: not a member
	join(t, h, "A")
	b := join(t, h, "B")
	c := dial(t, h)
	c.send(protocol.Hello{Version: 1, Name: "C"})
	expectError(c, protocol.CodeServerFull)
	if code := expectClose(c); code != websocket.CloseTryAgainLater {
		t.Errorf("close code %d, want 1013", code)
	}
	waiting.send(protocol.Hello{Version: 1, Name: "W"})
	expectError(waiting, protocol.CodeServerFull)
	// A member leaves: its place is free again.
	b.ws.Close()
	waitFor(t, "B to leave", func() bool { return h.hub.Stats().Members == 1 })
	join(t, h, "D")
}

func TestOriginPolicy(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{AllowedOrigins: []string{"http://localhost:34115"}})
	host := strings.TrimPrefix(h.base, "http://")
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"wails://wails", true},
		{"http://wails.localhost", true},
		{"http://localhost:34115", true},
		{"http://evil.example", false},
		{"http://" + host + ".evil.example", false},
		{"https://lanchat.attacker.test", false},
		{"null", false},
		{"file://", false},
	}
	for _, tc := range cases {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		ws, resp, err := dialRaw(t, h.url, hdr)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			ws.Close()
			continue
		}
		if err == nil {
			ws.Close()
			t.Errorf("origin %q accepted", tc.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tc.origin, err)
		}
	}
}

func TestShutdownSays1001(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	waiting := dial(t, h) // connected, no hello yet
	h.stop()
	expectError(a, protocol.CodeShuttingDown)
	if code := expectClose(a); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	expectError(waiting, protocol.CodeShuttingDown)
	if code := expectClose(waiting); code != websocket.CloseGoingAway {
		t.Errorf("pre-hello close code %d, want 1001", code)
	}
}
