package chat

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

func say(t *testing.T, c *Conn, room, id, text string) uint64 {
	t.Helper()
	ack, p := c.Post(protocol.Send{Room: room, ClientID: id, Text: text})
	if p != nil {
		t.Fatalf("send %q to %s: %v", text, room, p)
	}
	return ack.Seq
}

func join(t *testing.T, c *Conn, room string) {
	t.Helper()
	if p := c.Handle(protocol.Join{Room: room}); p != nil {
		t.Fatalf("join %s: %v", room, p)
	}
}

// searchFor runs a search and returns "room/seq" of each result, newest first.
func searchFor(t *testing.T, c *Conn, s *fakeSink, q string) []string {
	t.Helper()
	take[protocol.SearchResults](s)
	if p := c.Handle(protocol.Search{Query: q}); p != nil {
		t.Fatalf("search %q: %v", q, p)
	}
	res := take[protocol.SearchResults](s)
	if len(res) != 1 || res[0].Query != q {
		t.Fatalf("search %q answered %+v", q, res)
	}
	out := []string{}
	for _, r := range res[0].Results {
		out = append(out, fmt.Sprintf("%s/%d", r.Room, r.Seq))
	}
	return out
}

// Each member finds what it may read: every room of the host, joined or
// not, and its own private conversations; never another pair's, never a
// deleted message, never a closed room's.
func TestSearchVisibility(t *testing.T) {
	h, _ := newTestHub(t, Config{HostToken: "secret"})
	host, _ := connectHost(t, h)
	ana, _ := connect(t, h, "Ana")
	bruno, bs := connect(t, h, "Bruno")
	carla, cs := connect(t, h, "Carla")
	join(t, ana, "general")
	join(t, ana, "projects")
	join(t, host, "general")
	say(t, ana, "general", "g1", "a prova é sexta")
	say(t, ana, "projects", "p1", "prova do projeto")
	if p := ana.Handle(protocol.DM{Member: bruno.Member().ID}); p != nil {
		t.Fatal(p)
	}
	dm := dmKey(ana.member.identity, bruno.member.identity)
	say(t, ana, dm, "d1", "a prova vazou, não conta")
	gone := say(t, ana, "general", "g2", "prova apagada")
	if p := ana.Handle(protocol.Control{Action: protocol.ActionDelete, Room: "general", Seq: gone}); p != nil {
		t.Fatal(p)
	}

	if got, want := searchFor(t, bruno, bs, "prova"), []string{dm + "/1", "projects/1", "general/1"}; !slices.Equal(got, want) {
		t.Errorf("Bruno (in the conversation) found %v, want %v", got, want)
	}
	if got, want := searchFor(t, carla, cs, "prova"), []string{"projects/1", "general/1"}; !slices.Equal(got, want) {
		t.Errorf("Carla (not in it, in no room but the lobby) found %v, want %v", got, want)
	}
	if got := searchFor(t, carla, cs, "vazou"); len(got) != 0 {
		t.Errorf("Carla found the private message by its own word: %v", got)
	}
	if got := searchFor(t, carla, cs, "apagada"); len(got) != 0 {
		t.Errorf("a deleted message was found: %v", got)
	}
	if p := host.Handle(protocol.Control{Action: protocol.ActionCloseRoom, Room: "projects"}); p != nil {
		t.Fatal(p)
	}
	if got, want := searchFor(t, carla, cs, "prova"), []string{"general/1"}; !slices.Equal(got, want) {
		t.Errorf("after projects closed Carla found %v, want %v", got, want)
	}
	// The private conversation stays Ana's and Bruno's after Bruno leaves
	// and another member comes: only its two identities find it.
	bruno.Disconnect()
	dora, ds := connect(t, h, "Dora")
	if got := searchFor(t, dora, ds, "vazou"); len(got) != 0 {
		t.Errorf("Dora found %v", got)
	}
	bruno2, bs2 := connect(t, h, "Bruno")
	if got, want := searchFor(t, bruno2, bs2, "vazou"), []string{dm + "/1"}; !slices.Equal(got, want) {
		t.Errorf("Bruno back on his device found %v, want %v", got, want)
	}
}

