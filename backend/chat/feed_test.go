package chat

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// sharedStore is a MemoryStore shared by several hubs, with a Feed: every
// appended message reaches each follower in seq order, from its own
// goroutine, as a replicated log would.
type sharedStore struct {
	*MemoryStore
	mu   sync.Mutex
	cond *sync.Cond
	log  map[string][]protocol.Message
}

func newSharedStore() *sharedStore {
	s := &sharedStore{MemoryStore: NewMemoryStore(10000), log: map[string][]protocol.Message{}}
	s.cond = sync.NewCond(&s.mu)
	return s
}

func (s *sharedStore) Append(room string, m protocol.Message) (protocol.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	stored, dup, err := s.MemoryStore.Append(room, m)
	if err == nil && !dup {
		s.log[room] = append(s.log[room], stored)
		s.cond.Broadcast()
	}
	return stored, dup, err
}

func (s *sharedStore) Follow(room string, after uint64, deliver func(protocol.Message)) func() {
	stop := false
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		s.mu.Lock()
		defer s.mu.Unlock()
		for {
			for !stop && !slices.ContainsFunc(s.log[room], func(m protocol.Message) bool { return m.Seq > after }) {
				s.cond.Wait()
			}
			if stop {
				return
			}
			for _, m := range s.log[room] {
				if m.Seq > after {
					s.mu.Unlock()
					deliver(m)
					s.mu.Lock()
					after = m.Seq
				}
			}
		}
	}()
	return func() {
		s.mu.Lock()
		stop = true
		s.cond.Broadcast()
		s.mu.Unlock()
		wg.Wait()
	}
}

// Two hubs on one shared history: members on both send to one room at the
// same time, and every member on either box sees one gapless sequence, each
// message once, and every sender gets its ack.
func TestFeedOneSequenceAcrossHubs(t *testing.T) {
	store := newSharedStore()
	var hubs []*Hub
	for i := range 2 {
		h, err := NewHub(Config{HostID: fmt.Sprintf("box-%d", i), Store: store, Feed: store, RatePerSecond: 1000, RateBurst: 1000})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		hubs = append(hubs, h)
	}
	type who struct {
		c *Conn
		s *fakeSink
	}
	var all []who
	for i := range 6 {
		c, s := connect(t, hubs[i%2], fmt.Sprintf("Member %d", i))
		if p := c.Handle(protocol.Join{Room: "general"}); p != nil {
			t.Fatal(p)
		}
		all = append(all, who{c, s})
	}
	const each = 50
	var wg sync.WaitGroup
	for i, w := range all {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				if _, p := w.c.Post(protocol.Send{Room: "general", ClientID: fmt.Sprintf("c-%d-%d", i, k), Text: "oi"}); p != nil {
					t.Error(p)
					return
				}
			}
		}()
	}
	wg.Wait()
	total := uint64(len(all) * each)
	general := func(s *fakeSink) (seqs []uint64) {
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, f := range s.frames {
			if m, ok := f.(protocol.Message); ok && m.Room == "general" {
				seqs = append(seqs, m.Seq)
			}
		}
		return seqs
	}
	// The other box hears of the last messages through its feed a little
	// later; wait for it (the deadline only bounds a failing run).
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if !slices.ContainsFunc(all, func(w who) bool { return uint64(len(general(w.s))) < total }) {
			break
		}
	}
	for i, w := range all {
		seqs := general(w.s)
		want := make([]uint64, 0, total)
		for s := uint64(1); s <= total; s++ {
			want = append(want, s)
		}
		if !slices.Equal(seqs, want) {
			t.Fatalf("member %d (box %d) saw %d messages, want 1..%d in order; first %v", i, i%2, len(seqs), total, seqs[:min(len(seqs), 20)])
		}
		if acks := take[protocol.Ack](w.s); len(acks) != each {
			t.Fatalf("member %d got %d acks, want %d", i, len(acks), each)
		}
	}
}
