package socketio_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
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

// TestCourseContract runs the course page's event sequence on each
// transport, with a native member in the same room.
func TestCourseContract(t *testing.T) {
	for _, tr := range transports {
		t.Run(tr, func(t *testing.T) {
			h := newTestHost(t, socketio.Config{})
			alice, ra := dial(t, h, tr)
			ra.waitFor(t, "connect", "sid")
			ra.waitFor(t, "rooms_list", `"rooms":["general","random"]`)

			// The course page: join_lobby, then leave_room lobby + join_room.
			if err := alice.Emit("join_lobby", map[string]string{"username": "Alice"}); err != nil {
				t.Fatal(err)
			}
			ra.waitFor(t, "message", "Alice entrou no Lobby.")
			bob := dialNative(t, h, "Bob")
			ra.waitFor(t, "message", "Bob entrou no Lobby.")
			bob.send(t, protocol.Join{Room: "general"})
			bob.waitFor(t, func(f map[string]any) bool { return f["type"] == "joined" && f["room"] == "general" })

			_ = alice.Emit("leave_room", map[string]string{"username": "Alice", "room": "lobby"})
			_ = alice.Emit("join_room", map[string]string{"username": "Alice", "room": "general"})
			ra.waitFor(t, "message", "Alice entrou na sala general.")
			bob.waitFor(t, func(f map[string]any) bool { return presence(f, "general", "joined", "Alice") })

			// Socket.IO -> native, with an acknowledgement.
			ctx, cancel := context.WithTimeout(context.Background(), wait)
			defer cancel()
			ack, err := alice.EmitAck(ctx, "send_message", map[string]string{"username": "Alice", "room": "general", "message": "oi Bob"})
			if err != nil || len(ack) != 1 || !strings.Contains(string(ack[0]), `"ok":true`) || !strings.Contains(string(ack[0]), `"seq":1`) {
				t.Fatalf("ack = %s, %v", ack, err)
			}
			bob.waitFor(t, func(f map[string]any) bool {
				from, _ := f["from"].(map[string]any)
				return f["type"] == "message" && f["text"] == "oi Bob" && from["name"] == "Alice"
			})
			ra.waitFor(t, "message", "Alice: oi Bob")

			// Native -> Socket.IO.
			bob.send(t, protocol.Send{Room: "general", ClientID: "b1", Text: "olá Alice"})
			ra.waitFor(t, "message", "Bob: olá Alice")

			// Lobby traffic is not shown in a room; "message" posts to the current room.
			lobbyMsg := dialNative(t, h, "Carol")
			lobbyMsg.send(t, protocol.Send{Room: "lobby", ClientID: "c1", Text: "só no lobby"})
			_ = alice.Emit("message", "direto")
			ra.waitFor(t, "message", "Alice: direto")
			bob.waitFor(t, func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "direto" })
			if ra.has("message", "só no lobby") {
				t.Error("a lobby message reached a client in general")
			}

			// Unknown room: error_message, and the client stays where it was.
			ack, err = alice.EmitAck(ctx, "join_room", map[string]string{"username": "Alice", "room": "nope"})
			ra.waitFor(t, "error_message", "A sala 'nope' não existe.")
			if err != nil || !strings.Contains(string(ack[0]), `"code":"no_such_room"`) {
				t.Errorf("ack = %s, %v", ack, err)
			}
			bob.send(t, protocol.Send{Room: "general", ClientID: "b2", Text: "ainda aqui?"})
			ra.waitFor(t, "message", "Bob: ainda aqui?")

			// leave_room of a room returns to the lobby.
			_ = alice.Emit("leave_room", map[string]string{"username": "Alice", "room": "general"})
			ra.waitFor(t, "message", "Alice voltou ao Lobby.")
			bob.waitFor(t, func(f map[string]any) bool { return presence(f, "general", "left", "Alice") })
			lobbyMsg.send(t, protocol.Send{Room: "lobby", ClientID: "c2", Text: "de volta"})
			ra.waitFor(t, "message", "Carol: de volta")

			// Another Socket.IO client with the same name is numbered.
			dave, rd := dial(t, h, tr)
			_ = dave.Emit("join_lobby", map[string]string{"username": "alice"})
			rd.waitFor(t, "message", "alice (2) entrou no Lobby.")

			// Disconnecting is seen by the others.
			alice.Close()
			lobbyMsg.waitFor(t, func(f map[string]any) bool { return presence(f, "", "disconnected", "Alice") })
			rd.waitFor(t, "message", "Alice desconectou.")
		})
	}
}

