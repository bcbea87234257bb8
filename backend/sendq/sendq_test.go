package sendq

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Test items: a string is a frame whose size is its length. "r:…" items
// replace each other (Replace), "p<room>:…" items of a room merge
// (Merge) by concatenation.
var strs = Policy[string]{
	Size: func(s string) int { return len(s) },
	Key: func(s string) (string, Mode) {
		switch {
		case strings.HasPrefix(s, "r:"):
			return "rooms", Replace
		case strings.HasPrefix(s, "p") && strings.Contains(s, ":"):
			return s[:strings.Index(s, ":")], Merge
		}
		return "", Add
	},
	Merge: func(a, b string) string { return a + b[strings.Index(b, ":")+1:] },
}

func takeAll[T any](q *Queue[T]) []T {
	var out []T
	for {
		n := len(out)
		out = q.Take(out, 1<<30)
		if len(out) == n {
			return out
		}
	}
}

func TestQueueSupersedes(t *testing.T) {
	tests := []struct {
		name  string
		take  int // items taken (one Take each) after the first take pushes
		first []string
		then  []string
		want  []string
	}{
		{name: "plain items keep their order", first: []string{"a", "bb", "ccc"}, want: []string{"a", "bb", "ccc"}},
		{name: "a rooms list replaces the queued one in place",
			first: []string{"r:1", "m", "r:22", "n"}, want: []string{"r:22", "m", "n"}},
		{name: "presence of a room merges, going where the newer one would",
			first: []string{"pg:A", "m", "pg:B", "n"}, want: []string{"m", "pg:AB", "n"}},
		{name: "presence of other rooms does not merge",
			first: []string{"pg:A", "ph:B", "pg:C"}, want: []string{"ph:B", "pg:AC"}},
		{name: "three presence frames merge into one",
			first: []string{"pg:A", "x", "pg:B", "y", "pg:C"}, want: []string{"x", "y", "pg:ABC"}},
		{name: "a frame already taken is not superseded",
			first: []string{"r:1", "pg:A"}, take: 2, then: []string{"r:2", "pg:B"}, want: []string{"r:2", "pg:B"}},
		{name: "after a partial take, the rest is still found",
			first: []string{"m", "r:1", "pg:A"}, take: 1, then: []string{"r:2", "pg:B"}, want: []string{"r:2", "pg:AB"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := New(Config{}, strs)
			for _, s := range tt.first {
				if r := q.Push(s); r != Queued {
					t.Fatalf("push %q: %v", s, r)
				}
			}
			for range tt.take {
				q.Take(nil, 1)
			}
			for _, s := range tt.then {
				q.Push(s)
			}
			wantBytes := 0
			for _, s := range tt.want {
				wantBytes += len(s)
			}
			if st := q.Stats(); st.Items != len(tt.want) || st.Bytes != wantBytes {
				t.Errorf("stats %+v, want %d items, %d bytes", st, len(tt.want), wantBytes)
			}
			if got := takeAll(q); !slices.Equal(got, tt.want) {
				t.Errorf("queue %q, want %q", got, tt.want)
			}
			if st := q.Stats(); st.Items != 0 || st.Bytes != 0 {
				t.Errorf("drained queue: %+v", st)
			}
		})
	}
}

func TestTakeBatchesByBytes(t *testing.T) {
	tests := []struct {
		limit int
		items []string
		want  [][]string
	}{
		{limit: 10, items: []string{"aaaa", "bbbb", "cccc", "dddd"}, want: [][]string{{"aaaa", "bbbb", "cccc"}, {"dddd"}}},
		{limit: 8, items: []string{"aaaa", "bbbb", "cccc"}, want: [][]string{{"aaaa", "bbbb"}, {"cccc"}}},
		{limit: 1, items: []string{"a long item", "b"}, want: [][]string{{"a long item"}, {"b"}}},
		{limit: 100, items: []string{"pg:A", "x", "pg:B"}, want: [][]string{{"x", "pg:AB"}}}, // the hole is skipped
	}
	for _, tt := range tests {
		q := New(Config{}, strs)
		for _, s := range tt.items {
			q.Push(s)
		}
		var got [][]string
		for {
			b := q.Take(nil, tt.limit)
			if len(b) == 0 {
				break
			}
			got = append(got, b)
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("limit %d, items %q: batches %q, want %q", tt.limit, tt.items, got, tt.want)
		}
	}
}

