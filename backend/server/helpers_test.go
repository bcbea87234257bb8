package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testHost is a server running Serve on 127.0.0.1 for one test.
type testHost struct {
	t      *testing.T
	srv    *Server
	hub    *chat.Hub
	url    string // ws://127.0.0.1:PORT/ws
	base   string // http://127.0.0.1:PORT
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func startHost(t *testing.T, hc chat.Config, sc Config) *testHost {
	t.Helper()
	if hc.HostID == "" {
		hc.HostID, hc.HostName = "host-test", "test host"
	}
	hub, err := chat.NewHub(hc)
	if err != nil {
		t.Fatal(err)
	}
	sc.Hub = hub
	srv := New(sc)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h := &testHost{t: t, srv: srv, hub: hub, cancel: cancel, done: make(chan error, 1)}
	h.base = "http://" + ln.Addr().String()
	h.url = "ws://" + ln.Addr().String() + "/ws"
	go func() { h.done <- srv.Serve(ctx, ln) }()
	t.Cleanup(h.stop)
	return h
}

// stop shuts the server down and waits for Serve to return.
func (h *testHost) stop() {
	h.once.Do(func() {
		h.cancel()
		select {
		case err := <-h.done:
			if err != nil {
				h.t.Errorf("Serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			h.t.Error("server did not stop")
		}
	})
}

// client is a real WebSocket client speaking protocol v1.
type client struct {
	t       *testing.T
	ws      *websocket.Conn
	pending []json.RawMessage
	welcome protocol.Welcome
}

func dialRaw(t *testing.T, url string, header http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
	return d.Dial(url, header)
}

func dial(t *testing.T, h *testHost) *client {
	t.Helper()
	ws, _, err := dialRaw(t, h.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { ws.Close() })
	return c
}

// join connects and says hello as name, returning after the welcome.
func join(t *testing.T, h *testHost, name string) *client {
	t.Helper()
	c := dial(t, h)
	c.send(protocol.Hello{Version: protocol.Version, Name: name})
	c.welcome = expect[protocol.Welcome](c)
	expect[protocol.Joined](c) // the lobby
	return c
}

func (c *client) send(f protocol.Frame) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(f)); err != nil {
		c.t.Fatal(err)
	}
}

func (c *client) sendRaw(mt int, data []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(mt, data); err != nil {
		c.t.Fatal(err)
	}
}

// next returns the next frame, splitting batched messages.
func (c *client) next() (string, json.RawMessage, error) {
	for len(c.pending) == 0 {
		_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		mt, data, err := c.ws.ReadMessage()
		if err != nil {
			return "", nil, err
		}
		if mt != websocket.TextMessage {
			c.t.Fatalf("server sent a non-text message")
		}
		for _, part := range bytes.Split(data, []byte("\n")) {
			c.pending = append(c.pending, json.RawMessage(part))
		}
	}
	raw := c.pending[0]
	c.pending = c.pending[1:]
	var head struct{ Type string }
	if err := json.Unmarshal(raw, &head); err != nil {
		c.t.Fatalf("server sent invalid JSON %q", raw)
	}
	return head.Type, raw, nil
}

// expect reads frames until one of type T arrives, skipping the updates
// that arrive whenever others act (rooms list, presence, typing, member,
// deleted, renamed, closed) and the room's log (messages, polls and their
// events: a sender gets its own). Any
// other frame is a failure.
func expect[T protocol.Frame](c *client) T {
	c.t.Helper()
	var zero T
	want := zero.FrameType()
	for {
		typ, raw, err := c.next()
		if err != nil {
			c.t.Fatalf("waiting for %s: %v", want, err)
		}
		if typ == want {
			var v T
			if err := json.Unmarshal(raw, &v); err != nil {
				c.t.Fatal(err)
			}
			return v
		}
		if typ == protocol.TypeRooms || typ == protocol.TypePresence || typ == protocol.TypeTyping || typ == protocol.TypeMessage || typ == protocol.TypeMember ||
			typ == protocol.TypeDeleted || typ == protocol.TypeRenamed || typ == protocol.TypeClosed || typ == protocol.TypePoll || protocol.IsEvent(typ) {
			continue
		}
		if len(raw) > 300 {
			raw = append(raw[:300:300], "…"...)
		}
		c.t.Fatalf("waiting for %s, got %s", want, raw)
	}
}

// expectError reads until an error frame and checks its code.
func expectError(c *client, code string) protocol.Error {
	c.t.Helper()
	e := expect[protocol.Error](c)
	if e.Code != code {
		c.t.Fatalf("error code %q (%s), want %q", e.Code, e.Message, code)
	}
	if e.Message == "" {
		c.t.Fatalf("error %q has no message", e.Code)
	}
	return e
}

// expectClose reads until the connection closes and returns the close code.
func expectClose(c *client) int {
	c.t.Helper()
	for {
		_, _, err := c.next()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		return -1 // closed without a close frame
	}
}

// expectChange reads presence frames (skipping what expect skips) until
// one of room carries the change event of the member called name. With
// coalescing, a change may come with others, and changes of other members
// (or of the client itself) may come first.
func expectChange(c *client, room, event, name string) protocol.PresenceChange {
	c.t.Helper()
	for {
		p := expect[protocol.Presence](c)
		if p.Room != room {
			continue
		}
		for _, ch := range p.Changes {
			if ch.Member.Name == name {
				if ch.Event != event {
					c.t.Fatalf("presence of %s in %s: %s, want %s", name, room, ch.Event, event)
				}
				return ch
			}
		}
	}
}

// collect reads frames of type T until n have arrived.
func collect[T protocol.Frame](c *client, n int) []T {
	c.t.Helper()
	var out []T
	for len(out) < n {
		out = append(out, expect[T](c))
	}
	return out
}

// waitFor polls cond until it holds, failing after a generous deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func sendText(c *client, room, id, text string) protocol.Ack {
	c.t.Helper()
	c.send(protocol.Send{Room: room, ClientID: id, Text: text})
	return expect[protocol.Ack](c)
}

func joinRoom(c *client, room string) protocol.Joined {
	c.t.Helper()
	c.send(protocol.Join{Room: room})
	return expect[protocol.Joined](c)
}

func names(ms []protocol.Member) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Name)
	}
	return strings.Join(s, ",")
}