// TestSendMessageFollowsTheRoom: after a reconnect the page still believes
// it is in its room and sends there; the server moves it there first.
func TestSendMessageFollowsTheRoom(t *testing.T) {
	h := newTestHost(t, socketio.Config{})
	bob := dialNative(t, h, "Bob")
	bob.send(t, protocol.Join{Room: "random"})
	// Bob is in the room before Ana writes there (a join still in flight would miss her message).
	bob.waitFor(t, func(f map[string]any) bool { return f["type"] == "joined" && f["room"] == "random" })
	c, r := dial(t, h, sioclient.WebSocket)
	r.waitFor(t, "rooms_list", "random")
	_ = c.Emit("send_message", map[string]string{"username": "Ana", "room": "random", "message": "voltei"})
	r.waitFor(t, "message", "Ana entrou na sala random.")
	r.waitFor(t, "message", "Ana: voltei")
	bob.waitFor(t, func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "voltei" })
}

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

func TestHeartbeat(t *testing.T) {
	h := newTestHost(t, socketio.Config{PingInterval: 30 * time.Millisecond, PingTimeout: 60 * time.Millisecond})
	for _, tr := range []string{sioclient.WebSocket, sioclient.Polling} {
		live, _ := dial(t, h, tr)
		dead, _ := dial(t, h, tr, func(o *sioclient.Options) { o.NoPong = true })
		select {
		case <-dead.Done():
		case <-time.After(wait):
			t.Fatalf("%s: a client that never answers pings was not dropped", tr)
		}
		waitUntil(t, "several pings", func() bool { return live.Pings() >= 5 })
		select {
		case <-live.Done():
			t.Fatalf("%s: a client answering pings was dropped: %v", tr, live.Err())
		default:
		}
		live.Close()
	}
}

// TestSlowClientDropped: a polling client that stops fetching goes over
// its queue's cap and is cut off; the room goes on for everyone else, and
// the client's next GET tells it why.
func TestSlowClientDropped(t *testing.T) {
	h := newTestHost(t, socketio.Config{QueueBytes: 1024, QueueHardBytes: 4096, QueueGrace: time.Hour})
	resp, err := http.Get(h.base + "/socket.io/?EIO=4&transport=polling")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var hs sioclient.Handshake
	_ = json.Unmarshal(body[1:], &hs)
	url := h.base + "/socket.io/?EIO=4&transport=polling&sid=" + hs.SID
	post := func(p string) {
		resp, err := http.Post(url, "text/plain", strings.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	bob := dialNative(t, h, "Bob")
	post("40")
	post(`42["join_lobby",{"username":"Lento"}]`)
	bob.waitFor(t, func(f map[string]any) bool { return presence(f, "", "", "Lento") })
	for i := range 40 {
		bob.send(t, protocol.Send{Room: "lobby", ClientID: fmt.Sprint("m", i), Text: fmt.Sprint("msg ", i)})
	}
	bob.waitFor(t, func(f map[string]any) bool { return f["type"] == "message" && f["text"] == "msg 39" })
	bob.waitFor(t, func(f map[string]any) bool { return presence(f, "", "disconnected", "Lento") })

	resp, err = http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	want := `42["error_message",{"msg":"A conexão não acompanhou as mensagens e foi encerrada."}]` + "\x1e1"
	if resp.StatusCode != 200 || string(body) != want {
		t.Errorf("GET after the cut-off: %d %q, want %q", resp.StatusCode, body, want)
	}
	waitUntil(t, "the slow session to end", func() bool { return h.sio.Sessions() == 0 })
}

// TestSlowWebSocketClientDropped: a WebSocket client that stops reading is
// cut off; reading again, it finds error_message and close code 4008.
func TestSlowWebSocketClientDropped(t *testing.T) {
	h := newTestHost(t, socketio.Config{QueueBytes: 16 << 10, QueueHardBytes: 64 << 10, QueueGrace: time.Hour, WriteWait: time.Minute})
	bob := dialNative(t, h, "Bob")
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.base, "http")+"/socket.io/?EIO=4&transport=websocket", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	for _, p := range []string{"40", `42["join_lobby",{"username":"Lento"}]`} {
		if err := ws.WriteMessage(websocket.TextMessage, []byte(p)); err != nil {
			t.Fatal(err)
		}
	}
	bob.waitFor(t, func(f map[string]any) bool { return presence(f, "", "", "Lento") })
	// Lento reads nothing more while the lobby is busy.
	text := strings.Repeat("x", 4000)
	for i := 0; i < 20000 && h.hub.Stats().Members == 2; i++ {
		bob.send(t, protocol.Send{Room: "lobby", ClientID: fmt.Sprint("m", i), Text: text})
		if i%100 == 99 {
			time.Sleep(time.Millisecond) // let Bob's reader keep up
		}
	}
	bob.waitFor(t, func(f map[string]any) bool { return presence(f, "", "disconnected", "Lento") })

	var last string
	for {
		_ = ws.SetReadDeadline(time.Now().Add(wait))
		_, data, err := ws.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			if !errors.As(err, &ce) || ce.Code != 4008 {
				t.Fatalf("connection ended with %v, want close code 4008", err)
			}
			break
		}
		last = string(data)
	}
	if want := `42["error_message",{"msg":"A conexão não acompanhou as mensagens e foi encerrada."}]`; last != want {
		t.Errorf("last packet %q, want %q", last, want)
	}
}

