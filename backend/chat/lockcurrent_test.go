package chat

import (
	"testing"

	"lanchat/backend/protocol"
)

// A connection that was taken over does nothing, and leaves the hub lock
// free, whatever frame it still sends.
func TestTakenOverConnDoesNothing(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret", AllowCreate: true})
	old, _ := connectHost(t, h)
	bob, _ := connect(t, h, "Bob")
	s := &fakeSink{}
	cur, p := h.Connect(protocol.Hello{Version: 1, Name: "Host", HostToken: "secret",
		Resume: &protocol.Resume{Session: old.member.session}}, s)
	if p != nil {
		t.Fatal(p)
	}
	if cur.member != old.member {
		t.Fatal("the new connection did not take over the member")
	}
	frames := []protocol.Frame{
		protocol.Join{Room: "general"},
		protocol.Leave{Room: "general"},
		protocol.CreateRoom{Room: "newroom"},
		protocol.Control{Action: protocol.ActionCreateRoom, Name: "other"},
		protocol.DM{Member: bob.member.id},
		protocol.MembersQuery{Room: "lobby"},
	}
	for _, f := range frames {
		if p := old.Handle(f); p != nil {
			t.Errorf("%s from the old connection: %v", f.FrameType(), p)
		}
	}
	old.Disconnect()
	if h.Stats().Members != 2 {
		t.Errorf("members = %d, want 2", h.Stats().Members)
	}
	for _, r := range h.Stats().Rooms {
		if r.Name == "newroom" || r.Name == "other" {
			t.Errorf("the old connection created %q", r.Name)
		}
	}
	if p := cur.Handle(protocol.Join{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	if p := cur.Handle(protocol.MembersQuery{Room: "general"}); p != nil {
		t.Fatal(p)
	}
	cur.Disconnect()
	if h.Stats().Members != 1 {
		t.Errorf("members = %d after the current connection left, want 1", h.Stats().Members)
	}
}
