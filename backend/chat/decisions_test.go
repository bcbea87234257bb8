package chat

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

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

// A member the host removed leaves the rooms as "removed", not as one whose
// connection was lost; the same member back and gone on its own again is
// "disconnected".
func TestRemovedMembersAreSaidRemoved(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret", PresenceWindow: time.Millisecond})
	host, hostSink := connectHost(t, h)
	left := func(n int) map[string][]string {
		t.Helper()
		got := map[string][]string{}
		count := 0
		for deadline := time.Now().Add(10 * time.Second); count < n; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("presence so far %v, want %d departures", got, n)
			}
			for _, p := range take[protocol.Presence](hostSink) {
				for _, c := range p.Changes {
					if c.Event != protocol.EventJoined {
						got[c.Member.Name] = append(got[c.Member.Name], c.Event)
						count++
					}
				}
			}
		}
		return got
	}
	for _, action := range []string{protocol.ActionKick, protocol.ActionBan} {
		bruno, brunoSink := connect(t, h, "Bruno "+action)
		carla, _ := connect(t, h, "Carla "+action)
		if p := host.Handle(protocol.Control{Action: action, Member: bruno.Member().ID}); p != nil {
			t.Fatal(p)
		}
		if brunoSink.closed == nil {
			t.Fatalf("%s: Bruno's connection was not closed", action)
		}
		bruno.Disconnect() // as the transport does once the connection has closed
		carla.Disconnect()
		got := left(2)
		if want := map[string][]string{"Bruno " + action: {protocol.EventRemoved}, "Carla " + action: {protocol.EventDisconnected}}; !maps.EqualFunc(got, want, slices.Equal) {
			t.Fatalf("%s: departures %v, want %v", action, got, want)
		}
	}
	// Kicked, back on a new connection, and gone on its own: disconnected.
	dani, _ := connect(t, h, "Dani")
	if p := host.Handle(protocol.Control{Action: protocol.ActionKick, Member: dani.Member().ID}); p != nil {
		t.Fatal(p)
	}
	dani.Disconnect()
	left(1)
	again, _ := connect(t, h, "Dani")
	again.Disconnect()
	if got := left(1); !slices.Equal(got["Dani"], []string{protocol.EventDisconnected}) {
		t.Fatalf("Dani back and gone: %v", got)
	}
}