func TestSearchResultsCarryMessageAndSnippet(t *testing.T) {
	h, _ := newTestHub(t, Config{})
	ana, as := connect(t, h, "Ana")
	join(t, ana, "general")
	say(t, ana, "general", "g1", "Avaliação: a <b>Prova</b> de sexta")
	take[protocol.SearchResults](as)
	if p := ana.Handle(protocol.Search{Query: "avaliacao prova"}); p != nil {
		t.Fatal(p)
	}
	res := take[protocol.SearchResults](as)
	if len(res) != 1 || len(res[0].Results) != 1 || res[0].More {
		t.Fatalf("results %+v", res)
	}
	r := res[0].Results[0]
	if r.Room != "general" || r.Seq != 1 || r.From.Name != "Ana" || r.ID == "" || r.TS == 0 {
		t.Errorf("result %+v", r)
	}
	want := []protocol.SnippetPart{{Text: "Avaliação", Match: true}, {Text: ": a <b>"}, {Text: "Prova", Match: true}, {Text: "</b> de sexta"}}
	if !slices.Equal(r.Snippet, want) {
		t.Errorf("snippet %+v, want %+v", r.Snippet, want)
	}
}

func TestSearchLimit(t *testing.T) {
	h, _ := newTestHub(t, Config{RatePerSecond: 1000, RateBurst: 1000})
	ana, as := connect(t, h, "Ana")
	join(t, ana, "general")
	for i := range protocol.SearchResultsMax + 5 {
		say(t, ana, "general", fmt.Sprint("c", i), fmt.Sprint("aula ", i))
	}
	take[protocol.SearchResults](as)
	if p := ana.Handle(protocol.Search{Query: "aula"}); p != nil {
		t.Fatal(p)
	}
	res := take[protocol.SearchResults](as)[0]
	if len(res.Results) != protocol.SearchResultsMax || !res.More || res.Results[0].Seq != protocol.SearchResultsMax+5 {
		t.Errorf("%d results, more %v, first %d", len(res.Results), res.More, res.Results[0].Seq)
	}
}

func TestSearchRefusals(t *testing.T) {
	h, clk := newTestHub(t, Config{})
	ana, as := connect(t, h, "Ana")
	for _, q := range []string{"", "  ", strings.Repeat("x", protocol.SearchMaxRunes+1)} {
		if p := ana.Handle(protocol.Search{Query: q}); p == nil || p.Code != protocol.CodeBadQuery {
			t.Errorf("search %q: %v", q, p)
		}
	}
	// A query of punctuation is valid and finds nothing.
	if got := searchFor(t, ana, as, `"(`); len(got) != 0 {
		t.Errorf(`"( found %v`, got)
	}
	// Bad queries cost nothing; that one took a token: 4 more, then wait.
	for i := range searchBurst - 1 {
		if p := ana.Handle(protocol.Search{Query: "x"}); p != nil {
			t.Fatalf("search %d: %v", i, p)
		}
	}
	if p := ana.Handle(protocol.Search{Query: "x"}); p == nil || p.Code != protocol.CodeRateLimited {
		t.Fatalf("search over the burst: %v", p)
	}
	clk.advance(searchEvery)
	if p := ana.Handle(protocol.Search{Query: "x"}); p != nil {
		t.Fatalf("search after a second: %v", p)
	}
	if p := ana.Handle(protocol.Search{Query: "x"}); p == nil || p.Code != protocol.CodeRateLimited {
		t.Fatalf("second search in that second: %v", p)
	}
}

func TestSearchOff(t *testing.T) {
	h, _ := newTestHub(t, Config{Store: plainStore{NewMemoryStore(10)}})
	if h.Limits().Search {
		t.Error("limits.search is true for a store that cannot search")
	}
	ana, _ := connect(t, h, "Ana")
	if p := ana.Handle(protocol.Search{Query: "prova"}); p == nil || p.Code != protocol.CodeSearchOff {
		t.Errorf("search: %v", p)
	}
	h2, _ := newTestHub(t, Config{})
	if !h2.Limits().Search {
		t.Error("limits.search is false for the memory store")
	}
}

// blockingSearch blocks every search until released.
type blockingSearch struct {
	*MemoryStore
	searching chan struct{}
	release   chan struct{}
}

func (s *blockingSearch) Search(terms, rooms []string, limit int) ([]Found, error) {
	s.searching <- struct{}{}
	<-s.release
	return s.MemoryStore.Search(terms, rooms, limit)
}