func TestReady(t *testing.T) {
	q := New(Config{}, strs)
	select {
	case <-q.Ready():
		t.Fatal("an empty queue is ready")
	default:
	}
	q.Push("a")
	q.Push("b")
	<-q.Ready()
	if got := q.Take(nil, 1); !slices.Equal(got, []string{"a"}) {
		t.Fatalf("took %q", got)
	}
	select {
	case <-q.Ready(): // b is left: ready again
	default:
		t.Fatal("not ready with an item left")
	}
	q.Take(nil, 1)
	select {
	case <-q.Ready():
		t.Fatal("ready when drained")
	default:
	}
}

func TestHardCap(t *testing.T) {
	tests := []struct {
		name   string
		pushes []string
		want   []Result
	}{
		{"under the cap", []string{"aaaa", "bbbb"}, []Result{Queued, Queued}},
		{"over the cap at once", []string{"aaaa", "bbbb", "cc", "d"}, []Result{Queued, Queued, Overflow, Dropped}},
		{"an item alone may be larger", []string{strings.Repeat("x", 50), "y"}, []Result{Queued, Overflow}},
		{"a replacement that grows past the cap", []string{"r:1", "aaaaa", "r:" + strings.Repeat("x", 10)}, []Result{Queued, Queued, Overflow}},
		{"a merge counts for the merged size", []string{"x", "pg:AAAA", "pg:BB"}, []Result{Queued, Queued, Overflow}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Grace is long: only the cap matters here.
			q := New(Config{Soft: 4, Hard: 9, Grace: time.Hour}, strs)
			for i, s := range tt.pushes {
				if r := q.Push(s); r != tt.want[i] {
					t.Fatalf("push %d (%q): %v, want %v", i, s, r, tt.want[i])
				}
			}
			if tt.want[len(tt.want)-1] != Queued {
				if st := q.Stats(); st.Items != 0 || st.Bytes != 0 || st.Cap != 0 || !q.Overflowed() {
					t.Errorf("after overflow: %+v, overflowed %v", st, q.Overflowed())
				}
			}
		})
	}
}

func TestSoftBudgetAndGrace(t *testing.T) {
	type step struct {
		sleep time.Duration
		push  int // bytes pushed (one item)
		take  int // items taken
		want  Result
	}
	const soft, grace = 100, 5 * time.Second
	tests := []struct {
		name  string
		steps []step
	}{
		{"over the budget within the grace", []step{
			{push: 60}, {push: 60}, {sleep: grace - time.Millisecond, push: 1},
		}},
		{"over the budget for the grace", []step{
			{push: 60}, {push: 60}, {sleep: grace, push: 1, want: Overflow},
		}},
		{"the grace runs from when it first went over", []step{
			{push: 60}, {push: 60}, {sleep: 3 * time.Second, push: 1}, {sleep: 2 * time.Second, push: 1, want: Overflow},
		}},
		{"draining below the budget resets the grace", []step{
			{push: 60}, {push: 60}, {sleep: 4 * time.Second, take: 1}, {push: 60},
			{sleep: 4 * time.Second, push: 1}, {sleep: time.Second, push: 1, want: Overflow},
		}},
		{"taking while still over does not reset it", []step{
			{push: 60}, {push: 60}, {push: 60}, {sleep: 4 * time.Second, take: 1}, {sleep: time.Second, push: 1, want: Overflow},
		}},
		{"a single large item is not a backlog", []step{
			{push: 500}, {sleep: time.Minute, take: 1}, {push: 500},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				q := New(Config{Soft: soft, Hard: 1 << 20, Grace: grace}, strs)
				for i, st := range tt.steps {
					time.Sleep(st.sleep)
					for range st.take {
						q.Take(nil, 1)
					}
					if st.push > 0 {
						if r := q.Push(strings.Repeat("x", st.push)); r != st.want {
							t.Fatalf("step %d: %v, want %v (%+v)", i, r, st.want, q.Stats())
						}
					}
				}
			})
		})
	}
}

func TestIdleQueueHoldsNoStorage(t *testing.T) {
	q := New(Config{}, strs)
	if st := q.Stats(); st.Cap != 0 {
		t.Fatalf("a new queue holds %d slots", st.Cap)
	}
	for i := range 1000 {
		q.Push(fmt.Sprint(i))
	}
	if st := q.Stats(); st.Items != 1000 || st.Cap < 1000 {
		t.Fatalf("stats %+v", st)
	}
	takeAll(q)
	if st := q.Stats(); st.Cap != 0 {
		t.Errorf("a drained queue keeps %d slots after a burst", st.Cap)
	}
	q.Push("a")
	q.Push("b")
	takeAll(q)
	if st := q.Stats(); st.Cap > keepCap {
		t.Errorf("a drained queue keeps %d slots", st.Cap)
	}
	if st := q.Stats(); st.Peak != 2890 {
		t.Errorf("peak %d", st.Peak)
	}
}

