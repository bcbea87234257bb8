//go:build linux

package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

type ackRec struct {
	seq uint64
	id  string
}

type outgoing struct {
	n    int
	sent bool // on the current connection
}

// killOut is what message n of a client is: a message, or (once the client
// has an acked message and poll to act on) a reaction, an edit or a vote,
// so the conversation events go through the kills as messages do.
type killOut struct {
	kind   string // protocol.TypeMessage, TypePoll, TypeReaction, TypeEdited, TypeVote
	target uint64
	option int
}

// killClient is one member sending to its room. Its fields belong to its run
// goroutine; the test reads them after run returns (and the atomics before).
type killClient struct {
	t          *testing.T
	url        string
	name, room string

	session string
	lastSeq uint64            // newest seq seen in room
	seen    map[uint64]string // seq -> message id, everything received in room
	acked   map[string]ackRec
	pending []outgoing // not yet acknowledged, in send order
	next    int        // messages created so far
	outs    map[int]killOut
	// the seq of the client's newest acked message, and of its poll (0: none yet)
	lastMine, poll uint64
	failed         string

	nAcked      atomic.Int64
	connects    atomic.Int32
	drained     atomic.Bool // stopped sending and nothing is unacknowledged
	bursts      []chan struct{}
	burstsTaken int
	burstsSent  atomic.Int32           // bursts written to the host
	failMsg     atomic.Pointer[string] // failed, for the test to watch
	lastSeen    atomic.Uint64          // lastSeq, for the test to watch
	// After reconnects: messages resent, and those of them the host had
	// stored although their ack was lost (found in the resumed history).
	resent, storedUnacked int
}

// nextBurst is the channel of the next burst (nil after the last).
func (c *killClient) nextBurst() <-chan struct{} {
	if c.burstsTaken < len(c.bursts) {
		return c.bursts[c.burstsTaken]
	}
	return nil
}

func (c *killClient) clientID(n int) string { return fmt.Sprintf("%s-%d", c.name, n) }

// create makes message n: the first a poll, then messages, reactions to
// and edits of the client's newest acked message, and votes in its poll,
// in turn (events only once there is something acked to act on).
func (c *killClient) create() {
	n := c.next
	c.next++
	o := killOut{kind: protocol.TypeMessage}
	switch {
	case n == 0:
		o.kind = protocol.TypePoll
	case n%4 == 1 && c.lastMine != 0:
		o = killOut{kind: protocol.TypeReaction, target: c.lastMine}
	case n%4 == 2 && c.lastMine != 0:
		o = killOut{kind: protocol.TypeEdited, target: c.lastMine}
	case n%4 == 3 && c.poll != 0:
		o = killOut{kind: protocol.TypeVote, target: c.poll, option: n % 3}
	}
	c.outs[n] = o
	c.pending = append(c.pending, outgoing{n: n})
}

// frame is the client frame of message n.
func (c *killClient) frame(n int) protocol.Frame {
	id, o := c.clientID(n), c.outs[n]
	switch o.kind {
	case protocol.TypePoll:
		return protocol.Poll{Type: protocol.TypePoll, Room: c.room, ClientID: id, Text: c.text(n), Options: []string{"a", "b", "c"}}
	case protocol.TypeReaction:
		return protocol.React{Type: protocol.TypeReact, Room: c.room, ClientID: id, Target: o.target, Emoji: []string{"👍", "❤️", "😂"}[n%3]}
	case protocol.TypeEdited:
		return protocol.Edit{Type: protocol.TypeEdit, Room: c.room, ClientID: id, Target: o.target, Text: c.text(n)}
	case protocol.TypeVote:
		return protocol.Vote{Type: protocol.TypeVote, Room: c.room, ClientID: id, Target: o.target, Option: o.option}
	}
	return protocol.Send{Type: protocol.TypeSend, Room: c.room, ClientID: id, Text: c.text(n)}
}

