package host

import (
	"context"
	"log/slog"
	"testing"

	"go.uber.org/goleak"

	"lanchat/backend/protocol"
	"lanchat/backend/store"
)

// TestPinAndAnnouncementsSurviveRestart: a host with a data dir pins a
// message in the lobby and announces twice; after the host starts again
// from the same data dir, a guest's welcome has the announcements and its
// lobby has the pin.
func TestPinAndAnnouncementsSurviveRestart(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	run := func(t *testing.T, body func(h *Host)) {
		t.Helper()
		h, err := New(Config{Addr: "127.0.0.1:0", Name: "Sala 20", DataDir: dir, HostToken: "tok", Logger: slog.New(slog.DiscardHandler),
			Store: store.Options{Durability: store.Process}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		body(h)
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	run(t, func(h *Host) {
		c, p := h.Hub.Connect(protocol.Hello{Version: protocol.Version, Name: "Prof. Ana", HostToken: "tok"}, &sinkRec{})
		if p != nil {
			t.Fatal(p)
		}
		for _, f := range []protocol.Frame{
			protocol.Send{Room: "lobby", ClientID: "c1", Text: "prova na sexta"},
			protocol.Control{Action: protocol.ActionPin, Room: "lobby", Seq: 1, Flag: true},
			protocol.Control{Action: protocol.ActionAnnounce, Text: "aula começa às 8h"},
			protocol.Control{Action: protocol.ActionAnnounce, Text: "tragam o caderno"},
		} {
			if p := c.Handle(f); p != nil {
				t.Fatalf("%+v: %v", f, p)
			}
		}
		c.Disconnect()
	})
	run(t, func(h *Host) {
		sink := &sinkRec{}
		c, p := h.Hub.Connect(protocol.Hello{Version: protocol.Version, Name: "Bruno"}, sink)
		if p != nil {
			t.Fatal(p)
		}
		defer c.Disconnect()
		sink.mu.Lock()
		defer sink.mu.Unlock()
		var welcome *protocol.Welcome
		var lobby *protocol.Joined
		for _, f := range sink.out {
			switch f := f.(type) {
			case protocol.Welcome:
				welcome = &f
			case protocol.Joined:
				lobby = &f
			}
		}
		if welcome == nil || len(welcome.Announcements) != 2 || welcome.Announcements[0].Text != "aula começa às 8h" ||
			welcome.Announcements[1].Text != "tragam o caderno" || welcome.Announcements[1].From.Name != "Prof. Ana" {
			t.Fatalf("welcome after a restart: %+v", welcome)
		}
		if lobby == nil || lobby.Pinned == nil || lobby.Pinned.Text != "prova na sexta" || lobby.Pinned.Room != "lobby" {
			t.Fatalf("the lobby after a restart: %+v", lobby)
		}
	})
}
