package chat

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"lanchat/backend/protocol"
)

// blockingSink blocks the first frame of type T it gets until released:
// the sender then holds the room's lock in the middle of a fan-out.
type blockingSink[T protocol.Frame] struct {
	fakeSink
	once    sync.Once
	release chan struct{}
}

func (s *blockingSink[T]) Send(o *Out) {
	if _, ok := o.Frame.(T); ok {
		s.once.Do(func() { <-s.release })
	}
	s.fakeSink.Send(o)
}

// A member types in one room while a takeover makes it leave another. The
// typing throttle written under the first room's lock and the one cleared
// under the second's must not be one shared map: under -race that is
// reported as a data race. (Ana types in projects; Bia's sink holds the
// fan-out, and so projects' lock, while the takeover leaves general.)
func TestThrottlesRaceFreeAcrossRoomsAndTakeover(t *testing.T) {
	h, clk := newTestHub(t, Config{})
	hello := protocol.Hello{Version: 1, Name: "Ana", Device: "d-ana"}
	ana, p := h.Connect(hello, &fakeSink{})
	if p != nil {
		t.Fatal(p)
	}
	for _, room := range []string{"general", "projects"} {
		if p := ana.Handle(protocol.Join{Room: room}); p != nil {
			t.Fatal(p)
		}
		if p := ana.Handle(protocol.Typing{Room: room}); p != nil {
			t.Fatal(p)
		}
	}
	bia := &blockingSink[protocol.Typing]{release: make(chan struct{})}
	bc, p := h.Connect(protocol.Hello{Version: 1, Name: "Bia"}, bia)
	if p != nil {
		t.Fatal(p)
	}
	if p := bc.Handle(protocol.Join{Room: "projects"}); p != nil {
		t.Fatal(p)
	}
	clk.advance(time.Minute)
	var wg sync.WaitGroup
	wg.Go(func() {
		// Typing again in projects after the interval: the throttle is written,
		// then the relay blocks in Bia's sink with projects' lock held.
		ana.Handle(protocol.Typing{Room: "projects"})
	})
	// No channel between the two goroutines: it would order their memory
	// accesses and hide the race. Sleeps only let each reach its point.
	time.Sleep(50 * time.Millisecond)
	wg.Go(func() {
		// The takeover resumes the lobby and projects only: it leaves general
		// (clearing its throttles), then waits for projects' lock.
		hl := hello
		hl.Resume = &protocol.Resume{Session: ana.member.session, Rooms: map[string]uint64{"lobby": 0, "projects": 0}}
		if _, p := h.Connect(hl, &fakeSink{}); p != nil {
			t.Error(p)
		}
	})
	time.Sleep(50 * time.Millisecond) // scheduling only: let the takeover reach projects' lock
	close(bia.release)
	wg.Wait()
}

// failingAppend is a store whose Append fails with a cause only the log
// may show.
type failingAppend struct{ *MemoryStore }

func (failingAppend) Append(string, protocol.Message) (protocol.Message, bool, error) {
	return protocol.Message{}, false, errors.New("disk I/O error: sector 7 unreadable")
}

// An internal error reaches the member without its cause, and the host log
// with it.
func TestInternalErrorIsLoggedWithItsCause(t *testing.T) {
	var log bytes.Buffer
	h, _ := newTestHub(t, Config{Store: failingAppend{NewMemoryStore(10)}, Logger: slog.New(slog.NewTextHandler(&log, nil))})
	ana, _ := connect(t, h, "Ana")
	p := send(ana, "lobby", "c-1")
	if p == nil || p.Code != protocol.CodeInternal || p.Ref != "c-1" {
		t.Fatalf("send with a failing store: %+v", p)
	}
	if bytes.Contains([]byte(p.Message), []byte("sector 7")) {
		t.Errorf("the member sees the cause: %q", p.Message)
	}
	if !bytes.Contains(log.Bytes(), []byte("sector 7 unreadable")) || !bytes.Contains(log.Bytes(), []byte("could not be stored")) {
		t.Errorf("host log lacks the cause:\n%s", log.String())
	}
}

