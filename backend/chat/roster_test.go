package chat

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"lanchat/backend/protocol"
)

// lanRoster connects the hubs of a test cluster: names in one map, changes
// delivered to the other hubs from a goroutine, as a message bus would.
type lanRoster struct {
	mu    sync.Mutex
	names map[string]string // NameKey → box/id
	hubs  map[string]*Hub
	queue chan func()
}

func newLANRoster() *lanRoster {
	return &lanRoster{names: map[string]string{}, hubs: map[string]*Hub{}, queue: make(chan func(), 1024)}
}

// box is one hub's view of the roster.
type box struct {
	*lanRoster
	id string
}

func (b box) Claim(key, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if owner, ok := b.names[key]; ok && owner != b.id+"/"+id {
		return ErrNameTaken
	}
	b.names[key] = b.id + "/" + id
	return nil
}

func (b box) Release(key, id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.names[key] == b.id+"/"+id {
		delete(b.names, key)
	}
}

func (b box) Publish(room, event string, m BoxMember) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for id, h := range b.hubs {
		if id != b.id {
			b.queue <- func() { h.Remote(b.id, room, event, m) }
		}
	}
}

func (b box) Boxes() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for id := range b.hubs {
		if id != b.id {
			out = append(out, "http://"+id+".test/")
		}
	}
	slices.Sort(out)
	return out
}

func (l *lanRoster) run(stop <-chan struct{}) {
	for {
		select {
		case f := <-l.queue:
			f()
		case <-stop:
			return
		}
	}
}

func names(ms []protocol.Member) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Name)
	}
	slices.Sort(out)
	return out
}

// Members of two boxes see one member list, one name space, and each
// other's comings and goings; a box that stops takes its members along.
func TestRosterAcrossBoxes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newSharedStore()
		roster := newLANRoster()
		stop := make(chan struct{})
		defer close(stop)
		go roster.run(stop)
		hub := func(id string) *Hub {
			h, err := NewHub(Config{HostID: id, Store: store, Feed: store, Roster: box{roster, id}})
			if err != nil {
				t.Fatal(err)
			}
			roster.mu.Lock()
			roster.hubs[id] = h
			roster.mu.Unlock()
			return h
		}
		a, b := hub("A"), hub("B")
		defer a.Close()
		defer b.Close()

		ana, anaSink := connect(t, a, "Ana")
		if w := take[protocol.Welcome](anaSink); len(w) != 1 || !slices.Equal(w[0].Boxes, []string{"http://B.test/"}) {
			t.Fatalf("welcome on box A lists boxes %v", w)
		}
		bruno, brunoSink := connect(t, b, "Bruno")
		for _, c := range []*Conn{ana, bruno} {
			if p := c.Handle(protocol.Join{Room: "general"}); p != nil {
				t.Fatal(p)
			}
		}
		time.Sleep(time.Second)
		synctest.Wait()

		// One list: Bruno (box B) is in general on box A, and the reverse.
		if p := ana.Handle(protocol.MembersQuery{Room: "general"}); p != nil {
			t.Fatal(p)
		}
		if got := take[protocol.MembersList](anaSink); len(got) != 1 || !slices.Equal(names(got[0].Members), []string{"Ana", "Bruno"}) || got[0].Count != 2 {
			t.Fatalf("general as box A sees it: %+v", got)
		}
		if p := bruno.Handle(protocol.MembersQuery{Room: "lobby"}); p != nil {
			t.Fatal(p)
		}
		if got := take[protocol.MembersList](brunoSink); len(got) != 1 || !slices.Equal(names(got[0].Members), []string{"Ana", "Bruno"}) {
			t.Fatalf("the lobby as box B sees it: %+v", got)
		}
		// One name space: Ana is taken on box B, in any spelling.
		if _, p := b.Connect(protocol.Hello{Version: 1, Name: "ANA"}, &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
			t.Fatalf("Ana's name on box B: %v", p)
		}
		// A joiner on box B gets a joined that lists Ana.
		carla, carlaSink := connect(t, b, "Carla")
		if p := carla.Handle(protocol.Join{Room: "general"}); p != nil {
			t.Fatal(p)
		}
		var joined []protocol.Joined
		for _, j := range take[protocol.Joined](carlaSink) {
			if j.Room == "general" {
				joined = append(joined, j)
			}
		}
		if len(joined) != 1 || !slices.Equal(names(joined[0].Members), []string{"Ana", "Bruno", "Carla"}) {
			t.Fatalf("Carla's joined on box B: %+v", joined)
		}
		// Messages cross too (the feed), in one sequence.
		if _, p := carla.Post(protocol.Send{Room: "general", ClientID: "c-1", Text: "oi"}); p != nil {
			t.Fatal(p)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		msgs := take[protocol.Message](anaSink)
		if len(msgs) != 1 || msgs[0].From.Name != "Carla" || msgs[0].Seq != 1 {
			t.Fatalf("Ana on box A got %+v", msgs)
		}

		// Bruno leaves general; then box B stops: Ana sees both.
		take[protocol.Presence](anaSink)
		if p := bruno.Handle(protocol.Leave{Room: "general"}); p != nil {
			t.Fatal(p)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		a.RemoteGone("B")
		time.Sleep(time.Second)
		synctest.Wait()
		var events []string
		for _, p := range take[protocol.Presence](anaSink) {
			if p.Room != "general" {
				continue
			}
			for _, c := range p.Changes {
				events = append(events, fmt.Sprintf("%s %s", c.Member.Name, c.Event))
			}
		}
		if !slices.Equal(events, []string{"Bruno left", "Carla disconnected"}) {
			t.Fatalf("Ana saw %v", events)
		}
		if st := a.Stats(); st.Rooms[0].Members != 1 {
			t.Fatalf("the lobby on box A counts %d after box B stopped, want 1", st.Rooms[0].Members)
		}
	})
}

