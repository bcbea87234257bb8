package roster

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/cluster"
	"lanchat/backend/protocol"
)

type sink struct{}

func (sink) Send(*chat.Out)          {}
func (sink) Close(*protocol.Problem) {}

// lobbyCount is how many members h has in its lobby, its own and other boxes'.
func lobbyCount(h *chat.Hub) int { return h.Stats().Rooms[0].Members }

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// A box that went quiet for longer than Expire (a stall, a network blip)
// loses its members on the others; once it is heard again, they are back.
func TestHeardAgain(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	node, err := cluster.Start(ctx, cluster.Config{DataDir: t.TempDir(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	if err := node.WaitJetStream(ctx); err != nil {
		t.Fatal(err)
	}
	boxes := map[string]*chat.Hub{}
	rosters := map[string]*Roster{}
	for _, name := range []string{"A", "B"} {
		r, err := New(ctx, node.Conn(), node.JetStream(), Config{Box: name, Alive: 50 * time.Millisecond, Expire: time.Second, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		h, err := chat.NewHub(chat.Config{HostID: "h", Roster: r})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		r.Attach(h)
		rctx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() { r.Run(rctx); close(done) }()
		defer func() { stop(); <-done }()
		boxes[name], rosters[name] = h, r
	}
	if _, p := boxes["A"].Connect(protocol.Hello{Version: protocol.Version, Name: "Ana", Device: "d"}, sink{}); p != nil {
		t.Fatal(p)
	}
	waitFor(ctx, t, "box B to see Ana", func() bool { return lobbyCount(boxes["B"]) == 1 })
	// Box B has not heard of A for longer than Expire, as after a stall.
	rosters["B"].expire(time.Now().Add(time.Hour))
	if n := lobbyCount(boxes["B"]); n != 0 {
		t.Fatalf("box B's lobby counts %d with box A gone", n)
	}
	// A's next heartbeat: B asks again who is where, and Ana is back.
	waitFor(ctx, t, "box B to see Ana again", func() bool { return lobbyCount(boxes["B"]) == 1 })
}
