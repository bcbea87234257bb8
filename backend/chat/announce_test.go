package chat

import (
	"fmt"
	"slices"
	"testing"

	"lanchat/backend/protocol"
)

// A host pins a message in a room: the room's members are told, a member
// who joins later finds it in joined, a guest may not pin, unpinning and
// deleting the message take it away.
func TestPinnedMessage(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret"})
	host, hostSink := connectHost(t, h)
	ana, anaSink := connect(t, h, "Ana")
	for _, c := range []*Conn{host, ana} {
		if p := c.Handle(protocol.Join{Room: "general"}); p != nil {
			t.Fatal(p)
		}
	}
	if p := host.Handle(protocol.Send{Room: "general", ClientID: "h1", Text: "exam on friday"}); p != nil {
		t.Fatal(p)
	}
	if p := send(ana, "general", "a1"); p != nil {
		t.Fatal(p)
	}

	for _, c := range []protocol.Control{
		{Action: protocol.ActionPin, Room: "general", Seq: 1, Flag: true},
		{Action: protocol.ActionPin, Room: "general"},
	} {
		if p := ana.Handle(c); p == nil || p.Code != protocol.CodeForbidden || p.Ref != protocol.ActionPin {
			t.Errorf("a guest's %+v: %v, want forbidden", c, p)
		}
	}
	for _, tc := range []struct {
		c    protocol.Control
		code string
	}{
		{protocol.Control{Action: protocol.ActionPin, Room: "general", Seq: 9, Flag: true}, protocol.CodeNoSuchMessage},
		{protocol.Control{Action: protocol.ActionPin, Room: "general", Flag: true}, protocol.CodeBadControl},
		{protocol.Control{Action: protocol.ActionPin, Room: "nowhere", Seq: 1, Flag: true}, protocol.CodeNoSuchRoom},
	} {
		if p := host.Handle(tc.c); p == nil || p.Code != tc.code {
			t.Errorf("%+v: %v, want %s", tc.c, p, tc.code)
		}
	}
	if got := take[protocol.Pinned](anaSink); len(got) != 0 {
		t.Fatalf("refused pins were told: %+v", got)
	}

	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: "general", Seq: 1, Flag: true}); p != nil {
		t.Fatal(p)
	}
	for _, s := range []*fakeSink{hostSink, anaSink} {
		got := take[protocol.Pinned](s)
		if len(got) != 1 || got[0].Room != "general" || got[0].Message == nil || got[0].Message.Text != "exam on friday" ||
			got[0].By == nil || got[0].By.Role != protocol.RoleHost {
			t.Fatalf("pinned frames %+v", got)
		}
	}
	// Bia, not in the room, hears nothing until she joins; then joined has it.
	bia, biaSink := connect(t, h, "Bia")
	if p := bia.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	joined := take[protocol.Joined](biaSink)
	i := slices.IndexFunc(joined, func(j protocol.Joined) bool { return j.Room == "general" })
	if i < 0 || joined[i].Pinned == nil || joined[i].Pinned.Seq != 1 || joined[i].Pinned.Text != "exam on friday" {
		t.Fatalf("joined general: %+v", joined)
	}
	if j := joined[slices.IndexFunc(joined, func(j protocol.Joined) bool { return j.Room == Lobby })]; j.Pinned != nil {
		t.Fatalf("the lobby has a pin: %+v", j.Pinned)
	}

	// Pinning another message replaces it; deleting it unpins.
	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: "general", Seq: 2, Flag: true}); p != nil {
		t.Fatal(p)
	}
	if got := take[protocol.Pinned](biaSink); len(got) != 1 || got[0].Message.Seq != 2 {
		t.Fatalf("re-pinned: %+v", got)
	}
	if p := ana.Handle(protocol.Control{Action: protocol.ActionDelete, Room: "general", Seq: 2}); p != nil {
		t.Fatal(p)
	}
	if got := take[protocol.Pinned](biaSink); len(got) != 1 || got[0].Message != nil {
		t.Fatalf("after the pinned message was deleted: %+v", got)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: "general", Seq: 2, Flag: true}); p == nil || p.Code != protocol.CodeNoSuchMessage {
		t.Fatalf("pinning a deleted message: %v", p)
	}
	// Pin and unpin: the unpin is told, and a joiner then finds nothing.
	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: "general", Seq: 1, Flag: true}); p != nil {
		t.Fatal(p)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: "general"}); p != nil {
		t.Fatal(p)
	}
	if got := take[protocol.Pinned](anaSink); len(got) != 4 || got[2].Message == nil || got[3].Message != nil || got[3].By == nil {
		t.Fatalf("Ana heard %+v", got)
	}
	if p := bia.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	if j := take[protocol.Joined](biaSink); len(j) != 1 || j[0].Pinned != nil {
		t.Fatalf("joined after unpinning: %+v", j)
	}
}

