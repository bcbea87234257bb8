package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"lanchat/backend/chat"
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

func msg(room string, seq uint64, clientID, text string) protocol.Message {
	return protocol.Message{
		Type: protocol.TypeMessage, Room: room, Seq: seq, ID: fmt.Sprintf("id-%s-%d", room, seq),
		From: protocol.Member{ID: "m-1", Name: "Alice"}, Text: text,
		TS: time.Date(2026, 11, 25, 10, 0, int(seq), 0, time.UTC).UnixMilli(), ClientID: clientID,
	}
}

func appendN(t testing.TB, s chat.Store, room string, from, to uint64) {
	t.Helper()
	for seq := from; seq <= to; seq++ {
		if err := s.Append(msg(room, seq, fmt.Sprintf("c-%d", seq), fmt.Sprintf("text %d", seq))); err != nil {
			t.Fatalf("append %s/%d: %v", room, seq, err)
		}
	}
}

func seqs(ms []protocol.Message) []uint64 {
	out := make([]uint64, len(ms))
	for i, m := range ms {
		out[i] = m.Seq
	}
	return out
}

func span(a, b uint64) []uint64 {
	var out []uint64
	for i := a; i <= b; i++ {
		out = append(out, i)
	}
	return out
}

// TestContract runs the behaviour the hub relies on against the SQLite store
// and against chat.MemoryStore, the model it must match.
func TestContract(t *testing.T) {
	stores := map[string]func(t *testing.T) chat.Store{
		"sqlite": func(t *testing.T) chat.Store { s, _ := openTemp(t, Options{}); return s },
		"memory": func(t *testing.T) chat.Store { return chat.NewMemoryStore(10000) },
	}
	cases := []struct {
		name string
		run  func(t *testing.T, s chat.Store)
	}{
		{"since returns what follows, oldest first", func(t *testing.T, s chat.Store) {
			appendN(t, s, "general", 1, 30)
			got, first, err := s.Since("general", 20, 100)
			if err != nil || first != 1 || !slices.Equal(seqs(got), span(21, 30)) {
				t.Fatalf("Since(20) = %v, first %d, %v", seqs(got), first, err)
			}
			got, _, _ = s.Since("general", 0, 5)
			if !slices.Equal(seqs(got), span(1, 5)) {
				t.Fatalf("Since(0, limit 5) = %v", seqs(got))
			}
			got, _, _ = s.Since("general", 30, 5)
			if len(got) != 0 {
				t.Fatalf("Since(last) = %v, want none", seqs(got))
			}
		}},
		{"last returns the newest, oldest first", func(t *testing.T, s chat.Store) {
			appendN(t, s, "general", 1, 30)
			got, first, err := s.Last("general", 4)
			if err != nil || first != 1 || !slices.Equal(seqs(got), span(27, 30)) {
				t.Fatalf("Last(4) = %v, first %d, %v", seqs(got), first, err)
			}
			got, _, _ = s.Last("general", 100)
			if !slices.Equal(seqs(got), span(1, 30)) {
				t.Fatalf("Last(100) = %v", seqs(got))
			}
		}},
		{"an empty room has nothing and first 0", func(t *testing.T, s chat.Store) {
			got, first, err := s.Last("random", 10)
			if err != nil || len(got) != 0 || first != 0 {
				t.Fatalf("Last on empty = %v, %d, %v", got, first, err)
			}
		}},
		{"rooms are case-insensitive", func(t *testing.T, s chat.Store) {
			if err := s.SaveRoom(chat.StoredRoom{Key: "general", Name: "General"}); err != nil {
				t.Fatal(err)
			}
			appendN(t, s, "General", 1, 3)
			got, _, _ := s.Since("GENERAL", 0, 10)
			if !slices.Equal(seqs(got), span(1, 3)) || got[0].Room != "General" {
				t.Fatalf("Since(GENERAL) = %v", got)
			}
		}},
		{"messages round-trip whole", func(t *testing.T, s chat.Store) {
			m := msg("general", 1, "c-x", "olá <b>mundo</b> \"quoted\"\nsecond line 🎉")
			m.From.Role = protocol.RoleHost
			if err := s.Append(m); err != nil {
				t.Fatal(err)
			}
			got, _, _ := s.Last("general", 1)
			if len(got) != 1 || got[0] != m {
				t.Fatalf("got %+v, want %+v", got, m)
			}
		}},
		{"by client id finds only its room's message", func(t *testing.T, s chat.Store) {
			appendN(t, s, "general", 1, 5)
			m, ok, err := s.ByClientID("general", "c-3")
			if err != nil || !ok || m.Seq != 3 || m.ID != "id-general-3" {
				t.Fatalf("ByClientID(c-3) = %+v, %v, %v", m, ok, err)
			}
			if _, ok, _ := s.ByClientID("general", "c-99"); ok {
				t.Fatal("found a client id never sent")
			}
			if _, ok, _ := s.ByClientID("projects", "c-3"); ok {
				t.Fatal("found another room's client id")
			}
		}},
		{"rooms list in creation order with last seq", func(t *testing.T, s chat.Store) {
			for _, n := range []string{"lobby", "general", "projects"} {
				if err := s.SaveRoom(chat.StoredRoom{Key: n, Name: n}); err != nil {
					t.Fatal(err)
				}
			}
			appendN(t, s, "projects", 1, 7)
			appendN(t, s, "general", 1, 2)
			rooms, err := s.Rooms()
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rooms {
				got = append(got, fmt.Sprintf("%s:%d", r.Key, r.LastSeq))
			}
			if want := []string{"lobby:0", "general:2", "projects:7"}; !slices.Equal(got, want) {
				t.Fatalf("rooms = %v, want %v", got, want)
			}
		}},
		{"a deleted message keeps its seq and loses its text", func(t *testing.T, s chat.Store) {
			appendN(t, s, "general", 1, 3)
			if err := s.MarkDeleted("general", 2); err != nil {
				t.Fatal(err)
			}
			got, _, _ := s.Last("general", 10)
			if !slices.Equal(seqs(got), span(1, 3)) || got[1].Text != "" || got[1].ID != "id-general-2" || got[0].Text == "" {
				t.Fatalf("history %+v", got)
			}
			if m, ok, _ := s.ByClientID("general", "c-2"); !ok || m.Text != "" {
				t.Fatalf("by client id after delete: %+v %v", m, ok)
			}
		}},
		{"save room updates its settings", func(t *testing.T, s chat.Store) {
			if err := s.SaveRoom(chat.StoredRoom{Key: "news", Name: "news"}); err != nil {
				t.Fatal(err)
			}
			appendN(t, s, "news", 1, 2)
			want := chat.StoredRoom{Key: "news", Name: "News", LastSeq: 2, Topic: "today", Closed: true,
				Flags: chat.RoomFlags{Locked: true, Announcements: true, SlowSeconds: 30}}
			if err := s.SaveRoom(want); err != nil {
				t.Fatal(err)
			}
			rooms, _ := s.Rooms()
			if len(rooms) != 1 || rooms[0] != want {
				t.Fatalf("rooms = %+v, want %+v", rooms, want)
			}
		}},
	}
	for kind, open := range stores {
		for _, c := range cases {
			t.Run(kind+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				c.run(t, open(t))
			})
		}
	}
}

