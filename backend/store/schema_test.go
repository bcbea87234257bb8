package store

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// rawDB opens path with no store around it, for building old schemas.
func rawDB(t *testing.T, path string) (*sql.DB, *sql.Conn) {
	t.Helper()
	db, err := sql.Open("sqlite", dsn(path, nil))
	if err != nil {
		t.Fatal(err)
	}
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close(); _ = db.Close() })
	return db, conn
}

// rawDBAt is rawDB of a database built as schema version v left it.
func rawDBAt(t *testing.T, path string, v int) (*sql.DB, *sql.Conn) {
	t.Helper()
	db, conn := rawDB(t, path)
	if err := migrate(context.Background(), conn, v); err != nil {
		t.Fatal(err)
	}
	return db, conn
}

// schemaOf lists the database's tables and indexes as SQLite stores them.
func schemaOf(t *testing.T, path string) []string {
	t.Helper()
	db, _ := rawDB(t, path)
	rows, err := db.Query(`SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, strings.Join(strings.Fields(s), " "))
	}
	return out
}

func versionOf(t *testing.T, path string) int {
	t.Helper()
	db, _ := rawDB(t, path)
	v, err := userVersion(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestMigrateFromEmpty(t *testing.T) {
	s, path := openTemp(t, Options{})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, path); v != SchemaVersion || SchemaVersion != 7 {
		t.Fatalf("version %d, SchemaVersion %d", v, SchemaVersion)
	}
	schema := schemaOf(t, path)
	for _, want := range []string{"table messages", "table rooms", "index messages_client", "index messages_ts", "index messages_recipient", "table meta",
		"table messages_fts", "trigger messages_fts_insert", "trigger messages_fts_delete", "trigger messages_fts_update", "index messages_target",
		"trigger messages_fts_edit", "trigger messages_fts_unedit"} {
		if !slices.ContainsFunc(schema, func(s string) bool { return strings.HasPrefix(s, want+":") }) {
			t.Errorf("schema lacks %s:\n%s", want, strings.Join(schema, "\n"))
		}
	}
	if !slices.ContainsFunc(schema, func(s string) bool { return strings.HasPrefix(s, "table rooms:") && strings.Contains(s, "pinned TEXT") }) {
		t.Errorf("rooms has no pinned column:\n%s", strings.Join(schema, "\n"))
	}
	// Opening again changes nothing.
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, path); !slices.Equal(got, schema) {
		t.Fatalf("schema changed on reopen:\n%v\n%v", got, schema)
	}
}

// TestMigrateFromV1 writes a database as version 1 wrote it, then opens it
// with this build: the data stays, the new columns are filled from the
// stored JSON, and the schema ends exactly like a fresh one.
func TestMigrateFromV1(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "v1.db")
	_, conn := rawDBAt(t, path, 1)
	ctx := context.Background()
	_, err := conn.ExecContext(ctx, `
INSERT INTO rooms (key, name, last_seq, topic, flags) VALUES ('general', 'General', 3, 'intro', '{"locked":true}');
INSERT INTO messages (room, seq, id, client_id, from_id, from_name, ts, body) VALUES
 ('general', 1, 'a1', 'c-1', 'm-1', 'Alice', 1000, '{"type":"message","room":"General","seq":1,"id":"a1","from":{"id":"m-1","name":"Alice"},"text":"one","ts":1000,"client_id":"c-1"}'),
 ('general', 2, 'a2', 'c-2', 'm-1', 'Alice', 2000, '{"type":"message","room":"General","seq":2,"id":"a2","from":{"id":"m-1","name":"Alice"},"text":"","ts":2000,"client_id":"c-2","deleted":true}'),
 ('general', 3, 'a3', 'c-3', 'm-2', 'Bob', 3000, '{"type":"message","room":"General","seq":3,"id":"a3","from":{"id":"m-2","name":"Bob"},"text":"psst","ts":3000,"client_id":"c-3","to":"m-1"}');
`)
	if err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, path); v != 1 {
		t.Fatalf("built version %d, want 1", v)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	rooms, err := s.Rooms()
	if err != nil || len(rooms) != 1 || rooms[0].LastSeq != 3 || rooms[0].Name != "General" || !rooms[0].Flags.Locked {
		t.Fatalf("rooms %+v, %v", rooms, err)
	}
	got, first, err := s.Since("general", 0, 10)
	if err != nil || first != 1 || !slices.Equal(seqs(got), span(1, 3)) || got[0].Text != "one" {
		t.Fatalf("history %+v %d %v", got, first, err)
	}
	if m, dup, err := s.Append("general", msg("General", 9, "c-3", "resent")); err != nil || !dup || m.Seq != 3 || m.Text != "psst" {
		t.Fatalf("resend of c-3 after migration: %v %+v %v", dup, m, err)
	}
	var cols []string
	rows, err := s.read.Query(`SELECT deleted, coalesce(recipient, '-') FROM messages ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var d, r string
		if err := rows.Scan(&d, &r); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, d+"/"+r)
	}
	rows.Close()
	if want := []string{"0/-", "1/-", "0/m-1"}; !slices.Equal(cols, want) {
		t.Fatalf("derived columns %v, want %v", cols, want)
	}
	appendN(t, s, "general", 4, 4)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, path); v != SchemaVersion {
		t.Fatalf("version after open %d", v)
	}

	fresh, freshPath := openTemp(t, Options{})
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	// ALTER TABLE ADD COLUMN keeps the CREATE text as written plus the
	// added columns; compare the columns rather than the text.
	if a, b := columnsOf(t, path), columnsOf(t, freshPath); !slices.Equal(a, b) {
		t.Fatalf("migrated columns %v\nfresh columns %v", a, b)
	}
	if a, b := indexesOf(t, path), indexesOf(t, freshPath); !slices.Equal(a, b) {
		t.Fatalf("migrated indexes %v\nfresh indexes %v", a, b)
	}
}

