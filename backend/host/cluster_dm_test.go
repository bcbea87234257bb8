package host

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// sendAcked sends text into room with client_id id until it is
// acknowledged (a refusal while a stream elects its leader is tried again
// with the same id), and returns the ack's seq.
func sendAcked(t *testing.T, c *wsClient, room, id string) uint64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if err := c.send(map[string]any{"type": "send", "room": room, "client_id": id, "text": id}); err != nil {
			t.Fatalf("%s: send %s: %v", c.name, id, err)
		}
		f, ok := c.waitFor(20*time.Second, func(f frame) bool {
			return (f.Type == "ack" && f.ClientID == id) || (f.Type == "error" && f.Ref == id)
		})
		if ok && f.Type == "ack" {
			return f.Seq
		}
		if ok && f.Code != "internal" && f.Code != "unavailable" {
			t.Fatalf("%s: send %s refused: %+v", c.name, id, f)
		}
		c.mu.Lock()
		c.frames = slices.DeleteFunc(c.frames, func(fr frame) bool { return fr.Type == "error" && fr.Ref == id })
		c.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatalf("%s: %s never acknowledged", c.name, id)
	return 0
}

// A private conversation between members of two boxes: opened from box 1
// with a member of box 2, both are in it and chat with acks and one
// gapless sequence; a member of box 3 cannot join it or send to it; box 2
// is killed and its member, failing over to box 3, resumes the
// conversation with what was said meanwhile, and goes on.
func TestClusterPrivate(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three boxes")
	}
	boxes := startCluster(t, 3)
	dial := func(b *testBox, name string) *wsClient {
		c, _, err := dialBox(b.ws(), name, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.close)
		return c
	}
	ana, bruno, carla := dial(boxes[0], "Ana"), dial(boxes[1], "Bruno"), dial(boxes[2], "Carla")

	// Ana opens a conversation with Bruno, once box 1 has heard of him.
	var room string
	deadline := time.Now().Add(30 * time.Second)
	for room == "" {
		if time.Now().After(deadline) {
			t.Fatal("Ana could not open a conversation with Bruno")
		}
		if err := ana.send(map[string]any{"type": "dm", "member": bruno.id}); err != nil {
			t.Fatal(err)
		}
		f, ok := ana.waitFor(5*time.Second, func(f frame) bool {
			return (f.Type == "joined" && strings.HasPrefix(f.Room, "@")) || (f.Type == "error" && f.Ref == bruno.id)
		})
		switch {
		case ok && f.Type == "joined":
			room = f.Room
		case ok:
			if f.Code != "no_such_member" {
				t.Fatalf("Ana's dm: %+v", f)
			}
			ana.mu.Lock()
			ana.frames = slices.DeleteFunc(ana.frames, func(fr frame) bool { return fr.Type == "error" && fr.Ref == bruno.id })
			ana.mu.Unlock()
			time.Sleep(100 * time.Millisecond) // Bruno not known on box 1 yet
		}
	}
	if _, ok := bruno.waitFor(20*time.Second, func(f frame) bool { return f.Type == "joined" && f.Room == room }); !ok {
		t.Fatalf("Bruno (box 2) was not joined to %s", room)
	}
	// Both appear in the conversation's member list, on both boxes.
	for _, c := range []*wsClient{ana, bruno} {
		if !c.waitMembers(room, []string{"Ana", "Bruno"}, 20*time.Second) {
			t.Fatalf("%s does not see Ana and Bruno in %s: %v", c.name, room, c.lastMembers)
		}
	}

	// They chat: one sequence, each message once, each acknowledged.
	var want []string
	for k := range 4 {
		want = append(want, fmt.Sprintf("ana-%d", k), fmt.Sprintf("bruno-%d", k))
		if s := sendAcked(t, ana, room, fmt.Sprintf("ana-%d", k)); s != uint64(2*k+1) {
			t.Fatalf("ana-%d acked with seq %d", k, s)
		}
		if s := sendAcked(t, bruno, room, fmt.Sprintf("bruno-%d", k)); s != uint64(2*k+2) {
			t.Fatalf("bruno-%d acked with seq %d", k, s)
		}
	}
	for _, c := range []*wsClient{ana, bruno} {
		if !c.waitSeqs(room, 8, 20*time.Second) {
			t.Fatalf("%s got %v in %s", c.name, c.seqs(room), room)
		}
		if got := texts(c.messages(room)); !slices.Equal(c.seqs(room), span(1, 8)) || !slices.Equal(got, want) {
			t.Fatalf("%s has seqs %v, texts %v", c.name, c.seqs(room), got)
		}
	}

	// Carla (box 3) can neither join the conversation nor write to it.
	if err := carla.send(map[string]any{"type": "join", "room": room}); err != nil {
		t.Fatal(err)
	}
	if f, ok := carla.waitFor(10*time.Second, func(f frame) bool { return f.Type == "error" && f.Ref == room }); !ok || f.Code != "no_such_room" {
		t.Fatalf("Carla joining %s: %+v", room, f)
	}
	if err := carla.send(map[string]any{"type": "send", "room": room, "client_id": "carla-1", "text": "psst"}); err != nil {
		t.Fatal(err)
	}
	if f, ok := carla.waitFor(10*time.Second, func(f frame) bool { return f.Type == "error" && f.Ref == "carla-1" }); !ok || f.Type != "error" {
		t.Fatalf("Carla writing to %s: %+v", room, f)
	}

	// Box 2 is killed. Ana goes on writing; Bruno comes back through box 3
	// with the seq he had, and gets what he missed, once.
	boxes[1].kill()
	for k := 4; k < 7; k++ {
		want = append(want, fmt.Sprintf("ana-%d", k))
		if s := sendAcked(t, ana, room, fmt.Sprintf("ana-%d", k)); s != uint64(k+5) {
			t.Fatalf("ana-%d acked with seq %d", k, s)
		}
	}
	before := bruno.seqs(room)
	var back *wsClient
	for deadline := time.Now().Add(60 * time.Second); back == nil; {
		if time.Now().After(deadline) {
			t.Fatal("Bruno could not come back on box 3")
		}
		c, _, err := dialBox(boxes[2].ws(), "Bruno", bruno.session, map[string]uint64{room: before[len(before)-1]})
		if err != nil {
			time.Sleep(200 * time.Millisecond) // box 2 still holds his name
			continue
		}
		back = c
		t.Cleanup(c.close)
	}
	if _, ok := back.waitFor(20*time.Second, func(f frame) bool { return f.Type == "joined" && f.Room == room }); !ok {
		t.Fatalf("Bruno on box 3 was not joined to %s again", room)
	}
	want = append(want, "bruno-again")
	if s := sendAcked(t, back, room, "bruno-again"); s != 12 {
		t.Fatalf("bruno-again acked with seq %d", s)
	}
	if !ana.waitSeqs(room, 12, 20*time.Second) || !back.waitSeqs(room, 4, 20*time.Second) {
		t.Fatalf("after the failover Ana has %v, Bruno %v", ana.seqs(room), back.seqs(room))
	}
	if got := append(before, back.seqs(room)...); !slices.Equal(got, span(1, 12)) {
		t.Fatalf("Bruno's seqs across the failover: %v", got)
	}
	if got := texts(append(bruno.messages(room), back.messages(room)...)); !slices.Equal(got, want) {
		t.Fatalf("Bruno's messages across the failover: %v", got)
	}
	if got := texts(ana.messages(room)); !slices.Equal(ana.seqs(room), span(1, 12)) || !slices.Equal(got, want) {
		t.Fatalf("Ana has seqs %v, texts %v", ana.seqs(room), got)
	}
	// Carla got nothing of it.
	if got := carla.seqs(room); len(got) > 0 {
		t.Fatalf("Carla got %v of %s", got, room)
	}
}

func texts(fs []frame) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Text)
	}
	return out
}

// waitMembers asks for room's member list until it names exactly want.
func (c *wsClient) waitMembers(room string, want []string, d time.Duration) bool {
	isList := func(f frame) bool { return f.Type == "members" && f.Room == room }
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		c.mu.Lock()
		c.frames = slices.DeleteFunc(c.frames, isList)
		c.mu.Unlock()
		if c.send(map[string]any{"type": "members", "room": room}) != nil {
			return false
		}
		f, ok := c.waitFor(5*time.Second, isList)
		if !ok {
			continue
		}
		var got []string
		for _, m := range f.Members {
			got = append(got, m.Name)
		}
		slices.Sort(got)
		if slices.Equal(got, want) {
			return true
		}
		c.lastMembers = got
	}
	return false
}
