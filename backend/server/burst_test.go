package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// crowd is many real WebSocket clients of one host, each keeping what a
// client keeps of one room: its member list (from joined and presence) and
// the seqs of the messages it got, live or as history.
type crowd struct {
	t       testing.TB
	url     string
	room    string
	members []*member
}

type member struct {
	name string
	ws   *websocket.Conn

	mu      sync.Mutex
	session string
	joined  bool
	list    map[string]string // id → name
	seqs    []uint64
	lastSeq uint64
	readErr error // the connection ended before we closed it
	closing bool
	done    chan struct{}
}

// wireFrame is every field the crowd reads.
type wireFrame struct {
	Type    string                    `json:"type"`
	Room    string                    `json:"room"`
	Session string                    `json:"session"`
	Code    string                    `json:"code"`
	Members []protocol.Member         `json:"members"`
	Changes []protocol.PresenceChange `json:"changes"`
	History []protocol.Message        `json:"history"`
	Seq     uint64                    `json:"seq"`
}

func newCrowd(t testing.TB, url, room string, n int) *crowd {
	c := &crowd{t: t, url: url, room: room}
	for i := range n {
		c.members = append(c.members, &member{name: fmt.Sprintf("Aluno %04d", i)})
	}
	return c
}

// connect dials and sends hello and join for every member at once (each in
// its own goroutine), resuming where each left off when resume is set.
func (c *crowd) connect(resume bool) {
	var wg sync.WaitGroup
	for _, m := range c.members {
		wg.Go(func() {
			d := websocket.Dialer{HandshakeTimeout: 60 * time.Second}
			ws, _, err := d.Dial(c.url, nil)
			if err != nil {
				m.fail(err)
				return
			}
			ws.SetReadLimit(64 << 20)
			hello := protocol.Hello{Version: protocol.Version, Name: m.name}
			m.mu.Lock()
			m.ws, m.done, m.readErr, m.closing, m.joined = ws, make(chan struct{}), nil, false, false
			if resume {
				hello.Resume = &protocol.Resume{Session: m.session, Rooms: map[string]uint64{chat.Lobby: 0, c.room: m.lastSeq}}
			}
			m.mu.Unlock()
			frames := [][]byte{protocol.MustEncode(hello)}
			if !resume {
				frames = append(frames, protocol.MustEncode(protocol.Join{Room: c.room}))
			}
			for _, f := range frames {
				if err := ws.WriteMessage(websocket.TextMessage, f); err != nil {
					m.fail(err)
					return
				}
			}
			go m.read(c.room)
		})
	}
	wg.Wait()
}

func (m *member) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.readErr == nil && !m.closing {
		m.readErr = err
	}
}

func (m *member) read(room string) {
	defer close(m.done)
	for {
		_, data, err := m.ws.ReadMessage()
		if err != nil {
			m.fail(err)
			return
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			var f wireFrame
			if err := json.Unmarshal(line, &f); err != nil {
				m.fail(err)
				return
			}
			m.apply(f, room)
		}
	}
}

func (m *member) apply(f wireFrame, room string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch f.Type {
	case protocol.TypeWelcome:
		m.session = f.Session
	case protocol.TypeError:
		if m.readErr == nil {
			m.readErr = fmt.Errorf("error frame %s", f.Code)
		}
	case protocol.TypeJoined:
		if f.Room != room {
			return
		}
		m.joined = true
		m.list = map[string]string{}
		for _, x := range f.Members {
			m.list[x.ID] = x.Name
		}
		for _, h := range f.History {
			m.take(h.Seq)
		}
	case protocol.TypePresence:
		if f.Room != room {
			return
		}
		for _, ch := range f.Changes {
			if ch.Event == protocol.EventJoined {
				m.list[ch.Member.ID] = ch.Member.Name
			} else {
				delete(m.list, ch.Member.ID)
			}
		}
	case protocol.TypeMessage:
		if f.Room == room {
			m.take(f.Seq)
		}
	}
}

// take records a message seq as a client does: one past the last is new,
// anything at or below it a duplicate, anything beyond it a gap. All three
// are kept so the test can count them.
func (m *member) take(seq uint64) {
	m.seqs = append(m.seqs, seq)
	m.lastSeq = max(m.lastSeq, seq)
}

// names is the member's current list of the room, sorted.
func (m *member) names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Values(m.list))
}

