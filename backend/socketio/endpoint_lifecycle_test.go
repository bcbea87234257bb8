package socketio_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
	"lanchat/backend/socketio"
	"lanchat/backend/socketio/sioclient"
)

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
