package host

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

// failoverClient sends its messages one at a time through whichever box
// answers, failing over to the next box (resuming with the last seq seen)
// when its box goes away, and resending an unacknowledged message with the
// same client_id until it is acknowledged.
type failoverClient struct {
	name  string
	boxes []*testBox
	at    int // index of the box in use
	c     *wsClient
	views [][]uint64 // the seqs seen on each connection, in order
	acked map[string]uint64
}

func (f *failoverClient) lastSeq() uint64 {
	var last uint64
	for _, v := range f.views {
		if len(v) > 0 {
			last = max(last, v[len(v)-1])
		}
	}
	return last
}

// connect (re)connects, trying the boxes in turn from the current one.
func (f *failoverClient) connect(t *testing.T, deadline time.Time) {
	if f.c != nil {
		f.views[len(f.views)-1] = f.c.seqs("general")
		f.c.close()
		f.c = nil
	}
	resume := map[string]uint64{"general": f.lastSeq()}
	for try := 0; time.Now().Before(deadline); try++ {
		b := f.boxes[(f.at+try)%len(f.boxes)]
		c, _, err := dialBox(b.ws(), f.name, "", resume)
		if err != nil {
			time.Sleep(200 * time.Millisecond) // a dead box, or the name still held by the dead box's run
			continue
		}
		if _, ok := c.waitFor(20*time.Second, func(fr frame) bool { return fr.Type == "joined" && fr.Room == "general" }); !ok {
			c.close()
			continue
		}
		f.at = (f.at + try) % len(f.boxes)
		f.c = c
		f.views = append(f.views, nil)
		return
	}
	t.Errorf("%s: no box would take it back", f.name)
}

