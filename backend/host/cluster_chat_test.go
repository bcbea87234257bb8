package host

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

func span(a, b uint64) []uint64 {
	var out []uint64
	for s := a; s <= b; s++ {
		out = append(out, s)
	}
	return out
}

func joinRoom(t testing.TB, c *wsClient, room string) {
	t.Helper()
	if err := c.send(map[string]any{"type": "join", "room": room}); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.waitFor(20*time.Second, func(f frame) bool { return f.Type == "joined" && f.Room == room }); !ok {
		t.Fatalf("%s did not join %s", c.name, room)
	}
}

// Three boxes, one member on each: one room, one sequence, one member
// list, one name space.
func TestClusterOneRoom(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three boxes")
	}
	boxes := startCluster(t, 3)
	names := []string{"Ana", "Bruno", "Carla"}
	var cs []*wsClient
	for i, b := range boxes {
		c, _, err := dialBox(b.ws(), names[i], "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer c.close()
		joinRoom(t, c, "general")
		cs = append(cs, c)
	}
	// A name in use on box 1 is refused on box 2, in any spelling.
	if _, code, _ := dialBox(boxes[1].ws(), "ANA", "", nil); code != "name_taken" {
		t.Fatalf("Ana's name on box 2: %q, want name_taken", code)
	}

	const each = 20
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := range each {
				_ = c.send(map[string]any{"type": "send", "room": "general", "client_id": fmt.Sprintf("c-%d-%d", i, k), "text": fmt.Sprintf("%s %d", names[i], k)})
			}
		}()
	}
	wg.Wait()
	total := uint64(len(cs) * each)
	for _, c := range cs {
		for k := range each {
			id := fmt.Sprintf("c-%d-%d", slices.Index(cs, c), k)
			if f, ok := c.waitFor(30*time.Second, func(f frame) bool { return (f.Type == "ack" || f.Type == "error") && (f.ClientID == id || f.Ref == id) }); !ok || f.Type != "ack" {
				t.Fatalf("%s: send %s: %+v", c.name, id, f)
			}
		}
		if !c.waitSeqs("general", total, 30*time.Second) {
			t.Fatalf("%s got %d of %d messages", c.name, len(c.seqs("general")), total)
		}
	}
	for _, c := range cs {
		if got := c.seqs("general"); !slices.Equal(got, span(1, total)) {
			t.Fatalf("%s saw seqs %v, want 1..%d once each, in order", c.name, got, total)
		}
	}
	// A box does not search (the history is in JetStream, not SQLite): its
	// welcome says so, and a search is refused plainly.
	if w, _ := cs[0].waitFor(time.Second, func(f frame) bool { return f.Type == "welcome" }); w.Limits.Search {
		t.Error("a box's welcome says it searches")
	}
	_ = cs[0].send(map[string]any{"type": "search", "query": "Ana"})
	if f, ok := cs[0].waitFor(10*time.Second, func(f frame) bool { return f.Type == "error" || f.Type == "search_results" }); !ok || f.Code != "search_off" {
		t.Errorf("search on a box: %+v", f)
	}

	// Conversation events are the room's log too: a reaction from a member
	// of each box and an edit reach every box in the one seq order.
	var anaFirst uint64
	for _, m := range cs[0].messages("general") {
		if m.From.Name == "Ana" && anaFirst == 0 {
			anaFirst = m.Seq
		}
	}
	for i, c := range cs {
		_ = c.send(map[string]any{"type": "react", "room": "general", "client_id": fmt.Sprintf("r-%d", i), "target": anaFirst, "emoji": "👍"})
		if f, ok := c.waitFor(30*time.Second, func(f frame) bool {
			return (f.Type == "ack" || f.Type == "error") && (f.ClientID == fmt.Sprintf("r-%d", i) || f.Ref == fmt.Sprintf("r-%d", i))
		}); !ok || f.Type != "ack" {
			t.Fatalf("%s: reaction: %+v", c.name, f)
		}
	}
	_ = cs[0].send(map[string]any{"type": "edit", "room": "general", "client_id": "e-0", "target": anaFirst, "text": "Ana, edited"})
	for _, c := range cs {
		if !c.waitSeqs("general", total+4, 30*time.Second) {
			t.Fatalf("%s got %d of %d log entries", c.name, len(c.seqs("general")), total+4)
		}
		if got := c.seqs("general"); !slices.Equal(got, span(1, total+4)) {
			t.Fatalf("%s saw seqs %v, want 1..%d once each, in order", c.name, got, total+4)
		}
		var reactions, edits int
		for _, m := range c.messages("general") {
			switch {
			case m.Type == protocol.TypeReaction && m.Target == anaFirst && m.Emoji == "👍":
				reactions++
			case m.Type == protocol.TypeEdited && m.Target == anaFirst && m.Text == "Ana, edited":
				edits++
			}
		}
		if reactions != 3 || edits != 1 {
			t.Fatalf("%s saw %d reactions and %d edits of Ana's message %d, want 3 and 1", c.name, reactions, edits, anaFirst)
		}
	}

	// A welcome names the other boxes, and a box takes the WebSocket of a
	// page another box served (a member failing over), not a stranger's.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		c, _, err := dialBox(boxes[0].ws(), "Davi", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		w, _ := c.waitFor(time.Second, func(f frame) bool { return f.Type == "welcome" })
		c.close()
		want := []string{boxes[1].url() + "/", boxes[2].url() + "/"}
		slices.Sort(want)
		if slices.Equal(w.Boxes, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("welcome on box 1 lists boxes %v, want %v", w.Boxes, want)
		}
	}
	// Box 2 knows box 1's page from box 1's heartbeat (every second).
	for origin, want := range map[string]int{boxes[0].url(): http.StatusSwitchingProtocols, "http://evil.example": http.StatusForbidden} {
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			ws, resp, err := websocket.DefaultDialer.Dial(boxes[1].ws(), http.Header{"Origin": {origin}})
			if ws != nil {
				ws.Close()
			}
			if resp != nil && resp.StatusCode == want {
				break
			}
			if want == http.StatusForbidden || time.Now().After(deadline) {
				t.Fatalf("box 2, a WebSocket from a page of %s: %v %v, want %d", origin, resp, err, want)
			}
		}
	}

	// Every box lists the three in general (the roster reaches the other
	// boxes a moment after a join: ask until it has, within a bound).
	for i, c := range cs {
		var got []string
		for try := 0; try < 100 && !slices.Equal(got, names); try++ {
			got = c.members(t, "general")
			slices.Sort(got)
			time.Sleep(50 * time.Millisecond)
		}
		if !slices.Equal(got, names) {
			t.Fatalf("box %d lists %v in general, want %v", i+1, got, names)
		}
	}
}

// members asks for room's member list and returns the names in the answer.
func (c *wsClient) members(t *testing.T, room string) []string {
	t.Helper()
	count := func() (answers, refusals int) {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, f := range c.frames {
			switch {
			case f.Type == "members":
				answers++
			case f.Type == "error" && f.Code == "rate_limited" && f.Ref == room:
				refusals++
			}
		}
		return answers, refusals
	}
	deadline := time.Now().Add(20 * time.Second)
	for answered := false; !answered; {
		before, refused := count()
		if err := c.send(map[string]any{"type": "members", "room": room, "limit": 200}); err != nil {
			t.Fatal(err)
		}
		for {
			a, r := count()
			if a > before {
				answered = true
				break
			}
			if r > refused {
				time.Sleep(200 * time.Millisecond) // the sends used the rate limit up: ask again
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: no members answer", c.name)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	var names []string
	for i := len(c.frames) - 1; i >= 0; i-- {
		if c.frames[i].Type == "members" {
			for _, m := range c.frames[i].Members {
				names = append(names, m.Name)
			}
			break
		}
	}
	return names
}