// TestQueueMatchesModel pushes and takes at random and compares with a
// plain slice doing the same.
func TestQueueMatchesModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 200 {
		q := New(Config{}, strs)
		var model []string
		find := func(key string) int {
			return slices.IndexFunc(model, func(s string) bool { k, _ := strs.Key(s); return k == key })
		}
		for step := range 300 {
			if rng.IntN(3) == 0 {
				n := rng.IntN(4)
				got := q.Take(nil, n*3)
				k := 0
				for size := 0; k < len(model) && (k == 0 || size < n*3); k++ {
					size += len(model[k])
				}
				want := model[:k]
				if !slices.Equal(got, want) {
					t.Fatalf("round %d step %d: took %q, want %q", round, step, got, want)
				}
				model = slices.Clone(model[k:])
				continue
			}
			var s string
			switch rng.IntN(4) {
			case 0:
				s = fmt.Sprintf("r:%d", step)
			case 1:
				s = fmt.Sprintf("p%d:%c", rng.IntN(3), 'A'+rng.IntN(26))
			default:
				s = fmt.Sprintf("m%d", step)
			}
			q.Push(s)
			key, mode := strs.Key(s)
			switch i := find(key); {
			case mode == Replace && i >= 0:
				model[i] = s
			case mode == Merge && i >= 0:
				merged := strs.Merge(model[i], s)
				model = append(slices.Delete(model, i, i+1), merged)
			default:
				model = append(model, s)
			}
			bytes := 0
			for _, m := range model {
				bytes += len(m)
			}
			if st := q.Stats(); st.Items != len(model) || st.Bytes != bytes {
				t.Fatalf("round %d step %d: stats %+v, model %d items %d bytes", round, step, st, len(model), bytes)
			}
		}
		if got := takeAll(q); !slices.Equal(got, model) {
			t.Fatalf("round %d: queue %q, want %q", round, got, model)
		}
	}
}

func member(id string) protocol.Member { return protocol.Member{ID: id, Name: strings.ToUpper(id)} }

func ch(event, id string) protocol.PresenceChange {
	return protocol.PresenceChange{Event: event, Member: member(id)}
}

// set sorts a member list by id. Lists are compared as sets: a member who
// left and came back within one frame is just "joined" (the hub gathers a
// room's changes so too), which keeps a member already listed in its place.
func set(list []protocol.Member) []protocol.Member {
	slices.SortFunc(list, func(a, b protocol.Member) int { return strings.Compare(a.ID, b.ID) })
	return list
}

// apply is what a client does with a presence frame: add by id if missing,
// remove by id.
func apply(list []protocol.Member, p protocol.Presence) []protocol.Member {
	for _, c := range p.Changes {
		i := slices.IndexFunc(list, func(m protocol.Member) bool { return m.ID == c.Member.ID })
		switch {
		case c.Event == protocol.EventJoined && i < 0:
			list = append(list, c.Member)
		case c.Event != protocol.EventJoined && i >= 0:
			list = slices.Delete(list, i, i+1)
		}
	}
	return list
}

func TestMergePresence(t *testing.T) {
	const j, l, d = protocol.EventJoined, protocol.EventLeft, protocol.EventDisconnected
	tests := []struct {
		name string
		a, b []protocol.PresenceChange
		want []protocol.PresenceChange
	}{
		{"disjoint members are concatenated",
			[]protocol.PresenceChange{ch(j, "a"), ch(j, "b")}, []protocol.PresenceChange{ch(j, "c")},
			[]protocol.PresenceChange{ch(j, "a"), ch(j, "b"), ch(j, "c")}},
		{"the latest change of a member wins, in its place",
			[]protocol.PresenceChange{ch(j, "a"), ch(j, "b")}, []protocol.PresenceChange{ch(j, "c"), ch(l, "a")},
			[]protocol.PresenceChange{ch(j, "b"), ch(j, "c"), ch(l, "a")}},
		{"left then back: joined again at the end",
			[]protocol.PresenceChange{ch(l, "a"), ch(j, "b")}, []protocol.PresenceChange{ch(j, "a")},
			[]protocol.PresenceChange{ch(j, "b"), ch(j, "a")}},
		{"disconnected is kept as such",
			[]protocol.PresenceChange{ch(j, "a")}, []protocol.PresenceChange{ch(d, "a"), ch(j, "b")},
			[]protocol.PresenceChange{ch(d, "a"), ch(j, "b")}},
		{"empty older frame", nil, []protocol.PresenceChange{ch(j, "a")}, []protocol.PresenceChange{ch(j, "a")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := protocol.Presence{Room: "general", Changes: tt.a, TS: 1}
			b := protocol.Presence{Room: "general", Changes: tt.b, TS: 2}
			aChanges := slices.Clone(tt.a)
			m := MergePresence(a, b)
			if !slices.Equal(m.Changes, tt.want) || m.Room != "general" || m.TS != 2 {
				t.Errorf("merged %+v, want changes %+v", m, tt.want)
			}
			if !slices.Equal(a.Changes, aChanges) {
				t.Errorf("merging changed the older frame: %+v", a.Changes)
			}
			start := []protocol.Member{member("a"), member("z")}
			seq := set(apply(apply(slices.Clone(start), a), b))
			merged := set(apply(slices.Clone(start), m))
			if !slices.Equal(seq, merged) {
				t.Errorf("applied in order %v, merged %v", seq, merged)
			}
		})
	}
}