func (f *failoverClient) run(t *testing.T, n int, sentHalf *sync.WaitGroup) {
	deadline := time.Now().Add(3 * time.Minute)
	f.connect(t, deadline)
	for k := range n {
		if k == n/2 {
			sentHalf.Done()
		}
		id := fmt.Sprintf("%s-%d", f.name, k)
		for f.acked[id] == 0 && time.Now().Before(deadline) {
			if f.c == nil || f.c.isClosed() {
				f.connect(t, deadline)
				if f.c == nil {
					return
				}
			}
			if err := f.c.send(map[string]any{"type": "send", "room": "general", "client_id": id, "text": id}); err != nil {
				continue
			}
			r, ok := f.c.waitFor(15*time.Second, func(fr frame) bool {
				return (fr.Type == "ack" && fr.ClientID == id) || (fr.Type == "error" && fr.Ref == id)
			})
			switch {
			case ok && r.Type == "ack":
				f.acked[id] = r.Seq
			case ok:
				// Refused (the room's stream electing a leader): the same id again.
				f.c.mu.Lock()
				f.c.frames = slices.DeleteFunc(f.c.frames, func(fr frame) bool { return fr.Type == "error" && fr.Ref == id })
				f.c.mu.Unlock()
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	if f.c != nil {
		f.views[len(f.views)-1] = f.c.seqs("general")
	}
}

// A box killed with SIGKILL while members on every box send: every
// acknowledged message is in the room exactly once, in order, without a
// gap, on every box (the killed one too, once it is back), and the killed
// box's members continue on another box with nothing lost or doubled.
func TestClusterBoxKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three boxes")
	}
	boxes := startCluster(t, 3)
	const perClient = 30
	var clients []*failoverClient
	for i := range 6 {
		order := []*testBox{boxes[i%3], boxes[(i+1)%3], boxes[(i+2)%3]}
		clients = append(clients, &failoverClient{name: fmt.Sprintf("Aluno%d", i), boxes: order, acked: map[string]uint64{}})
	}
	var done, half sync.WaitGroup
	half.Add(len(clients))
	for _, f := range clients {
		done.Add(1)
		go func() {
			defer done.Done()
			f.run(t, perClient, &half)
		}()
	}
	half.Wait()
	boxes[0].kill()
	t.Logf("killed %s with members sending", boxes[0].spec.Name)
	done.Wait()
	if t.Failed() {
		return
	}

	total := uint64(len(clients) * perClient)
	owner := map[uint64]string{}
	for _, f := range clients {
		if len(f.acked) != perClient {
			t.Fatalf("%s: %d of %d acknowledged", f.name, len(f.acked), perClient)
		}
		for id, seq := range f.acked {
			if other, dup := owner[seq]; dup {
				t.Fatalf("seq %d acknowledged for %s and %s", seq, other, id)
			}
			owner[seq] = id
		}
	}
	if got := slices.Sorted(maps.Keys(owner)); !slices.Equal(got, span(1, total)) {
		t.Fatalf("acknowledged seqs are not 1..%d: %v", total, got)
	}
	// Each member saw every message once, in order, across its connections.
	for _, f := range clients {
		var seen []uint64
		for _, v := range f.views {
			for _, s := range v {
				if len(seen) == 0 || s > seen[len(seen)-1] {
					seen = append(seen, s)
				} else {
					t.Fatalf("%s: seq %d after %d (connections %d)", f.name, s, seen[len(seen)-1], len(f.views))
				}
			}
		}
		// A member that sent everything before its box died comes back on
		// another box (as its app would); the last messages reach every
		// member after its own last ack: wait for them.
		if f.c.isClosed() {
			f.connect(t, time.Now().Add(time.Minute))
		}
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
			if v := f.c.seqs("general"); len(v) > 0 && v[len(v)-1] == total {
				break
			}
		}
		f.views[len(f.views)-1] = f.c.seqs("general")
		seen = nil
		for _, v := range f.views {
			for _, s := range v {
				if len(seen) > 0 && s <= seen[len(seen)-1] {
					t.Fatalf("%s: seq %d again or out of order", f.name, s)
				}
				seen = append(seen, s)
			}
		}
		if seen[len(seen)-1] != total || uint64(len(seen)) != total-seen[0]+1 {
			for i, v := range f.views {
				if len(v) > 0 {
					t.Logf("%s connection %d: %d seqs, %d..%d", f.name, i, len(v), v[0], v[len(v)-1])
				} else {
					t.Logf("%s connection %d: no messages", f.name, i)
				}
			}
			f.c.mu.Lock()
			kinds := map[string]int{}
			for _, fr := range f.c.frames {
				kinds[fr.Type+"/"+fr.Room+"/"+fr.Code]++
				if fr.Type == "joined" {
					t.Logf("joined %s last_seq %d history %d", fr.Room, fr.LastSeq, len(fr.History))
				}
			}
			f.c.mu.Unlock()
			t.Logf("%s last connection (box %s, closed %v): %v", f.name, f.boxes[f.at].spec.Name, f.c.isClosed(), kinds)
			for k := 1; k < len(seen); k++ {
				if seen[k] != seen[k-1]+1 {
					t.Logf("%s: gap after %d: next %d", f.name, seen[k-1], seen[k])
				}
			}
			t.Fatalf("%s saw %d messages from %d to %d, want every one up to %d", f.name, len(seen), seen[0], seen[len(seen)-1], total)
		}
		f.c.close()
	}

	// The killed box comes back and holds the same room.
	boxes[0].start(t)
	boxes[0].waitUp(t)
	for i, b := range boxes {
		c, _, err := dialBox(b.ws(), fmt.Sprintf("Leitor%d", i), "", map[string]uint64{"general": 0})
		if err != nil {
			t.Fatal(err)
		}
		if !c.waitSeqs("general", total, 30*time.Second) {
			t.Fatalf("%s holds %d of %d messages", b.spec.Name, len(c.seqs("general")), total)
		}
		msgs := c.messages("general")
		for j, m := range msgs {
			if m.Seq != uint64(j+1) || m.ClientID != owner[m.Seq] {
				t.Fatalf("%s: message %d is seq %d %q, want seq %d %q", b.spec.Name, j, m.Seq, m.ClientID, j+1, owner[uint64(j+1)])
			}
		}
		c.close()
	}
}
