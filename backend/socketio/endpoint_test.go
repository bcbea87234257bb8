package socketio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/server"
	"lanchat/backend/socketio"
	"lanchat/backend/socketio/sioclient"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const wait = 10 * time.Second // generous deadline for conditions

type testHost struct {
	base string
	hub  *chat.Hub
	sio  *socketio.Server
	stop func() // ends the endpoint's Run and waits for it
}

func newTestHost(t *testing.T, cfg socketio.Config) *testHost {
	t.Helper()
	hub, err := chat.NewHub(chat.Config{HostID: "h1", HostName: "test", Rooms: []string{"general", "random"}, RatePerSecond: 10000, RateBurst: 10000})
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{Hub: hub})
	cfg.Hub = hub
	cfg.OriginAllowed = srv.OriginAllowed
	sio := socketio.New(cfg)
	for _, m := range []string{"GET", "POST", "OPTIONS"} {
		srv.Handle(m+" "+socketio.Path, sio)
	}
	srv.Handle("GET "+socketio.CoursePath, socketio.CourseHandler())
	ts := httptest.NewServer(srv)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sio.Run(ctx)
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			<-done
		})
	}
	t.Cleanup(func() {
		stop()
		hub.Close()
		ts.CloseClientConnections()
		ts.Close()
	})
	return &testHost{base: ts.URL, hub: hub, sio: sio, stop: stop}
}

// recorder keeps a client's events for waitFor.
type recorder struct {
	mu     sync.Mutex
	events []sioclient.Event
	notify chan struct{}
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{}, 1)} }

func (r *recorder) on(name string, args []json.RawMessage) {
	r.mu.Lock()
	r.events = append(r.events, sioclient.Event{Name: name, Args: args})
	r.mu.Unlock()
	select {
	case r.notify <- struct{}{}:
	default:
	}
}

// waitFor returns the first event (from the start) named name whose first
// argument, as JSON, contains substr.
func (r *recorder) waitFor(t *testing.T, name, substr string) sioclient.Event {
	t.Helper()
	deadline := time.After(wait)
	for {
		r.mu.Lock()
		for _, e := range r.events {
			if e.Name == name && (substr == "" || (len(e.Args) > 0 && strings.Contains(string(e.Args[0]), substr))) {
				r.mu.Unlock()
				return e
			}
		}
		r.mu.Unlock()
		select {
		case <-r.notify:
		case <-deadline:
			r.mu.Lock()
			defer r.mu.Unlock()
			t.Fatalf("no %s event containing %q; got %s", name, substr, dump(r.events))
		}
	}
}

func (r *recorder) has(name, substr string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range r.events {
		if e.Name == name && len(e.Args) > 0 && strings.Contains(string(e.Args[0]), substr) {
			return true
		}
	}
	return false
}

func dump(es []sioclient.Event) string {
	var b strings.Builder
	for _, e := range es {
		fmt.Fprintf(&b, "\n  %s %s", e.Name, bytes.Join(func() [][]byte {
			var out [][]byte
			for _, a := range e.Args {
				out = append(out, a)
			}
			return out
		}(), []byte(",")))
	}
	return b.String()
}

func dial(t *testing.T, h *testHost, transport string, opts ...func(*sioclient.Options)) (*sioclient.Client, *recorder) {
	t.Helper()
	rec := newRecorder()
	o := sioclient.Options{Transport: transport, OnEvent: rec.on}
	for _, f := range opts {
		f(&o)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	c, err := sioclient.Dial(ctx, h.base, o)
	if err != nil {
		t.Fatalf("dial %s: %v", transport, err)
	}
	t.Cleanup(c.Close)
	return c, rec
}

// native is a protocol v1 client on /ws.
type native struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	frames []map[string]any
	notify chan struct{}
	done   chan struct{}
}

func dialNative(t *testing.T, h *testHost, name string) *native {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.base, "http")+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	n := &native{ws: ws, notify: make(chan struct{}, 1), done: make(chan struct{})}
	go func() {
		defer close(n.done)
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			for line := range bytes.SplitSeq(data, []byte("\n")) {
				var f map[string]any
				if json.Unmarshal(line, &f) == nil {
					n.mu.Lock()
					n.frames = append(n.frames, f)
					n.mu.Unlock()
				}
			}
			select {
			case n.notify <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		ws.Close()
		<-n.done
	})
	n.send(t, protocol.Hello{Version: protocol.Version, Name: name})
	n.waitFor(t, func(f map[string]any) bool { return f["type"] == "welcome" })
	return n
}

func (n *native) send(t *testing.T, f protocol.Frame) {
	t.Helper()
	if err := n.ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(f)); err != nil {
		t.Fatal(err)
	}
}

// presence reports whether f is a presence frame (of room, unless "") with
// a change (of kind event, unless "") of the member called name.
func presence(f map[string]any, room, event, name string) bool {
	if f["type"] != "presence" || (room != "" && f["room"] != room) {
		return false
	}
	changes, _ := f["changes"].([]any)
	for _, c := range changes {
		c, _ := c.(map[string]any)
		m, _ := c["member"].(map[string]any)
		if (event == "" || c["event"] == event) && m["name"] == name {
			return true
		}
	}
	return false
}

