package socketio_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
	"lanchat/backend/socketio"
	"lanchat/backend/socketio/sioclient"
)

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