// waitComplete waits until every member has joined the room and lists
// everyone, or until the deadline; it returns how many are complete.
func (c *crowd) waitComplete(deadline time.Duration) int {
	end := time.Now().Add(deadline)
	for {
		complete := 0
		for _, m := range c.members {
			m.mu.Lock()
			if m.joined && len(m.list) == len(c.members) && m.readErr == nil {
				complete++
			}
			m.mu.Unlock()
		}
		if complete == len(c.members) || time.Now().After(end) {
			return complete
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// disconnected lists the members whose connection ended on the host's side.
func (c *crowd) disconnected() []string {
	var out []string
	for _, m := range c.members {
		m.mu.Lock()
		if m.readErr != nil {
			out = append(out, fmt.Sprintf("%s: %v", m.name, m.readErr))
		}
		m.mu.Unlock()
	}
	return out
}

// drop ends every connection at once without a close frame, as a Wi-Fi
// access point that reboots does.
func (c *crowd) drop() {
	for _, m := range c.members {
		m.mu.Lock()
		m.closing = true
		m.mu.Unlock()
		_ = m.ws.NetConn().Close()
	}
	for _, m := range c.members {
		<-m.done
	}
}

func (c *crowd) close() {
	for _, m := range c.members {
		m.mu.Lock()
		m.closing = true
		ws := m.ws
		m.mu.Unlock()
		if ws != nil {
			_ = ws.Close()
			<-m.done
		}
	}
}

// checkLists fails unless every member lists all of the crowd, the same.
func (c *crowd) checkLists() {
	c.t.Helper()
	want := c.members[0].names()
	if len(want) != len(c.members) {
		c.t.Fatalf("%s lists %d members of %d", c.members[0].name, len(want), len(c.members))
	}
	for _, m := range c.members {
		if got := m.names(); !slices.Equal(got, want) {
			c.t.Fatalf("%s lists %d members, not the same %d as %s", m.name, len(got), len(want), c.members[0].name)
		}
	}
}

// crowdSize is n, or a tenth of it under the race detector.
func crowdSize(n int) int {
	if raceEnabled {
		return n / 10
	}
	return n
}

// burstHost is a host sized for a crowd: its connection limit above it.
func burstHost(t *testing.T, n int) *testHost {
	return startHost(t, chat.Config{HostID: "host-burst", HostName: "lecture hall", RatePerSecond: 50, RateBurst: 100},
		Config{MaxConns: 2*n + 10})
}

// A lecture hall: 1,000 clients send hello and join one room at the same
// moment. Nobody is disconnected and everyone ends with the same, complete
// member list.
func TestJoinBurst1000(t *testing.T) {
	n := crowdSize(1000)
	h := burstHost(t, n)
	c := newCrowd(t, h.url, "general", n)
	defer c.close()
	start := time.Now()
	c.connect(false)
	complete := c.waitComplete(3 * time.Minute)
	t.Logf("%d members joined with complete lists in %v", n, time.Since(start).Round(time.Millisecond))
	if d := c.disconnected(); len(d) > 0 {
		t.Fatalf("%d of %d disconnected, first: %s", len(d), n, d[0])
	}
	if complete != n {
		t.Fatalf("%d of %d members have a complete list", complete, n)
	}
	c.checkLists()
}

// A reconnect storm: 1,000 members in a room where messages are being
// sent all lose their connection at once and resume together. Each ends
// with every message exactly once, in order, with no gap, and the same
// complete member list.
func TestReconnectStorm1000(t *testing.T) {
	n := crowdSize(1000)
	h := burstHost(t, n)
	c := newCrowd(t, h.url, "general", n)
	defer c.close()
	c.connect(false)
	if got := c.waitComplete(3 * time.Minute); got != n {
		t.Fatalf("before the storm: %d of %d complete; disconnected: %v", got, n, len(c.disconnected()))
	}
	sent := sendSome(t, h.url, "general", "Professora", 100)
	c.drop()
	sent += sendSome(t, h.url, "general", "Professora", 100) // while everyone is away
	start := time.Now()
	c.connect(true)
	sent += sendSome(t, h.url, "general", "Professora", 100) // while they come back
	if got := c.waitComplete(3 * time.Minute); got != n {
		t.Fatalf("after the storm: %d of %d complete; disconnected %d", got, n, len(c.disconnected()))
	}
	waitAllSeqs(t, c, uint64(sent), 2*time.Minute)
	t.Logf("%d members resumed with every message in %v", n, time.Since(start).Round(time.Millisecond))
	for _, m := range c.members {
		m.mu.Lock()
		seqs := slices.Clone(m.seqs)
		m.mu.Unlock()
		if len(seqs) != sent {
			t.Fatalf("%s got %d messages, want %d (lost or duplicated)", m.name, len(seqs), sent)
		}
		for i, s := range seqs {
			if s != uint64(i+1) {
				t.Fatalf("%s: message %d has seq %d: out of order, lost or duplicated", m.name, i, s)
			}
		}
	}
	c.checkLists()
}

// sendSome sends n acknowledged messages as one more member (connecting
// under its own name each time) and returns n.
func sendSome(t testing.TB, url, room, name string, n int) int {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.SetReadLimit(64 << 20)
	write := func(f protocol.Frame) {
		if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(f)); err != nil {
			t.Fatal(err)
		}
	}
	write(protocol.Hello{Version: protocol.Version, Name: fmt.Sprintf("%s %d", name, time.Now().UnixNano())})
	write(protocol.Join{Room: room})
	acked := 0
	for i := range n {
		write(protocol.Send{Room: room, ClientID: fmt.Sprintf("c-%d-%d", time.Now().UnixNano(), i), Text: "uma pergunta"})
	}
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	for acked < n {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("sender: %v after %d acks", err, acked)
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			var f wireFrame
			if err := json.Unmarshal(line, &f); err != nil {
				t.Fatal(err)
			}
			switch f.Type {
			case protocol.TypeAck:
				acked++
			case protocol.TypeError:
				t.Fatalf("sender refused: %s", line)
			}
		}
	}
	return n
}

// waitAllSeqs waits until every member's last seq reaches want.
func waitAllSeqs(t testing.TB, c *crowd, want uint64, deadline time.Duration) {
	end := time.Now().Add(deadline)
	for {
		behind := 0
		for _, m := range c.members {
			m.mu.Lock()
			if m.lastSeq < want || len(m.seqs) < int(want) {
				behind++
			}
			m.mu.Unlock()
		}
		if behind == 0 {
			return
		}
		if time.Now().After(end) {
			t.Fatalf("%d members still miss messages", behind)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
