package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// dialSmall connects with small socket buffers on both ends, so that a
// client that reads slowly is soon felt by the server's queue rather than
// absorbed by the kernel.
func dialSmall(t *testing.T, h *testHost) *client {
	t.Helper()
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if err == nil {
				_ = c.(*net.TCPConn).SetReadBuffer(32 << 10)
			}
			return c, err
		},
	}
	ws, _, err := d.Dial(h.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

func joinSmall(t *testing.T, h *testHost, name string) *client {
	t.Helper()
	c := dialSmall(t, h)
	c.send(protocol.Hello{Version: protocol.Version, Name: name})
	c.welcome = expect[protocol.Welcome](c)
	expect[protocol.Joined](c)
	_ = connOf(t, h, c).ws.NetConn().(*net.TCPConn).SetWriteBuffer(16 << 10)
	return c
}

// connOf finds the server side of a client.
func connOf(t *testing.T, h *testHost, c *client) *wsConn {
	t.Helper()
	h.srv.mu.Lock()
	defer h.srv.mu.Unlock()
	for wc := range h.srv.live {
		if wc.ws.RemoteAddr().String() == c.ws.LocalAddr().String() {
			return wc
		}
	}
	t.Fatal("no server connection for the client")
	return nil
}

// TestSlowConsumerIsCutOff: a member who stops reading is cut off, over the
// hard cap at once or over the budget for the grace period; when it reads
// again it finds slow_consumer and close code 4008 after what was written.
func TestSlowConsumerIsCutOff(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"hard cap", Config{QueueBytes: 32 << 10, QueueHardBytes: 128 << 10, QueueGrace: time.Hour}},
		{"grace", Config{QueueBytes: 32 << 10, QueueHardBytes: 1 << 30, QueueGrace: 300 * time.Millisecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.cfg.WriteWait = time.Minute // the cut-off waits for the blocked write
			h := startHost(t, chat.Config{RatePerSecond: 1 << 20, RateBurst: 1 << 20, MaxText: 8192}, tt.cfg)
			a := join(t, h, "Alice")
			slow := join(t, h, "Slow") // stops reading here
			text := strings.Repeat("z", 8000)
			for i := 0; i < 20000 && h.hub.Stats().Members == 2; i++ {
				sendText(a, "lobby", fmt.Sprint(i), text)
			}
			// The member is gone at once, though its socket is still
			// blocked on what was written before.
			waitFor(t, "the slow reader to be cut off", func() bool { return h.hub.Stats().Members == 1 })
			connOf(t, h, slow)

			// Reading again, it gets the messages written, then why.
			e := expectError(slow, protocol.CodeSlowConsumer)
			if !strings.Contains(e.Message, "keep up") {
				t.Errorf("message %q", e.Message)
			}
			if code := expectClose(slow); code != CloseSlowConsumer {
				t.Errorf("close code %d, want %d", code, CloseSlowConsumer)
			}
			// The room goes on.
			sendText(a, "lobby", "after", "still here")
		})
	}
}

// slowReader reads like a slow device: it sleeps in proportion to what it
// got. It follows a room's member list through joined and presence.
type slowReader struct {
	c        *client
	room     string
	perKiB   time.Duration
	mu       sync.Mutex
	members  []protocol.Member
	seqs     []uint64
	presence int // presence frames of the room
	err      error
	start    chan struct{} // when not nil, nothing is read until it closes
	done     chan struct{}
}

func (r *slowReader) run() {
	defer close(r.done)
	if r.start != nil {
		<-r.start
	}
	for {
		_ = r.c.ws.SetReadDeadline(time.Now().Add(30 * time.Second))
		_, data, err := r.c.ws.ReadMessage()
		if err != nil {
			r.mu.Lock()
			r.err = err
			r.mu.Unlock()
			return
		}
		r.mu.Lock()
		for part := range bytes.SplitSeq(data, []byte("\n")) {
			var head struct{ Type, Room string }
			_ = json.Unmarshal(part, &head)
			if head.Room != r.room {
				continue
			}
			switch head.Type {
			case protocol.TypeJoined:
				var j protocol.Joined
				_ = json.Unmarshal(part, &j)
				r.members = j.Members
			case protocol.TypePresence:
				var p protocol.Presence
				_ = json.Unmarshal(part, &p)
				r.presence++
				for _, ch := range p.Changes {
					i := slices.IndexFunc(r.members, func(m protocol.Member) bool { return m.ID == ch.Member.ID })
					switch {
					case ch.Event == protocol.EventJoined && i < 0:
						r.members = append(r.members, ch.Member)
					case ch.Event != protocol.EventJoined && i >= 0:
						r.members = slices.Delete(r.members, i, i+1)
					}
				}
			case protocol.TypeMessage:
				var m protocol.Message
				_ = json.Unmarshal(part, &m)
				r.seqs = append(r.seqs, m.Seq)
			}
		}
		r.mu.Unlock()
		time.Sleep(time.Duration(len(data)) * r.perKiB / 1024)
	}
}

