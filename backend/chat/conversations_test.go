package chat

import (
	"slices"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// post sends a frame and returns the ack it got (failing the test on a refusal).
func mustAck(t *testing.T, c *Conn, s *fakeSink, f protocol.Frame) protocol.Ack {
	t.Helper()
	if p := c.Handle(f); p != nil {
		t.Fatalf("%s: %v", f.FrameType(), p)
	}
	acks := take[protocol.Ack](s)
	if len(acks) != 1 {
		t.Fatalf("%s: %d acks", f.FrameType(), len(acks))
	}
	return acks[0]
}

func refused(t *testing.T, c *Conn, f protocol.Frame, code string) {
	t.Helper()
	if p := c.Handle(f); p == nil || p.Code != code {
		t.Fatalf("%s: %v, want %s", f.FrameType(), p, code)
	}
}

// history is the room's log as a joiner gets it.
func history(t *testing.T, c *Conn, s *fakeSink, room string, since *uint64) []protocol.Message {
	t.Helper()
	take[protocol.Joined](s)
	if p := c.Handle(protocol.Join{Room: room, Since: since}); p != nil {
		t.Fatal(p)
	}
	j := take[protocol.Joined](s)
	if len(j) != 1 {
		t.Fatalf("%d joined frames", len(j))
	}
	return j[0].History
}

func TestReplies(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret"})
	host, hs := connectHost(t, h)
	ana, as := connect(t, h, "Ana")
	_, bs := connect(t, h, "Bia")
	q := mustAck(t, ana, as, protocol.Send{Room: "lobby", ClientID: "q", Text: "who has the slides?\nI lost mine"})
	take[protocol.Message](bs)
	reply := protocol.Send{Room: "lobby", ClientID: "r", Text: "here", ReplyTo: q.Seq}
	a := mustAck(t, host, hs, reply)
	got := take[protocol.Message](bs)
	if len(got) != 1 || got[0].ReplyTo != q.Seq || got[0].ReplyFrom == nil || got[0].ReplyFrom.Name != "Ana" || got[0].Seq != a.Seq {
		t.Fatalf("the reply went out as %+v", got)
	}
	// A resend is the same reply, not a second one.
	if again := mustAck(t, host, hs, reply); again != a {
		t.Fatalf("resend acked %+v, first %+v", again, a)
	}
	if n := take[protocol.Message](bs); len(n) != 0 {
		t.Fatalf("the resend went out again: %+v", n)
	}
	refused(t, host, protocol.Send{Room: "lobby", ClientID: "r2", Text: "x", ReplyTo: 99}, protocol.CodeNoSuchMessage)
	// A reply's original deleted later: the reply stays, the original is a tombstone.
	if p := ana.Handle(protocol.Control{Action: protocol.ActionDelete, Room: "lobby", Seq: q.Seq}); p != nil {
		t.Fatal(p)
	}
	refused(t, host, protocol.Send{Room: "lobby", ClientID: "r3", Text: "x", ReplyTo: q.Seq}, protocol.CodeNoSuchMessage)
	hist := history(t, ana, as, "lobby", nil)
	if len(hist) != 2 || !hist[0].Deleted || hist[0].Text != "" || hist[1].ReplyTo != q.Seq || hist[1].Text != "here" {
		t.Fatalf("history %+v", hist)
	}
}

func TestReactions(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret"})
	host, hs := connectHost(t, h)
	ana, as := connect(t, h, "Ana")
	bia, bs := connect(t, h, "Bia")
	m := mustAck(t, host, hs, protocol.Send{Room: "lobby", ClientID: "m", Text: "who has finished?"})
	up := protocol.React{Room: "lobby", ClientID: "a1", Target: m.Seq, Emoji: "👍"}
	a1 := mustAck(t, ana, as, up)
	if a1.Seq != m.Seq+1 {
		t.Fatalf("the reaction has seq %d after message %d", a1.Seq, m.Seq)
	}
	if again := mustAck(t, ana, as, up); again != a1 {
		t.Fatalf("resend acked %+v, first %+v", again, a1)
	}
	mustAck(t, ana, as, protocol.React{Room: "lobby", ClientID: "a2", Target: m.Seq, Emoji: "👍"}) // again: still one
	mustAck(t, bia, bs, protocol.React{Room: "lobby", ClientID: "b1", Target: m.Seq, Emoji: "👍"})
	mustAck(t, bia, bs, protocol.React{Room: "lobby", ClientID: "b2", Target: m.Seq, Emoji: "❤️"})
	mustAck(t, bia, bs, protocol.React{Room: "lobby", ClientID: "b3", Target: m.Seq, Emoji: "❤️", Remove: true})
	live := take[protocol.Message](hs)
	if len(live) != 6 || live[1].FrameType() != protocol.TypeReaction || live[1].Emoji != "👍" || live[1].Target != m.Seq {
		t.Fatalf("the host saw %+v", live)
	}
	for i, l := range live {
		if l.Seq != m.Seq+uint64(i) {
			t.Fatalf("seqs out of order: %+v", live)
		}
	}
	f := Fold(history(t, host, hs, "lobby", nil))
	if len(f) != 1 || len(f[0].Reactions) != 1 || f[0].Reactions[0].Emoji != "👍" ||
		!slices.Equal(memberNames(f[0].Reactions[0].Members), []string{"Ana", "Bia"}) {
		t.Fatalf("folded %+v", f)
	}
	for _, bad := range []string{"", "ab", "👍 👍", "1", string(make([]byte, 80))} {
		refused(t, ana, protocol.React{Room: "lobby", ClientID: "x", Target: m.Seq, Emoji: bad}, protocol.CodeBadReaction)
	}
	refused(t, ana, protocol.React{Room: "lobby", ClientID: "x", Target: a1.Seq, Emoji: "👍"}, protocol.CodeNoSuchMessage) // a reaction is no message
	refused(t, ana, protocol.React{Room: "general", ClientID: "x", Target: m.Seq, Emoji: "👍"}, protocol.CodeNotInRoom)
	// Guests react in a locked room (a teacher's question in announcements), but not muted.
	if p := host.Handle(protocol.Control{Action: protocol.ActionLock, Room: "lobby", Flag: true}); p != nil {
		t.Fatal(p)
	}
	mustAck(t, ana, as, protocol.React{Room: "lobby", ClientID: "a3", Target: m.Seq, Emoji: "✅"})
	refused(t, ana, protocol.Send{Room: "lobby", ClientID: "a4", Text: "hi"}, protocol.CodeRoomLocked)
	if p := host.Handle(protocol.Control{Action: protocol.ActionMute, Member: bia.member.id, Flag: true}); p != nil {
		t.Fatal(p)
	}
	refused(t, bia, protocol.React{Room: "lobby", ClientID: "b4", Target: m.Seq, Emoji: "✅"}, protocol.CodeMuted)
}

func memberNames(ms []protocol.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	return out
}

func TestEdits(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testEdits(t, NewMemoryStore(1000)) })
	t.Run("plain", func(t *testing.T) { testEdits(t, plainStore{NewMemoryStore(1000)}) })
}

