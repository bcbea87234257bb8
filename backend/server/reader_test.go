package server

import (
	"bytes"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// goroutinesIn counts the goroutines whose stack has a frame of fn.
func goroutinesIn(fn string) int {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	count := 0
	for g := range bytes.SplitSeq(buf, []byte("\n\n")) {
		if bytes.Contains(g, []byte(fn+"(")) {
			count++
		}
	}
	return count
}

// After members have said hello, joined and written, each waits for its next
// frame on one goroutine of its own, a fresh one: none is left in the
// connection's first goroutine, whose stack grew during the hello. Frames
// are still handled one after another, in order, and the goroutines end
// with the connections.
func TestIdleMembersWaitOnFreshReaders(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	const n = 30
	clients := make([]*client, n)
	for i := range clients {
		c := join(t, h, fmt.Sprintf("member %02d", i))
		joinRoom(c, "general")
		for k := range 3 {
			ack := sendText(c, "general", fmt.Sprintf("m%02d-%d", i, k), "hello")
			if ack.ClientID != fmt.Sprintf("m%02d-%d", i, k) {
				t.Fatalf("member %d: ack %+v for message %d: out of order", i, ack, k)
			}
		}
		clients[i] = c
	}
	waitFor(t, "every member waiting for its next frame", func() bool {
		return goroutinesIn("lanchat/backend/server.(*wsConn).waitReadable") == n
	})
	if got := goroutinesIn("lanchat/backend/server.(*reader).read"); got != 0 {
		t.Fatalf("%d members wait inside the WebSocket read, not on the socket", got)
	}
	if got := goroutinesIn("lanchat/backend/server.(*wsConn).serve"); got != 0 {
		t.Fatalf("%d connections still read on their first goroutine", got)
	}
	// A member that sends again is answered by its new reader.
	joinRoom(clients[0], "random")
	if got := sendText(clients[0], "random", "again", "still here"); got.Room != "random" {
		t.Fatalf("ack %+v", got)
	}
	for _, c := range clients {
		c.ws.Close()
	}
	waitFor(t, "the readers to end with their connections", func() bool {
		return goroutinesIn("lanchat/backend/server.(*reader).read") == 0 &&
			goroutinesIn("lanchat/backend/server.(*wsConn).waitReadable") == 0 && h.srv.conns.Load() == 0
	})
}

// Idle members answer the host's pings. Each pong is taken while the member
// waits on its socket, and extends its deadline as the WebSocket library's
// pong handler would: the members stay connected past many pong waits, and
// go on waiting on the socket, not inside the library's read.
func TestPongsKeepIdleMembersWaitingOnTheSocket(t *testing.T) {
	const n, rounds = 10, 12
	h := startHost(t, chat.Config{}, Config{PingInterval: 20 * time.Millisecond, PongWait: 100 * time.Millisecond})
	var wg sync.WaitGroup
	var joined atomic.Bool // member 0 was answered after its pongs
	pings := make([]atomic.Int32, n)
	clients := make([]*client, n)
	for i := range clients {
		c := join(t, h, fmt.Sprintf("member %02d", i))
		clients[i] = c
		c.ws.SetPingHandler(func(data string) error {
			pings[i].Add(1)
			return c.ws.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		wg.Go(func() { // answers pings while it reads, until the connection closes
			for {
				_, data, err := c.ws.ReadMessage()
				if err != nil {
					return
				}
				if bytes.Contains(data, []byte(`"type":"joined"`)) && bytes.Contains(data, []byte(`"room":"general"`)) {
					joined.Store(true)
				}
			}
		})
	}
	waitFor(t, fmt.Sprintf("every member to answer %d pings", rounds), func() bool {
		for i := range pings {
			if pings[i].Load() < rounds {
				return false
			}
		}
		return true
	})
	if got := h.srv.conns.Load(); got != n {
		t.Fatalf("%d of %d members still connected after %d pongs each", got, n, rounds)
	}
	waitFor(t, "every member waiting on its socket", func() bool {
		return goroutinesIn("lanchat/backend/server.(*wsConn).waitReadable") == n
	})
	if got := goroutinesIn("lanchat/backend/server.(*reader).read"); got != 0 {
		t.Fatalf("%d members wait inside the WebSocket read after a pong", got)
	}
	// A member that writes after its pongs is still answered.
	clients[0].send(protocol.Join{Room: "general"})
	waitFor(t, "member 0 to join a room after its pongs", joined.Load)
	for _, c := range clients {
		c.ws.Close()
	}
	wg.Wait()
}