// The pin is part of the stored room: a hub started on the same store has
// it, and a renamed room's pin carries the new name.
func TestPinIsStored(t *testing.T) {
	store := NewMemoryStore(100)
	h, _ := newTestHub(t, Config{HostToken: "secret", Store: store})
	host, _ := connectHost(t, h)
	if p := host.Handle(protocol.Send{Room: Lobby, ClientID: "h1", Text: "welcome, class"}); p != nil {
		t.Fatal(p)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: Lobby, Seq: 1, Flag: true}); p != nil {
		t.Fatal(p)
	}
	h.Close()
	h2, _ := newTestHub(t, Config{HostToken: "secret", Store: store})
	_, s := connect(t, h2, "Ana")
	j := take[protocol.Joined](s)
	if len(j) != 1 || j[0].Pinned == nil || j[0].Pinned.Text != "welcome, class" {
		t.Fatalf("joined the lobby after a restart: %+v", j)
	}
}

// A failed store write leaves the pin as it was.
func TestPinNotStoredChangesNothing(t *testing.T) {
	store := &failingRooms{MemoryStore: NewMemoryStore(100)}
	h, _ := newTestHub(t, Config{HostToken: "secret", Store: store})
	host, hostSink := connectHost(t, h)
	if p := host.Handle(protocol.Send{Room: Lobby, ClientID: "h1", Text: "x"}); p != nil {
		t.Fatal(p)
	}
	store.fail = true
	if p := host.Handle(protocol.Control{Action: protocol.ActionPin, Room: Lobby, Seq: 1, Flag: true}); p == nil || p.Code != protocol.CodeInternal {
		t.Fatalf("pin with a failing store: %v", p)
	}
	if got := take[protocol.Pinned](hostSink); len(got) != 0 {
		t.Fatalf("a pin that was not stored was told: %+v", got)
	}
}

// An announcement reaches every member, whatever rooms they are in; a
// member who connects later gets the newest ones in welcome; a guest may
// not announce.
func TestAnnouncementsReachEveryone(t *testing.T) {
	dec := &fakeDecisions{}
	h, _ := newTestHub(t, Config{HostToken: "secret", Decisions: dec})
	host, hostSink := connectHost(t, h)
	ana, anaSink := connect(t, h, "Ana")
	if p := ana.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	_, biaSink := connect(t, h, "Bia") // the lobby only

	if p := ana.Handle(protocol.Control{Action: protocol.ActionAnnounce, Text: "hi"}); p == nil || p.Code != protocol.CodeForbidden {
		t.Fatalf("a guest announcing: %v", p)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionAnnounce, Text: "  "}); p == nil || p.Code != protocol.CodeEmptyText || p.Ref != protocol.ActionAnnounce {
		t.Fatalf("a blank announcement: %v", p)
	}
	for i := range 4 {
		if p := host.Handle(protocol.Control{Action: protocol.ActionAnnounce, Text: fmt.Sprint("notice ", i)}); p != nil {
			t.Fatal(p)
		}
	}
	for _, s := range []*fakeSink{hostSink, anaSink, biaSink} {
		got := take[protocol.Announcement](s)
		if len(got) != 4 || got[0].Text != "notice 0" || got[3].Text != "notice 3" || got[0].From.Role != protocol.RoleHost || got[0].ID == got[1].ID {
			t.Fatalf("announcements heard: %+v", got)
		}
	}
	_, carlaSink := connect(t, h, "Carla")
	w := take[protocol.Welcome](carlaSink)
	if len(w) != 1 || len(w[0].Announcements) != protocol.MaxAnnouncements || w[0].Announcements[0].Text != "notice 1" || w[0].Announcements[2].Text != "notice 3" {
		t.Fatalf("a later member's welcome: %+v", w)
	}
	if k := dec.kinds(); len(k) != 4 || k[3] != DecideAnnouncements {
		t.Fatalf("decisions: %v", k)
	}

	// Kept from before (a restart): in welcome, not told again. Another
	// box's (live): told once, even if it comes again.
	dec.apply(Decision{Kind: DecideAnnouncements, Value: `[{"id":"k1","from":{"id":"m-h","name":"Host"},"text":"kept","ts":1}]`}, false)
	if got := take[protocol.Announcement](anaSink); len(got) != 0 {
		t.Fatalf("a kept announcement was told again: %+v", got)
	}
	other := `[{"id":"k1","from":{"id":"m-h","name":"Host"},"text":"kept","ts":1},{"id":"b2","from":{"id":"m-h","name":"Host"},"text":"from box 2","ts":2}]`
	dec.apply(Decision{Kind: DecideAnnouncements, Value: other}, true)
	dec.apply(Decision{Kind: DecideAnnouncements, Value: other}, true)
	if got := take[protocol.Announcement](anaSink); len(got) != 1 || got[0].Text != "from box 2" || got[0].Type != protocol.TypeAnnouncement {
		t.Fatalf("another box's announcement: %+v", got)
	}
	_, danSink := connect(t, h, "Dan")
	if w := take[protocol.Welcome](danSink); len(w) != 1 || len(w[0].Announcements) != 2 || w[0].Announcements[1].ID != "b2" {
		t.Fatalf("welcome after another box's announcement: %+v", w)
	}
}
