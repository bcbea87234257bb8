//go:build linux

package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// The kill -9 test runs the real `lanchat serve` binary, sends to it from
// several WebSocket clients without pause, kills it with SIGKILL mid-stream
// (twice), restarts it on the same port and data dir, and lets the clients
// resume as they would after a network drop: hello.resume with the last seq
// they saw, then resending every unacknowledged message with its client_id.
// Afterwards every acknowledged message must be stored exactly once, at the
// seq its ack named, in send order, with no gap or reused seq: in what each
// client received and in what the restarted host serves on join.

const (
	killClients  = 6
	killWindow   = 3                      // sends in flight per client
	killBurst    = 8                      // sends each client fires at once right before a kill
	killPace     = 120 * time.Millisecond // per client, under the host's 10/s rate limit
	killDeadline = 90 * time.Second       // generous: conditions, not timings, are tested
)

var killRooms = []string{"general", "projects", "random"}

func TestKill9MidStream(t *testing.T) {
	bin := buildLanchat(t)
	dataDir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*killDeadline)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	srv := startHost(t, bin, dataDir, port)
	stopSending, quit := make(chan struct{}), make(chan struct{})
	bursts := []chan struct{}{make(chan struct{}), make(chan struct{})}
	start := make(chan struct{})
	var ready sync.WaitGroup
	clients := make([]*killClient, killClients)
	for i := range clients {
		c := &killClient{
			t: t, url: fmt.Sprintf("ws://127.0.0.1:%d/ws", port),
			name: fmt.Sprintf("sender-%d", i), room: killRooms[i%len(killRooms)],
			seen: map[uint64]string{}, acked: map[string]ackRec{}, outs: map[int]killOut{},
		}
		clients[i] = c
		ready.Add(1)
		c.bursts = bursts
		wg.Go(func() { c.run(ctx, &ready, start, stopSending, quit) })
	}
	ready.Wait() // everyone has joined before anyone sends: all see seq 1 on
	close(start)

	totalAcks := func() int64 {
		var n int64
		for _, c := range clients {
			n += c.nAcked.Load()
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(killDeadline)
		for !cond() {
			for _, c := range clients {
				if msg := c.failMsg.Load(); msg != nil {
					t.Fatalf("while waiting for %s, %s failed: %s\nhost log:\n%s", what, c.name, *msg, srv.log())
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s (acks %d)\nhost log:\n%s", what, totalAcks(), srv.log())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	resumed := func(gen int32) func() bool {
		return func() bool {
			for _, c := range clients {
				if c.connects.Load() < gen {
					return false
				}
			}
			return true
		}
	}

	for round := range 2 {
		before := totalAcks()
		waitFor("acks before the kill", func() bool { return totalAcks() >= before+60 })
		// Every client fires a burst; the kill lands while the host is
		// storing it, with messages in flight.
		close(bursts[round])
		waitFor("the burst to be written", func() bool {
			for _, c := range clients {
				if c.burstsSent.Load() <= int32(round) {
					return false
				}
			}
			return true
		})
		if round == 1 {
			// The second time, let the host store part of the burst first.
			acked := totalAcks()
			waitFor("part of the burst to be stored", func() bool { return totalAcks() > acked })
		}
		srv.kill9(t)
		t.Logf("round %d: killed the host with SIGKILL after %d acks", round+1, totalAcks())
		srv = startHost(t, bin, dataDir, port)
		waitFor("clients to resume", resumed(int32(round+2)))
	}
	before := totalAcks()
	waitFor("acks after the last restart", func() bool { return totalAcks() >= before+40 })
	// Stop sending; once every message is acknowledged and every client
	// has received all of its room, hang up.
	close(stopSending)
	waitFor("every message to be acknowledged", func() bool {
		for _, c := range clients {
			if !c.drained.Load() {
				return false
			}
		}
		return true
	})
	// What the restarted host serves on join, room by room.
	served := fetchHistory(t, port)
	waitFor("every client to receive its room's history", func() bool {
		for _, c := range clients {
			if c.lastSeen.Load() < uint64(len(served[c.room])) {
				return false
			}
		}
		return true
	})
	close(quit)
	wg.Wait()
	for _, c := range clients {
		if c.failed != "" {
			t.Errorf("%s: %s", c.name, c.failed)
		}
	}
	if t.Failed() {
		t.Fatalf("host log:\n%s", srv.log())
	}
	var sent, lost int
	kinds := map[string]int{}
	for _, room := range killRooms {
		hist := served[room]
		byClientID := map[string]protocol.Message{}
		for i, m := range hist {
			if m.Seq != uint64(i+1) {
				t.Fatalf("room %s: history position %d holds seq %d: gap or reuse", room, i, m.Seq)
			}
			if _, dup := byClientID[m.ClientID]; dup {
				t.Fatalf("room %s: client_id %s stored twice", room, m.ClientID)
			}
			byClientID[m.ClientID] = m
		}
		for _, c := range clients {
			if c.room != room {
				continue
			}
			sent += c.next
			// Every message the client sent was acknowledged in the end.
			if len(c.acked) != c.next || len(c.pending) != 0 {
				t.Errorf("%s: sent %d, acked %d, pending %d", c.name, c.next, len(c.acked), len(c.pending))
			}
			var prev uint64
			for n := range c.next {
				cid := c.clientID(n)
				a, ok := c.acked[cid]
				if !ok {
					continue
				}
				m, stored := byClientID[cid]
				if !stored {
					lost++
					t.Errorf("%s: acknowledged %s (seq %d) is not in the history", c.name, cid, a.seq)
					continue
				}
				if m.Seq != a.seq || m.ID != a.id || !c.matches(n, m) {
					t.Errorf("%s: %s (%+v) acked as seq %d id %s, stored as seq %d id %s: %+v", c.name, cid, c.outs[n], a.seq, a.id, m.Seq, m.ID, m)
				}
				kinds[c.outs[n].kind]++
				if a.seq <= prev {
					t.Errorf("%s: message %d acked at seq %d, not after seq %d: out of send order", c.name, n, a.seq, prev)
				}
				prev = a.seq
				delete(byClientID, cid)
			}
			// What the client received equals the stored history.
			if len(c.seen) != len(hist) {
				t.Errorf("%s: received %d messages of %s, the host has %d", c.name, len(c.seen), room, len(hist))
			}
			for _, m := range hist {
				if id, ok := c.seen[m.Seq]; !ok || id != m.ID {
					t.Errorf("%s: seq %d received as %q, stored as %q", c.name, m.Seq, id, m.ID)
					break
				}
			}
		}
		for cid := range byClientID {
			t.Errorf("room %s: stored message %s was never sent", room, cid)
		}
		// The fold of what survived is each client's last word: its
		// newest edit of a message, its last vote, once.
		folded := chat.Fold(hist)
		for _, c := range clients {
			if c.room != room {
				continue
			}
			lastEdit, lastVote := map[uint64]string{}, -1
			for n := range c.next {
				switch o := c.outs[n]; o.kind {
				case protocol.TypeEdited:
					lastEdit[o.target] = c.text(n)
				case protocol.TypeVote:
					lastVote = o.option
				}
			}
			for _, f := range folded {
				if want, ok := lastEdit[f.Seq]; ok && (f.Text != want || !f.Edited) {
					t.Errorf("%s: message %d folds to %q, its last edit was %q", c.name, f.Seq, f.Text, want)
				}
				if f.Seq == c.poll && lastVote >= 0 && f.Votes[lastVote] < 1 {
					t.Errorf("%s: its poll folds to votes %v, its last vote was %d", c.name, f.Votes, lastVote)
				}
			}
		}
		t.Logf("room %s: %d messages, seq 1..%d", room, len(hist), len(hist))
	}
	if sent < 150 {
		t.Errorf("only %d messages were sent", sent)
	}
	var resent, storedUnacked int
	for _, c := range clients {
		resent, storedUnacked = resent+c.resent, storedUnacked+c.storedUnacked
	}
	t.Logf("%d messages sent and acknowledged across 2 kills, %d lost; %d resent after a kill, %d of them already stored; by kind %v",
		sent, lost, resent, storedUnacked, kinds)
	for _, k := range []string{protocol.TypeMessage, protocol.TypePoll, protocol.TypeReaction, protocol.TypeEdited, protocol.TypeVote} {
		if kinds[k] == 0 {
			t.Errorf("no %s went through the kills", k)
		}
	}

	// A clean stop, then the export reads the same history from the data dir.
	srv.stop(t)
	out, err := exec.Command(bin, "export", "--data-dir", dataDir, "--format", "json").Output()
	if err != nil {
		t.Fatalf("lanchat export: %v", err)
	}
	var doc struct {
		Rooms []struct {
			Name     string             `json:"name"`
			Messages []protocol.Message `json:"messages"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Rooms {
		if want, ok := served[r.Name]; ok && len(r.Messages) != len(chat.Fold(want)) {
			t.Errorf("export of %s has %d messages, the host served %d", r.Name, len(r.Messages), len(want))
		}
	}
}

// fetchHistory joins every room with since 0 as a new member and returns
// the full history the host serves.
func fetchHistory(t *testing.T, port int) map[string][]protocol.Message {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	rooms := map[string]uint64{}
	for _, r := range killRooms {
		rooms[r] = 0
	}
	if err := ws.WriteJSON(protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: "checker",
		Resume: &protocol.Resume{Rooms: rooms}}); err != nil {
		t.Fatal(err)
	}
	out := map[string][]protocol.Message{}
	_ = ws.SetReadDeadline(time.Now().Add(killDeadline))
	for len(out) < len(killRooms) {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading history: %v", err)
		}
		for _, f := range bytes.Split(data, []byte("\n")) {
			var j protocol.Joined
			if json.Unmarshal(f, &j) == nil && j.Type == protocol.TypeJoined && j.Room != "lobby" {
				if j.Truncated || uint64(len(j.History)) != j.LastSeq {
					t.Fatalf("room %s: served %d messages, last seq %d, truncated %v", j.Room, len(j.History), j.LastSeq, j.Truncated)
				}
				out[j.Room] = j.History
			}
		}
	}
	return out
}