// TestHallJoinsAtOnce: many native members join the room of a course page
// together. The page gets a few collapsed notices ("Ana, Bruno e mais N
// entraram na sala general."), not one line each, covering everyone, and
// never a notice of its own join from the hub besides the bridge's own.
func TestHallJoinsAtOnce(t *testing.T) {
	const n = 30
	h := newTestHost(t, socketio.Config{})
	c, r := dial(t, h, sioclient.WebSocket)
	_ = c.Emit("join_room", map[string]string{"username": "Prof", "room": "general"})
	r.waitFor(t, "message", "Prof entrou na sala general.")

	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(h.base, "http")+"/ws", nil)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { ws.Close() })
			_ = ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: protocol.Version, Name: fmt.Sprint("aluno-", i)}))
			_ = ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Join{Room: "general"}))
			go func() {
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		})
	}
	wg.Wait()

	// covered is how many members a notice names: "A", "A e B",
	// "A, B e C", "A, B e mais N".
	covered := func(line string) int {
		who, _, _ := strings.Cut(line, " entr")
		if _, more, ok := strings.Cut(who, " e mais "); ok {
			var k int
			fmt.Sscan(more, &k)
			return k + 2
		}
		return strings.Count(who, ",") + strings.Count(who, " e ") + 1
	}
	deadline := time.Now().Add(wait)
	for {
		var lines []string
		total, self := 0, 0
		r.mu.Lock()
		for _, e := range r.events {
			var line string
			if e.Name != "message" || len(e.Args) == 0 || json.Unmarshal(e.Args[0], &line) != nil {
				continue
			}
			switch {
			case strings.Contains(line, "Prof"):
				self++
			case strings.HasSuffix(line, "na sala general.") && strings.Contains(line, " entr"):
				lines = append(lines, line)
				total += covered(line)
			}
		}
		r.mu.Unlock()
		if self != 1 {
			t.Fatalf("%d notices name Prof, want only the bridge's own", self)
		}
		if total == n {
			if len(lines) > n/3 {
				t.Errorf("%d notices for %d joins: %q", len(lines), n, lines)
			}
			t.Logf("%d notices: %q", len(lines), lines)
			return
		}
		if total > n || time.Now().After(deadline) {
			t.Fatalf("notices cover %d joins of %d: %q", total, n, lines)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestShutdown: ending Run closes every transport (the official client
// then reconnects) and takes the members out of the hub.
func TestShutdown(t *testing.T) {
	h := newTestHost(t, socketio.Config{})
	var clients []*sioclient.Client
	for _, tr := range transports {
		c, r := dial(t, h, tr)
		_ = c.Emit("join_lobby", map[string]string{"username": "u-" + tr})
		r.waitFor(t, "message", "entrou no Lobby")
		clients = append(clients, c)
	}
	if n := h.hub.Stats().Members; n != 3 {
		t.Fatalf("members = %d", n)
	}
	h.stop()
	for i, c := range clients {
		select {
		case <-c.Done():
		case <-time.After(wait):
			t.Fatalf("%s client still open after shutdown", transports[i])
		}
	}
	if n := h.hub.Stats().Members; n != 0 {
		t.Errorf("members after shutdown = %d", n)
	}
	if h.sio.Sessions() != 0 {
		t.Errorf("sessions after shutdown = %d", h.sio.Sessions())
	}
}

func TestCoursePage(t *testing.T) {
	h := newTestHost(t, socketio.Config{})
	for path, want := range map[string]string{
		"/course/":                 `<script src="socket.io.min.js"></script>`,
		"/course/socket.io.min.js": "Socket.IO v4",
	} {
		resp, err := http.Get(h.base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d, missing %q", path, resp.StatusCode, want)
		}
		if strings.Contains(string(body), "cdn.socket.io") {
			t.Errorf("%s still loads the client from a CDN", path)
		}
	}
}
