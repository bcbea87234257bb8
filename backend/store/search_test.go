package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// searchStores are the stores that search, each with a way to drop the
// oldest messages of a room the way it does (retention; the memory
// store's ring).
type searchStore interface {
	chat.Store
	chat.Searcher
}

func searchStores() map[string]func(t *testing.T, keep int) (searchStore, func()) {
	return map[string]func(t *testing.T, keep int) (searchStore, func()){
		"sqlite": func(t *testing.T, keep int) (searchStore, func()) {
			s, _ := openTemp(t, Options{KeepPerRoom: keep, noJanitor: true, Logger: quiet})
			return s, func() {
				if _, err := s.Prune(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
		},
		"memory": func(t *testing.T, keep int) (searchStore, func()) {
			if keep == 0 {
				keep = 10000
			}
			return chat.NewMemoryStore(keep), func() {}
		},
	}
}

// clockTick orders the messages of a test in time, as they are appended.
var clockTick atomic.Int64

func say(t *testing.T, s chat.Store, room string, seq int, text string) {
	t.Helper()
	m := protocol.Message{Type: protocol.TypeMessage, ID: fmt.Sprintf("%s-%d", room, seq),
		From: protocol.Member{ID: "m-1", Name: "Ana"}, Text: text,
		TS: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(clockTick.Add(1)) * time.Second).UnixMilli(), ClientID: fmt.Sprintf("c-%s-%d", room, seq)}
	if got, _, err := s.Append(room, m); err != nil || got.Seq != uint64(seq) {
		t.Fatalf("append %s/%d: %d %v", room, seq, got.Seq, err)
	}
}

// found lists "room/seq" of what a search for q finds in rooms.
func found(t *testing.T, s chat.Searcher, q string, rooms []string, limit int) []string {
	t.Helper()
	terms, p := protocol.CheckSearch(q)
	if p != nil {
		t.Fatalf("query %q refused: %v", q, p)
	}
	res, err := s.Search(terms, rooms, limit)
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	out := []string{}
	for _, f := range res {
		out = append(out, fmt.Sprintf("%s/%d", f.Room, f.Message.Seq))
	}
	return out
}

func TestSearch(t *testing.T) {
	for kind, open := range searchStores() {
		t.Run(kind, func(t *testing.T) {
			s, _ := open(t, 0)
			say(t, s, "general", 1, "A Prova de sexta é às 10h")
			say(t, s, "general", 2, "a avaliação final vale 40%")
			say(t, s, "general", 3, "alguém tem os slides?")
			say(t, s, "projects", 1, "PROVÃO amanhã, avaliacao dupla")
			say(t, s, "@aaa-bbb", 1, "segredo: a prova vazou")
			all := []string{"general", "projects"}
			cases := []struct {
				q    string
				want []string
			}{
				{"prova", []string{"projects/1", "general/1"}}, // "provão" starts with "prova"
				{"Prova", []string{"projects/1", "general/1"}},
				{"PRÓVA", []string{"projects/1", "general/1"}},
				{"avaliacao", []string{"projects/1", "general/2"}},
				{"avaliação", []string{"projects/1", "general/2"}},
				{"AVAL", []string{"projects/1", "general/2"}},
				{"prova sexta", []string{"general/1"}}, // every word
				{"sexta prova", []string{"general/1"}}, // in any order
				{"prova slides", []string{}},           // no message has both
				{"vale 40", []string{"general/2"}},     // digits are words
				{"segredo", []string{}},                // a room not asked for
				{"ova", []string{}},                    // words match from their start
				{"slides?", []string{"general/3"}},     // punctuation separates words
				{"10h", []string{"general/1"}},
			}
			for _, c := range cases {
				if got := found(t, s, c.q, all, 50); !slices.Equal(got, c.want) {
					t.Errorf("%q found %v, want %v", c.q, got, c.want)
				}
			}
			if got := found(t, s, "prova", []string{"@aaa-bbb"}, 50); !slices.Equal(got, []string{"@aaa-bbb/1"}) {
				t.Errorf("the private room's own search found %v", got)
			}
		})
	}
}

// TestSearchSyntax: what would be FTS5 syntax in a query is only text.
func TestSearchSyntax(t *testing.T) {
	for kind, open := range searchStores() {
		t.Run(kind, func(t *testing.T) {
			s, _ := open(t, 0)
			say(t, s, "general", 1, "near the end, or not")
			say(t, s, "general", 2, "and so on")
			rooms := []string{"general"}
			for q, want := range map[string][]string{
				`"`:                          {},
				`""`:                         {},
				`NEAR(`:                      {"general/1"},
				`NEAR(a b, 2)`:               {},
				`or`:                         {"general/1"},
				`a OR b`:                     {},
				`*`:                          {},
				`near*`:                      {"general/1"},
				`-near`:                      {"general/1"},
				`text:near`:                  {},
				`^and`:                       {"general/2"},
				`"and" "so`:                  {"general/2"},
				`(`:                          {},
				`AND`:                        {"general/2"},
				`NOT and`:                    {},
				`'; DROP TABLE messages; --`: {},
			} {
				if got := found(t, s, q, rooms, 50); !slices.Equal(got, want) {
					t.Errorf("%q found %v, want %v", q, got, want)
				}
			}
			if got := found(t, s, "and", rooms, 50); len(got) != 1 {
				t.Errorf("the messages are gone after the queries: %v", got)
			}
		})
	}
}

func TestSearchDeletedNotFound(t *testing.T) {
	for kind, open := range searchStores() {
		t.Run(kind, func(t *testing.T) {
			s, _ := open(t, 0)
			say(t, s, "general", 1, "prova na sexta")
			say(t, s, "general", 2, "prova adiada")
			if err := s.MarkDeleted("general", 1); err != nil {
				t.Fatal(err)
			}
			if got := found(t, s, "prova", []string{"general"}, 50); !slices.Equal(got, []string{"general/2"}) {
				t.Errorf("after deleting 1: %v", got)
			}
			if got := found(t, s, "sexta", []string{"general"}, 50); len(got) != 0 {
				t.Errorf("a deleted message's words still found it: %v", got)
			}
		})
	}
}

func TestSearchPrunedNotFound(t *testing.T) {
	for kind, open := range searchStores() {
		t.Run(kind, func(t *testing.T) {
			s, prune := open(t, 3)
			for i := 1; i <= 6; i++ {
				say(t, s, "general", i, fmt.Sprintf("prova número %d", i))
			}
			prune()
			if got := found(t, s, "prova", []string{"general"}, 50); !slices.Equal(got, []string{"general/6", "general/5", "general/4"}) {
				t.Errorf("after keeping 3: %v", got)
			}
		})
	}
}

func TestSearchLimitNewestFirst(t *testing.T) {
	for kind, open := range searchStores() {
		t.Run(kind, func(t *testing.T) {
			s, _ := open(t, 0)
			for i := 1; i <= 30; i++ {
				say(t, s, "general", i, fmt.Sprintf("aula %d", i))
				say(t, s, "random", i, fmt.Sprintf("aula extra %d", i))
			}
			got := found(t, s, "aula", []string{"general", "random"}, 5)
			want := []string{"random/30", "general/30", "random/29", "general/29", "random/28"}
			if !slices.Equal(got, want) {
				t.Errorf("limit 5: %v, want %v", got, want)
			}
			if got := found(t, s, "aula", []string{"general"}, 100); len(got) != 30 || got[0] != "general/30" || got[29] != "general/1" {
				t.Errorf("all of general: %v", got)
			}
		})
	}
}

// edit appends an edit by author of message target of room (as the hub
// stores one: a message of its own, seq after the target's).
func edit(t *testing.T, s chat.Store, room string, target uint64, author, text string) {
	t.Helper()
	e := protocol.Message{Type: protocol.TypeEdited, ID: fmt.Sprintf("e-%d", clockTick.Add(1)), Target: target,
		From: protocol.Member{ID: author, Name: author}, Text: text,
		TS: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC).Add(time.Duration(clockTick.Add(1)) * time.Second).UnixMilli()}
	if _, _, err := s.Append(room, e); err != nil {
		t.Fatalf("edit %s/%d: %v", room, target, err)
	}
}

