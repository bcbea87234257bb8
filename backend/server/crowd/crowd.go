// Package crowd drives many real WebSocket clients of one lanchat host at
// once, as a lecture hall does: a burst of joins, a reconnect storm, a
// crowd sitting idle. Each member keeps what a client keeps of one room:
// its member list (from joined and presence) and the seqs of the messages
// it got, live or as history. The burst tests and `make bench` use it.
package crowd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

// Crowd is n members of one room of the host at URL (ws://…/ws).
type Crowd struct {
	URL     string
	Room    string
	Members []*Member
	// Dialing limits concurrent dials (0: all at once).
	Dialing int
	// Quiet members note only their joined and errors, reading nothing
	// else: thousands of them in one process cost the host, not the crowd.
	Quiet bool
}

// Member is one client.
type Member struct {
	Name string

	mu      sync.Mutex
	ws      *websocket.Conn
	session string
	joined  bool
	inRoom  chan struct{}     // closed by the first joined of the room
	list    map[string]string // id → name
	seqs    []uint64
	lastSeq uint64
	err     error // the connection ended before we closed it, or the host refused something
	closing bool
	quiet   bool
	done    chan struct{}
}

// New makes a crowd of n members named "Aluno 0000" and so on.
func New(url, room string, n int) *Crowd {
	c := &Crowd{URL: url, Room: room}
	for i := range n {
		c.Members = append(c.Members, &Member{Name: fmt.Sprintf("Aluno %04d", i)})
	}
	return c
}

// frame is every field the crowd reads.
type frame struct {
	Type    string                    `json:"type"`
	Room    string                    `json:"room"`
	Session string                    `json:"session"`
	Code    string                    `json:"code"`
	Members []protocol.Member         `json:"members"`
	Changes []protocol.PresenceChange `json:"changes"`
	History []protocol.Message        `json:"history"`
	Seq     uint64                    `json:"seq"`
}

// Connect dials every member and sends hello and join, each member in its
// own goroutine, resuming where each left off when resume is set. It
// returns once every member has sent its frames (not once it is in).
func (c *Crowd) Connect(resume bool) {
	var wg sync.WaitGroup
	var sem chan struct{}
	if c.Dialing > 0 {
		sem = make(chan struct{}, c.Dialing)
	}
	for _, m := range c.Members {
		wg.Go(func() {
			if sem != nil {
				sem <- struct{}{}
				defer func() { <-sem }()
			}
			m.quiet = c.Quiet
			if err := m.connect(c.URL, c.Room, resume); err != nil {
				m.fail(err)
			}
		})
	}
	wg.Wait()
}

func (m *Member) connect(url, room string, resume bool) error {
	d := websocket.Dialer{HandshakeTimeout: time.Minute}
	ws, _, err := d.Dial(url, nil)
	if err != nil {
		return err
	}
	ws.SetReadLimit(64 << 20)
	hello := protocol.Hello{Version: protocol.Version, Name: m.Name}
	m.mu.Lock()
	m.ws, m.done, m.err, m.closing, m.joined = ws, make(chan struct{}), nil, false, false
	m.inRoom = make(chan struct{})
	if resume {
		hello.Resume = &protocol.Resume{Session: m.session, Rooms: map[string]uint64{"lobby": 0, room: m.lastSeq}}
	}
	m.mu.Unlock()
	frames := [][]byte{protocol.MustEncode(hello)}
	if !resume {
		frames = append(frames, protocol.MustEncode(protocol.Join{Room: room}))
	}
	for _, f := range frames {
		if err := ws.WriteMessage(websocket.TextMessage, f); err != nil {
			_ = ws.Close()
			close(m.done) // no reader will
			return err
		}
	}
	go m.read(room)
	return nil
}

func (m *Member) fail(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil && !m.closing {
		m.err = err
	}
}

func (m *Member) read(room string) {
	m.mu.Lock()
	ws, done := m.ws, m.done
	m.mu.Unlock()
	defer close(done)
	for {
		_, data, err := ws.ReadMessage()
		if err != nil {
			m.fail(err)
			return
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			if m.quiet && !quietKeeps(line, room) {
				continue
			}
			var f frame
			if err := json.Unmarshal(line, &f); err != nil {
				m.fail(err)
				return
			}
			if m.quiet {
				f.Members, f.History = nil, nil
			}
			m.apply(f, room)
		}
	}
}

