package chat

import (
	"testing"

	"lanchat/backend/protocol"
)

// The host renamed live: every member is told, a new member's welcome has
// the new name, the name is cleaned like a member's, and a bad one changes
// nothing.
func TestSetHostName(t *testing.T) {
	h, _ := newTestHub(t, Config{HostID: "h-1", HostName: "root"})
	ana, anaSink := connect(t, h, "Ana")
	_ = ana
	got, p := h.SetHostName("  Sala da Prof.\u200b Ana ")
	if p != nil || got != "Sala da Prof. Ana" || h.HostName() != got {
		t.Fatalf("SetHostName: %q, %v; HostName %q", got, p, h.HostName())
	}
	ups := take[protocol.HostUpdate](anaSink)
	if len(ups) != 1 || ups[0].Host != (protocol.HostInfo{ID: "h-1", Name: "Sala da Prof. Ana"}) {
		t.Fatalf("host updates %+v", ups)
	}
	// the same name again tells nobody
	if _, p := h.SetHostName("Sala da Prof. Ana"); p != nil {
		t.Fatal(p)
	}
	if ups := take[protocol.HostUpdate](anaSink); len(ups) != 0 {
		t.Fatalf("an unchanged name was told again: %+v", ups)
	}
	_, brunoSink := connect(t, h, "Bruno")
	if w := take[protocol.Welcome](brunoSink); len(w) != 1 || w[0].Host.Name != "Sala da Prof. Ana" {
		t.Fatalf("welcome %+v", w)
	}
	for _, bad := range []string{"", "   ", "a\u0007b", "this name is far too long for anyone to read on a projector"} {
		if _, p := h.SetHostName(bad); p == nil || p.Code != protocol.CodeBadName {
			t.Errorf("SetHostName(%q): %v, want %s", bad, p, protocol.CodeBadName)
		}
	}
	if h.HostName() != "Sala da Prof. Ana" {
		t.Fatalf("a refused name changed it to %q", h.HostName())
	}
	// the host's name is the host's: a guest cannot take it
	if _, p := h.Connect(protocol.Hello{Version: 1, Name: "sala da prof. ana"}, &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
		t.Fatalf("a guest named like the host: %v", p)
	}
}