func testEdits(t *testing.T, store Store) {
	h, clk := newTestHub(t, Config{HostToken: "secret", Store: store})
	host, hs := connectHost(t, h)
	ana, as := connect(t, h, "Ana")
	_, bs := connect(t, h, "Bia")
	m := mustAck(t, ana, as, protocol.Send{Room: "lobby", ClientID: "m", Text: "the tset is on friday"})
	fix := protocol.Edit{Room: "lobby", ClientID: "e1", Target: m.Seq, Text: "the test is on friday"}
	clk.advance(14 * time.Minute)
	e := mustAck(t, ana, as, fix)
	got := take[protocol.Message](bs)
	if len(got) != 2 || got[1].FrameType() != protocol.TypeEdited || got[1].Text != fix.Text || got[1].Target != m.Seq {
		t.Fatalf("Bia saw %+v", got)
	}
	// Hosts may not edit others' words; nobody edits a reaction or a missing message.
	refused(t, host, protocol.Edit{Room: "lobby", ClientID: "h1", Target: m.Seq, Text: "mine now"}, protocol.CodeForbidden)
	refused(t, ana, protocol.Edit{Room: "lobby", ClientID: "e2", Target: e.Seq, Text: "x"}, protocol.CodeNoSuchMessage)
	refused(t, ana, protocol.Edit{Room: "lobby", ClientID: "e2", Target: m.Seq, Text: "  "}, protocol.CodeEmptyText)
	// The default window is 15 minutes from the sending.
	clk.advance(time.Minute + time.Second)
	refused(t, ana, protocol.Edit{Room: "lobby", ClientID: "e3", Target: m.Seq, Text: "too late"}, protocol.CodeEditExpired)
	// A resend of the edit that was in time still gets its ack.
	if again := mustAck(t, ana, as, fix); again != e {
		t.Fatalf("resend acked %+v, first %+v", again, e)
	}
	// The host sets the window: a co-host may not, and everyone hears of it.
	refused(t, ana, protocol.Control{Action: protocol.ActionSetEdit, Seconds: 3600}, protocol.CodeForbidden)
	if p := host.Handle(protocol.Control{Action: protocol.ActionSetEdit, Seconds: 3600}); p != nil {
		t.Fatal(p)
	}
	if l := take[protocol.LimitsUpdate](bs); len(l) != 1 || l[0].Limits.EditSeconds != 3600 {
		t.Fatalf("limits %+v", l)
	}
	mustAck(t, ana, as, protocol.Edit{Room: "lobby", ClientID: "e4", Target: m.Seq, Text: "the test is on Friday"})
	f := Fold(history(t, host, hs, "lobby", nil))
	if len(f) != 1 || !f[0].Edited || f[0].Text != "the test is on Friday" {
		t.Fatalf("folded %+v", f)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionSetEdit, Seconds: 0}); p != nil {
		t.Fatal(p)
	}
	refused(t, ana, protocol.Edit{Room: "lobby", ClientID: "e5", Target: m.Seq, Text: "off"}, protocol.CodeEditExpired)
	// Deleting the message takes its edits' words with it.
	if p := ana.Handle(protocol.Control{Action: protocol.ActionDelete, Room: "lobby", Seq: m.Seq}); p != nil {
		t.Fatal(p)
	}
	for _, m := range history(t, host, hs, "lobby", nil) {
		if m.Text != "" {
			t.Fatalf("after the delete the history still says %+v", m)
		}
	}
}

