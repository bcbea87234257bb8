package host

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"
)

// search sends a search and waits for its answer: "room/seq" of each result.
func (c *wsClient) search(t *testing.T, q string) []string {
	t.Helper()
	c.mu.Lock()
	c.frames = slices.DeleteFunc(c.frames, func(f frame) bool { return f.Type == "search_results" })
	c.mu.Unlock()
	if err := c.send(map[string]any{"type": "search", "query": q}); err != nil {
		t.Fatal(err)
	}
	f, ok := c.waitFor(10*time.Second, func(f frame) bool { return f.Type == "search_results" && f.Query == q })
	if !ok {
		t.Fatalf("%s: no answer to the search %q", c.name, q)
	}
	out := []string{}
	for _, r := range f.Results {
		out = append(out, fmt.Sprintf("%s/%d", r.Room, r.Seq))
	}
	return out
}

func (c *wsClient) post(t *testing.T, room, id, text string) {
	t.Helper()
	if err := c.send(map[string]any{"type": "send", "room": room, "client_id": id, "text": text}); err != nil {
		t.Fatal(err)
	}
	if f, ok := c.waitFor(10*time.Second, func(f frame) bool { return f.ClientID == id || f.Ref == id }); !ok || f.Type != "ack" {
		t.Fatalf("%s: send %s: %+v", c.name, id, f)
	}
}

// A host with a data dir searches its SQLite history over the protocol:
// accents and case folded, a private conversation found only by its two
// people, a deleted message by nobody.
func TestSearchOverSQLite(t *testing.T) {
	h := runHost(t, Config{})
	url := "ws://127.0.0.1:" + strconv.Itoa(h.Port()) + "/ws"
	ana, bruno, carla := joinHost(t, url, "Ana"), joinHost(t, url, "Bruno"), joinHost(t, url, "Carla")
	if w, _ := ana.waitFor(time.Second, func(f frame) bool { return f.Type == "welcome" }); !w.Limits.Search {
		t.Error("the welcome does not say the host searches")
	}
	joinRoom(t, ana, "general")
	ana.post(t, "general", "g1", "A Prova de sexta vale como avaliação")
	ana.post(t, "general", "g2", "prova cancelada")
	if err := ana.send(map[string]any{"type": "dm", "member": bruno.id}); err != nil {
		t.Fatal(err)
	}
	j, ok := ana.waitFor(10*time.Second, func(f frame) bool { return f.Type == "joined" && len(f.Room) > 0 && f.Room[0] == '@' })
	if !ok {
		t.Fatal("no private room")
	}
	dm := j.Room
	ana.post(t, dm, "d1", "a prova vazou")
	if err := ana.send(map[string]any{"type": "control", "action": "delete", "room": "general", "seq": 2}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ana.waitFor(10*time.Second, func(f frame) bool { return f.Type == "deleted" }); !ok {
		t.Fatal("the delete was not done")
	}

	if got, want := bruno.search(t, "PROVA"), []string{dm + "/1", "general/1"}; !slices.Equal(got, want) {
		t.Errorf("Bruno found %v, want %v", got, want)
	}
	if got, want := carla.search(t, "avaliacao prova"), []string{"general/1"}; !slices.Equal(got, want) {
		t.Errorf("Carla found %v, want %v", got, want)
	}
	if got := carla.search(t, "vazou"); len(got) != 0 {
		t.Errorf("Carla found the private message: %v", got)
	}
	if got := carla.search(t, "cancelada"); len(got) != 0 {
		t.Errorf("Carla found the deleted message: %v", got)
	}
	if got := carla.search(t, `"NEAR(`); len(got) != 0 {
		t.Errorf(`"NEAR( found %v`, got)
	}
	// The snippet marks the matched words.
	_ = carla.send(map[string]any{"type": "search", "query": "avaliacao"})
	r, _ := carla.waitFor(10*time.Second, func(f frame) bool { return f.Type == "search_results" && f.Query == "avaliacao" })
	var marked []string
	for _, res := range r.Results {
		for _, p := range res.Snippet {
			if p.Match {
				marked = append(marked, p.Text)
			}
		}
	}
	if !slices.Equal(marked, []string{"avaliação"}) {
		t.Errorf("marked %q", marked)
	}
}
