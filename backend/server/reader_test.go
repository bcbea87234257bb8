package server

import (
	"bytes"
	"fmt"
	"runtime"
	"testing"

	"lanchat/backend/chat"
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
		return goroutinesIn("lanchat/backend/server.(*reader).read") == n
	})
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
		return goroutinesIn("lanchat/backend/server.(*reader).read") == 0 && h.srv.conns.Load() == 0
	})
}