// Renaming a room keeps its history and its sends: the store is keyed by
// the room's key, never by its display name.
func TestRenamedRoomKeepsHistoryAndSends(t *testing.T) {
	testRenamedRoom(t, NewMemoryStore(100))
}

func testRenamedRoom(t *testing.T, store Store) {
	h, _ := newTestHub(t, Config{HostToken: "secret", Store: store})
	host, _ := connectHost(t, h)
	if p := host.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	if p := send(host, "general", "before"); p != nil {
		t.Fatal(p)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionRenameRoom, Room: "general", Name: "Geral"}); p != nil {
		t.Fatal(p)
	}
	if p := send(host, "Geral", "after"); p != nil {
		t.Fatalf("send after rename: %v", p)
	}
	ana, s := connect(t, h, "Ana")
	if p := ana.Handle(protocol.Join{Room: "geral"}); p != nil {
		t.Fatal(p)
	}
	j := take[protocol.Joined](s)
	var got []string
	for _, jj := range j {
		if jj.Room != "Geral" {
			continue
		}
		for _, m := range jj.History {
			got = append(got, m.ClientID+"@"+m.Room)
		}
		if jj.LastSeq != 2 {
			t.Errorf("last seq %d, want 2", jj.LastSeq)
		}
	}
	if want := []string{"before@Geral", "after@Geral"}; !slices.Equal(got, want) {
		t.Errorf("history after rename %v, want %v", got, want)
	}
	// A hub started again on the same store (a restart) has it too.
	h2, _ := newTestHub(t, Config{Store: store})
	bia, s2 := connect(t, h2, "Bia")
	if p := bia.Handle(protocol.Join{Room: "Geral"}); p != nil {
		t.Fatal(p)
	}
	for _, jj := range take[protocol.Joined](s2) {
		if jj.Room == "Geral" && len(jj.History) != 2 {
			t.Errorf("after restart: %d messages in history, want 2", len(jj.History))
		}
	}
}

// blockingStore blocks Last and Since of one room until released: a long
// history read in progress.
type blockingStore struct {
	*MemoryStore
	room    string
	reading chan struct{}
	release chan struct{}
}

func (s *blockingStore) block(room string) {
	if room == s.room {
		s.reading <- struct{}{}
		<-s.release
	}
}

func (s *blockingStore) Last(room string, n int) ([]protocol.Message, uint64, error) {
	s.block(room)
	return s.MemoryStore.Last(room, n)
}

func (s *blockingStore) Since(room string, after uint64, n int) ([]protocol.Message, uint64, error) {
	s.block(room)
	return s.MemoryStore.Since(room, after, n)
}

// A member's resume of a long history in room A holds up room A alone: a
// send in room B, a join of room B and a new member's hello complete
// meanwhile.
func TestHistoryReadHoldsNoHubLock(t *testing.T) {
	mem := NewMemoryStore(10000)
	store := &blockingStore{MemoryStore: mem, reading: make(chan struct{}), release: make(chan struct{})}
	h, _ := newTestHub(t, Config{Store: store, ResumeMax: 5000})
	connect(t, h, "Writer") // a member of the host before its restart
	for i := range 5000 {
		if _, _, err := mem.Append("projects", protocol.Message{ID: fmt.Sprint(i), ClientID: fmt.Sprint("seed-", i)}); err != nil {
			t.Fatal(err)
		}
	}
	// The hub learns the stored seq like a restarted host would.
	h, _ = newTestHub(t, Config{Store: store, ResumeMax: 5000, RatePerSecond: 1000, RateBurst: 1000})
	writer, ws := connect(t, h, "Writer")
	if p := writer.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	store.room = "projects"
	resumed := make(chan *protocol.Problem)
	go func() {
		ana, _ := connect(t, h, "Ana")
		since := uint64(0)
		resumed <- ana.Handle(protocol.Join{Room: "projects", Since: &since})
	}()
	<-store.reading // Ana's 5,000-message read is under way
	if p := send(writer, "general", "during"); p != nil {
		t.Fatalf("send in general during the read: %v", p)
	}
	if acks := take[protocol.Ack](ws); len(acks) != 1 || acks[0].Room != "general" {
		t.Fatalf("acks during the read: %+v", acks)
	}
	if _, p := h.Connect(protocol.Hello{Version: 1, Name: "Caio"}, &fakeSink{}); p != nil {
		t.Fatalf("hello during the read: %v", p)
	}
	if n := h.Stats().Members; n != 3 {
		t.Errorf("%d members during the read, want 3", n)
	}
	close(store.release)
	if p := <-resumed; p != nil {
		t.Fatal(p)
	}
}

