package host

import (
	"path/filepath"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// TestMessagesStayTheirAuthorsAcrossARestart: after the host restarts, a
// member who comes back on the same device is the author of their earlier
// messages again (the same member id) and may delete them; someone else
// still may not.
func TestMessagesStayTheirAuthorsAcrossARestart(t *testing.T) {
	b := &testBox{spec: boxSpec{Addr: freeAddrs(t, 1)[0], Data: filepath.Join(t.TempDir(), "host"), Name: "host"}}
	b.start(t)
	t.Cleanup(b.stop)
	b.waitUp(t)
	ana, _, err := dialBox(b.ws(), "Ana", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	joinRoom(t, ana, "general")
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "a1", "text": "mine"}); err != nil {
		t.Fatal(err)
	}
	ack, ok := ana.waitFor(5*time.Second, func(f frame) bool { return f.Type == "ack" && f.ClientID == "a1" })
	if !ok {
		t.Fatal("no ack")
	}
	before := ana.id
	ana.close()
	b.stop()

	b.start(t)
	b.waitUp(t)
	ana = joinHost(t, b.ws(), "Ana")
	bruno := joinHost(t, b.ws(), "Bruno")
	if ana.id != before {
		t.Fatalf("Ana is %s after the restart, %s before", ana.id, before)
	}
	joinRoom(t, ana, "general")
	joinRoom(t, bruno, "general")
	if err := bruno.send(map[string]any{"type": "control", "action": "delete", "room": "general", "seq": ack.Seq}); err != nil {
		t.Fatal(err)
	}
	if e, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "error" }); !ok || e.Code != protocol.CodeForbidden {
		t.Fatalf("Bruno deleting Ana's message: %+v", e)
	}
	if err := ana.send(map[string]any{"type": "control", "action": "delete", "room": "general", "seq": ack.Seq}); err != nil {
		t.Fatal(err)
	}
	if _, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "deleted" && f.Seq == ack.Seq }); !ok {
		t.Fatal("Ana could not delete her message after the restart")
	}
}