func (r *slowReader) state() (members int, seqs []uint64, presence int, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.members), slices.Clone(r.seqs), r.presence, r.err
}

// TestSlowReaderKeepsUpWithinGrace: a lecture hall joins at once and the
// room is busy. The teacher's device stalls while that happens and then
// reads slowly: its queue goes over the budget for a while, but not for the
// grace period, so it is not cut off, and it ends up with every message and
// the full member list. (The stall makes the test independent of how fast
// this machine posts: a reader that only reads slowly keeps up with a slow
// machine.)
func TestSlowReaderKeepsUpWithinGrace(t *testing.T) {
	const students = 120
	// The grace and the write wait outlast the stall however slow this
	// machine posts: what is tested is that being behind for a while is
	// not punished.
	cfg := Config{QueueBytes: 16 << 10, QueueHardBytes: 64 << 20, QueueGrace: 2 * time.Minute, WriteWait: 2 * time.Minute}
	h := startHost(t, chat.Config{RatePerSecond: 1 << 20, RateBurst: 1 << 20, MaxText: 4096, Rooms: []string{"general"}}, cfg)
	a := join(t, h, "Alice")
	prof := joinSmall(t, h, "Prof")
	prof.send(protocol.Join{Room: "general"})
	r := &slowReader{c: prof, room: "general", perKiB: time.Millisecond, start: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	stalled := true
	t.Cleanup(func() {
		if stalled {
			close(r.start)
		}
		prof.ws.Close()
		<-r.done
	})
	joinRoom(a, "general")

	start := time.Now()
	// The hall joins, every student reading as fast as it can.
	var wg sync.WaitGroup
	for i := range students {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ws, _, err := dialRaw(t, h.url, nil)
			if err != nil {
				t.Error(err)
				return
			}
			t.Cleanup(func() { ws.Close() })
			_ = ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: protocol.Version, Name: fmt.Sprint("student-", i)}))
			_ = ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Join{Room: "general"}))
			go func() {
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						return
					}
				}
			}()
		}()
	}
	// Meanwhile the room is busy: 512 kB of messages, far over the budget.
	text := strings.Repeat("y", 4000)
	const posts = 128
	for i := range posts {
		a.send(protocol.Send{Room: "general", ClientID: fmt.Sprint(i), Text: text})
	}
	collect[protocol.Ack](a, posts)
	wg.Wait()
	// Every message is in Prof's queue or its socket by now; Prof reads again.
	stalled = false
	close(r.start)

	// Prof ends up with everyone, every message, in order, still connected.
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, seqs, presence, err := r.state()
		if err != nil {
			t.Fatalf("Prof's connection ended: %v (members %d, messages %d)", err, n, len(seqs))
		}
		if n == students+2 && len(seqs) == posts {
			for i, s := range seqs {
				if s != uint64(i+1) {
					t.Fatalf("message %d has seq %d", i, s)
				}
			}
			t.Logf("%v: %d presence frames for %d joins", time.Since(start), presence, students+1)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prof has %d members and %d messages, want %d and %d", n, len(seqs), students+2, posts)
		}
		time.Sleep(10 * time.Millisecond)
	}
	st := connOf(t, h, prof).queue.Stats()
	t.Logf("Prof's queue peaked at %d bytes", st.Peak)
	if st.Peak <= cfg.QueueBytes {
		t.Errorf("the queue peaked at %d bytes: Prof was never behind, the test proves nothing", st.Peak)
	}
	if h.hub.Stats().Members != students+2 {
		t.Errorf("members %d", h.hub.Stats().Members)
	}
}