func TestEditsOffByConfig(t *testing.T) {
	h, _ := newTestHub(t, Config{EditSeconds: -1})
	ana, as := connect(t, h, "Ana")
	if l := h.Limits(); l.EditSeconds != 0 {
		t.Fatalf("limits %+v", l)
	}
	m := mustAck(t, ana, as, protocol.Send{Room: "lobby", ClientID: "m", Text: "x"})
	refused(t, ana, protocol.Edit{Room: "lobby", ClientID: "e", Target: m.Seq, Text: "y"}, protocol.CodeEditExpired)
}

// plainStore is a Store with none of the optional readers (it cannot
// search, and finds a message's events by reading the log, as a cluster's
// shared store does).
type plainStore struct{ Store }

func TestPolls(t *testing.T) {
	t.Run("memory", func(t *testing.T) { testPolls(t, NewMemoryStore(1000)) })
	t.Run("plain", func(t *testing.T) { testPolls(t, plainStore{NewMemoryStore(1000)}) })
}

func testPolls(t *testing.T, store Store) {
	h, _ := newTestHub(t, Config{HostToken: "secret", Store: store})
	host, hs := connectHost(t, h)
	ana, as := connect(t, h, "Ana")
	bia, bs := connect(t, h, "Bia")
	q := protocol.Poll{Room: "lobby", ClientID: "p", Text: "Test on Friday or Monday?", Options: []string{"Friday", "Monday"}}
	refused(t, ana, q, protocol.CodeForbidden)
	for _, opts := range [][]string{{"one"}, {"a", "b", "c", "d", "e", "f", "g"}, {"a", " "}, {"Yes", "yes"}} {
		refused(t, host, protocol.Poll{Room: "lobby", ClientID: "bad", Text: "?", Options: opts}, protocol.CodeBadPoll)
	}
	p := mustAck(t, host, hs, q)
	vote := func(c *Conn, s *fakeSink, id string, opt int) protocol.Ack {
		return mustAck(t, c, s, protocol.Vote{Room: "lobby", ClientID: id, Target: p.Seq, Option: opt})
	}
	vote(ana, as, "a1", 0)
	vote(bia, bs, "b1", 0)
	vote(ana, as, "a2", 1) // changed her mind: one vote each still
	refused(t, ana, protocol.Vote{Room: "lobby", ClientID: "a3", Target: p.Seq, Option: 2}, protocol.CodeBadPoll)
	f := Fold(history(t, bia, bs, "lobby", nil))
	if len(f) != 1 || !slices.Equal(f[0].Votes, []int{1, 1}) || f[0].Closed {
		t.Fatalf("folded %+v", f)
	}
	refused(t, ana, protocol.ClosePoll{Room: "lobby", ClientID: "c", Target: p.Seq}, protocol.CodeForbidden)
	take[protocol.Message](bs)
	mustAck(t, host, hs, protocol.ClosePoll{Room: "lobby", ClientID: "c", Target: p.Seq})
	closed := take[protocol.Message](bs)
	if len(closed) != 1 || closed[0].FrameType() != protocol.TypePollClosed || !slices.Equal(closed[0].Counts, []int{1, 1}) {
		t.Fatalf("the closing went out as %+v", closed)
	}
	refused(t, bia, protocol.Vote{Room: "lobby", ClientID: "b2", Target: p.Seq, Option: 1}, protocol.CodePollClosed)
	refused(t, host, protocol.ClosePoll{Room: "lobby", ClientID: "c2", Target: p.Seq}, protocol.CodePollClosed)
	// Resends after the closing get their original acks.
	if a := mustAck(t, host, hs, protocol.ClosePoll{Room: "lobby", ClientID: "c", Target: p.Seq}); a.Seq != p.Seq+4 {
		t.Fatalf("the closing resent: %+v", a)
	}
	if a := mustAck(t, ana, as, protocol.Vote{Room: "lobby", ClientID: "a2", Target: p.Seq, Option: 1}); a.Seq != p.Seq+3 {
		t.Fatalf("the vote resent: %+v", a)
	}
	f = Fold(history(t, bia, bs, "lobby", nil))
	if !f[0].Closed || !slices.Equal(f[0].Votes, []int{1, 1}) {
		t.Fatalf("folded %+v", f)
	}
	// The host lets everyone post polls; the author closes their own.
	refused(t, ana, protocol.Control{Action: protocol.ActionSetPolls, Name: protocol.PollsEveryone}, protocol.CodeForbidden)
	if p := host.Handle(protocol.Control{Action: protocol.ActionSetPolls, Name: protocol.PollsEveryone}); p != nil {
		t.Fatal(p)
	}
	ap := mustAck(t, ana, as, protocol.Poll{Room: "lobby", ClientID: "ap", Text: "Pizza?", Options: []string{"yes", "no", "maybe"}})
	refused(t, bia, protocol.ClosePoll{Room: "lobby", ClientID: "bc", Target: ap.Seq}, protocol.CodeForbidden)
	mustAck(t, ana, as, protocol.ClosePoll{Room: "lobby", ClientID: "ac", Target: ap.Seq})
	refused(t, bia, protocol.Vote{Room: "lobby", ClientID: "v", Target: p.Seq - 1, Option: 0}, protocol.CodeNoSuchMessage)
}

