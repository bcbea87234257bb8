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

// A member who has just sent a frame waits for its next one on a goroutine
// of its own for Config.ParkAfter, not parked: a member who is writing
// sends again soon, and a wait on the runtime's own poller costs less per
// frame than parking it.
func TestActiveMembersAreNotParkedAtOnce(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{ParkAfter: 30 * time.Second})
	const n = 5
	for i := range n {
		c := join(t, h, fmt.Sprintf("member %02d", i))
		joinRoom(c, "general")
		sendText(c, "general", fmt.Sprint("m", i), "hello")
	}
	waitFor(t, "every member waiting on a goroutine", func() bool {
		return goroutinesIn("lanchat/backend/server.(*wsConn).waitQuiet") == n
	})
	if p := h.srv.poller.Load(); p != nil && p.Parked() != 0 {
		t.Fatalf("%d members parked at once", p.Parked())
	}
}

// idleWaits counts the members waiting for their next frame the cheap way:
// parked with the poller where there is one (and then no goroutine waits
// for them), else on a fresh goroutine waiting on the socket. While some
// member waits on a goroutine on Linux (a pong being taken, say), it
// returns -1.
func idleWaits(h *testHost) int {
	onGoroutines := goroutinesIn("lanchat/backend/server.(*wsConn).waitReadable")
	if runtime.GOOS != "linux" {
		return onGoroutines
	}
	if onGoroutines != 0 {
		return -1
	}
	if p := h.srv.poller.Load(); p != nil {
		return p.Parked()
	}
	return 0
}

// After members have said hello, joined and written, each waits for its next
// frame parked (on Linux; elsewhere on a fresh goroutine of its own): no
// goroutine is left in the connection's first one, whose stack grew during
// the hello, nor inside the WebSocket read. Frames are still handled one
// after another, in order, and nothing is left when the connections end.
func TestIdleMembersWaitParked(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{ParkAfter: 20 * time.Millisecond})
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
	waitFor(t, "every member waiting for its next frame", func() bool { return idleWaits(h) == n })
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
			idleWaits(h) == 0 && h.srv.conns.Load() == 0
	})
}

// Idle members answer the host's pings. Each pong is taken while the member
// waits on its socket, and extends its deadline as the WebSocket library's
// pong handler would: the members stay connected past many pong waits, and
// go on waiting parked (or on the socket), not inside the library's read.
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
	waitFor(t, "every member waiting on its socket", func() bool { return idleWaits(h) == n })
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

// A parked member that stops answering pings is dropped once its pong wait
// has passed, as one waiting inside the library's read would be; members
// parked when the host shuts down hear so and are not left behind (Serve
// returns only when every connection has ended).
func TestParkedMembersEnd(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{PingInterval: 50 * time.Millisecond, PongWait: 300 * time.Millisecond})
	silent := join(t, h, "Silent")
	silent.ws.SetPingHandler(func(string) error { return nil })
	silentDone := make(chan struct{})
	go func() {
		defer close(silentDone)
		for {
			if _, _, err := silent.ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	waitFor(t, "Silent parked", func() bool { return runtime.GOOS != "linux" || idleWaits(h) == 1 })
	waitFor(t, "Silent dropped after its pong wait", func() bool { return h.srv.conns.Load() == 0 })
	<-silentDone

	a := join(t, h, "Ana")
	b := join(t, h, "Beto")
	waitFor(t, "Ana and Beto parked", func() bool { return runtime.GOOS != "linux" || idleWaits(h) == 2 })
	h.stop()
	for _, c := range []*client{a, b} {
		if f := expect[protocol.Error](c); f.Code != protocol.CodeShuttingDown {
			t.Errorf("%s heard %+v, want %s", c.welcome.Member.Name, f, protocol.CodeShuttingDown)
		}
	}
	if got := h.srv.poller.Load().Parked(); got != 0 {
		t.Fatalf("%d waits still parked after Serve returned", got)
	}
}
