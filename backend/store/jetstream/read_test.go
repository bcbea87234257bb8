package jsstore

import (
	"context"
	"math"
	"slices"
	"testing"
	"time"

	"lanchat/backend/chat/storetest"
)

// TestFetchFallsBack: when the headerless batch comes back short (here
// because retention removed the start of the range and the end is not
// there yet, as for a replica behind), fetch reads the seqs with headers
// and asks the leader for the rest, leaving out what is gone.
func TestFetchFallsBack(t *testing.T) {
	s := open(t, startNodes(t, 1)[0], Options{MaxMsgs: 3})
	storetest.AppendN(t, s, "general", 1, 5)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, c := range []struct {
		from, to uint64
		want     []uint64
	}{
		{3, 5, []uint64{3, 4, 5}}, // whole: no fallback
		{1, 5, []uint64{3, 4, 5}}, // 1 and 2 are gone
		{4, 8, []uint64{4, 5}},    // 6 to 8 are not there yet
		{1, 2, nil},
	} {
		got, err := s.fetch(ctx, StreamName("general"), c.from, c.to)
		var seqs []uint64
		for _, r := range got {
			m, derr := decode("general", r.seq, r.data)
			if derr != nil || m.ID != storetest.Msg("general", r.seq, "", "").ID {
				t.Fatalf("fetch %d..%d: seq %d holds %+v, %v", c.from, c.to, r.seq, m, derr)
			}
			seqs = append(seqs, r.seq)
		}
		if err != nil || !slices.Equal(seqs, c.want) {
			t.Errorf("fetch %d..%d = %v, %v; want %v", c.from, c.to, seqs, err, c.want)
		}
	}
}

// TestSinceBounds: a since at or past the last seq (a client may send any
// number), or a limit of 0, reads nothing; a limit below 0 is no limit.
func TestSinceBounds(t *testing.T) {
	s := open(t, startNodes(t, 1)[0], Options{})
	storetest.AppendN(t, s, "general", 1, 3)
	for _, c := range []struct {
		after uint64
		limit int
	}{{3, 10}, {4, 10}, {math.MaxUint64, 10}, {0, 0}, {3, -1}} {
		if got, first, err := s.Since("general", c.after, c.limit); err != nil || len(got) != 0 || first != 1 {
			t.Errorf("Since(%d, %d) = %v, first %d, %v", c.after, c.limit, storetest.Seqs(got), first, err)
		}
	}
	if got, _, err := s.Since("general", 1, -1); err != nil || !slices.Equal(storetest.Seqs(got), storetest.Span(2, 3)) {
		t.Errorf("Since(1, -1) = %v, %v", storetest.Seqs(got), err)
	}
	if got, _, err := s.Last("general", 0); err != nil || len(got) != 0 {
		t.Errorf("Last(0) = %v, %v", storetest.Seqs(got), err)
	}
}
