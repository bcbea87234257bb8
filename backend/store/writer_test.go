package store

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"lanchat/backend/protocol"
)

// Writes that stream in share a commit (one WAL sync) when CommitDelay lets
// the writer wait for them; a lone write after a pause never waits.
func TestStreamingWritesShareACommit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		delay   time.Duration
		commits func(uint64) bool // of the commits for the first write and the ten that stream in after it
		want    string
	}{
		{"waits for the stream", 20 * time.Millisecond, func(n uint64) bool { return n == 2 }, "2"},
		// Each write goes alone, unless SQLite's busy handler sleeps and two meet.
		{"never waits", -1, func(n uint64) bool { return n > 5 }, "more than 5"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s, err := Open(filepath.Join(t.TempDir(), "history.db"), Options{CommitDelay: tc.delay})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				base := s.commits.Load() // the migrations' writes

				start := time.Now()
				if _, _, err := s.Append("general", msg("general", 0, "c-first", "first")); err != nil {
					t.Fatal(err)
				}
				if waited := time.Since(start); waited != 0 {
					t.Fatalf("a lone write waited %v for company", waited)
				}
				// Ten more, one every millisecond: a stream.
				var wg sync.WaitGroup
				got := make([]protocol.Message, 10)
				for i := range 10 {
					wg.Go(func() {
						time.Sleep(time.Duration(i) * time.Millisecond)
						m, _, err := s.Append("general", msg("general", 0, fmt.Sprintf("c-%d", i), "next"))
						if err != nil {
							t.Error(err)
						}
						got[i] = m
					})
				}
				wg.Wait()
				if n := s.commits.Load() - base; !tc.commits(n) {
					t.Errorf("%d commits for 11 writes, want %s", n, tc.want)
				}
				seen := map[uint64]bool{}
				for _, m := range got {
					seen[m.Seq] = true
				}
				for seq := uint64(2); seq <= 11; seq++ {
					if !seen[seq] {
						t.Errorf("seq %d not handed out; got %v", seq, seen)
					}
				}

				// After a pause, a write is alone again and does not wait.
				time.Sleep(time.Second)
				start = time.Now()
				if _, _, err := s.Append("general", msg("general", 0, "c-later", "later")); err != nil {
					t.Fatal(err)
				}
				if waited := time.Since(start); waited != 0 {
					t.Errorf("a write after a pause waited %v", waited)
				}
			})
		})
	}
}
