package chat

import (
	"sync"
	"testing"

	"lanchat/backend/protocol"
)

// fakeDecisions records what a hub decides and lets the test play the
// other boxes.
type fakeDecisions struct {
	mu      sync.Mutex
	decided []Decision
	apply   func(Decision, bool)
}

func (f *fakeDecisions) Decide(d Decision) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.decided = append(f.decided, d)
	return nil
}

func (f *fakeDecisions) WatchDecisions(apply func(Decision, bool)) func() {
	f.apply = apply
	return func() {}
}

func (f *fakeDecisions) kinds() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, d := range f.decided {
		out = append(out, d.Kind)
	}
	return out
}

func TestDecisionsOfOtherBoxes(t *testing.T) {
	dec := &fakeDecisions{}
	h, _ := newTestHub(t, Config{Decisions: dec, HostToken: "secret"})
	host, hostSink := connectHost(t, h)
	ana, anaSink := connect(t, h, "Ana")
	bia, biaSink := connect(t, h, "Bia")

	// A ban kept from before this box started (replayed, not live) holds.
	dec.apply(Decision{Kind: DecideBanDevice, Key: "dev-Carla", On: true}, false)
	if _, p := h.Connect(protocol.Hello{Version: 1, Name: "Carla", Device: "dev-Carla"}, &fakeSink{}); p == nil || p.Code != protocol.CodeBanned {
		t.Errorf("a device banned on another box: %v", p)
	}
	// An action replayed from before (not live) is not done again.
	dec.apply(Decision{Kind: protocol.ActionKick, Member: ana.Member().ID, Box: "other"}, false)
	if anaSink.closed != nil {
		t.Error("an old kick was done again")
	}

	// Another box mutes Ana, live: muted here, and what it means for her
	// identity is kept for every box.
	dec.apply(Decision{Kind: protocol.ActionMute, Member: ana.Member().ID, Box: "other", On: true}, true)
	if p := send(ana, "lobby", "a1"); p == nil || p.Code != protocol.CodeMuted {
		t.Errorf("Ana muted by another box: %v", p)
	}
	if got := dec.kinds(); len(got) != 1 || got[0] != DecideMuted {
		t.Errorf("kept %v", got)
	}

	// Our own host bans Bia: done here, kept, and told to the other boxes
	// as an action; our own action coming back changes nothing.
	if p := host.Handle(protocol.Control{Action: protocol.ActionBan, Member: bia.Member().ID}); p != nil {
		t.Fatal(p)
	}
	if biaSink.closed == nil || biaSink.closed.Code != protocol.CodeBanned {
		t.Fatalf("Bia: %v", biaSink.closed)
	}
	want := []string{DecideMuted, DecideBanned, DecideBanDevice, protocol.ActionBan}
	if got := dec.kinds(); len(got) != len(want) || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("decided %v, want %v", got, want)
	}
	own := dec.decided[3]
	biaSink.closed = nil
	dec.apply(own, true)
	if biaSink.closed != nil || len(dec.kinds()) != 4 {
		t.Error("our own action, come back, was done again")
	}

	// A join code set on another box is asked for here.
	dec.apply(Decision{Kind: DecideJoinCode, Value: "SALA12"}, true)
	if _, p := h.Connect(protocol.Hello{Version: 1, Name: "Duda"}, &fakeSink{}); p == nil || p.Code != protocol.CodeJoinCodeRequired {
		t.Errorf("no code: %v", p)
	}
	// The host can never be acted on from another box.
	dec.apply(Decision{Kind: protocol.ActionKick, Member: host.Member().ID, Box: "other"}, true)
	if hostSink.closed != nil {
		t.Errorf("the host was kicked from another box: %v", hostSink.closed)
	}
}