// TestSearchFindsCurrentText: an edited message is found by the words it
// has now (its newest edit's, by its author, as chat.Fold shows it), at its
// own seq and once; the words an edit took out no longer find it, and a
// deleted message is found by none of them.
func TestSearchFindsCurrentText(t *testing.T) {
	cases := []struct {
		name   string
		edits  []string // texts of the author's edits of general/1 ("a prova é na sexta"), in order
		other  string   // an edit of general/1 by another member, after them (Fold ignores it)
		delete bool     // general/1 is deleted after its edits
		text   string   // general/1's text as the search returns it, when found
		want   map[string][]string
	}{
		{name: "not edited", text: "a prova é na sexta", want: map[string][]string{
			"sexta": {"general/1"}, "prova": {"general/1"}, "segunda": {}}},
		{name: "one edit", edits: []string{"a prova é na segunda"}, text: "a prova é na segunda", want: map[string][]string{
			"sexta": {}, "segunda": {"general/1"}, "prova": {"general/1"}, "prova segunda": {"general/1"}, "prova sexta": {}}},
		{name: "two edits", edits: []string{"a prova é na segunda", "a prova é na terça"}, text: "a prova é na terça", want: map[string][]string{
			"sexta": {}, "segunda": {}, "terca": {"general/1"}, "prova": {"general/1"}}},
		{name: "an edit emptied by the next", edits: []string{"adiada", ""}, want: map[string][]string{
			"sexta": {}, "adiada": {}, "prova": {}}},
		{name: "another member's edit", edits: []string{"a prova é na segunda"}, other: "a prova foi cancelada", text: "a prova é na segunda", want: map[string][]string{
			"cancelada": {}, "segunda": {"general/1"}, "sexta": {}}},
		{name: "edit then delete", edits: []string{"a prova é na segunda"}, delete: true, want: map[string][]string{
			"sexta": {}, "segunda": {}, "prova": {}}},
		{name: "two edits then delete", edits: []string{"a prova é na segunda", "a prova é na terça"}, delete: true, want: map[string][]string{
			"sexta": {}, "segunda": {}, "terca": {}, "prova": {}}},
	}
	for kind, open := range searchStores() {
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				s, _ := open(t, 0)
				say(t, s, "general", 1, "a prova é na sexta")
				say(t, s, "general", 2, "quem vem amanhã?")
				seq := uint64(2)
				for _, text := range c.edits {
					edit(t, s, "general", 1, "m-1", text)
					seq++
				}
				if c.other != "" {
					edit(t, s, "general", 1, "m-2", c.other)
					seq++
				}
				say(t, s, "general", int(seq+1), "nada a ver")
				if c.delete {
					if err := s.MarkDeleted("general", 1); err != nil {
						t.Fatal(err)
					}
				}
				for q, want := range c.want {
					if got := found(t, s, q, []string{"general"}, 50); !slices.Equal(got, want) {
						t.Errorf("%q found %v, want %v", q, got, want)
					}
				}
				// Every message with a word starting with "a": each once, in
				// the order stored (an edited one where it was posted),
				// carrying what it says now.
				res, err := s.Search(protocol.SearchTerms("a"), []string{"general"}, 50)
				if err != nil {
					t.Fatal(err)
				}
				var got []uint64
				for _, f := range res {
					got = append(got, f.Message.Seq)
					if f.Message.Seq == 1 && (f.Message.Text != c.text || f.Message.FrameType() != protocol.TypeMessage) {
						t.Errorf("general/1 found as %q (%s), want %q", f.Message.Text, f.Message.FrameType(), c.text)
					}
				}
				want := []uint64{seq + 1, 2}
				if c.text != "" {
					want = append(want, 1)
				}
				if !slices.Equal(got, want) {
					t.Errorf(`"a" found %v, want %v`, got, want)
				}
			})
		}
	}
}

