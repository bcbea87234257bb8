// Package storetest is the behaviour the hub relies on from a chat.Store,
// as a table of cases that every implementation runs: the SQLite store
// (backend/store), chat.MemoryStore, the model they match, and the
// JetStream store (backend/store/jetstream).
package storetest

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Run runs every case, each as a parallel subtest named after it, against
// a fresh store that open returns. open should register the store's
// cleanup with t.
func Run(t *testing.T, open func(t *testing.T) chat.Store) {
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, open(t))
		})
	}
}

// Msg is a message as the hub hands it to Append. seq only names it (ID,
// TS): the store assigns the seq.
func Msg(room string, seq uint64, clientID, text string) protocol.Message {
	return protocol.Message{
		Type: protocol.TypeMessage, Room: room, Seq: seq, ID: fmt.Sprintf("id-%s-%d", room, seq),
		From: protocol.Member{ID: "m-1", Name: "Alice"}, Text: text,
		TS: time.Date(2026, 11, 25, 10, 0, int(seq), 0, time.UTC).UnixMilli(), ClientID: clientID,
	}
}

// AppendN appends messages from..to to room and checks the store numbered
// them so.
func AppendN(t testing.TB, s chat.Store, room string, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		got, dup, err := s.Append(room, Msg(room, seq, fmt.Sprintf("c-%d", seq), fmt.Sprintf("text %d", seq)))
		if err != nil || dup || got.Seq != seq {
			t.Fatalf("append %s/%d: seq %d, dup %v, %v", room, seq, got.Seq, dup, err)
		}
	}
}

// Seqs lists the seqs of ms.
func Seqs(ms []protocol.Message) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

