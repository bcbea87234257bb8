package jsstore

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/chat/storetest"
	"lanchat/backend/protocol"
)

// TestConcurrentAppendsAcrossBoxes: senders on three boxes append to one
// room at once, each box through its own connection; the seqs are 1..N
// with none twice, every box reads the same history, and a resend through
// another box is a duplicate with the original seq.
func TestConcurrentAppendsAcrossBoxes(t *testing.T) {
	nodes := startNodes(t, 3)
	stores := make([]*Store, len(nodes))
	for i, n := range nodes {
		stores[i] = open(t, n, Options{})
	}
	for _, s := range stores[1:] {
		if s.Epoch() != stores[0].Epoch() {
			t.Fatalf("epochs differ: %q and %q", s.Epoch(), stores[0].Epoch())
		}
	}
	const perBox, per = 4, 25
	type sent struct {
		box, sender int
		m           protocol.Message
	}
	var mu sync.Mutex
	var all []sent
	var wg sync.WaitGroup
	for b, s := range stores {
		for g := range perBox {
			wg.Go(func() {
				var last uint64
				for i := range per {
					m := storetest.Msg("general", 0, fmt.Sprintf("c-%d-%d-%d", b, g, i), fmt.Sprintf("box %d sender %d says %d", b, g, i))
					m.ID = fmt.Sprintf("id-%d-%d-%d", b, g, i)
					stored, dup, err := s.Append("general", m)
					if err != nil || dup {
						t.Errorf("box %d sender %d message %d: dup %v, %v", b, g, i, dup, err)
						return
					}
					if stored.Seq <= last {
						t.Errorf("box %d sender %d: seq %d after %d", b, g, stored.Seq, last)
					}
					last = stored.Seq
					mu.Lock()
					all = append(all, sent{b, g, stored})
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	const n = 3 * perBox * per
	bySeq := map[uint64]protocol.Message{}
	for _, x := range all {
		if _, twice := bySeq[x.m.Seq]; twice {
			t.Fatalf("seq %d handed out twice", x.m.Seq)
		}
		bySeq[x.m.Seq] = x.m
	}
	for i, s := range stores {
		hist, first, err := s.Since("general", 0, 10*n)
		if err != nil || first != 1 || !slices.Equal(storetest.Seqs(hist), storetest.Span(1, n)) {
			t.Fatalf("box %d: history %v, first %d, %v", i, storetest.Seqs(hist), first, err)
		}
		for _, m := range hist {
			if !reflect.DeepEqual(bySeq[m.Seq], m) {
				t.Fatalf("box %d: seq %d reads %+v, was stored as %+v", i, m.Seq, m, bySeq[m.Seq])
			}
		}
		rooms, err := s.Rooms()
		if err != nil || len(rooms) != 1 || rooms[0].LastSeq != n {
			t.Fatalf("box %d: rooms %+v, %v", i, rooms, err)
		}
	}
	// A resend through another box than the original's.
	orig := all[len(all)/2]
	resent := orig.m
	resent.Seq, resent.Text, resent.ID = 0, "resent", "id-resent"
	got, dup, err := stores[(orig.box+1)%3].Append("general", resent)
	if err != nil || !dup || !reflect.DeepEqual(got, orig.m) {
		t.Fatalf("resend of %s: %+v, dup %v, %v; want %+v", orig.m.ClientID, got, dup, err, orig.m)
	}
	if rooms, _ := stores[0].Rooms(); rooms[0].LastSeq != n {
		t.Fatalf("the resend took a seq: %+v", rooms)
	}
}

// TestReadsSeeAckedWritesOnEveryBox: a message acked through one box is in
// the next read through any other, even when that box's replica is behind
// (the read completes from the stream's leader); a tombstone likewise.
func TestReadsSeeAckedWritesOnEveryBox(t *testing.T) {
	nodes := startNodes(t, 3)
	a, b, c := open(t, nodes[0], Options{}), open(t, nodes[1], Options{}), open(t, nodes[2], Options{})
	for seq := uint64(1); seq <= 200; seq++ {
		w := []*Store{a, b, c}[seq%3]
		r := []*Store{a, b, c}[(seq+1)%3]
		if _, _, err := w.Append("general", storetest.Msg("general", seq, fmt.Sprintf("c-%d", seq), "x")); err != nil {
			t.Fatal(err)
		}
		last, _, err := r.Last("general", 3)
		if err != nil || len(last) == 0 || last[len(last)-1].Seq != seq {
			t.Fatalf("after append %d: last %v, %v", seq, storetest.Seqs(last), err)
		}
		if seq%20 == 0 {
			if err := w.MarkDeleted("general", seq-1); err != nil {
				t.Fatal(err)
			}
			got, _, err := r.Since("general", seq-2, 1)
			if err != nil || len(got) != 1 || !got[0].Deleted || got[0].Text != "" {
				t.Fatalf("tombstone %d read elsewhere: %+v, %v", seq-1, got, err)
			}
		}
	}
}

// TestLostQuorumIsAnError: with two boxes of three gone, writes fail
// within the timeout instead of hanging. Reads must not hang either; they
// may still succeed for a moment (a leader that has not yet noticed it is
// alone answers with what it has).
func TestLostQuorumIsAnError(t *testing.T) {
	nodes := startNodes(t, 3)
	s := open(t, nodes[0], Options{Timeout: time.Second})
	storetest.AppendN(t, s, "general", 1, 3)
	for _, n := range nodes[1:] {
		if err := n.Close(); err != nil {
			t.Fatal(err)
		}
	}
	calls := []struct {
		name  string
		write bool
		call  func() error
	}{
		{"append", true, func() error {
			_, _, err := s.Append("general", storetest.Msg("general", 4, "c-4", "x"))
			return err
		}},
		{"save room", true, func() error { return s.SaveRoom(chat.StoredRoom{Key: "general", Name: "General"}) }},
		{"new room", true, func() error { _, _, err := s.Append("other", storetest.Msg("other", 1, "c-1", "x")); return err }},
		{"mark deleted", true, func() error { return s.MarkDeleted("general", 2) }},
		{"since", false, func() error { _, _, err := s.Since("general", 0, 10); return err }},
		{"rooms", false, func() error { _, err := s.Rooms(); return err }},
	}
	for _, c := range calls {
		begin := time.Now()
		err := c.call()
		d := time.Since(begin)
		if c.write && err == nil {
			t.Errorf("%s succeeded without a quorum", c.name)
		}
		if d > 5*time.Second {
			t.Errorf("%s took %v", c.name, d)
		}
		t.Logf("%s: %v after %v", c.name, err, d.Round(time.Millisecond))
	}
}

// TestRetention: the newest MaxMsgs messages are kept, numbering goes on,
// and the first kept seq moves.
func TestRetention(t *testing.T) {
	s := open(t, startNodes(t, 1)[0], Options{MaxMsgs: 3})
	storetest.AppendN(t, s, "general", 1, 5)
	got, first, err := s.Since("general", 0, 10)
	if err != nil || first != 3 || !slices.Equal(storetest.Seqs(got), storetest.Span(3, 5)) {
		t.Fatalf("history %v, first %d, %v", storetest.Seqs(got), first, err)
	}
	if got, first, _ := s.Last("general", 10); first != 3 || len(got) != 3 {
		t.Fatalf("last %v, first %d", storetest.Seqs(got), first)
	}
	storetest.AppendN(t, s, "general", 6, 6)
	// Unlike the SQLite store, a client id whose message retention removed
	// is not free again while the duplicate window remembers it: the resend
	// is acked with its original seq, as a message that is gone.
	m, dup, err := s.Append("general", storetest.Msg("general", 0, "c-1", "again"))
	if err != nil || !dup || m.Seq != 1 || !m.Deleted || m.Text != "" {
		t.Fatalf("resend of a removed message: %+v, dup %v, %v", m, dup, err)
	}
	if err := s.MarkDeleted("general", 1); err != nil { // not kept: left alone
		t.Fatal(err)
	}
	if err := s.MarkDeleted("general", 99); err != nil { // never stored
		t.Fatal(err)
	}
	storetest.AppendN(t, s, "general", 7, 7)
	if got, _, _ := s.Since("general", 0, 10); len(got) != 3 || got[2].Deleted {
		t.Fatalf("history %+v", got)
	}
}

// TestRoomKeys: any room key, up to the longest a room name allows, maps
// to a valid stream, and rooms saved before their first message start
// numbering after their saved last seq.
func TestRoomKeys(t *testing.T) {
	s := open(t, startNodes(t, 1)[0], Options{})
	keys := []string{
		"general", "town square", "olá mundo", "a.b*c>d e",
		strings.Repeat("🎉", protocol.MaxRoomRunes), "@0a1b2c3d4e5f-a0b1c2d3e4f5",
	}
	for _, k := range keys {
		storetest.AppendN(t, s, k, 1, 2)
	}
	if err := s.SaveRoom(chat.StoredRoom{Key: "imported", Name: "Imported", LastSeq: 41}); err != nil {
		t.Fatal(err)
	}
	storetest.AppendN(t, s, "imported", 42, 43)
	rooms, err := s.Rooms()
	if err != nil || len(rooms) != len(keys)+1 {
		t.Fatalf("rooms %+v, %v", rooms, err)
	}
	for i, k := range keys {
		if rooms[i].Key != k || rooms[i].LastSeq != 2 {
			t.Errorf("room %d: %+v, want key %q", i, rooms[i], k)
		}
	}
	if r := rooms[len(keys)]; r.Key != "imported" || r.Name != "Imported" || r.LastSeq != 43 {
		t.Errorf("imported: %+v", r)
	}
	if _, _, err := s.Append("", storetest.Msg("", 1, "c", "x")); err == nil {
		t.Error("appended to a room without a key")
	}
}
