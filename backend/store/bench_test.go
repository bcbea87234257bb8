package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/server"
	"lanchat/backend/store"
)

// Benchmarks for `make bench`: acknowledged messages per second through the
// real hub with durable history (SQLite, both durability levels, with and
// without group commit; senders spread over rooms and crowded into one)
// against the in-memory store, and the time to resume
// after missing 1,000 messages. LANCHAT_BENCH_DIR puts the databases on a
// disk of choice (default: the test's temp dir).

func benchDir(b *testing.B) string {
	if d := os.Getenv("LANCHAT_BENCH_DIR"); d != "" {
		dir, err := os.MkdirTemp(d, "lanchat-bench-")
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { os.RemoveAll(dir) })
		return dir
	}
	return b.TempDir()
}

type benchStore struct {
	name string
	open func(b *testing.B) chat.Store
}

func benchStores() []benchStore {
	sqlite := func(o store.Options) func(b *testing.B) chat.Store {
		return func(b *testing.B) chat.Store {
			o.Logger = slog.New(slog.DiscardHandler)
			s, err := store.Open(filepath.Join(benchDir(b), "history.db"), o)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { s.Close() })
			return s
		}
	}
	return []benchStore{
		{"memory", func(*testing.B) chat.Store { return chat.NewMemoryStore(1 << 20) }},
		{"sqlite-full", sqlite(store.Options{Durability: store.Full})},
		{"sqlite-full-nogroup", sqlite(store.Options{Durability: store.Full, MaxBatch: 1})},
		{"sqlite-process", sqlite(store.Options{Durability: store.Process})},
	}
}

// countSink counts the acks a connection gets and drops everything else.
type countSink struct{ acks atomic.Int64 }

func (s *countSink) Send(o *chat.Out) {
	if _, ok := o.Frame.(protocol.Ack); ok {
		s.acks.Add(1)
	}
}
func (s *countSink) Close(*protocol.Problem) {}

// BenchmarkAckedMessages sends b.N messages through the hub and reports
// acknowledged messages per second. An ack is sent only after the store's
// Append returned. The cases spread the senders over rooms (rooms run in
// parallel) and put several concurrent senders into one room: the hub no
// longer serialises a room's appends, so a durable store commits the
// messages of one room together too (group commit).
func BenchmarkAckedMessages(b *testing.B) {
	for _, shape := range []struct{ rooms, senders int }{{1, 1}, {8, 1}, {1, 16}} {
		for _, bs := range benchStores() {
			b.Run(fmt.Sprintf("%s/rooms=%d/senders=%d", bs.name, shape.rooms, shape.senders), func(b *testing.B) {
				benchAcked(b, bs, shape.rooms, shape.senders)
			})
		}
	}
}