// quietKeeps reports whether a quiet member reads a frame: its welcome,
// its errors and its joined of room (frames start with their type, then
// their room).
func quietKeeps(line []byte, room string) bool {
	return bytes.HasPrefix(line, []byte(`{"type":"welcome"`)) || bytes.HasPrefix(line, []byte(`{"type":"error"`)) ||
		bytes.HasPrefix(line, []byte(`{"type":"joined","room":"`+room+`"`))
}

func (m *Member) apply(f frame, room string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch f.Type {
	case protocol.TypeWelcome:
		m.session = f.Session
	case protocol.TypeError:
		if m.err == nil {
			m.err = fmt.Errorf("error frame %s", f.Code)
		}
	case protocol.TypeJoined:
		if f.Room != room {
			return
		}
		if !m.joined {
			close(m.inRoom)
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
		if f.Room != room || m.list == nil {
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

// take records a message seq as received, duplicates and gaps included, so
// that Check can count them.
func (m *Member) take(seq uint64) {
	m.seqs = append(m.seqs, seq)
	m.lastSeq = max(m.lastSeq, seq)
}

// Names is the member's current list of the room, sorted.
func (m *Member) Names() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Sorted(maps.Values(m.list))
}

// Err is why the member's connection ended early, if it did.
func (m *Member) Err() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// Seqs are the seqs the member got, in the order it got them.
func (m *Member) Seqs() []uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.seqs)
}

// Complete counts the members in the room whose list is want names, all
// of the crowd (someone else in the room, such as a sender still on its
// way out, makes a list incomplete), with their connection intact.
func (c *Crowd) Complete(want int) int {
	ours := make(map[string]bool, len(c.Members))
	for _, m := range c.Members {
		ours[m.Name] = true
	}
	n := 0
	for _, m := range c.Members {
		m.mu.Lock()
		ok := m.joined && len(m.list) == want && m.err == nil
		for _, name := range m.list {
			ok = ok && ours[name]
		}
		if ok {
			n++
		}
		m.mu.Unlock()
	}
	return n
}

// Joined counts the members that got their joined of the room, with their
// connection intact.
func (c *Crowd) Joined() int {
	n := 0
	for _, m := range c.Members {
		m.mu.Lock()
		if m.joined && m.err == nil {
			n++
		}
		m.mu.Unlock()
	}
	return n
}

// WaitComplete waits until every member lists want members, or until the
// deadline; it returns how many do.
func (c *Crowd) WaitComplete(want int, deadline time.Duration) int {
	end := time.Now().Add(deadline)
	for {
		n := c.Complete(want)
		if n == len(c.Members) || time.Now().After(end) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// WaitSeqs waits until every member has got want messages, or until the
// deadline; it returns how many still miss some.
func (c *Crowd) WaitSeqs(want uint64, deadline time.Duration) int {
	end := time.Now().Add(deadline)
	for {
		behind := 0
		for _, m := range c.Members {
			m.mu.Lock()
			if m.lastSeq < want || len(m.seqs) < int(want) {
				behind++
			}
			m.mu.Unlock()
		}
		if behind == 0 || time.Now().After(end) {
			return behind
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Disconnected lists the members whose connection ended on the host's side.
func (c *Crowd) Disconnected() []string {
	var out []string
	for _, m := range c.Members {
		if err := m.Err(); err != nil {
			out = append(out, fmt.Sprintf("%s: %v", m.Name, err))
		}
	}
	return out
}

// Drop ends every connection at once without a close frame, as an access
// point that reboots does, and waits for the readers.
func (c *Crowd) Drop() { c.end(func(ws *websocket.Conn) { _ = ws.NetConn().Close() }) }

// Close ends every connection.
func (c *Crowd) Close() { c.end(func(ws *websocket.Conn) { _ = ws.Close() }) }

// end ends every member's connection with close and waits for the readers.
func (c *Crowd) end(close func(*websocket.Conn)) {
	for _, m := range c.Members {
		m.mu.Lock()
		m.closing = true
		ws := m.ws
		m.mu.Unlock()
		if ws != nil {
			close(ws)
		}
	}
	c.wait()
}

func (c *Crowd) wait() {
	for _, m := range c.Members {
		m.mu.Lock()
		done := m.done
		m.mu.Unlock()
		if done != nil {
			<-done
		}
	}
}

// Lost and duplicated count, over all members, the messages 1..sent each
// one is missing and the ones it got more than once; Disorder counts
// members that got them out of seq order.
type Tally struct{ Lost, Duplicated, Disorder int }

// Check tallies every member's seqs against 1..sent.
func (c *Crowd) Check(sent uint64) Tally {
	var t Tally
	for _, m := range c.Members {
		seen := map[uint64]int{}
		seqs := m.Seqs()
		for _, s := range seqs {
			seen[s]++
		}
		for s := uint64(1); s <= sent; s++ {
			switch n := seen[s]; {
			case n == 0:
				t.Lost++
			case n > 1:
				t.Duplicated += n - 1
			}
		}
		if !slices.IsSorted(seqs) {
			t.Disorder++
		}
	}
	return t
}

// SameLists reports an error unless every member lists the same want names.
func (c *Crowd) SameLists(want int) error {
	first := c.Members[0].Names()
	if len(first) != want {
		return fmt.Errorf("%s lists %d members of %d", c.Members[0].Name, len(first), want)
	}
	for _, m := range c.Members {
		if got := m.Names(); !slices.Equal(got, first) {
			return fmt.Errorf("%s lists %d members, not the same %d as %s", m.Name, len(got), len(first), c.Members[0].Name)
		}
	}
	return nil
}

// Send sends n messages to room and returns once all are acknowledged.
// Each 20 go from one more member (a new connection under a name of its
// own), so the host's default rate limit (a burst of 20) never refuses them.
func Send(url, room string, n int) error {
	for n > 0 {
		k := min(n, 20)
		if err := sendFrom(url, room, k); err != nil {
			return err
		}
		n -= k
	}
	return nil
}

func sendFrom(url, room string, n int) error {
	ws, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		return err
	}
	defer ws.Close()
	ws.SetReadLimit(64 << 20)
	write := func(f protocol.Frame) error {
		return ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(f))
	}
	stamp := time.Now().UnixNano()
	if err := errors.Join(write(protocol.Hello{Version: protocol.Version, Name: fmt.Sprintf("Professora %d", stamp)}),
		write(protocol.Join{Room: room})); err != nil {
		return err
	}
	for i := range n {
		if err := write(protocol.Send{Room: room, ClientID: fmt.Sprintf("c-%d-%d", stamp, i), Text: "uma pergunta"}); err != nil {
			return err
		}
	}
	_ = ws.SetReadDeadline(time.Now().Add(2 * time.Minute))
	for acked := 0; acked < n; {
		_, data, err := ws.ReadMessage()
		if err != nil {
			return fmt.Errorf("sender: %w after %d acks", err, acked)
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			var f frame
			if err := json.Unmarshal(line, &f); err != nil {
				return err
			}
			switch f.Type {
			case protocol.TypeAck:
				acked++
			case protocol.TypeError:
				return fmt.Errorf("sender refused: %s", line)
			}
		}
	}
	return nil
}

// JoinTime is how long one new member takes from dialing to its joined
// frame of room.
func JoinTime(url, room, name string) (time.Duration, error) {
	start := time.Now()
	m := &Member{Name: name}
	if err := m.connect(url, room, false); err != nil {
		return 0, err
	}
	defer func() {
		m.mu.Lock()
		m.closing = true
		m.mu.Unlock()
		_ = m.ws.Close()
		<-m.done
	}()
	m.mu.Lock()
	inRoom, done := m.inRoom, m.done
	m.mu.Unlock()
	select {
	case <-inRoom:
		return time.Since(start), nil
	case <-done:
		return 0, fmt.Errorf("%s: connection ended before joined: %v", name, m.Err())
	case <-time.After(time.Minute):
		return 0, errors.New("no joined within a minute")
	}
}