func (n *native) waitFor(t *testing.T, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.After(wait)
	for {
		n.mu.Lock()
		for _, f := range n.frames {
			if match(f) {
				n.mu.Unlock()
				return f
			}
		}
		n.mu.Unlock()
		select {
		case <-n.notify:
		case <-deadline:
			t.Fatalf("native client: no matching frame")
		}
	}
}

func TestHandshakeAndHTTPErrors(t *testing.T) {
	h := newTestHost(t, socketio.Config{PingInterval: 1500 * time.Millisecond, PingTimeout: 1200 * time.Millisecond, MaxPayload: 5000})
	resp, err := http.Get(h.base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || body[0] != '0' {
		t.Fatalf("handshake: %d %q", resp.StatusCode, body)
	}
	var hs sioclient.Handshake
	if err := json.Unmarshal(body[1:], &hs); err != nil {
		t.Fatal(err)
	}
	if len(hs.SID) != 20 || len(hs.Upgrades) != 1 || hs.Upgrades[0] != "websocket" || hs.PingInterval != 1500 || hs.PingTimeout != 1200 || hs.MaxPayload != 5000 {
		t.Errorf("handshake = %+v", hs)
	}

	tests := []struct {
		method, query, origin string
		status, code          int
	}{
		{"GET", "transport=polling", "", 400, 5},
		{"GET", "EIO=3&transport=polling", "", 400, 5},
		{"GET", "EIO=4&transport=flash", "", 400, 0},
		{"GET", "EIO=4&transport=polling&sid=nope", "", 400, 1},
		{"POST", "EIO=4&transport=polling&sid=nope", "", 400, 1},
		{"POST", "EIO=4&transport=polling", "", 400, 2},
		{"GET", "EIO=4&transport=websocket", "", 400, 3}, // not an upgrade request
		{"GET", "EIO=4&transport=polling&j=0", "", 400, 3},
		{"GET", "EIO=4&transport=polling", "http://evil.example", 403, 4},
	}
	for _, tt := range tests {
		req, _ := http.NewRequest(tt.method, h.base+"/socket.io/?"+tt.query, strings.NewReader("x"))
		if tt.origin != "" {
			req.Header.Set("Origin", tt.origin)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
		}
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if resp.StatusCode != tt.status || err != nil || e.Code != tt.code || e.Message == "" {
			t.Errorf("%s ?%s: %d %+v (%v), want %d code %d", tt.method, tt.query, resp.StatusCode, e, err, tt.status, tt.code)
		}
	}

	// A POST larger than maxPayload ends the session.
	req, _ := http.NewRequest("POST", h.base+"/socket.io/?EIO=4&transport=polling&sid="+hs.SID, strings.NewReader("4"+strings.Repeat("x", 6000)))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 400 {
		t.Errorf("oversized POST: %d", resp.StatusCode)
	}
	waitUntil(t, "the session to end", func() bool { return h.sio.Sessions() == 0 })

	// Same-origin pages are served (and get CORS headers echoing their origin).
	req, _ = http.NewRequest("GET", h.base+"/socket.io/?EIO=4&transport=polling", nil)
	req.Header.Set("Origin", h.base)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Access-Control-Allow-Origin") != h.base {
		t.Errorf("same-origin handshake: %d, ACAO %q", resp.StatusCode, resp.Header.Get("Access-Control-Allow-Origin"))
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

var transports = []string{sioclient.WebSocket, sioclient.Polling, sioclient.Upgrade}

func TestNamespaceRefused(t *testing.T) {
	h := newTestHost(t, socketio.Config{})
	for _, tr := range transports {
		_, r := dial(t, h, tr, func(o *sioclient.Options) { o.Namespace = "/admin" })
		e := r.waitFor(t, "connect_error", "Invalid namespace")
		if string(e.Args[0]) != `{"message":"Invalid namespace"}` {
			t.Errorf("%s: connect_error %s", tr, e.Args[0])
		}
		if r.has("connect", "") {
			t.Errorf("%s: connected to /admin", tr)
		}
	}
}

func TestBinaryRefused(t *testing.T) {
	h := newTestHost(t, socketio.Config{})
	c, r := dial(t, h, sioclient.Polling)
	r.waitFor(t, "connect", "")
	// A binary event with one attachment (base64 over polling), asking for an ack.
	if err := c.SendRaw(`451-7["send_message",{"_placeholder":true,"num":0}]` + "\x1ebAQID"); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "error_message", "Anexos binários")
	// The connection stays usable.
	_ = c.Emit("join_lobby", map[string]string{"username": "Bia"})
	r.waitFor(t, "message", "Bia entrou no Lobby.")
}

func TestMalformedPacketEndsSession(t *testing.T) {
	h := newTestHost(t, socketio.Config{})
	for _, tr := range []string{sioclient.WebSocket, sioclient.Polling} {
		c, r := dial(t, h, tr)
		r.waitFor(t, "connect", "")
		_ = c.SendRaw(`42{"not":"an array"}`)
		select {
		case <-c.Done():
		case <-time.After(wait):
			t.Fatalf("%s: a malformed packet did not end the session", tr)
		}
	}
	waitUntil(t, "sessions to end", func() bool { return h.sio.Sessions() == 0 })
}