// benchAcked runs senders connections per room, each sending its share of
// b.N messages one after the other (the next once the previous is acked).
func benchAcked(b *testing.B, bs benchStore, rooms, senders int) {
	names := make([]string, rooms)
	for i := range names {
		names[i] = fmt.Sprintf("room-%d", i)
	}
	hub, err := chat.NewHub(chat.Config{Rooms: names, Store: bs.open(b), RatePerSecond: 1 << 30, RateBurst: 1 << 30})
	if err != nil {
		b.Fatal(err)
	}
	defer hub.Close()
	type sender struct {
		c    *chat.Conn
		room string
		sink *countSink
	}
	all := make([]sender, 0, rooms*senders)
	for r := range rooms {
		for i := range senders {
			sink := &countSink{}
			c, p := hub.Connect(protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: fmt.Sprintf("sender %d-%d", r, i)}, sink)
			if p != nil {
				b.Fatal(p)
			}
			if p := c.Handle(protocol.Join{Type: protocol.TypeJoin, Room: names[r]}); p != nil {
				b.Fatal(p)
			}
			all = append(all, sender{c, names[r], sink})
		}
	}
	text := string(bytes.Repeat([]byte("x"), 100))
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, s := range all {
		n := b.N / len(all)
		if i < b.N%len(all) {
			n++
		}
		wg.Go(func() {
			for j := range n {
				if p := s.c.Handle(protocol.Send{Type: protocol.TypeSend, Room: s.room, ClientID: fmt.Sprintf("c-%d-%d", i, j), Text: text}); p != nil {
					b.Error(p)
					return
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var acks int64
	for _, s := range all {
		acks += s.sink.acks.Load()
	}
	if acks != int64(b.N) {
		b.Fatalf("%d acks for %d sends", acks, b.N)
	}
	b.ReportMetric(float64(acks)/elapsed.Seconds(), "acks/s")
}

// BenchmarkResume1000 measures a client catching up after missing 1,000
// messages: over a real WebSocket on loopback, from sending join with since
// to having decoded the joined frame with the 1,000 messages. Target: at
// most 50 ms.
func BenchmarkResume1000(b *testing.B) {
	const missed, total = 1000, 5000
	for _, bs := range benchStores() {
		if bs.name != "memory" && bs.name != "sqlite-process" {
			continue // reads do not depend on how writes were synced or grouped
		}
		b.Run(bs.name, func(b *testing.B) {
			st := bs.open(b)
			if err := st.SaveRoom(chat.StoredRoom{Key: "general", Name: "general"}); err != nil {
				b.Fatal(err)
			}
			text := string(bytes.Repeat([]byte("y"), 100))
			for seq := uint64(1); seq <= total; seq++ {
				m := protocol.Message{Type: protocol.TypeMessage, Room: "general", Seq: seq, ID: fmt.Sprintf("%016x", seq),
					From: protocol.Member{ID: "m-1", Name: "Alice"}, Text: text, TS: time.Now().UnixMilli(), ClientID: fmt.Sprintf("c-%d", seq)}
				if _, _, err := st.Append("general", m); err != nil {
					b.Fatal(err)
				}
			}
			hub, err := chat.NewHub(chat.Config{Store: st})
			if err != nil {
				b.Fatal(err)
			}
			srv := server.New(server.Config{Hub: hub, Logger: slog.New(slog.DiscardHandler)})
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx, ln) }()
			defer func() { cancel(); <-done }()

			ws, _, err := websocket.DefaultDialer.Dial("ws://"+ln.Addr().String()+"/ws", nil)
			if err != nil {
				b.Fatal(err)
			}
			defer ws.Close()
			if err := ws.WriteJSON(protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: "late"}); err != nil {
				b.Fatal(err)
			}
			since := uint64(total - missed)
			join := protocol.Join{Type: protocol.TypeJoin, Room: "general", Since: &since}
			readJoined := func() protocol.Joined {
				for {
					_, data, err := ws.ReadMessage()
					if err != nil {
						b.Fatal(err)
					}
					for _, f := range bytes.Split(data, []byte("\n")) {
						var j protocol.Joined
						if json.Unmarshal(f, &j) == nil && j.Type == protocol.TypeJoined && j.Room == "general" {
							return j
						}
					}
				}
			}
			b.ResetTimer()
			for range b.N {
				if err := ws.WriteJSON(join); err != nil {
					b.Fatal(err)
				}
				j := readJoined()
				if len(j.History) != missed || j.History[0].Seq != since+1 || j.Truncated {
					b.Fatalf("resume brought %d messages from %d", len(j.History), j.History[0].Seq)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/resume")
		})
	}
}

// BenchmarkSince1000 is the store's share of a resume: reading 1,000
// messages after a seq.
func BenchmarkSince1000(b *testing.B) {
	s, err := store.Open(filepath.Join(benchDir(b), "history.db"), store.Options{Durability: store.Process, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	for seq := uint64(1); seq <= 2000; seq++ {
		if _, _, err := s.Append("general", protocol.Message{Type: protocol.TypeMessage, Room: "general", Seq: seq, ID: "x",
			From: protocol.Member{ID: "m-1", Name: "Alice"}, Text: string(bytes.Repeat([]byte("y"), 100)), ClientID: fmt.Sprintf("c-%d", seq)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		msgs, _, err := s.Since("general", 1000, 5000)
		if err != nil || len(msgs) != 1000 {
			b.Fatal(len(msgs), err)
		}
	}
}