// A search reads the store with no hub or room lock held: sends, joins
// and hellos go on meanwhile.
func TestSearchHoldsNoLock(t *testing.T) {
	store := &blockingSearch{MemoryStore: NewMemoryStore(100), searching: make(chan struct{}), release: make(chan struct{})}
	h, _ := newTestHub(t, Config{Store: store})
	ana, as := connect(t, h, "Ana")
	bruno, _ := connect(t, h, "Bruno")
	join(t, bruno, "general")
	done := make(chan *protocol.Problem)
	go func() { done <- ana.Handle(protocol.Search{Query: "prova"}) }()
	<-store.searching
	say(t, bruno, "general", "b1", "prova")
	join(t, bruno, "projects")
	connect(t, h, "Carla")
	close(store.release)
	if p := <-done; p != nil {
		t.Fatal(p)
	}
	if res := take[protocol.SearchResults](as); len(res) != 1 {
		t.Fatalf("answers %+v", res)
	}
}

func TestHistoryQuery(t *testing.T) {
	h, _ := newTestHub(t, Config{RatePerSecond: 1000, RateBurst: 1000})
	ana, as := connect(t, h, "Ana")
	join(t, ana, "general")
	for i := 1; i <= 30; i++ {
		say(t, ana, "general", fmt.Sprint("c", i), fmt.Sprint("m", i))
	}
	ask := func(before uint64, limit int) protocol.History {
		t.Helper()
		take[protocol.History](as)
		if p := ana.Handle(protocol.HistoryQuery{Room: "GENERAL", Before: before, Limit: limit}); p != nil {
			t.Fatalf("history before %d: %v", before, p)
		}
		got := take[protocol.History](as)
		if len(got) != 1 {
			t.Fatalf("answers %+v", got)
		}
		return got[0]
	}
	seqsOf := func(hh protocol.History) []uint64 {
		var out []uint64
		for _, m := range hh.Messages {
			out = append(out, m.Seq)
			if m.Room != "general" {
				t.Errorf("message %d of room %q", m.Seq, m.Room)
			}
		}
		return out
	}
	if hh := ask(20, 5); !slices.Equal(seqsOf(hh), []uint64{15, 16, 17, 18, 19}) || hh.FirstKept != 1 || hh.Before != 20 || hh.Room != "general" {
		t.Errorf("before 20, 5: %v %+v", seqsOf(hh), hh)
	}
	if hh := ask(4, 0); !slices.Equal(seqsOf(hh), []uint64{1, 2, 3}) {
		t.Errorf("before 4: %v", seqsOf(hh))
	}
	if hh := ask(1, 10); len(hh.Messages) != 0 {
		t.Errorf("before 1: %v", seqsOf(hh))
	}
	if hh := ask(1000, protocol.HistoryMax+100); !slices.Equal(seqsOf(hh), span(1, 30)) {
		t.Errorf("before 1000: %v", seqsOf(hh))
	}
	if p := ana.Handle(protocol.HistoryQuery{Room: "projects", Before: 5}); p == nil || p.Code != protocol.CodeNotInRoom {
		t.Errorf("a room not joined: %v", p)
	}
	if p := ana.Handle(protocol.HistoryQuery{Room: "nowhere", Before: 5}); p == nil || p.Code != protocol.CodeNoSuchRoom {
		t.Errorf("no such room: %v", p)
	}
	if p := ana.Handle(protocol.HistoryQuery{Room: "general"}); p == nil || p.Code != protocol.CodeBadQuery {
		t.Errorf("without before: %v", p)
	}
}

func span(from, to uint64) []uint64 {
	var out []uint64
	for s := from; s <= to; s++ {
		out = append(out, s)
	}
	return out
}

func TestSnippet(t *testing.T) {
	long := strings.Repeat("palavra ", 40) + "a Prova\tfinal\n\n" + strings.Repeat("depois ", 40)
	parts := Snippet(long, []string{"prova"})
	var text strings.Builder
	var marked []string
	for _, p := range parts {
		text.WriteString(p.Text)
		if p.Match {
			marked = append(marked, p.Text)
		}
	}
	got := text.String()
	if !slices.Equal(marked, []string{"Prova"}) || !strings.HasPrefix(got, "… palavra") || !strings.HasSuffix(got, "depois …") ||
		!strings.Contains(got, "a Prova final depois") || len(got) > snippetBytes+20 {
		t.Errorf("snippet %q, marked %q", got, marked)
	}
	// A cut never splits a word or a character.
	for _, p := range parts {
		if !utf8ValidAndWhole(p.Text) {
			t.Errorf("part %q", p.Text)
		}
	}
	// One long word: cut inside it rather than show nothing.
	word := strings.Repeat("é", 300)
	if got := Snippet(word, []string{"e"}); len(got) != 2 || !got[0].Match || !strings.HasPrefix(word, got[0].Text) || len(got[0].Text) < snippetBytes/2 || got[1].Text != " …" {
		t.Errorf("one long word: %+v", got)
	}
	if got := Snippet("sem nada", []string{"prova"}); !slices.Equal(got, []protocol.SnippetPart{{Text: "sem nada"}}) {
		t.Errorf("no match: %+v", got)
	}
	if got := Snippet("provas e PROVÃO", []string{"prova"}); !slices.Equal(got, []protocol.SnippetPart{{Text: "provas", Match: true}, {Text: " e "}, {Text: "PROVÃO", Match: true}}) {
		t.Errorf("two matches: %+v", got)
	}
}