// matches reports whether stored is message n as the client sent it.
func (c *killClient) matches(n int, m protocol.Message) bool {
	o := c.outs[n]
	if m.FrameType() != o.kind || m.Target != o.target || m.From.Name != c.name {
		return false
	}
	switch o.kind {
	case protocol.TypeReaction:
		return m.Emoji == []string{"👍", "❤️", "😂"}[n%3]
	case protocol.TypeVote:
		return m.Option != nil && *m.Option == o.option
	}
	return m.Text == c.text(n)
}
func (c *killClient) text(n int) string { return fmt.Sprintf("%s says %d", c.name, n) }

func (c *killClient) fail(format string, args ...any) {
	if c.failed == "" {
		c.failed = fmt.Sprintf(format, args...)
		c.failMsg.Store(&c.failed)
	}
}

// run connects, sends until stop, and reconnects whenever the connection
// drops. It returns once stop is closed and every message is acknowledged.
func (c *killClient) run(ctx context.Context, ready *sync.WaitGroup, start, stop, quit <-chan struct{}) {
	isReady := sync.OnceFunc(ready.Done)
	defer isReady()
	first := true
	for c.failed == "" && ctx.Err() == nil {
		ws, frames, readerDone := c.connect(ctx, first)
		if ws == nil {
			return
		}
		if first {
			isReady()
			select {
			case <-start:
			case <-ctx.Done():
			}
			first = false
		}
		done := c.converse(ctx, ws, frames, stop, quit)
		hangUp(ws, frames, readerDone)
		if done {
			return
		}
	}
}

// hangUp closes the connection and waits for its reader.
func hangUp(ws *websocket.Conn, frames <-chan []byte, readerDone <-chan struct{}) {
	_ = ws.Close()
	for range frames {
	}
	<-readerDone
}

// connect dials until the host answers, says hello (resuming after the
// first time) and waits for the room's joined.
func (c *killClient) connect(ctx context.Context, first bool) (*websocket.Conn, <-chan []byte, <-chan struct{}) {
	for {
		if ctx.Err() != nil {
			c.fail("gave up connecting: %v", ctx.Err())
			return nil, nil, nil
		}
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, c.url, nil)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		// A device, as the web client sends: the member is the author of its
		// earlier messages (it edits them) after the host restarted too.
		hello := protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: c.name, Device: "d-" + c.name}
		for i := range c.pending {
			c.pending[i].sent = false // to resend after the handshake, in order
		}
		if !first {
			hello.Resume = &protocol.Resume{Session: c.session, Rooms: map[string]uint64{c.room: c.lastSeq}}
		}
		frames := make(chan []byte, 256)
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			defer close(frames)
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				for _, f := range bytes.Split(data, []byte("\n")) {
					frames <- f
				}
			}
		}()
		ok := ws.WriteJSON(hello) == nil
		if ok && first {
			ok = ws.WriteJSON(protocol.Join{Type: protocol.TypeJoin, Room: c.room}) == nil
		}
		// Wait for welcome and the room's joined (which carries what was missed).
		joined := false
		for ok && !joined {
			f, open := <-frames
			if !open {
				break
			}
			joined = c.handle(f)
		}
		if joined && c.failed == "" {
			c.connects.Add(1)
			c.resent += len(c.pending)
			return ws, frames, readerDone
		}
		hangUp(ws, frames, readerDone)
		if c.failed != "" {
			return nil, nil, nil
		}
		time.Sleep(20 * time.Millisecond) // the host went away during the handshake
	}
}

