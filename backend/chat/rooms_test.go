package chat

import (
	"slices"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// fakeRoomFeed hands the hub's callback to the test, which plays the other
// boxes' saves.
type fakeRoomFeed struct {
	changed func(StoredRoom)
	stopped bool
}

func (f *fakeRoomFeed) WatchRooms(changed func(StoredRoom)) func() {
	f.changed = changed
	return func() { f.stopped = true }
}

// lists waits until s got a rooms list that satisfies ok.
func lists(t *testing.T, s *fakeSink, what string, ok func([]protocol.RoomInfo) bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		for _, r := range take[protocol.Rooms](s) {
			if ok(r.Rooms) {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no rooms list with %s", what)
		}
	}
}

func named(name string) func([]protocol.RoomInfo) bool {
	return func(rs []protocol.RoomInfo) bool {
		return slices.ContainsFunc(rs, func(r protocol.RoomInfo) bool { return r.Name == name })
	}
}

func TestRoomsSavedByOtherBoxes(t *testing.T) {
	feed := &fakeRoomFeed{}
	h, _ := newTestHub(t, Config{RoomFeed: feed, PresenceWindow: time.Millisecond})
	ana, s := connect(t, h, "Ana")

	// A new room: listed, and it can be joined and written in.
	feed.changed(StoredRoom{Key: "projeto", Name: "Projeto"})
	lists(t, s, "Projeto", named("Projeto"))
	if p := ana.Handle(protocol.Join{Room: "projeto"}); p != nil {
		t.Fatal(p)
	}
	if p := send(ana, "Projeto", "a1"); p != nil {
		t.Fatal(p)
	}
	// The same save again (this box's own, come back): nothing changes.
	before := len(h.Stats().Rooms)
	feed.changed(StoredRoom{Key: "projeto", Name: "Projeto"})
	if n := len(h.Stats().Rooms); n != before {
		t.Errorf("a repeated save made %d rooms of %d", n, before)
	}

	// Locked elsewhere: listed locked, and a guest's send refused.
	feed.changed(StoredRoom{Key: "projeto", Name: "Projeto", Flags: RoomFlags{Locked: true}})
	lists(t, s, "Projeto locked", func(rs []protocol.RoomInfo) bool {
		return slices.ContainsFunc(rs, func(r protocol.RoomInfo) bool { return r.Name == "Projeto" && r.Locked })
	})
	if p := send(ana, "Projeto", "a2"); p == nil || p.Code != protocol.CodeRoomLocked {
		t.Errorf("a send in the room locked elsewhere: %v", p)
	}

	// Renamed elsewhere: told, and found under the new name only.
	feed.changed(StoredRoom{Key: "projeto", Name: "Projeto Final", Flags: RoomFlags{Locked: true}})
	if r := take[protocol.Renamed](s); len(r) != 1 || r[0].Room != "Projeto" || r[0].Name != "Projeto Final" {
		t.Errorf("renamed %+v", r)
	}
	if p := ana.Handle(protocol.Leave{Room: "projeto"}); p == nil || p.Code != protocol.CodeNoSuchRoom {
		t.Errorf("the old name still works: %v", p)
	}

	// A room another box saved under a name this hub has: left alone.
	feed.changed(StoredRoom{Key: "other-key", Name: "general"})
	if n := len(h.Stats().Rooms); n != before {
		t.Errorf("a clashing room was added: %d rooms", n)
	}
	// Private conversations are each box's own.
	feed.changed(StoredRoom{Key: dmKey("m-1", "m-2"), Name: "@x"})
	if n := len(h.Stats().Rooms); n != before {
		t.Errorf("a private room was listed: %d rooms", n)
	}

	// Closed elsewhere: its members are told and it is gone; the lobby never closes.
	feed.changed(StoredRoom{Key: "projeto", Name: "Projeto Final", Closed: true})
	if c := take[protocol.Closed](s); len(c) != 1 || c[0].Room != "Projeto Final" {
		t.Errorf("closed %+v", c)
	}
	lists(t, s, "no Projeto Final", func(rs []protocol.RoomInfo) bool { return !named("Projeto Final")(rs) })
	feed.changed(StoredRoom{Key: Lobby, Name: Lobby, Closed: true})
	if !named(Lobby)(h.Stats().Rooms) {
		t.Error("the lobby was closed")
	}

	h.Close()
	if !feed.stopped {
		t.Error("Close left the room feed running")
	}
	feed.changed(StoredRoom{Key: "late", Name: "Late"}) // after Close: ignored
	if named("Late")(h.Stats().Rooms) {
		t.Error("a room saved after Close was added")
	}
}
