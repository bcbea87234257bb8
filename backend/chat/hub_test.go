package chat

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// fakeSink records what the hub sends to one connection.
type fakeSink struct {
	mu     sync.Mutex
	frames []protocol.Frame
	closed *protocol.Problem
}

func (s *fakeSink) Send(o *Out) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.frames = append(s.frames, o.Frame)
}

func (s *fakeSink) Close(p *protocol.Problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = p
}

// take returns and forgets the frames of type T received so far.
func take[T protocol.Frame](s *fakeSink) []T {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []T
	var rest []protocol.Frame
	for _, f := range s.frames {
		if v, ok := f.(T); ok {
			out = append(out, v)
		} else {
			rest = append(rest, f)
		}
	}
	s.frames = rest
	return out
}

// clock is the hub's time in tests. The hub's own timers (the presence
// flush) read it on their goroutines, so it is locked.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestHub(t *testing.T, cfg Config) (*Hub, *clock) {
	t.Helper()
	clk := &clock{now: time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)}
	cfg.Now = clk.Now
	h, err := NewHub(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return h, clk
}

func connect(t *testing.T, h *Hub, name string) (*Conn, *fakeSink) {
	t.Helper()
	s := &fakeSink{}
	c, p := h.Connect(protocol.Hello{Version: 1, Name: name, Device: "dev-" + name}, s)
	if p != nil {
		t.Fatalf("connect %s: %v", name, p)
	}
	return c, s
}

func send(c *Conn, room, id string) *protocol.Problem {
	return c.Handle(protocol.Send{Room: room, ClientID: id, Text: "x"})
}

func TestRateLimiterRefills(t *testing.T) {
	h, clk := newTestHub(t, Config{RatePerSecond: 2, RateBurst: 4})
	c, _ := connect(t, h, "Ana")
	for i := range 4 {
		if p := send(c, "lobby", fmt.Sprint("b", i)); p != nil {
			t.Fatalf("burst send %d: %v", i, p)
		}
	}
	if p := send(c, "lobby", "over"); p == nil || p.Code != protocol.CodeRateLimited {
		t.Fatalf("fifth send: %v", p)
	}
	clk.advance(500 * time.Millisecond) // one token back at 2/s
	if p := send(c, "lobby", "r1"); p != nil {
		t.Fatalf("after refill: %v", p)
	}
	if p := send(c, "lobby", "r2"); p == nil {
		t.Fatal("second send after one refill passed")
	}
	clk.advance(time.Hour) // never more than the burst
	for i := range 4 {
		if p := send(c, "lobby", fmt.Sprint("c", i)); p != nil {
			t.Fatalf("send %d after an hour: %v", i, p)
		}
	}
	if p := send(c, "lobby", "c4"); p == nil {
		t.Fatal("burst exceeded after an idle hour")
	}
}

func TestSlowModeAndTypingFollowTheClock(t *testing.T) {
	h, clk := newTestHub(t, Config{HostToken: "secret", TypingInterval: 2 * time.Second})
	host, _ := connectHost(t, h)
	ana, _ := connect(t, h, "Ana")
	_, bia := connect(t, h, "Bia")
	if p := host.Handle(protocol.Control{Action: protocol.ActionSlowMode, Room: "lobby", Seconds: 30}); p != nil {
		t.Fatal(p)
	}
	if p := send(ana, "lobby", "1"); p != nil {
		t.Fatal(p)
	}
	clk.advance(29 * time.Second)
	if p := send(ana, "lobby", "2"); p == nil || p.Code != protocol.CodeSlowMode {
		t.Fatalf("29 s later: %v", p)
	}
	clk.advance(time.Second)
	if p := send(ana, "lobby", "3"); p != nil {
		t.Fatalf("30 s later: %v", p)
	}

	take[protocol.Typing](bia)
	ana.Handle(protocol.Typing{Room: "lobby"})
	clk.advance(1999 * time.Millisecond)
	ana.Handle(protocol.Typing{Room: "lobby"})
	if n := len(take[protocol.Typing](bia)); n != 1 {
		t.Fatalf("%d typing relays within the interval, want 1", n)
	}
	clk.advance(time.Millisecond)
	ana.Handle(protocol.Typing{Room: "lobby"})
	if n := len(take[protocol.Typing](bia)); n != 1 {
		t.Fatalf("%d typing relays after the interval, want 1", n)
	}
}