// converse sends and receives on one connection. It reports true when the
// client is done (quit closed, or a failure) and false when the connection
// dropped.
func (c *killClient) converse(ctx context.Context, ws *websocket.Conn, frames <-chan []byte, stop, quit <-chan struct{}) bool {
	tick := time.NewTicker(killPace)
	defer tick.Stop()
	stopping := false
	for {
		// Resends and bursts go out at once; new messages at the pace.
		for i := range c.pending {
			if !c.pending[i].sent {
				if ws.WriteJSON(c.frame(c.pending[i].n)) != nil {
					return false
				}
				c.pending[i].sent = true
			}
		}
		if c.burstsSent.Load() < int32(c.burstsTaken) {
			c.burstsSent.Store(int32(c.burstsTaken))
		}
		if stopping && len(c.pending) == 0 {
			c.drained.Store(true)
		}
		select {
		case f, open := <-frames:
			if !open {
				return false
			}
			c.handle(f)
			if c.failed != "" {
				return true
			}
		case <-tick.C:
			if !stopping && len(c.pending) < killWindow {
				c.create()
			}
		case <-c.nextBurst():
			for range killBurst {
				c.create()
			}
			c.burstsTaken++
			continue // written at the top of the loop, then counted
		case <-stop:
			stopping, stop = true, nil
		case <-quit:
			return true
		case <-ctx.Done():
			c.fail("test context ended")
			return true
		}
	}
}

// handle processes one server frame and reports whether it was the room's
// joined.
func (c *killClient) handle(data []byte) bool {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		c.fail("undecodable frame %q: %v", data, err)
		return false
	}
	switch head.Type {
	case protocol.TypeWelcome:
		var w protocol.Welcome
		_ = json.Unmarshal(data, &w)
		c.session = w.Session
	case protocol.TypeJoined:
		var j protocol.Joined
		_ = json.Unmarshal(data, &j)
		if j.Room != c.room {
			return false
		}
		if j.Truncated {
			c.fail("joined %s truncated (first kept %d)", j.Room, j.FirstKept)
		}
		for _, m := range j.History {
			c.message(m)
		}
		if c.lastSeq != j.LastSeq {
			c.fail("after joined, last seq seen %d but the room's is %d", c.lastSeq, j.LastSeq)
		}
		return true
	case protocol.TypeMessage, protocol.TypePoll, protocol.TypeReaction, protocol.TypeEdited, protocol.TypeVote:
		var m protocol.Message
		_ = json.Unmarshal(data, &m)
		if m.Room == c.room {
			c.message(m)
		}
	case protocol.TypeAck:
		var a protocol.Ack
		_ = json.Unmarshal(data, &a)
		if prev, dup := c.acked[a.ClientID]; dup {
			if prev.seq != a.Seq || prev.id != a.ID {
				c.fail("%s acked twice differently: seq %d then %d", a.ClientID, prev.seq, a.Seq)
			}
		} else {
			c.acked[a.ClientID] = ackRec{a.Seq, a.ID}
			c.nAcked.Add(1)
		}
		for i, p := range c.pending {
			if c.clientID(p.n) == a.ClientID {
				switch c.outs[p.n].kind {
				case protocol.TypeMessage:
					c.lastMine = max(c.lastMine, a.Seq)
				case protocol.TypePoll:
					c.poll = a.Seq
				}
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				break
			}
		}
	case protocol.TypeError:
		var e protocol.Error
		_ = json.Unmarshal(data, &e)
		if e.Code != protocol.CodeShuttingDown {
			c.fail("error from the host: %s %s (ref %s)", e.Code, e.Message, e.Ref)
		}
	}
	return false
}

// message checks that room messages arrive exactly once, in seq order,
// without gaps.
func (c *killClient) message(m protocol.Message) {
	switch {
	case m.Seq == c.lastSeq+1:
		c.seen[m.Seq] = m.ID
		c.lastSeq = m.Seq
		c.lastSeen.Store(m.Seq)
		for _, p := range c.pending {
			if p.sent == false && c.clientID(p.n) == m.ClientID {
				c.storedUnacked++ // stored before the kill, ack lost: the resend must not store it again
			}
		}
	case m.Seq <= c.lastSeq:
		if c.seen[m.Seq] != m.ID {
			c.fail("seq %d reused: first %s, now %s", m.Seq, c.seen[m.Seq], m.ID)
		} else {
			c.fail("seq %d delivered twice", m.Seq)
		}
	default:
		c.fail("gap: seq %d after %d", m.Seq, c.lastSeq)
	}
}
