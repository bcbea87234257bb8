package host

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"lanchat/backend/chat"
	"lanchat/backend/export"
	"lanchat/backend/protocol"
	"lanchat/backend/store"
)

// sinkRec collects what the hub sends one connection.
type sinkRec struct {
	mu  sync.Mutex
	out []protocol.Frame
}

func (s *sinkRec) Send(o *chat.Out)        { s.mu.Lock(); s.out = append(s.out, o.Frame); s.mu.Unlock() }
func (s *sinkRec) Close(*protocol.Problem) {}

func (s *sinkRec) acks() []protocol.Ack {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []protocol.Ack
	for _, f := range s.out {
		if a, ok := f.(protocol.Ack); ok {
			out = append(out, a)
		}
	}
	return out
}

// TestHistoryInDataDir: a host keeps its history in the data dir's SQLite
// database, a second run continues its seq and deduplicates a resend, the
// transcript export reads it, and Run closes it when the host stops.
func TestHistoryInDataDir(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	run := func(t *testing.T, sends []string) []protocol.Ack {
		h, err := New(Config{Addr: "127.0.0.1:0", Name: "Lab 3", DataDir: dir, Logger: slog.New(slog.DiscardHandler),
			Store: store.Options{Durability: store.Process}})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := h.History().(*store.Store); !ok {
			t.Fatalf("the hub's store is %T, not the SQLite history", h.History())
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- h.Run(ctx) }()
		sink := &sinkRec{}
		c, p := h.Hub.Connect(protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: "Ana"}, sink)
		if p != nil {
			t.Fatal(p)
		}
		if p := c.Handle(protocol.Join{Type: protocol.TypeJoin, Room: "general"}); p != nil {
			t.Fatal(p)
		}
		for _, cid := range sends {
			if p := c.Handle(protocol.Send{Type: protocol.TypeSend, Room: "general", ClientID: cid, Text: "hello <b>" + cid + "</b>"}); p != nil {
				t.Fatal(p)
			}
		}
		var md bytes.Buffer
		if err := h.ExportTranscript(&md, "general", export.Markdown); err != nil {
			t.Fatal(err)
		}
		for _, cid := range sends {
			if !strings.Contains(md.String(), `hello \<b\>`+cid+`\</b\>`) {
				t.Errorf("transcript lacks %s:\n%s", cid, md.String())
			}
		}
		c.Disconnect()
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		return sink.acks()
	}
	first := run(t, []string{"c-1", "c-2"})
	second := run(t, []string{"c-2", "c-3"}) // c-2 is a resend after a restart
	got := func(as []protocol.Ack) (out []uint64) {
		for _, a := range as {
			out = append(out, a.Seq)
		}
		return out
	}
	if a, b := got(first), got(second); len(a) != 2 || a[0] != 1 || a[1] != 2 || len(b) != 2 || b[0] != 2 || b[1] != 3 {
		t.Fatalf("acks: first run %v, second run %v; want [1 2] and [2 3]", a, b)
	}
	if first[1].ID != second[0].ID {
		t.Fatalf("the resend got a new message id %s, not %s", second[0].ID, first[1].ID)
	}
	// Run closed the database: it opens read-only with everything in it.
	s, err := store.OpenReadOnly(store.PathIn(dir))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	msgs, _, err := s.Since("general", 0, 10)
	if err != nil || len(msgs) != 3 {
		t.Fatalf("stored %d messages, %v", len(msgs), err)
	}
}

// A hub given its own store keeps it: no database is opened.
func TestHistoryGivenStore(t *testing.T) {
	mem := chat.NewMemoryStore(10)
	dir := t.TempDir()
	h, err := New(Config{Addr: "127.0.0.1:0", DataDir: dir, Logger: slog.New(slog.DiscardHandler), Hub: chat.Config{Store: mem}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := h.Run(ctx); err != nil {
		t.Fatal(err)
	}
	if h.History() != chat.Store(mem) {
		t.Fatalf("history is %T", h.History())
	}
	if _, err := store.OpenReadOnly(store.PathIn(dir)); err == nil {
		t.Fatal("a history database was created although the hub had a store")
	}
}

// TestJoinCodeSurvivesRestart: the join code a host set still holds when the
// host starts again from the same data dir; a guest without it is refused.
func TestJoinCodeSurvivesRestart(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := t.TempDir()
	run := func(t *testing.T, body func(h *Host)) {
		t.Helper()
		h, err := New(Config{Addr: "127.0.0.1:0", Name: "Sala 20", DataDir: dir, Logger: slog.New(slog.DiscardHandler),
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
	hello := func(code string) protocol.Hello {
		return protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: "Bruno", JoinCode: code}
	}
	run(t, func(h *Host) {
		if _, p := h.Hub.Connect(hello(""), &sinkRec{}); p != nil {
			t.Fatalf("before a code is set: %v", p)
		}
		if p := h.Hub.SetJoinCode("sala20"); p != nil {
			t.Fatal(p)
		}
	})
	run(t, func(h *Host) {
		if got := h.Hub.JoinCode(); got != "sala20" {
			t.Fatalf("after a restart the join code is %q, want sala20", got)
		}
		// /api/info and the LAN announcement say a code is needed (never which)
		if !h.Server.Info().JoinCode || !h.own().JoinCode {
			t.Fatalf("/api/info says join_code %v, the announcement %v; want both true", h.Server.Info().JoinCode, h.own().JoinCode)
		}
		if _, p := h.Hub.Connect(hello(""), &sinkRec{}); p == nil || p.Code != protocol.CodeJoinCodeRequired {
			t.Fatalf("a guest without the code after a restart: %v, want %s", p, protocol.CodeJoinCodeRequired)
		}
		c, p := h.Hub.Connect(hello("sala20"), &sinkRec{})
		if p != nil {
			t.Fatalf("a guest with the code: %v", p)
		}
		c.Disconnect()
		if p := h.Hub.SetJoinCode(""); p != nil {
			t.Fatal(p)
		}
	})
	run(t, func(h *Host) {
		if got := h.Hub.JoinCode(); got != "" || h.Server.Info().JoinCode || h.own().JoinCode {
			t.Fatalf("a removed join code came back as %q (info %v, announcement %v)", got, h.Server.Info().JoinCode, h.own().JoinCode)
		}
	})
}
