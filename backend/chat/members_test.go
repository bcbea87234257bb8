package chat

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"lanchat/backend/protocol"
)

func ids(ms []protocol.Member) []string {
	out := make([]string, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.ID)
	}
	slices.Sort(out)
	return out
}

// A room past FullList tells its count and its hosts, not every guest, and
// turns small again (with the complete list) at half of FullList.
func TestLargeRoomSendsCountsAndListsOnRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h, _ := newTestHub(t, Config{HostToken: "secret", FullList: 10})
		defer h.Close()
		host, hostSink := connectHost(t, h)
		type guest struct {
			c *Conn
			s *fakeSink
		}
		var guests []guest
		for i := range 14 {
			c, s := connect(t, h, fmt.Sprintf("Guest %02d", i))
			guests = append(guests, guest{c, s})
		}
		time.Sleep(2 * LargeWindow)
		synctest.Wait()

		// Joins 1..10 (the host is the first) got the whole list; later ones
		// the hosts and themselves, with the count.
		for i, g := range guests {
			j := take[protocol.Joined](g.s)[0]
			n := i + 2
			if j.Count != n {
				t.Fatalf("guest %d: joined count %d, want %d", i, j.Count, n)
			}
			switch {
			case n <= 10 && (j.Partial || len(j.Members) != n):
				t.Fatalf("guest %d of a small room: partial %v, %d members", i, j.Partial, len(j.Members))
			case n > 10 && (!j.Partial || !slices.Equal(ids(j.Members), ids([]protocol.Member{host.member.public(), g.c.member.public()}))):
				t.Fatalf("guest %d of a large room: partial %v, members %v", i, j.Partial, j.Members)
			}
		}
		// Once large, presence carries no guest and ends at the count.
		ps := take[protocol.Presence](hostSink)
		if len(ps) == 0 {
			t.Fatal("no presence")
		}
		last := ps[len(ps)-1]
		if !last.Partial || last.Count != 15 {
			t.Fatalf("last presence: partial %v count %d, want true 15", last.Partial, last.Count)
		}
		for _, p := range ps {
			if p.Partial && len(p.Changes) > 0 {
				t.Fatalf("a large room's presence told guests: %v", p.Changes)
			}
		}

		// A search, with hosts first and then by name, capped by limit.
		g0 := guests[0]
		if p := g0.c.Handle(protocol.MembersQuery{Room: "lobby", Query: "guest 1", Limit: 3}); p != nil {
			t.Fatal(p)
		}
		ans := take[protocol.MembersList](g0.s)
		if len(ans) != 1 || !ans[0].Partial || ans[0].Count != 15 || ans[0].Query != "guest 1" {
			t.Fatalf("answer %+v", ans)
		}
		var names []string
		for _, m := range ans[0].Members {
			names = append(names, m.Name)
		}
		if !slices.Equal(names, []string{"Guest 10", "Guest 11", "Guest 12"}) {
			t.Fatalf("search %q found %v", "guest 1", names)
		}
		if p := g0.c.Handle(protocol.MembersQuery{Room: "lobby", Query: "ＧＵＥＳＴ 13"}); p != nil {
			t.Fatal(p)
		}
		if a := take[protocol.MembersList](g0.s); len(a[0].Members) != 1 || a[0].Members[0].Name != "Guest 13" {
			t.Fatalf("a fullwidth, upper-case query found %v", a[0].Members)
		}
		if p := g0.c.Handle(protocol.MembersQuery{Room: "lobby", Limit: 2}); p != nil {
			t.Fatal(p)
		}
		if a := take[protocol.MembersList](g0.s); len(a[0].Members) != 2 || a[0].Members[0].Role != protocol.RoleHost {
			t.Fatalf("an empty query lists the host first: %v", a[0].Members)
		}
		if p := g0.c.Handle(protocol.MembersQuery{Room: "general"}); p == nil || p.Code != protocol.CodeNotInRoom || p.Ref != "general" {
			t.Fatalf("a query outside one's rooms: %v", p)
		}

		// Down to 5 (half of FullList): everyone gets the complete list.
		for _, g := range guests[4:] {
			g.c.Disconnect()
		}
		time.Sleep(2 * LargeWindow)
		synctest.Wait()
		want := []protocol.Member{host.member.public()}
		for _, g := range guests[:4] {
			want = append(want, g.c.member.public())
		}
		for _, s := range append([]*fakeSink{hostSink}, guests[0].s, guests[3].s) {
			lists := take[protocol.MembersList](s)
			if len(lists) != 1 || lists[0].Partial || lists[0].Count != 5 || !slices.Equal(ids(lists[0].Members), ids(want)) {
				t.Fatalf("complete list %+v, want the 5 left", lists)
			}
			take[protocol.Presence](s)
		}
		// Small again: a guest's change is told.
		_, _ = connect(t, h, "Late")
		time.Sleep(2 * LargeWindow)
		synctest.Wait()
		ps = take[protocol.Presence](hostSink)
		if len(ps) != 1 || ps[0].Partial || ps[0].Count != 6 || len(ps[0].Changes) != 1 || ps[0].Changes[0].Member.Name != "Late" {
			t.Fatalf("presence after turning small: %+v", ps)
		}
	})
}

// A burst of joins into a large room costs each member O(1) bytes of
// presence per window, not a frame naming every joiner.
func TestLargeRoomBurstBytes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const n = 3000
		h, _ := newTestHub(t, Config{FullList: 100})
		defer h.Close()
		first, s := connect(t, h, "First")
		_ = first
		for i := range n {
			connect(t, h, fmt.Sprintf("Member %04d", i))
			if i%100 == 0 {
				time.Sleep(10 * time.Millisecond) // the burst takes a few windows
			}
		}
		time.Sleep(2 * LargeWindow)
		synctest.Wait()
		bytes := 0
		s.mu.Lock()
		for _, f := range s.frames {
			bytes += len(protocol.MustEncode(f))
		}
		s.mu.Unlock()
		// While small, the room names its first 100; then counts.
		if bytes > 64<<10 {
			t.Fatalf("the first member received %d bytes for a burst of %d joins", bytes, n)
		}
	})
}