func TestSeqContinuesFromStore(t *testing.T) {
	store := NewMemoryStore(100)
	h1, _ := newTestHub(t, Config{Store: store})
	c, _ := connect(t, h1, "Ana")
	for i := range 3 {
		if p := send(c, "lobby", fmt.Sprint(i)); p != nil {
			t.Fatal(p)
		}
	}
	// A new hub on the same store (a restart) continues the seq.
	h2, _ := newTestHub(t, Config{Store: store})
	c2, s2 := connect(t, h2, "Ana")
	if p := send(c2, "lobby", "after-restart"); p != nil {
		t.Fatal(p)
	}
	acks := take[protocol.Ack](s2)
	if len(acks) != 1 || acks[0].Seq != 4 {
		t.Fatalf("acks %+v", acks)
	}
	// And still deduplicates a client id sent before the restart.
	if p := send(c2, "lobby", "1"); p != nil {
		t.Fatal(p)
	}
	if acks := take[protocol.Ack](s2); len(acks) != 1 || acks[0].Seq != 2 {
		t.Fatalf("resent ack %+v", acks)
	}
}

// BenchmarkFanout measures one message delivered to every member of a
// 500-member room through the hub (encoding once, queueing per member).
func BenchmarkFanout(b *testing.B) {
	h, err := NewHub(Config{RatePerSecond: 1 << 30, RateBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	const members = 500
	for i := range members - 1 {
		if _, p := h.Connect(protocol.Hello{Version: 1, Name: fmt.Sprint("m", i)}, discard{}); p != nil {
			b.Fatal(p)
		}
	}
	sender, p := h.Connect(protocol.Hello{Version: 1, Name: "sender"}, discard{})
	if p != nil {
		b.Fatal(p)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if p := sender.Handle(protocol.Send{Room: "lobby", ClientID: fmt.Sprint(i), Text: "a message of about one hundred bytes, which is what people type in a chat"}); p != nil {
			b.Fatal(p)
		}
	}
	b.ReportMetric(float64(b.N*members)/b.Elapsed().Seconds(), "deliveries/s")
}

type discard struct{}

func (discard) Send(o *Out)               { o.Bytes() }
func (discard) Close(p *protocol.Problem) {}

// failingRooms is a store whose SaveRoom fails once armed.
type failingRooms struct {
	*MemoryStore
	fail bool
}

func (s *failingRooms) SaveRoom(r StoredRoom) error {
	if s.fail {
		return fmt.Errorf("disk full")
	}
	return s.MemoryStore.SaveRoom(r)
}

func connectHost(t *testing.T, h *Hub) (*Conn, *fakeSink) {
	t.Helper()
	s := &fakeSink{}
	c, p := h.Connect(protocol.Hello{Version: 1, Name: "Host", HostToken: "secret"}, s)
	if p != nil {
		t.Fatal(p)
	}
	return c, s
}

// A room change the store refuses changes nothing, for anyone.
func TestRoomChangeNotStoredChangesNothing(t *testing.T) {
	store := &failingRooms{MemoryStore: NewMemoryStore(100)}
	h, _ := newTestHub(t, Config{HostToken: "secret", Store: store})
	host, _ := connectHost(t, h)
	before := fmt.Sprint(h.Stats().Rooms)
	store.fail = true
	for _, c := range []protocol.Control{
		{Action: protocol.ActionLock, Room: "general", Flag: true},
		{Action: protocol.ActionSlowMode, Room: "general", Seconds: 30},
		{Action: protocol.ActionRenameRoom, Room: "general", Name: "geral"},
		{Action: protocol.ActionCloseRoom, Room: "general"},
		{Action: protocol.ActionCreateRoom, Name: "new"},
	} {
		if p := host.Handle(c); p == nil || p.Code != protocol.CodeInternal {
			t.Errorf("%s with a failing store: %v", c.Action, p)
		}
	}
	if after := fmt.Sprint(h.Stats().Rooms); after != before {
		t.Errorf("rooms changed:\n%s\n%s", before, after)
	}
	ana, _ := connect(t, h, "Ana")
	if p := ana.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	if p := send(ana, "general", "1"); p != nil {
		t.Errorf("a guest cannot post in a room whose lock was never stored: %v", p)
	}
}