// Span is a..b.
func Span(a, b uint64) []uint64 {
	var out []uint64
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// EpochForm is what Store.Epoch returns: 16 hex digits.
var EpochForm = regexp.MustCompile(`^[0-9a-f]{16}$`)

var cases = []struct {
	name string
	run  func(t *testing.T, s chat.Store)
}{
	{"since returns what follows, oldest first", func(t *testing.T, s chat.Store) {
		AppendN(t, s, "general", 1, 30)
		got, first, err := s.Since("general", 20, 100)
		if err != nil || first != 1 || !slices.Equal(Seqs(got), Span(21, 30)) {
			t.Fatalf("Since(20) = %v, first %d, %v", Seqs(got), first, err)
		}
		got, _, _ = s.Since("general", 0, 5)
		if !slices.Equal(Seqs(got), Span(1, 5)) {
			t.Fatalf("Since(0, limit 5) = %v", Seqs(got))
		}
		got, _, _ = s.Since("general", 30, 5)
		if len(got) != 0 {
			t.Fatalf("Since(last) = %v, want none", Seqs(got))
		}
	}},
	{"last returns the newest, oldest first", func(t *testing.T, s chat.Store) {
		AppendN(t, s, "general", 1, 30)
		got, first, err := s.Last("general", 4)
		if err != nil || first != 1 || !slices.Equal(Seqs(got), Span(27, 30)) {
			t.Fatalf("Last(4) = %v, first %d, %v", Seqs(got), first, err)
		}
		got, _, _ = s.Last("general", 100)
		if !slices.Equal(Seqs(got), Span(1, 30)) {
			t.Fatalf("Last(100) = %v", Seqs(got))
		}
	}},
	{"an empty room has nothing and first 0", func(t *testing.T, s chat.Store) {
		got, first, err := s.Last("random", 10)
		if err != nil || len(got) != 0 || first != 0 {
			t.Fatalf("Last on empty = %v, %d, %v", got, first, err)
		}
	}},
	{"append numbers the room's messages whatever seq they carry", func(t *testing.T, s chat.Store) {
		for i, carried := range []uint64{0, 7, 1, 0} {
			m := Msg("general", carried, fmt.Sprintf("c-%d", i), "x")
			got, dup, err := s.Append("general", m)
			if err != nil || dup || got.Seq != uint64(i+1) {
				t.Fatalf("append %d: seq %d, dup %v, %v", i, got.Seq, dup, err)
			}
		}
		got, _, _ := s.Since("general", 0, 10)
		if !slices.Equal(Seqs(got), Span(1, 4)) {
			t.Fatalf("history %v", Seqs(got))
		}
	}},
	{"a renamed room keeps its history under its key", func(t *testing.T, s chat.Store) {
		if err := s.SaveRoom(chat.StoredRoom{Key: "general", Name: "General"}); err != nil {
			t.Fatal(err)
		}
		AppendN(t, s, "general", 1, 3)
		if err := s.SaveRoom(chat.StoredRoom{Key: "general", Name: "Town Square", LastSeq: 3}); err != nil {
			t.Fatal(err)
		}
		m := Msg("Town Square", 4, "c-after", "after the rename")
		got, dup, err := s.Append("general", m)
		if err != nil || dup || got.Seq != 4 {
			t.Fatalf("append after rename: seq %d, dup %v, %v", got.Seq, dup, err)
		}
		since, first, _ := s.Since("general", 0, 10)
		if first != 1 || !slices.Equal(Seqs(since), Span(1, 4)) || since[3].Text != "after the rename" {
			t.Fatalf("Since(general) after rename = %v, first %d", Seqs(since), first)
		}
		last, _, _ := s.Last("general", 1)
		if len(last) != 1 || last[0].ID != m.ID {
			t.Fatalf("Last(general) after rename = %+v", last)
		}
		rooms, _ := s.Rooms()
		if len(rooms) != 1 || rooms[0].Key != "general" || rooms[0].Name != "Town Square" || rooms[0].LastSeq != 4 {
			t.Fatalf("rooms %+v", rooms)
		}
		if other, _, _ := s.Since("town square", 0, 10); len(other) != 0 {
			t.Fatalf("the new display name has a history of its own: %v", Seqs(other))
		}
	}},
	{"private room keys are used as given", func(t *testing.T, s chat.Store) {
		key := "@0a1b2c3d4e5f-a0b1c2d3e4f5"
		if err := s.SaveRoom(chat.StoredRoom{Key: key, Name: key}); err != nil {
			t.Fatal(err)
		}
		AppendN(t, s, key, 1, 2)
		if err := s.MarkDeleted(key, 1); err != nil {
			t.Fatal(err)
		}
		got, first, _ := s.Since(key, 0, 10)
		if first != 1 || !slices.Equal(Seqs(got), Span(1, 2)) || !got[0].Deleted {
			t.Fatalf("private history %+v", got)
		}
	}},
	{"messages round-trip whole", func(t *testing.T, s chat.Store) {
		m := Msg("general", 1, "c-x", "olá <b>mundo</b> \"quoted\"\nsecond line 🎉")
		m.From.Role = protocol.RoleHost
		stored, dup, err := s.Append("general", m)
		if err != nil || dup || !reflect.DeepEqual(stored, m) {
			t.Fatalf("Append = %+v, %v, %v; want %+v", stored, dup, err, m)
		}
		got, _, _ := s.Last("general", 1)
		if len(got) != 1 || !reflect.DeepEqual(got[0], m) {
			t.Fatalf("got %+v, want %+v", got, m)
		}
	}},
	{"attachments round-trip, and a tombstone has none", func(t *testing.T, s chat.Store) {
		m := Msg("general", 1, "c-f", "")
		m.Attachments = []protocol.Attachment{
			{ID: strings.Repeat("ab", 32), Name: "foto 1.jpg", Size: 123456, Type: "image/jpeg", Width: 640, Height: 480, Thumb: strings.Repeat("cd", 32)},
			{ID: strings.Repeat("ef", 32), Name: "notas.pdf", Size: 9, Type: "application/pdf"},
		}
		if _, _, err := s.Append("general", m); err != nil {
			t.Fatal(err)
		}
		got, _, _ := s.Last("general", 1)
		if len(got) != 1 || !reflect.DeepEqual(got[0], m) {
			t.Fatalf("got %+v, want %+v", got, m)
		}
		if err := s.MarkDeleted("general", 1); err != nil {
			t.Fatal(err)
		}
		got, _, _ = s.Since("general", 0, 1)
		if len(got) != 1 || !got[0].Deleted || got[0].Attachments != nil {
			t.Fatalf("tombstone %+v still carries files", got)
		}
	}},
	{"a resent client id returns the kept message and takes no seq", func(t *testing.T, s chat.Store) {
		AppendN(t, s, "general", 1, 5)
		resent := Msg("general", 99, "c-3", "resent")
		resent.ID = "id-resent"
		got, dup, err := s.Append("general", resent)
		if err != nil || !dup || got.Seq != 3 || got.ID != "id-general-3" || got.Text != "text 3" {
			t.Fatalf("resend of c-3 = %+v, dup %v, %v", got, dup, err)
		}
		// The next message continues at 6: the resend took no seq.
		AppendN(t, s, "general", 6, 6)
		hist, _, _ := s.Since("general", 0, 100)
		if !slices.Equal(Seqs(hist), Span(1, 6)) || hist[2].ID != "id-general-3" {
			t.Fatalf("history %v", Seqs(hist))
		}
		rooms, _ := s.Rooms()
		if len(rooms) != 1 || rooms[0].LastSeq != 6 {
			t.Fatalf("rooms %+v", rooms)
		}
	}},
	{"a client id is per room", func(t *testing.T, s chat.Store) {
		AppendN(t, s, "general", 1, 3)
		got, dup, err := s.Append("projects", Msg("projects", 1, "c-2", "same client id, other room"))
		if err != nil || dup || got.Seq != 1 || got.Text != "same client id, other room" {
			t.Fatalf("append c-2 to projects = %+v, dup %v, %v", got, dup, err)
		}
		for room, n := range map[string]int{"general": 3, "projects": 1} {
			if hist, _, _ := s.Since(room, 0, 10); len(hist) != n {
				t.Errorf("%s has %d messages, want %d", room, len(hist), n)
			}
		}
	}},
	{"messages without a client id are never duplicates", func(t *testing.T, s chat.Store) {
		for i := range 3 {
			got, dup, err := s.Append("general", Msg("general", 0, "", "x"))
			if err != nil || dup || got.Seq != uint64(i+1) {
				t.Fatalf("append %d: %+v, dup %v, %v", i, got, dup, err)
			}
		}
	}},
	{"concurrent appends to one room get every seq once", func(t *testing.T, s chat.Store) {
		const senders, per = 16, 25
		got := make([][]protocol.Message, senders)
		var wg sync.WaitGroup
		for g := range senders {
			wg.Go(func() {
				for i := range per {
					m := Msg("general", 0, fmt.Sprintf("c-%d-%d", g, i), fmt.Sprintf("%d says %d", g, i))
					m.ID = fmt.Sprintf("id-%d-%d", g, i)
					stored, dup, err := s.Append("general", m)
					if err != nil || dup {
						t.Errorf("sender %d, message %d: dup %v, %v", g, i, dup, err)
						return
					}
					got[g] = append(got[g], stored)
				}
			})
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		bySeq := map[uint64]protocol.Message{}
		for g, ms := range got {
			for i, m := range ms {
				if _, twice := bySeq[m.Seq]; twice {
					t.Fatalf("seq %d handed out twice", m.Seq)
				}
				bySeq[m.Seq] = m
				// One sender's messages are numbered in its send order.
				if i > 0 && m.Seq <= ms[i-1].Seq {
					t.Errorf("sender %d: message %d got seq %d after %d", g, i, m.Seq, ms[i-1].Seq)
				}
			}
		}
		hist, first, err := s.Since("general", 0, 10*senders*per)
		if err != nil || first != 1 || !slices.Equal(Seqs(hist), Span(1, senders*per)) {
			t.Fatalf("history %v, first %d, %v", Seqs(hist), first, err)
		}
		for _, m := range hist {
			if !reflect.DeepEqual(bySeq[m.Seq], m) {
				t.Fatalf("seq %d stored as %+v, returned as %+v", m.Seq, m, bySeq[m.Seq])
			}
		}
		rooms, _ := s.Rooms()
		if len(rooms) != 1 || rooms[0].LastSeq != senders*per {
			t.Fatalf("rooms %+v", rooms)
		}
	}},
	{"rooms list in creation order with last seq", func(t *testing.T, s chat.Store) {
		for _, n := range []string{"lobby", "general", "projects"} {
			if err := s.SaveRoom(chat.StoredRoom{Key: n, Name: n}); err != nil {
				t.Fatal(err)
			}
		}
		AppendN(t, s, "projects", 1, 7)
		AppendN(t, s, "general", 1, 2)
		AppendN(t, s, "unsaved", 1, 1)
		rooms, err := s.Rooms()
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range rooms {
			got = append(got, fmt.Sprintf("%s:%s:%d", r.Key, r.Name, r.LastSeq))
		}
		if want := []string{"lobby:lobby:0", "general:general:2", "projects:projects:7", "unsaved:unsaved:1"}; !slices.Equal(got, want) {
			t.Fatalf("rooms = %v, want %v", got, want)
		}
	}},
	{"a deleted message keeps its seq and loses its text", func(t *testing.T, s chat.Store) {
		AppendN(t, s, "general", 1, 3)
		if err := s.MarkDeleted("general", 2); err != nil {
			t.Fatal(err)
		}
		got, _, _ := s.Last("general", 10)
		if !slices.Equal(Seqs(got), Span(1, 3)) || got[1].Text != "" || !got[1].Deleted || got[1].ID != "id-general-2" || got[0].Text == "" {
			t.Fatalf("history %+v", got)
		}
		// A resend of the deleted message finds the tombstone.
		if m, dup, err := s.Append("general", Msg("general", 2, "c-2", "again")); err != nil || !dup || m.Text != "" || !m.Deleted || m.Seq != 2 {
			t.Fatalf("resend after delete: %+v %v %v", m, dup, err)
		}
	}},
	{"save room updates its settings", func(t *testing.T, s chat.Store) {
		if err := s.SaveRoom(chat.StoredRoom{Key: "news", Name: "news"}); err != nil {
			t.Fatal(err)
		}
		AppendN(t, s, "news", 1, 2)
		pin := Msg("news", 2, "c-2", "exam on friday")
		want := chat.StoredRoom{Key: "news", Name: "News", LastSeq: 2, Topic: "today", Closed: true,
			Flags: chat.RoomFlags{Locked: true, Announcements: true, SlowSeconds: 30}, Pinned: &pin}
		if err := s.SaveRoom(want); err != nil {
			t.Fatal(err)
		}
		rooms, _ := s.Rooms()
		if len(rooms) != 1 || !reflect.DeepEqual(rooms[0], want) {
			t.Fatalf("rooms = %+v, want %+v", rooms, want)
		}
		// Unpinned, it stays unpinned.
		want.Pinned = nil
		if err := s.SaveRoom(want); err != nil {
			t.Fatal(err)
		}
		if rooms, _ := s.Rooms(); len(rooms) != 1 || rooms[0].Pinned != nil {
			t.Fatalf("rooms after unpinning = %+v", rooms)
		}
	}},
	{"save room never lowers the last seq", func(t *testing.T, s chat.Store) {
		AppendN(t, s, "general", 1, 4)
		if err := s.SaveRoom(chat.StoredRoom{Key: "general", Name: "general", LastSeq: 1}); err != nil {
			t.Fatal(err)
		}
		AppendN(t, s, "general", 5, 5)
	}},
	{"the epoch is 16 hex digits", func(t *testing.T, s chat.Store) {
		if e := s.Epoch(); !EpochForm.MatchString(e) || s.Epoch() != e {
			t.Fatalf("epoch %q", e)
		}
	}},
	{"conversation events keep their fields and their place in the log", func(t *testing.T, s chat.Store) {
		one := 1
		msgs := conversation(&one)
		for i, m := range msgs {
			got, dup, err := s.Append("general", m)
			if err != nil || dup || got.Seq != uint64(i+1) {
				t.Fatalf("append %d: %+v, %v, %v", i, got, dup, err)
			}
		}
		// A resent event is found by its client_id, not stored again.
		if got, dup, err := s.Append("general", msgs[3]); err != nil || !dup || got.Seq != 4 || got.Emoji != "👍" {
			t.Fatalf("resent reaction: %+v, %v, %v", got, dup, err)
		}
		got, _, err := s.Since("general", 0, 100)
		if err != nil || len(got) != len(msgs) {
			t.Fatalf("since: %d, %v", len(got), err)
		}
		for i := range msgs {
			want := msgs[i]
			want.Seq = uint64(i + 1)
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("stored %+v\nwant %+v", got[i], want)
			}
		}
		if er, ok := s.(chat.EventReader); ok {
			evs, err := er.EventsOf("general", 1)
			if err != nil || !slices.Equal(Seqs(evs), []uint64{3, 4}) {
				t.Fatalf("events of 1: %v, %v", Seqs(evs), err)
			}
			evs, _ = er.EventsOf("general", 2)
			if !slices.Equal(Seqs(evs), []uint64{5, 6}) {
				t.Fatalf("events of 2: %v", Seqs(evs))
			}
		}
		if cr, ok := s.(chat.ClientIDReader); ok {
			m, found, err := cr.ByClientID("general", "c-vote")
			if err != nil || !found || m.Seq != 5 || m.Option == nil || *m.Option != 1 {
				t.Fatalf("by client id: %+v, %v, %v", m, found, err)
			}
			if _, found, _ := cr.ByClientID("general", "c-none"); found {
				t.Fatal("found a client id never sent")
			}
		}
	}},
	{"a deleted message takes its edits' text and a poll its options", func(t *testing.T, s chat.Store) {
		one := 1
		for _, m := range conversation(&one) {
			if _, _, err := s.Append("general", m); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.MarkDeleted("general", 1); err != nil {
			t.Fatal(err)
		}
		if err := s.MarkDeleted("general", 2); err != nil {
			t.Fatal(err)
		}
		got, _, _ := s.Since("general", 0, 100)
		if !got[0].Deleted || got[0].Text != "" || !got[1].Deleted || got[1].Options != nil || got[1].Text != "" {
			t.Fatalf("tombstones %+v %+v", got[0], got[1])
		}
		if got[2].Text != "" || !got[2].Deleted || got[2].Target != 1 {
			t.Fatalf("the edit of a deleted message: %+v", got[2])
		}
		if got[3].Deleted || got[3].Emoji != "👍" || got[6].Text != "later" || got[6].Deleted {
			t.Fatalf("other entries changed: %+v %+v", got[3], got[6])
		}
	}},
}

// conversation is a message, a poll, an edit and a reaction of the
// message, a vote and the closing of the poll, and a message, as the hub
// appends them.
func conversation(one *int) []protocol.Message {
	ana, prof := protocol.Member{ID: "m-a", Name: "Ana"}, protocol.Member{ID: "m-p", Name: "Prof", Role: protocol.RoleHost}
	ts := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC).UnixMilli()
	return []protocol.Message{
		{Type: protocol.TypeMessage, ID: "i1", From: ana, Text: "the tset", TS: ts, ClientID: "c-msg"},
		{Type: protocol.TypePoll, ID: "i2", From: prof, Text: "Friday?", Options: []string{"yes", "no"}, TS: ts + 1, ClientID: "c-poll"},
		{Type: protocol.TypeEdited, ID: "i3", From: ana, Text: "the test", Target: 1, TS: ts + 2, ClientID: "c-edit"},
		{Type: protocol.TypeReaction, ID: "i4", From: prof, Emoji: "👍", Target: 1, TS: ts + 3, ClientID: "c-react"},
		{Type: protocol.TypeVote, ID: "i5", From: ana, Option: one, Target: 2, TS: ts + 4, ClientID: "c-vote"},
		{Type: protocol.TypePollClosed, ID: "i6", From: prof, Target: 2, Counts: []int{0, 1}, TS: ts + 5, ClientID: "c-close"},
		{Type: protocol.TypeMessage, ID: "i7", From: prof, Text: "later", ReplyTo: 1, ReplyFrom: &protocol.Member{ID: "m-a", Name: "Ana"}, TS: ts + 6, ClientID: "c-later"},
	}
}