// TestMigrateFromV2 opens a database as version 2 left it: read-only it has
// no epoch yet; the host's Open adds the meta table and an epoch, keeps the
// data and numbering, and the schema ends exactly like a fresh one.
func TestMigrateFromV2(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	_, conn := rawDBAt(t, path, 2)
	ctx := context.Background()
	_, err := conn.ExecContext(ctx, `
INSERT INTO rooms (key, name, last_seq) VALUES ('general', 'Town Square', 2), ('@0a1b-2c3d', '@0a1b-2c3d', 1);
INSERT INTO messages (room, seq, id, client_id, from_id, from_name, ts, body, deleted, recipient) VALUES
 ('general', 1, 'a1', 'c-1', 'm-1', 'Alice', 1000, '{"type":"message","room":"General","seq":1,"id":"a1","from":{"id":"m-1","name":"Alice"},"text":"one","ts":1000,"client_id":"c-1"}', 0, NULL),
 ('general', 2, 'a2', 'c-2', 'm-1', 'Alice', 2000, '{"type":"message","room":"General","seq":2,"id":"a2","from":{"id":"m-1","name":"Alice"},"text":"two","ts":2000,"client_id":"c-2"}', 0, NULL),
 ('@0a1b-2c3d', 1, 'p1', 'c-1', 'm-1', 'Alice', 3000, '{"type":"message","room":"@0a1b-2c3d","seq":1,"id":"p1","from":{"id":"m-1","name":"Alice"},"text":"psst","ts":3000,"client_id":"c-1"}', 0, NULL);
`)
	if err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, path); v != 2 {
		t.Fatalf("built version %d, want 2", v)
	}
	before := schemaOf(t, path)

	// Read-only (an export while no v3 host ran yet): no epoch, no change.
	ro, err := OpenReadOnly(path)
	if err != nil {
		t.Fatal(err)
	}
	if e := ro.Epoch(); e != "" {
		t.Errorf("read-only epoch of a v2 database %q, want none", e)
	}
	if got, _, err := ro.Since("general", 0, 10); err != nil || len(got) != 2 {
		t.Fatalf("read-only history of a v2 database: %v %v", seqs(got), err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if got := schemaOf(t, path); !slices.Equal(got, before) || versionOf(t, path) != 2 {
		t.Fatalf("read-only open changed the schema:\n%v", got)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	epoch := s.Epoch()
	if !epochForm.MatchString(epoch) {
		t.Fatalf("epoch after migration %q", epoch)
	}
	if got, first, err := s.Since("general", 0, 10); err != nil || first != 1 || !slices.Equal(seqs(got), span(1, 2)) || got[1].Text != "two" {
		t.Fatalf("history %+v %d %v", got, first, err)
	}
	if m, dup, err := s.Append("@0a1b-2c3d", msg("@0a1b-2c3d", 0, "c-1", "resent")); err != nil || !dup || m.ID != "p1" {
		t.Fatalf("resend in the private room after migration: %v %+v %v", dup, m, err)
	}
	appendN(t, s, "general", 3, 3)
	appendN(t, s, "@0a1b-2c3d", 2, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if v := versionOf(t, path); v != SchemaVersion {
		t.Fatalf("version after open %d", v)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Epoch() != epoch {
		t.Errorf("epoch %q after reopen, was %q", s.Epoch(), epoch)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	fresh, freshPath := openTemp(t, Options{})
	if err := fresh.Close(); err != nil {
		t.Fatal(err)
	}
	// v1 and v2 ran the same way on both: the whole schema text agrees.
	if a, b := schemaOf(t, path), schemaOf(t, freshPath); !slices.Equal(a, b) {
		t.Fatalf("migrated schema\n%s\nfresh schema\n%s", strings.Join(a, "\n"), strings.Join(b, "\n"))
	}
}

func columnsOf(t *testing.T, path string) []string {
	db, _ := rawDB(t, path)
	rows, err := db.Query(`SELECT m.name || '.' || p.name || ' ' || p.type || ' ' || p."notnull" || ' ' || coalesce(p.dflt_value, '')
		FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

func indexesOf(t *testing.T, path string) []string {
	var out []string
	for _, s := range schemaOf(t, path) {
		if strings.HasPrefix(s, "index ") {
			out = append(out, s)
		}
	}
	return out
}

func TestRefuseNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	_, conn := rawDB(t, path)
	if _, err := conn.ExecContext(context.Background(), "PRAGMA user_version = 99"); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, Options{}); !errors.Is(err, ErrTooNew) {
		t.Fatalf("Open of a newer database: %v", err)
	}
	if _, err := OpenReadOnly(path); !errors.Is(err, ErrTooNew) {
		t.Fatalf("OpenReadOnly of a newer database: %v", err)
	}
}

// TestFailedMigrationChangesNothing: a migration that fails half-way leaves
// the previous version and its data untouched.
func TestFailedMigrationChangesNothing(t *testing.T) {
	s, path := openTemp(t, Options{})
	appendN(t, s, "general", 1, 2)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	before := schemaOf(t, path)
	saved := migrations
	migrations = append(slices.Clip(saved), `ALTER TABLE messages ADD COLUMN pinned INTEGER; THIS IS NOT SQL;`)
	_, err := Open(path, Options{})
	migrations = saved
	if err == nil {
		t.Fatal("a broken migration succeeded")
	}
	if v := versionOf(t, path); v != len(saved) {
		t.Fatalf("version %d after a failed migration", v)
	}
	if got := schemaOf(t, path); !slices.Equal(got, before) {
		t.Fatalf("schema changed by a failed migration:\n%v", got)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, _, _ := s.Since("general", 0, 10); len(got) != 2 {
		t.Fatalf("history after failed migration: %v", seqs(got))
	}
}

// TestMigrateV3Events: rows a v3 database holds get their target from the
// stored JSON (an event's, not a message's), so EventsOf finds them.
func TestMigrateV3Events(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	_, conn := rawDBAt(t, path, 3)
	ctx := context.Background()
	_, err := conn.ExecContext(ctx, `
INSERT INTO rooms (key, name, last_seq) VALUES ('general', 'general', 3);
INSERT INTO messages (room, seq, id, client_id, from_id, from_name, ts, body) VALUES
 ('general', 1, 'a1', 'c-1', 'm-1', 'Alice', 1000, '{"type":"message","room":"general","seq":1,"id":"a1","from":{"id":"m-1","name":"Alice"},"text":"one","ts":1000,"client_id":"c-1"}'),
 ('general', 2, 'a2', 'c-2', 'm-2', 'Bob', 2000, '{"type":"reaction","room":"general","seq":2,"id":"a2","from":{"id":"m-2","name":"Bob"},"text":"","ts":2000,"client_id":"c-2","target":1,"emoji":"👍"}'),
 ('general', 3, 'a3', 'c-3', 'm-2', 'Bob', 3000, '{"type":"message","room":"general","seq":3,"id":"a3","from":{"id":"m-2","name":"Bob"},"text":"x","ts":3000,"client_id":"c-3","target":1}');
`)
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	evs, err := s.EventsOf("general", 1)
	if err != nil || !slices.Equal(seqs(evs), []uint64{2}) || evs[0].Emoji != "👍" {
		t.Fatalf("events of 1 after the migration: %+v, %v", evs, err)
	}
}