// A private conversation between members of two boxes: box A opens it and
// asks box B (RosterOpened) to join its member; messages cross through the
// feed; a member of a third box can neither join it nor open it under
// another pair's key; the member of box B, coming back on box C, resumes it.
func TestPrivateAcrossBoxes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		store := newSharedStore()
		roster := newLANRoster()
		stop := make(chan struct{})
		defer close(stop)
		go roster.run(stop)
		hub := func(id string) *Hub {
			h, err := NewHub(Config{HostID: id, Store: store, Feed: store, Roster: box{roster, id}})
			if err != nil {
				t.Fatal(err)
			}
			roster.mu.Lock()
			roster.hubs[id] = h
			roster.mu.Unlock()
			return h
		}
		a, b, c := hub("A"), hub("B"), hub("C")
		defer a.Close()
		defer b.Close()
		defer c.Close()
		settle := func() { time.Sleep(time.Second); synctest.Wait() }

		ana, anaSink := connect(t, a, "Ana")
		bruno, brunoSink := connect(t, b, "Bruno")
		carla, carlaSink := connect(t, c, "Carla")
		settle()
		if p := ana.Handle(protocol.DM{Member: bruno.Member().ID}); p != nil {
			t.Fatalf("Ana's dm with Bruno of box B: %v", p)
		}
		settle()
		key := dmKey(identityOf("Ana", "dev-Ana"), identityOf("Bruno", "dev-Bruno"))
		joinedTo := func(s *fakeSink) (out []protocol.Joined) {
			for _, j := range take[protocol.Joined](s) {
				if j.Room == key {
					out = append(out, j)
				}
			}
			return out
		}
		if j := joinedTo(anaSink); len(j) != 1 {
			t.Fatalf("Ana joined %s %d times", key, len(j))
		}
		if j := joinedTo(brunoSink); len(j) != 1 {
			t.Fatalf("Bruno (box B) joined %s %d times", key, len(j))
		}
		// Both are in its member list on both boxes.
		for _, cs := range []struct {
			c *Conn
			s *fakeSink
		}{{ana, anaSink}, {bruno, brunoSink}} {
			if p := cs.c.Handle(protocol.MembersQuery{Room: key}); p != nil {
				t.Fatal(p)
			}
			if got := take[protocol.MembersList](cs.s); len(got) != 1 || !slices.Equal(names(got[0].Members), []string{"Ana", "Bruno"}) {
				t.Fatalf("%s sees %+v", cs.c.Member().Name, got)
			}
		}

		// Messages cross, in one sequence, with acks.
		for i, cs := range []*Conn{ana, bruno, ana} {
			if _, p := cs.Post(protocol.Send{Room: key, ClientID: fmt.Sprintf("m-%d", i), Text: fmt.Sprint(i)}); p != nil {
				t.Fatal(p)
			}
			settle()
		}
		for _, s := range []*fakeSink{anaSink, brunoSink} {
			var seqs []uint64
			for _, m := range take[protocol.Message](s) {
				if m.Room == key {
					seqs = append(seqs, m.Seq)
				}
			}
			if !slices.Equal(seqs, []uint64{1, 2, 3}) {
				t.Fatalf("seqs %v", seqs)
			}
		}

		// Carla is kept out: she cannot join it, and her own conversation
		// with Ana is another room.
		if p := carla.Handle(protocol.Join{Room: key}); p == nil || p.Code != protocol.CodeNoSuchRoom {
			t.Fatalf("Carla joining %s: %v", key, p)
		}
		if p := carla.Handle(protocol.DM{Member: ana.Member().ID}); p != nil {
			t.Fatal(p)
		}
		settle()
		if j := joinedTo(carlaSink); len(j) != 0 {
			t.Fatalf("Carla was joined to %s", key)
		}
		for _, m := range take[protocol.Message](carlaSink) {
			if m.Room == key {
				t.Fatalf("Carla got %+v", m)
			}
		}

		// Bruno's box loses him; he comes back on box C with the seq he
		// had and gets what he missed.
		bruno.Disconnect()
		settle()
		if _, p := ana.Post(protocol.Send{Room: key, ClientID: "m-3", Text: "3"}); p != nil {
			t.Fatal(p)
		}
		settle()
		back := &fakeSink{}
		if _, p := c.Connect(protocol.Hello{Version: 1, Name: "Bruno", Device: "dev-Bruno",
			Resume: &protocol.Resume{Rooms: map[string]uint64{key: 3}}}, back); p != nil {
			t.Fatalf("Bruno on box C: %v", p)
		}
		settle()
		j := joinedTo(back)
		if len(j) != 1 || len(j[0].History) != 1 || j[0].History[0].Seq != 4 || j[0].History[0].Text != "3" {
			t.Fatalf("Bruno's joined on box C: %+v", j)
		}
	})
}
