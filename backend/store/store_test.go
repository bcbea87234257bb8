package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"lanchat/backend/chat"
	"lanchat/backend/chat/storetest"
	"lanchat/backend/protocol"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func openTemp(t testing.TB, opts Options) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, path
}

// The contract's helpers, shared with the other tests here.
var (
	msg     = storetest.Msg
	appendN = storetest.AppendN
	seqs    = storetest.Seqs
	span    = storetest.Span
)

// storedByClientID reads the message of room sent with clientID straight
// from the database.
func storedByClientID(t testing.TB, s *Store, room, clientID string) (protocol.Message, bool) {
	t.Helper()
	m, ok, err := scanMessage(s.read.QueryRow(`SELECT body FROM messages WHERE room = ? AND client_id = ?`, room, clientID))
	if err != nil {
		t.Fatal(err)
	}
	return m, ok
}

var epochForm = storetest.EpochForm

// TestContract runs the behaviour the hub relies on against the SQLite store
// and against chat.MemoryStore, the model it must match.
func TestContract(t *testing.T) {
	stores := map[string]func(t *testing.T) chat.Store{
		"sqlite": func(t *testing.T) chat.Store { s, _ := openTemp(t, Options{}); return s },
		"memory": func(t *testing.T) chat.Store { return chat.NewMemoryStore(10000) },
	}
	for kind, open := range stores {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			storetest.Run(t, open)
		})
	}
}