// Events are the room's log: a client resuming from any seq gets exactly
// what followed, messages and events in order, and folds to what everyone
// else sees.
func TestConversationsResume(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret"})
	host, hs := connectHost(t, h)
	ana, as := connect(t, h, "Ana")
	m := mustAck(t, ana, as, protocol.Send{Room: "lobby", ClientID: "m", Text: "draft"})
	p := mustAck(t, host, hs, protocol.Poll{Room: "lobby", ClientID: "p", Text: "?", Options: []string{"a", "b"}})
	mark := m.Seq
	mustAck(t, ana, as, protocol.Edit{Room: "lobby", ClientID: "e", Target: m.Seq, Text: "final"})
	mustAck(t, host, hs, protocol.React{Room: "lobby", ClientID: "r", Target: m.Seq, Emoji: "😂"})
	mustAck(t, ana, as, protocol.Vote{Room: "lobby", ClientID: "v", Target: p.Seq, Option: 1})
	mustAck(t, host, hs, protocol.Send{Room: "lobby", ClientID: "n", Text: "next", ReplyTo: m.Seq})
	all := history(t, host, hs, "lobby", nil)
	missed := history(t, ana, as, "lobby", &mark)
	if !slices.Equal(seqsOf(missed), seqsOf(all)[1:]) || !slices.Equal(seqsOf(all), []uint64{1, 2, 3, 4, 5, 6}) {
		t.Fatalf("all %v, from %d %v", seqsOf(all), mark, seqsOf(missed))
	}
	types := []string{}
	for _, m := range all {
		types = append(types, m.FrameType())
	}
	if !slices.Equal(types, []string{"message", "poll", "edited", "reaction", "vote", "message"}) {
		t.Fatalf("types %v", types)
	}
	f := Fold(all)
	if len(f) != 3 || f[0].Text != "final" || !f[0].Edited || len(f[0].Reactions) != 1 || !slices.Equal(f[1].Votes, []int{0, 1}) || f[2].ReplyTo != m.Seq {
		t.Fatalf("folded %+v", f)
	}
}