func TestAppendRefusesGapAndReuse(t *testing.T) {
	s, _ := openTemp(t, Options{})
	appendN(t, s, "general", 1, 3)
	for _, seq := range []uint64{1, 3, 5, 0} {
		if err := s.Append(msg("general", seq, fmt.Sprintf("c-new-%d", seq), "x")); !errors.Is(err, ErrSeq) {
			t.Errorf("append seq %d after 3: err %v, want ErrSeq", seq, err)
		}
	}
	// A client id is unique per room.
	if err := s.Append(msg("general", 4, "c-2", "dup")); err == nil {
		t.Error("a second message with client id c-2 was stored")
	}
	appendN(t, s, "general", 4, 4)
	got, _, _ := s.Since("general", 0, 100)
	if !slices.Equal(seqs(got), span(1, 4)) {
		t.Fatalf("history %v", seqs(got))
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
	if err := s2.Append(msg("general", 10, "c-10", "x")); err != nil {
		t.Fatal(err)
	}
}

func TestReopenKeepsEverything(t *testing.T) {
	for _, d := range []Durability{Full, Process} {
		t.Run(d.String(), func(t *testing.T) {
			s, path := openTemp(t, Options{Durability: d})
			appendN(t, s, "general", 1, 50)
			appendN(t, s, "projects", 1, 5)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := s.Append(msg("general", 51, "c-51", "late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("append after close: %v", err)
			}
			s2, err := Open(path, Options{Durability: d})
			if err != nil {
				t.Fatal(err)
			}
			defer s2.Close()
			rooms, _ := s2.Rooms()
			if len(rooms) != 2 || rooms[0].LastSeq != 50 || rooms[1].LastSeq != 5 {
				t.Fatalf("rooms %+v", rooms)
			}
			if m, ok, _ := s2.ByClientID("general", "c-17"); !ok || m.Seq != 17 {
				t.Fatalf("client id c-17 after reopen: %v %+v", ok, m)
			}
			appendN(t, s2, "general", 51, 52)
			got, _, _ := s2.Since("general", 0, 1000)
			if !slices.Equal(seqs(got), span(1, 52)) {
				t.Fatalf("history %v", seqs(got))
			}
		})
	}
}

// TestConcurrentAppends appends to many rooms at once, as the hub does with
// one lock per room, so the writer batches them.
func TestConcurrentAppends(t *testing.T) {
	s, _ := openTemp(t, Options{Durability: Process})
	const rooms, per = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, rooms)
	for r := range rooms {
		wg.Go(func() {
			room := fmt.Sprintf("room-%d", r)
			for seq := uint64(1); seq <= per; seq++ {
				if err := s.Append(msg(room, seq, fmt.Sprintf("c-%d", seq), "x")); err != nil {
					errs <- err
					return
				}
				if seq%10 == 0 {
					if _, _, err := s.Since(room, seq-5, 10); err != nil {
						errs <- err
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for r := range rooms {
		got, _, _ := s.Since(fmt.Sprintf("room-%d", r), 0, 1000)
		if !slices.Equal(seqs(got), span(1, per)) {
			t.Fatalf("room-%d: %v", r, seqs(got))
		}
	}
}

// TestBatchFailureIsolated: one failing write in a group commit fails alone.
func TestBatchFailureIsolated(t *testing.T) {
	s, _ := openTemp(t, Options{})
	appendN(t, s, "b", 1, 1)
	mk := func(m protocol.Message) *op {
		return &op{done: make(chan error, 1), fn: func(w *writeStmts) error {
			// The same steps as Append, run directly in this batch.
			body := fmt.Sprintf(`{"type":"message","room":%q,"seq":%d,"id":"x","from":{"id":"m","name":"n"},"text":"t","ts":1}`, m.Room, m.Seq)
			if _, err := w.ensureRoom.Exec(m.Room, m.Room); err != nil {
				return err
			}
			res, err := w.bumpSeq.Exec(m.Seq, m.Room)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n != 1 {
				return ErrSeq
			}
			_, err = w.insertMsg.Exec(m.Room, m.Seq, "x", nil, "m", "n", 1, body)
			return err
		}}
	}
	batch := []*op{mk(msg("a", 1, "", "")), mk(msg("b", 5, "", "")), mk(msg("c", 1, "", ""))}
	// The writer goroutine is idle (nothing is queued), so the batch may use
	// the write connection here.
	s.commit(batch)
	want := []error{nil, ErrSeq, nil}
	for i, o := range batch {
		if err := <-o.done; !errors.Is(err, want[i]) || (want[i] == nil && err != nil) {
			t.Errorf("op %d: %v, want %v", i, err, want[i])
		}
	}
	for room, n := range map[string]int{"a": 1, "b": 1, "c": 1} {
		if got, _, _ := s.Since(room, 0, 10); len(got) != n {
			t.Errorf("room %s has %d messages, want %d", room, len(got), n)
		}
	}
}

func TestMarkDeletedAndDerivedColumns(t *testing.T) {
	s, path := openTemp(t, Options{})
	appendN(t, s, "general", 1, 3)
	if err := s.MarkDeleted("General", 2); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkDeleted("general", 9); err != nil {
		t.Fatalf("MarkDeleted of a message not kept: %v", err)
	}
	// Fields the protocol adds (a private message's recipient) live in the
	// stored JSON and fill the indexed columns.
	err := s.do(func(w *writeStmts) error {
		if _, err := w.bumpSeq.Exec(4, "general"); err != nil {
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
	if err := ro.Append(msg("general", 6, "c-6", "x")); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("read-only append: %v", err)
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
		wg.Go(func() { results[i] = s.Append(msg(fmt.Sprintf("r%d", i), 1, "c", "x")) })
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
	// Every append that returned nil is stored.
	s2, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	for i, err := range results {
		_, ok, _ := s2.ByClientID(fmt.Sprintf("r%d", i), "c")
		if ok != (err == nil) {
			t.Errorf("append %d returned %v but stored = %v", i, err, ok)
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