// collect is a sink that keeps every frame, for the burst tests.
type collect struct {
	mu     sync.Mutex
	frames []protocol.Frame
}

func (s *collect) Send(o *Out) {
	s.mu.Lock()
	s.frames = append(s.frames, o.Frame)
	s.mu.Unlock()
}
func (s *collect) Close(*protocol.Problem) {}

// members applies joined and presence frames of room in order, as a client
// does, and returns the names it ends with and how many frames it took.
func (s *collect) members(room string) (names []string, presenceFrames, roomsFrames int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set := map[string]string{}
	for _, f := range s.frames {
		switch f := f.(type) {
		case protocol.Joined:
			if f.Room == room {
				clear(set)
				for _, m := range f.Members {
					set[m.ID] = m.Name
				}
			}
		case protocol.Presence:
			if f.Room != room {
				continue
			}
			presenceFrames++
			for _, c := range f.Changes {
				if c.Event == protocol.EventJoined {
					set[c.Member.ID] = c.Member.Name
				} else {
					delete(set, c.Member.ID)
				}
			}
		case protocol.Rooms:
			roomsFrames++
		}
	}
	for _, n := range set {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, presenceFrames, roomsFrames
}

// A burst of joins costs each member a few presence and rooms frames, not
// one per join, and every member ends with the same, complete list.
func TestJoinBurstIsCoalesced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, err := NewHub(Config{PresenceWindow: 150 * time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		const n = 300
		sinks := make([]*collect, n)
		var wg sync.WaitGroup
		for i := range n {
			sinks[i] = &collect{}
			wg.Go(func() {
				// 300 members arriving over 3 s (virtual time).
				time.Sleep(time.Duration(i) * 10 * time.Millisecond)
				c, p := h.Connect(protocol.Hello{Version: 1, Name: fmt.Sprintf("Aluno %03d", i)}, sinks[i])
				if p != nil {
					t.Error(p)
					return
				}
				if p := c.Handle(protocol.Join{Room: "general"}); p != nil {
					t.Error(p)
				}
			})
		}
		wg.Wait()
		time.Sleep(time.Second) // the last window closes
		synctest.Wait()
		want, _, _ := sinks[0].members("general")
		if len(want) != n {
			t.Fatalf("first member sees %d members, want %d", len(want), n)
		}
		maxFrames := 0
		for i, s := range sinks {
			got, pf, rf := s.members("general")
			if !slices.Equal(got, want) {
				t.Fatalf("member %d sees %d members, not the same list", i, len(got))
			}
			maxFrames = max(maxFrames, pf, rf)
		}
		// 3 s of arrivals in 150 ms windows: about 20 frames of each kind,
		// where one per join would be 300.
		if limit := 3000/150 + 2; maxFrames > limit {
			t.Errorf("a member got %d presence or rooms frames for %d joins, want at most %d", maxFrames, n, limit)
		}
	})
}

// Every refusal of a send names the send: even a bad client_id comes back
// as the error's ref, so a client with many sends in flight knows which.
func TestBadClientIDHasRef(t *testing.T) {
	h, _ := newTestHub(t, Config{})
	ana, _ := connect(t, h, "Ana")
	long := strings.Repeat("c", protocol.MaxClientIDBytes+1)
	if p := send(ana, "lobby", long); p == nil || p.Code != protocol.CodeBadClientID || p.Ref != long {
		t.Errorf("too long a client_id: %+v", p)
	}
	if p := send(ana, "lobby", ""); p == nil || p.Code != protocol.CodeBadClientID || p.Ref != "" {
		t.Errorf("no client_id: %+v", p)
	}
}