// TestSearchPrunedEditedNotFound: once an edited message is no longer
// kept, the words of its edits (still kept) find nothing.
func TestSearchPrunedEditedNotFound(t *testing.T) {
	for kind, open := range searchStores() {
		t.Run(kind, func(t *testing.T) {
			s, prune := open(t, 3)
			say(t, s, "general", 1, "a prova é na sexta")
			edit(t, s, "general", 1, "m-1", "a prova é na segunda")
			say(t, s, "general", 3, "prova 3")
			say(t, s, "general", 4, "prova 4")
			prune()
			if got := found(t, s, "segunda", []string{"general"}, 50); len(got) != 0 {
				t.Errorf("the edit of a message no longer kept found %v", got)
			}
			if got := found(t, s, "prova", []string{"general"}, 50); !slices.Equal(got, []string{"general/4", "general/3"}) {
				t.Errorf("after keeping 3: %v", got)
			}
		})
	}
}

// TestSearchEditPrunedFirst: should retention take an edit and keep the
// message it edits (by time, an edit stored with an older ts), the message
// is found by what it says without that edit.
func TestSearchEditPrunedFirst(t *testing.T) {
	s, _ := openTemp(t, Options{Logger: quiet, noJanitor: true})
	say(t, s, "general", 1, "a prova é na sexta")
	edit(t, s, "general", 1, "m-1", "a prova é na segunda")
	edit(t, s, "general", 1, "m-1", "a prova é na terça")
	if err := s.do(func(*writeStmts) error {
		_, err := s.wconn.ExecContext(context.Background(), `DELETE FROM messages WHERE room = 'general' AND seq = 3`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]string{"terca": {}, "segunda": {"general/1"}, "sexta": {}} {
		if got := found(t, s, q, []string{"general"}, 50); !slices.Equal(got, want) {
			t.Errorf("%q found %v, want %v", q, got, want)
		}
	}
}

// TestSearchIndexMigrated: a database written before the index (schema 3)
// gets its messages indexed by the migration, tombstones left out.
func TestSearchIndexMigrated(t *testing.T) {
	path := t.TempDir() + "/v3.db"
	_, conn := rawDBAt(t, path, 3)
	ctx := context.Background()
	if _, err := conn.ExecContext(ctx, `
INSERT INTO rooms (key, name, last_seq) VALUES ('general', 'General', 2);
INSERT INTO messages (room, seq, id, client_id, from_id, from_name, ts, body, deleted) VALUES
 ('general', 1, 'a1', 'c-1', 'm-1', 'Alice', 1000, '{"type":"message","room":"General","seq":1,"id":"a1","from":{"id":"m-1","name":"Alice"},"text":"Avaliação amanhã","ts":1000}', 0),
 ('general', 2, 'a2', 'c-2', 'm-1', 'Alice', 2000, '{"type":"message","room":"General","seq":2,"id":"a2","from":{"id":"m-1","name":"Alice"},"text":"","ts":2000,"deleted":true}', 1);`); err != nil {
		t.Fatal(err)
	}
	_ = conn.Close()
	s, err := Open(path, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := found(t, s, "avaliacao", []string{"general"}, 10); !slices.Equal(got, []string{"general/1"}) {
		t.Errorf("after migrating: %v", got)
	}
	say(t, s, "general", 3, "outra avaliação")
	if got := found(t, s, "avaliacao", []string{"general"}, 10); !slices.Equal(got, []string{"general/3", "general/1"}) {
		t.Errorf("after a new message: %v", got)
	}
}

// TestSearchEditsMigrated: a database of schema 6 indexed an edit's text
// under the edit and kept the message's old text; opening it (schema 7)
// leaves each message indexed by what it says now, and new edits keep it so.
func TestSearchEditsMigrated(t *testing.T) {
	path := t.TempDir() + "/v6.db"
	_, conn := rawDBAt(t, path, 6)
	ctx := context.Background()
	row := func(seq int, from, typ, extra, text string, deleted bool) string {
		body := fmt.Sprintf(`{"type":%q,"room":"general","seq":%d,"id":"a%d","from":{"id":%q,"name":%q},"text":%q,"ts":%d%s}`,
			typ, seq, seq, from, from, text, seq*1000, extra)
		d := 0
		if deleted {
			d = 1
		}
		return fmt.Sprintf(`('general', %d, 'a%d', 'c-%d', %q, %q, %d, '%s', %d)`, seq, seq, seq, from, from, seq*1000, body, d)
	}
	rows := []string{
		row(1, "m-1", "message", "", "a prova é na sexta", false),
		row(2, "m-1", "edited", `,"target":1`, "a prova é na segunda", false),
		row(3, "m-2", "reaction", `,"target":1,"emoji":"👍"`, "", false),
		row(4, "m-1", "edited", `,"target":1`, "a prova é na terça", false),
		row(5, "m-1", "message", "", "reunião amanhã", false),
		row(6, "m-1", "message", "", "", true), // deleted, as v6 left it
		row(7, "m-1", "edited", `,"target":6,"deleted":true`, "", true),
		row(8, "m-2", "message", "", "a prova vale 40%", false),
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO rooms (key, name, last_seq) VALUES ('general', 'general', 8);
INSERT INTO messages (room, seq, id, client_id, from_id, from_name, ts, body, deleted) VALUES `+strings.Join(rows, ",\n")+`;
UPDATE messages SET target = `+targetOf("body")+`;`); err != nil {
		t.Fatal(err)
	}
	old, _ := rawDB(t, path)
	if got := found(t, &Store{read: old}, "segunda", []string{"general"}, 10); !slices.Equal(got, []string{"general/2"}) {
		t.Fatalf("schema 6 found the edit at its own seq: %v", got) // what the migration starts from
	}
	_ = conn.Close()
	s, err := Open(path, Options{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check := func(when string, want map[string][]string) {
		t.Helper()
		for q, w := range want {
			if got := found(t, s, q, []string{"general"}, 10); !slices.Equal(got, w) {
				t.Errorf("%s: %q found %v, want %v", when, q, got, w)
			}
		}
	}
	check("after migrating", map[string][]string{
		"sexta": {}, "segunda": {}, "terca": {"general/1"}, "prova": {"general/8", "general/1"}, "reuniao": {"general/5"}})
	edit(t, s, "general", 1, "m-1", "a prova é na quarta")
	check("after a new edit", map[string][]string{"terca": {}, "quarta": {"general/1"}, "prova": {"general/8", "general/1"}})
	if err := s.MarkDeleted("general", 1); err != nil {
		t.Fatal(err)
	}
	check("after deleting it", map[string][]string{"quarta": {}, "prova": {"general/8"}})
}

// BenchmarkSearch searches 100,000 messages in 8 rooms (10 words each from
// 2,000 made-up words; "prova" in 1 % of them, "avaliação" in 0.5 %): a
// common word, a rare one, two words, and a one-letter prefix that matches
// most of the index.
func BenchmarkSearch(b *testing.B) {
	s, _ := openTemp(b, Options{Durability: Process, Logger: quiet})
	rng := rand.New(rand.NewPCG(1, 2))
	vocab := make([]string, 2000)
	for i := range vocab {
		w := make([]byte, 3+rng.IntN(7))
		for j := range w {
			w[j] = byte('a' + rng.IntN(26))
		}
		vocab[i] = string(w)
	}
	rooms := []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"}
	const total = 100_000
	for start := 0; start < total; start += 5000 {
		err := s.do(func(st *writeStmts) error {
			for i := start; i < start+5000; i++ {
				words := make([]string, 10)
				for j := range words {
					words[j] = vocab[rng.IntN(len(vocab))]
				}
				if i%100 == 0 {
					words[3] = "Prova"
				}
				if i%200 == 0 {
					words[7] = "avaliação"
				}
				var res appended
				m := protocol.Message{Type: protocol.TypeMessage, ID: fmt.Sprint(i), From: protocol.Member{ID: "m-1", Name: "Ana"},
					Text: strings.Join(words, " "), TS: int64(i), ClientID: fmt.Sprint("c-", i)}
				if err := appendOp(rooms[i%len(rooms)], m, &res)(st); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{"prova", "avaliacao prova", vocab[0], "a"} {
		terms := protocol.SearchTerms(q)
		b.Run(q, func(b *testing.B) {
			for b.Loop() {
				if res, err := s.Search(terms, rooms, protocol.SearchResultsMax+1); err != nil || len(res) == 0 {
					b.Fatalf("%d results, %v", len(res), err)
				}
			}
		})
	}
}