// TestMergePresenceAppliesLikeBoth: for random frames and lists, applying
// the merge gives the members that applying both gives.
func TestMergePresenceAppliesLikeBoth(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	events := []string{protocol.EventJoined, protocol.EventLeft, protocol.EventDisconnected}
	frame := func() protocol.Presence {
		var p protocol.Presence
		seen := map[string]bool{}
		for range rng.IntN(6) {
			id := fmt.Sprint(rng.IntN(6))
			if !seen[id] { // one change per member per frame, as the hub sends
				seen[id] = true
				p.Changes = append(p.Changes, ch(events[rng.IntN(3)], id))
			}
		}
		return p
	}
	for i := range 2000 {
		var start []protocol.Member
		for id := range 6 {
			if rng.IntN(2) == 0 {
				start = append(start, member(fmt.Sprint(id)))
			}
		}
		a, b := frame(), frame()
		seq := set(apply(apply(slices.Clone(start), a), b))
		merged := set(apply(slices.Clone(start), MergePresence(a, b)))
		if !slices.Equal(seq, merged) {
			t.Fatalf("case %d: start %v, a %v, b %v: in order %v, merged %v", i, start, a.Changes, b.Changes, seq, merged)
		}
	}
}

func TestFrames(t *testing.T) {
	rooms1 := chat.NewOut(protocol.Rooms{Rooms: []protocol.RoomInfo{{Name: "lobby", Members: 1}}})
	rooms2 := chat.NewOut(protocol.Rooms{Rooms: []protocol.RoomInfo{{Name: "lobby", Members: 2}}})
	msg := chat.NewOut(protocol.Message{Room: "general", Seq: 1, Text: "oi"})
	pg1 := chat.NewOut(protocol.Presence{Room: "general", Changes: []protocol.PresenceChange{ch(protocol.EventJoined, "a")}, Count: 1})
	pg2 := chat.NewOut(protocol.Presence{Room: "general", Changes: []protocol.PresenceChange{ch(protocol.EventJoined, "b")}, Count: 2, Partial: true})
	pl := chat.NewOut(protocol.Presence{Room: "lobby", Changes: []protocol.PresenceChange{ch(protocol.EventJoined, "b")}})

	q := New(Config{}, Frames)
	for _, o := range []*chat.Out{rooms1, pg1, msg, pl, rooms2, pg2} {
		q.Push(o)
	}
	got := takeAll(q)
	if len(got) != 4 || got[0] != rooms2 || got[1] != msg || got[2] != pl {
		t.Fatalf("queue %v", got)
	}
	p, ok := got[3].Frame.(protocol.Presence)
	if !ok || p.Room != "general" || len(p.Changes) != 2 || p.Changes[0].Member.ID != "a" || p.Changes[1].Member.ID != "b" {
		t.Fatalf("merged %+v", got[3].Frame)
	}
	want := `{"type":"presence","room":"general","changes":[{"event":"joined","member":{"id":"a","name":"A"}},{"event":"joined","member":{"id":"b","name":"B"}}],"ts":0,"count":2,"partial":true}`
	if string(got[3].Bytes()) != want {
		t.Errorf("merged frame %s", got[3].Bytes())
	}
	// Bytes are the encoded frames'.
	q.Push(msg)
	q.Push(rooms1)
	if st := q.Stats(); st.Bytes != len(msg.Bytes())+len(rooms1.Bytes()) {
		t.Errorf("bytes %d, want %d", st.Bytes, len(msg.Bytes())+len(rooms1.Bytes()))
	}
}
