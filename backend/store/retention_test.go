package store

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"
)

var quiet = slog.New(slog.DiscardHandler)

// clock is a settable retention clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// hourly is the timestamp of message seq in these tests: one per hour from
// 2026-11-01 00:00 UTC.
func hourly(seq uint64) time.Time {
	return time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(seq-1) * time.Hour)
}

func appendHourly(t *testing.T, s *Store, room string, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		m := msg(room, seq, "", "x")
		m.ClientID = fmt.Sprintf("%s-%d", room, seq)
		m.TS = hourly(seq).UnixMilli()
		if got, dup, err := s.Append(room, m); err != nil || dup || got.Seq != seq {
			t.Fatalf("append %s/%d: seq %d, dup %v, %v", room, seq, got.Seq, dup, err)
		}
	}
}

func TestPrune(t *testing.T) {
	cases := []struct {
		name      string
		opts      Options
		now       time.Time
		wantFirst map[string]uint64 // room -> first kept after pruning (0: none)
		deleted   int64
	}{
		{"keep everything by default", Options{}, hourly(200), map[string]uint64{"a": 1, "b": 1}, 0},
		{"by age", Options{MaxAge: 24 * time.Hour}, hourly(72), map[string]uint64{"a": 48, "b": 0}, 47 + 10},
		{"by age, nothing old yet", Options{MaxAge: 30 * 24 * time.Hour}, hourly(100), map[string]uint64{"a": 1, "b": 1}, 0},
		{"by count per room", Options{KeepPerRoom: 5}, hourly(1), map[string]uint64{"a": 76, "b": 6}, 75 + 5},
		{"count larger than the room", Options{KeepPerRoom: 1000}, hourly(1), map[string]uint64{"a": 1, "b": 1}, 0},
		// Both: whichever deletes more wins.
		{"by age and count", Options{MaxAge: 10 * time.Hour, KeepPerRoom: 20}, hourly(80), map[string]uint64{"a": 70, "b": 0}, 69 + 10},
		// Large enough to take several deletion batches.
		{"many batches", Options{KeepPerRoom: 1, pruneBatch: 7}, hourly(1), map[string]uint64{"a": 80, "b": 10}, 79 + 9},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			clk := &clock{now: c.now}
			c.opts.Now, c.opts.noJanitor, c.opts.Logger = clk.Now, true, quiet
			s, _ := openTemp(t, c.opts)
			appendHourly(t, s, "a", 1, 80)
			appendHourly(t, s, "b", 1, 10)
			n, err := s.Prune(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if n != c.deleted {
				t.Errorf("deleted %d, want %d", n, c.deleted)
			}
			last := map[string]uint64{"a": 80, "b": 10}
			for room, first := range c.wantFirst {
				got, f, err := s.Since(room, 0, 1000)
				if err != nil {
					t.Fatal(err)
				}
				var want []uint64
				if first > 0 {
					want = span(first, last[room])
				}
				if f != first || !slices.Equal(seqs(got), want) {
					t.Errorf("room %s: first %d, kept %v; want first %d", room, f, seqs(got), first)
				}
				if _, f2, _ := s.Last(room, 3); f2 != first {
					t.Errorf("room %s: Last reports first %d, want %d", room, f2, first)
				}
			}
			// Numbering continues after deletion: no seq is reused.
			rooms, _ := s.Rooms()
			for _, r := range rooms {
				if r.LastSeq != last[r.Key] {
					t.Errorf("room %s last seq %d after pruning, want %d", r.Key, r.LastSeq, last[r.Key])
				}
			}
			appendHourly(t, s, "b", 11, 11)
			if got, _, _ := s.Since("b", 10, 10); !slices.Equal(seqs(got), []uint64{11}) {
				t.Errorf("after pruning, b continues with %v", seqs(got))
			}
		})
	}
}

// TestJanitorPrunesInBackground: with retention set, old messages disappear
// without anyone calling Prune, and Close stops the janitor.
func TestJanitorPrunesInBackground(t *testing.T) {
	clk := &clock{now: hourly(1)}
	s, _ := openTemp(t, Options{MaxAge: 48 * time.Hour, PruneEvery: 5 * time.Millisecond, Now: clk.Now, Logger: quiet})
	appendHourly(t, s, "general", 1, 100)
	// Nothing is older than two days yet: everything stays.
	for range 3 {
		time.Sleep(20 * time.Millisecond)
		if _, first, _ := s.Last("general", 1); first != 1 {
			t.Fatalf("pruned at first %d before anything was old", first)
		}
	}
	clk.Set(hourly(100))
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, first, err := s.Last("general", 1)
		if err != nil {
			t.Fatal(err)
		}
		if first == 52 {
			break
		}
		if first > 52 || time.Now().After(deadline) {
			t.Fatalf("first kept %d, want 52", first)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// goleak (TestMain) checks that the janitor ended.
}

// TestPruneWhileAppending: deletion in the background never disturbs the
// rooms being written.
func TestPruneWhileAppending(t *testing.T) {
	s, _ := openTemp(t, Options{KeepPerRoom: 50, PruneEvery: time.Millisecond, Durability: Process, Logger: quiet})
	var wg sync.WaitGroup
	for _, room := range []string{"a", "b", "c"} {
		wg.Go(func() {
			for seq := uint64(1); seq <= 400; seq++ {
				m := msg(room, seq, "c", "x")
				m.ClientID = fmt.Sprintf("%s-%d", room, seq)
				if got, dup, err := s.Append(room, m); err != nil || dup || got.Seq != seq {
					t.Errorf("append %s/%d: seq %d, dup %v, %v", room, seq, got.Seq, dup, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if _, err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, room := range []string{"a", "b", "c"} {
		got, first, _ := s.Since(room, 0, 1000)
		if first != 351 || !slices.Equal(seqs(got), span(351, 400)) {
			t.Errorf("room %s: first %d, %d kept", room, first, len(got))
		}
	}
}
