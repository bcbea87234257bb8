package jsstore

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"lanchat/backend/chat/storetest"
	"lanchat/backend/protocol"
)

// TestFollowStalled: a consumer that delivers nothing while a seq this box
// appended is due is made again, resuming after the last seq delivered:
// nothing is lost or delivered twice. (Here the seq "appended" is one the
// stream does not have yet, so the consumer looks stalled until it comes.)
func TestFollowStalled(t *testing.T) {
	s := open(t, startNodes(t, 1)[0], Options{})
	storetest.AppendN(t, s, "general", 1, 3)
	var mu sync.Mutex
	var got []uint64
	stop := s.Follow("general", 0, func(m protocol.Message) {
		mu.Lock()
		got = append(got, m.Seq)
		mu.Unlock()
	})
	defer stop()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	waitUntil := func(what string, cond func() bool) {
		t.Helper()
		for !cond() {
			select {
			case <-ctx.Done():
				t.Fatalf("waiting for %s", what)
			case <-time.After(10 * time.Millisecond):
			}
		}
	}
	seen := func(n int) func() bool {
		return func() bool { mu.Lock(); defer mu.Unlock(); return len(got) >= n }
	}
	waitUntil("seqs 1 to 3", seen(3))
	s.appended("general", 5) // due, as after an append whose consumer died
	waitUntil("a stall", func() bool { return s.stalls.Load() >= 2 })
	storetest.AppendN(t, s, "general", 4, 6)
	waitUntil("seqs 4 to 6", seen(6))
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(got, []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("delivered %v", got)
	}
}