func utf8ValidAndWhole(s string) bool {
	return strings.ToValidUTF8(s, "\uFFFD") == s && !strings.ContainsRune(s, '\uFFFD')
}

var _ = time.Second

// FuzzSnippet: for any text and query a snippet is valid UTF-8 in non-empty
// parts, no two plain parts in a row, about as long as the window, and its
// marked parts are words (or the start of one) the query matches.
func FuzzSnippet(f *testing.F) {
	f.Add("A Prova de sexta vale como avaliação", "avaliacao prova")
	f.Add(strings.Repeat("é", 300), "e")
	f.Add("a\u0301b  c\n\nd", "ab d")
	f.Fuzz(func(t *testing.T, text, query string) {
		terms := protocol.SearchTerms(query)
		parts := Snippet(text, terms)
		n := 0
		for i, p := range parts {
			if p.Text == "" || !utf8ValidAndWhole(p.Text) && utf8ValidAndWhole(text) {
				t.Fatalf("part %d %q of %q", i, p.Text, text)
			}
			if i > 0 && !p.Match && !parts[i-1].Match {
				t.Fatalf("two plain parts in a row: %+v", parts)
			}
			if folded := protocol.Fold(p.Text); p.Match && !slices.ContainsFunc(terms, func(term string) bool {
				return strings.HasPrefix(folded, term) || strings.HasPrefix(term, folded) // a word, or the part of one the window shows
			}) {
				t.Fatalf("marked %q does not match %q", p.Text, terms)
			}
			n += len(p.Text)
		}
		if len(text) > snippetBytes && n > snippetBytes+len("… ")+len(" …") {
			t.Fatalf("snippet of %d bytes: %+v", n, parts)
		}
	})
}

// An edit's words find the message it edits, the words it took out no
// longer do; the result is the message (its id, its time) with its text
// as edited. A reaction is never a result.
func TestSearchFindsEditsAtTheirMessage(t *testing.T) {
	h, _ := newTestHub(t, Config{})
	ana, as := connect(t, h, "Ana")
	bruno, bs := connect(t, h, "Bruno")
	join(t, ana, "general")
	join(t, bruno, "general")
	ack, p := ana.Post(protocol.Send{Room: "general", ClientID: "g1", Text: "a prova é na sexta"})
	if p != nil {
		t.Fatal(p)
	}
	seq := ack.Seq
	if p := ana.Handle(protocol.Edit{Room: "general", ClientID: "e1", Target: seq, Text: "a prova é na segunda"}); p != nil {
		t.Fatal(p)
	}
	if p := bruno.Handle(protocol.React{Room: "general", ClientID: "r1", Target: seq, Emoji: "👍"}); p != nil {
		t.Fatal(p)
	}
	take[protocol.SearchResults](as)
	if got, want := searchFor(t, bruno, bs, "segunda"), []string{"general/1"}; !slices.Equal(got, want) {
		t.Errorf("the edited word found %v, want %v", got, want)
	}
	if got, want := searchFor(t, bruno, bs, "prova"), []string{"general/1"}; !slices.Equal(got, want) {
		t.Errorf("found %v, want %v: the message and its edit are one result", got, want)
	}
	if got := searchFor(t, bruno, bs, "sexta"); len(got) != 0 {
		t.Errorf("the word the edit took out found %v", got)
	}
	if p := bruno.Handle(protocol.Search{Query: "segunda"}); p != nil {
		t.Fatal(p)
	}
	res := take[protocol.SearchResults](bs)
	if len(res) != 1 || len(res[0].Results) != 1 {
		t.Fatalf("segunda answered %+v", res)
	}
	hit := res[0].Results[0]
	var text strings.Builder
	for _, part := range hit.Snippet {
		text.WriteString(part.Text)
	}
	if hit.ID != ack.ID || hit.TS != ack.TS || text.String() != "a prova é na segunda" {
		t.Errorf("hit %+v (snippet %q), want the message %s of %d as edited", hit, text.String(), ack.ID, ack.TS)
	}
}