func seqsOf(ms []protocol.Message) []uint64 {
	var out []uint64
	for _, m := range ms {
		out = append(out, m.Seq)
	}
	return out
}

func TestFoldIgnoresOthersEditsAndLateVotes(t *testing.T) {
	ana, bia := protocol.Member{ID: "m-a", Name: "Ana"}, protocol.Member{ID: "m-b", Name: "Bia"}
	one, zero := 1, 0
	f := Fold([]protocol.Message{
		{Type: "message", Seq: 1, From: ana, Text: "a"},
		{Type: "edited", Seq: 2, From: bia, Target: 1, Text: "forged"},
		{Type: "poll", Seq: 3, From: ana, Text: "?", Options: []string{"x", "y"}},
		{Type: "vote", Seq: 4, From: bia, Target: 3, Option: &one},
		{Type: "poll_closed", Seq: 5, From: ana, Target: 3},
		{Type: "vote", Seq: 6, From: ana, Target: 3, Option: &zero},
		{Type: "reaction", Seq: 7, From: bia, Target: 99, Emoji: "👍"},
		{Type: "some_later_event", Seq: 8, From: bia, Target: 1},
	})
	if len(f) != 2 || f[0].Text != "a" || f[0].Edited || !slices.Equal(f[1].Votes, []int{0, 1}) || !f[1].Closed {
		t.Fatalf("folded %+v", f)
	}
}