// TestBatchOrderAndFailure runs appends as one group commit: they are
// numbered in the batch's order; when one op fails, the batch is retried op
// by op, the failed op alone fails and takes no seq, and the others are
// numbered afresh without a gap.
func TestBatchOrderAndFailure(t *testing.T) {
	s, _ := openTemp(t, Options{})
	appendN(t, s, "b", 1, 1)
	type result struct {
		o   *op
		res *appended
	}
	add := func(room, clientID string) result {
		r := result{res: &appended{}}
		m := msg(room, 0, clientID, "x")
		m.ID = room + "/" + clientID
		r.o = &op{fn: appendOp(room, m, r.res), done: make(chan error, 1)}
		return r
	}
	boom := errors.New("boom")
	failing := func(room string) result {
		r := add(room, "c-failing")
		fn := r.o.fn
		r.o.fn = func(w *writeStmts) error {
			if err := fn(w); err != nil { // takes a seq, then fails
				return err
			}
			return boom
		}
		return r
	}
	cases := []struct {
		name    string
		batch   []result
		want    []string // room:seq (dup marked), or the error
		history map[string][]string
	}{
		{"numbered in batch order",
			[]result{add("a", "1"), add("a", "2"), add("b", "2"), add("a", "3"), add("a", "2")},
			[]string{"a:1", "a:2", "b:2", "a:3", "a:2 dup"},
			map[string][]string{"a": {"a/1", "a/2", "a/3"}}},
		{"a failing op fails alone",
			[]result{add("a", "4"), failing("a"), add("a", "5"), add("c", "1"), add("a", "4")},
			[]string{"a:4", "boom", "a:5", "c:1", "a:4 dup"},
			map[string][]string{"a": {"a/1", "a/2", "a/3", "a/4", "a/5"}, "c": {"c/1"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			batch := make([]*op, len(c.batch))
			for i, r := range c.batch {
				batch[i] = r.o
			}
			// The writer goroutine is idle (nothing is queued), so the batch
			// may use the write connection here.
			s.commit(batch)
			var got []string
			for _, r := range c.batch {
				switch err := <-r.o.done; {
				case errors.Is(err, boom):
					got = append(got, "boom")
				case err != nil:
					got = append(got, err.Error())
				case r.res.dup:
					got = append(got, fmt.Sprintf("%s:%d dup", r.res.msg.ID[:1], r.res.msg.Seq))
				default:
					got = append(got, fmt.Sprintf("%s:%d", r.res.msg.ID[:1], r.res.msg.Seq))
				}
			}
			if !slices.Equal(got, c.want) {
				t.Fatalf("results %v, want %v", got, c.want)
			}
			for room, ids := range c.history {
				hist, _, _ := s.Since(room, 0, 100)
				var gotIDs []string
				for i, m := range hist {
					if m.Seq != uint64(i+1) {
						t.Errorf("room %s: position %d holds seq %d", room, i, m.Seq)
					}
					gotIDs = append(gotIDs, m.ID)
				}
				if !slices.Equal(gotIDs, ids) {
					t.Errorf("room %s holds %v, want %v", room, gotIDs, ids)
				}
			}
		})
	}
	// The failed op's client id is still free, and numbering goes on.
	got, dup, err := s.Append("a", msg("a", 0, "c-failing", "x"))
	if err != nil || dup || got.Seq != 6 {
		t.Fatalf("append after the batches: seq %d, dup %v, %v", got.Seq, dup, err)
	}
}

func TestSaveRoomNeverLowersLastSeq(t *testing.T) {
	s, path := openTemp(t, Options{})
	appendN(t, s, "general", 1, 9)
	if err := s.SaveRoom(chat.StoredRoom{Key: "general", Name: "general", Topic: "renamed"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	rooms, _ := s2.Rooms()
	if len(rooms) != 1 || rooms[0].LastSeq != 9 || rooms[0].Topic != "renamed" {
		t.Fatalf("rooms %+v", rooms)
	}
	appendN(t, s2, "general", 10, 10)
}

// TestNumberingContinuesAfterRetention: seqs are never handed out twice,
// even once the messages holding them are gone.
func TestNumberingContinuesAfterRetention(t *testing.T) {
	s, _ := openTemp(t, Options{KeepPerRoom: 2, noJanitor: true, Logger: quiet})
	appendN(t, s, "general", 1, 5)
	if _, err := s.Prune(t.Context()); err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "general", 6, 6)
	// A client id whose message retention removed is free again.
	got, dup, err := s.Append("general", msg("general", 0, "c-1", "new"))
	if err != nil || dup || got.Seq != 7 {
		t.Fatalf("append with a pruned client id: seq %d, dup %v, %v", got.Seq, dup, err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	for _, d := range []Durability{Full, Process} {
		t.Run(d.String(), func(t *testing.T) {
			s, path := openTemp(t, Options{Durability: d})
			appendN(t, s, "general", 1, 50)
			appendN(t, s, "projects", 1, 5)
			epoch := s.Epoch()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.Append("general", msg("general", 51, "c-51", "late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("append after close: %v", err)
			}
			s2, err := Open(path, Options{Durability: d})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			if s2.Epoch() != epoch {
				t.Fatalf("epoch %q after reopen, was %q", s2.Epoch(), epoch)
			}
			rooms, _ := s2.Rooms()
			if len(rooms) != 2 || rooms[0].LastSeq != 50 || rooms[1].LastSeq != 5 {
				t.Fatalf("rooms %+v", rooms)
			}
			if m, dup, err := s2.Append("general", msg("general", 17, "c-17", "resent")); err != nil || !dup || m.Seq != 17 {
				t.Fatalf("client id c-17 after reopen: %v %+v %v", dup, m, err)
			}
			appendN(t, s2, "general", 51, 52)
			got, _, _ := s2.Since("general", 0, 1000)
			if !slices.Equal(seqs(got), span(1, 52)) {
				t.Fatalf("history %v", seqs(got))
			}
		})
	}
}

// TestEpoch: a database keeps its epoch across Close and Open, and read-only
// opens see it; another database has another.
func TestEpoch(t *testing.T) {
	s1, p1 := openTemp(t, Options{})
	s2, p2 := openTemp(t, Options{})
	e1, e2 := s1.Epoch(), s2.Epoch()
	if !epochForm.MatchString(e1) || !epochForm.MatchString(e2) || e1 == e2 {
		t.Fatalf("epochs %q and %q", e1, e2)
	}
	ro, err := OpenReadOnly(p1)
	if err != nil {
		t.Fatal(err)
	}
	if ro.Epoch() != e1 {
		t.Errorf("read-only epoch %q, want %q", ro.Epoch(), e1)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s     *Store
		path  string
		epoch string
	}{{s1, p1, e1}, {s2, p2, e2}} {
		if err := c.s.Close(); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			s, err := Open(c.path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if s.Epoch() != c.epoch {
				t.Errorf("%s: epoch %q after reopen, want %q", c.path, s.Epoch(), c.epoch)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// TestConcurrentAppends appends to many rooms at once while reading them,
// so the writer batches appends of different rooms.
func TestConcurrentAppends(t *testing.T) {
	s, _ := openTemp(t, Options{Durability: Process})
	const rooms, per = 8, 60
	var wg sync.WaitGroup
	for r := range rooms {
		wg.Go(func() {
			room := fmt.Sprintf("room-%d", r)
			for seq := uint64(1); seq <= per; seq++ {
				got, dup, err := s.Append(room, msg(room, seq, fmt.Sprintf("c-%d", seq), "x"))
				if err != nil || dup || got.Seq != seq {
					t.Errorf("%s: append %d: seq %d, dup %v, %v", room, seq, got.Seq, dup, err)
					return
				}
				if seq%10 == 0 {
					if _, _, err := s.Since(room, seq-5, 10); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Wait()
	for r := range rooms {
		got, _, _ := s.Since(fmt.Sprintf("room-%d", r), 0, 1000)
		if !slices.Equal(seqs(got), span(1, per)) {
			t.Fatalf("room-%d: %v", r, seqs(got))
		}
	}
}

func TestMarkDeletedAndDerivedColumns(t *testing.T) {
	s, path := openTemp(t, Options{})
	appendN(t, s, "general", 1, 3)
	if err := s.MarkDeleted("general", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeleted("general", 9); err != nil {
		t.Fatalf("MarkDeleted of a message not kept: %v", err)
	}
	// Fields the protocol adds (a private message's recipient) live in the
	// stored JSON and fill the indexed columns.
	err := s.do(func(w *writeStmts) error {
		if _, err := w.setSeq.Exec("general", 4); err != nil {
			return err
		}
		_, err := w.insertMsg.Exec("general", 4, "id-4", nil, "m-1", "Alice", 1,
			`{"type":"message","room":"general","seq":4,"id":"id-4","text":"psst","to":{"id":"m-7","name":"Bob"}}`)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(path, Options{}) // tombstones are stored, not cached
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, _, _ := s.Since("general", 0, 10)
	if !slices.Equal(seqs(got), span(1, 4)) || got[1].Text != "" || got[0].Text == "" || got[2].Text == "" {
		t.Fatalf("history %+v", got)
	}
	rows, err := s.read.Query(`SELECT seq, deleted, coalesce(recipient, ''), json_extract(body, '$.deleted') IS 1 FROM messages ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var cols []string
	for rows.Next() {
		var seq int
		var deleted, inBody bool
		var to string
		if err := rows.Scan(&seq, &deleted, &to, &inBody); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, fmt.Sprintf("%d:%v:%s:%v", seq, deleted, to, inBody))
	}
	if want := []string{"1:false::false", "2:true::true", "3:false::false", "4:false:m-7:false"}; !slices.Equal(cols, want) {
		t.Fatalf("columns %v, want %v", cols, want)
	}
}

func TestReadOnly(t *testing.T) {
	s, path := openTemp(t, Options{})
	appendN(t, s, "general", 1, 5)

	// While the host has the database open.
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := ro.Since("general", 0, 100)
	if err != nil || len(got) != 5 {
		t.Fatalf("read-only Since: %d, %v", len(got), err)
	}
	if _, _, err := ro.Append("general", msg("general", 6, "c-6", "x")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only append: %v", err)
	}
	if ro.Epoch() != s.Epoch() {
		t.Fatalf("read-only epoch %q, host's %q", ro.Epoch(), s.Epoch())
	}
	appendN(t, s, "general", 6, 6) // the writer is not blocked by the reader
	if got, _, _ := ro.Since("general", 0, 100); len(got) != 6 {
		t.Fatalf("read-only sees %d messages, want 6", len(got))
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}

	// After the host closed it (the WAL files are gone).
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); !os.IsNotExist(err) {
		t.Logf("wal file still present after close: %v", err)
	}
	ro, err = OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got, _, err := ro.Last("general", 100); err != nil || len(got) != 6 {
		t.Fatalf("read-only after close: %d %v", len(got), err)
	}
	if _, err := OpenReadOnly(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("opened a missing database")
	}
}

func TestCloseWaitsForQueuedWrites(t *testing.T) {
	s, path := openTemp(t, Options{})
	var wg sync.WaitGroup
	results := make([]error, 20)
	for i := range results {
		wg.Go(func() {
			room := fmt.Sprintf("r%d", i%3) // several appends per room
			_, _, results[i] = s.Append(room, msg(room, 0, fmt.Sprintf("c-%d", i), "x"))
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	for i, err := range results {
		if err != nil && !errors.Is(err, ErrClosed) {
			t.Errorf("append %d: %v", i, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	// Every append that returned nil is stored, and only those.
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i, err := range results {
		_, ok := storedByClientID(t, s2, fmt.Sprintf("r%d", i%3), fmt.Sprintf("c-%d", i))
		if ok != (err == nil) {
			t.Errorf("append %d returned %v but stored = %v", i, err, ok)
		}
	}
	for r := range 3 {
		if got, _, _ := s2.Since(fmt.Sprintf("r%d", r), 0, 100); !slices.Equal(seqs(got), span(1, uint64(len(got)))) {
			t.Errorf("r%d: %v", r, seqs(got))
		}
	}
}

// Paths are passed to SQLite as the OS spells them: spaces, '%' and
// URI-looking names are part of the file name.
func TestPathsAreFileNames(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my data %20 dir", "file:x")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	path := PathIn(dir)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	appendN(t, s, "general", 1, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not where it was asked to be: %v", err)
	}
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if got, _, _ := ro.Since("general", 0, 10); len(got) != 2 {
		t.Fatalf("read back %d messages", len(got))
	}
}

// A message's events are found through messages_target, not by walking its
// whole room: the plan SQLite makes for EventsOf's query says so.
func TestEventsOfUsesTheTargetIndex(t *testing.T) {
	s, _ := openTemp(t, Options{})
	rows, err := s.read.Query(`EXPLAIN QUERY PLAN `+eventsOfQuery, "general", 3)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(plan, func(d string) bool { return strings.Contains(d, "USING INDEX messages_target") }) {
		t.Fatalf("EventsOf's plan does not use messages_target: %q", plan)
	}
}