// Conversations across boxes of a cluster (hubs sharing a store and its
// feed, as the JetStream store does, without its optional readers):
// reactions, votes and a poll's closing from members of either box reach
// every member in the one seq order, and fold the same everywhere.
func TestConversationsAcrossHubs(t *testing.T) {
	shared := newSharedStore()
	store := struct {
		Store
		Feed
	}{shared, shared}
	var hubs []*Hub
	for range 2 {
		h, err := NewHub(Config{HostID: "box", HostToken: "secret", Store: store, Feed: store})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		hubs = append(hubs, h)
	}
	host, hs := connectHost(t, hubs[0])
	ana, as := connect(t, hubs[0], "Ana")
	bruno, bs := connect(t, hubs[1], "Bruno")
	m := mustAck(t, ana, as, protocol.Send{Room: "lobby", ClientID: "m", Text: "who has finished?"})
	p := mustAck(t, host, hs, protocol.Poll{Room: "lobby", ClientID: "p", Text: "Friday?", Options: []string{"yes", "no"}})
	// Bruno's box learns of the poll through the feed; his vote needs it delivered there.
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	lobby := func(s *fakeSink) []protocol.Message {
		s.mu.Lock()
		defer s.mu.Unlock()
		var out []protocol.Message
		for _, f := range s.frames {
			if m, ok := f.(protocol.Message); ok && m.Room == "lobby" {
				out = append(out, m)
			}
		}
		return out
	}
	waitFor("the poll on Bruno's box", func() bool { return len(lobby(bs)) >= 2 })
	mustAck(t, bruno, bs, protocol.React{Room: "lobby", ClientID: "r", Target: m.Seq, Emoji: "✅"})
	mustAck(t, bruno, bs, protocol.Vote{Room: "lobby", ClientID: "v1", Target: p.Seq, Option: 0})
	mustAck(t, bruno, bs, protocol.Vote{Room: "lobby", ClientID: "v2", Target: p.Seq, Option: 1})
	waitFor("the votes on the host's box", func() bool { return len(lobby(hs)) >= 5 })
	mustAck(t, host, hs, protocol.ClosePoll{Room: "lobby", ClientID: "c", Target: p.Seq})
	waitFor("everything everywhere", func() bool { return len(lobby(as)) == 6 && len(lobby(bs)) == 6 })
	refused(t, bruno, protocol.Vote{Room: "lobby", ClientID: "v3", Target: p.Seq, Option: 0}, protocol.CodePollClosed)
	for _, s := range []*fakeSink{hs, as, bs} {
		got := lobby(s)
		if !slices.Equal(seqsOf(got), []uint64{1, 2, 3, 4, 5, 6}) {
			t.Fatalf("seqs %v", seqsOf(got))
		}
		f := Fold(got)
		if len(f) != 2 || len(f[0].Reactions) != 1 || !slices.Equal(f[1].Votes, []int{0, 1}) || !f[1].Closed {
			t.Fatalf("folded %+v", f)
		}
	}
}

// Ownership follows the identity: Ana back on a new connection (the same
// name on the same device, after the host dropped her session) still edits
// and closes what she posted; Bia under another device does not.
func TestOwnershipFollowsIdentity(t *testing.T) {
	h, _ := newTestHub(t, Config{Polls: protocol.PollsEveryone})
	ana, as := connect(t, h, "Ana")
	m := mustAck(t, ana, as, protocol.Send{Room: "lobby", ClientID: "m", Text: "draft"})
	p := mustAck(t, ana, as, protocol.Poll{Room: "lobby", ClientID: "p", Text: "?", Options: []string{"a", "b"}})
	ana.Disconnect()
	again, as2 := connect(t, h, "Ana")
	if again.member.id != ana.member.id {
		t.Fatalf("Ana's id changed: %s, then %s", ana.member.id, again.member.id)
	}
	mustAck(t, again, as2, protocol.Edit{Room: "lobby", ClientID: "e", Target: m.Seq, Text: "final"})
	mustAck(t, again, as2, protocol.ClosePoll{Room: "lobby", ClientID: "c", Target: p.Seq})
	bia, _ := connect(t, h, "Bia")
	refused(t, bia, protocol.Edit{Room: "lobby", ClientID: "e2", Target: m.Seq, Text: "mine"}, protocol.CodeForbidden)
}
