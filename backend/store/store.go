// Package store keeps a host's rooms and messages in an embedded SQLite
// database (modernc.org/sqlite: pure Go, no cgo) in the data dir. It
// implements chat.Store.
//
// Durability: the database runs in WAL mode. Every write goes through one
// writer goroutine that commits concurrent appends (from different rooms) in
// one transaction (group commit). Append returns only after its transaction
// has committed, so the hub's ack always follows durability. With Full (the
// default) the commit includes an fsync of the WAL: an acknowledged message
// survives a crash of the process, of the operating system and a power loss.
// With Process, SQLite runs synchronous=NORMAL: the commit is in the WAL file
// (in the kernel's page cache) but not yet synced, so an acknowledged message
// survives kill -9 and a panic, but not a power loss. See docs/architecture.md.
package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Durability says when an appended message counts as stored.
type Durability int

const (
	// Full syncs every commit to stable storage: an acknowledged message
	// survives a process crash, an OS crash and a power loss.
	Full Durability = iota
	// Process leaves syncing to checkpoints: an acknowledged message survives
	// the process dying (kill -9, panic) but not the machine losing power.
	Process
)

func (d Durability) String() string {
	if d == Process {
		return "process"
	}
	return "full"
}

// ParseDurability reads "full" or "process".
func ParseDurability(s string) (Durability, error) {
	switch s {
	case "full", "":
		return Full, nil
	case "process":
		return Process, nil
	}
	return Full, fmt.Errorf("durability %q: want full or process", s)
}

// Options tune a Store. The zero value keeps everything with Full durability.
type Options struct {
	Durability Durability

	// Retention: messages older than MaxAge, and all but the newest
	// KeepPerRoom messages of each room, are deleted in the background.
	// Zero keeps everything.
	MaxAge      time.Duration
	KeepPerRoom int
	// PruneEvery is how often retention runs; default 10 minutes. It also
	// runs right after Open.
	PruneEvery time.Duration

	// MaxBatch is the most writes committed in one transaction; default
	// 256. 1 commits every append on its own.
	MaxBatch int

	Now    func() time.Time // the retention clock; default time.Now
	Logger *slog.Logger

	pruneBatch int  // most messages deleted per transaction; default 500
	noJanitor  bool // retention runs only when Prune is called
}

// Errors.
var (
	ErrClosed   = errors.New("store: closed")
	ErrReadOnly = errors.New("store: opened read-only")
	ErrTooNew   = errors.New("store: database written by a newer lanchat")
	// ErrSeq means an append did not continue its room's seq: the store
	// refuses to leave a gap or reuse a number.
	ErrSeq = errors.New("store: seq does not follow the room's last seq")
)

// Store is a SQLite-backed chat.Store. Its methods are safe for concurrent use.
type Store struct {
	opts Options
	path string
	read *sql.DB
	ro   bool

	// writer side (nil when read-only)
	write  *sql.DB
	wconn  *sql.Conn
	ops    chan *op
	stop   context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	closed sync.Once
	cerr   error

	stmts writeStmts
}

var _ chat.Store = (*Store)(nil)

func dsn(path string, extra url.Values) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	for k, vs := range extra {
		for _, v := range vs {
			q.Add(k, v)
		}
	}
	// A plain path, not a file: URI: the driver takes its parameters from
	// the query and hands SQLite the path as the OS spells it (Windows
	// drive letters and backslashes, spaces, '%').
	return path + "?" + q.Encode()
}

// Open opens (creating if needed) the database at path, migrates it to the
// current schema and starts the writer and, when retention is set, the
// background pruning. Close stops them.
func Open(path string, opts Options) (*Store, error) {
	if opts.PruneEvery <= 0 {
		opts.PruneEvery = 10 * time.Minute
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 256
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.pruneBatch <= 0 {
		opts.pruneBatch = 500
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	syncMode := "FULL"
	if opts.Durability == Process {
		syncMode = "NORMAL"
	}
	w, err := sql.Open("sqlite", dsn(path, url.Values{"_pragma": {
		"journal_mode(WAL)", "synchronous(" + syncMode + ")", "foreign_keys(1)",
	}}))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Store{opts: opts, path: path, write: w, ops: make(chan *op), ctx: ctx, stop: cancel}
	fail := func(err error) (*Store, error) {
		cancel()
		if s.wconn != nil {
			_ = s.wconn.Close()
		}
		_ = w.Close()
		if s.read != nil {
			_ = s.read.Close()
		}
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	s.wconn, err = w.Conn(ctx)
	if err != nil {
		return fail(err)
	}
	var mode string
	if err := s.wconn.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return fail(err)
	}
	if mode != "wal" {
		return fail(fmt.Errorf("journal mode is %q, not wal", mode))
	}
	if err := migrate(ctx, s.wconn, len(migrations)); err != nil {
		return fail(err)
	}
	if err := s.stmts.prepare(ctx, s.wconn); err != nil {
		return fail(err)
	}
	s.read, err = sql.Open("sqlite", dsn(path, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		return fail(err)
	}
	s.read.SetMaxIdleConns(4)
	if err := s.read.PingContext(ctx); err != nil {
		return fail(err)
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.writer()
	}()
	if (opts.MaxAge > 0 || opts.KeepPerRoom > 0) && !opts.noJanitor {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.janitor(ctx)
		}()
	}
	return s, nil
}

// OpenReadOnly opens an existing database for reading only (for export, while
// a host may be running on it). It neither creates nor migrates anything.
func OpenReadOnly(path string) (*Store, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, err
	}
	r, err := sql.Open("sqlite", dsn(path, url.Values{"_pragma": {"query_only(1)"}}))
	if err != nil {
		return nil, err
	}
	v, err := userVersion(context.Background(), r)
	if err == nil && v == 0 {
		err = errors.New("not a lanchat history database")
	}
	if err == nil && v > SchemaVersion {
		err = fmt.Errorf("%w: schema version %d, this build knows up to %d", ErrTooNew, v, SchemaVersion)
	}
	if err != nil {
		_ = r.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{path: path, read: r, ro: true, opts: Options{Now: time.Now, Logger: slog.Default()}}, nil
}

// Path is the database file.
func (s *Store) Path() string { return s.path }

// Close stops the background work, waits for it and closes the database.
// Writes still queued complete first; later ones get ErrClosed.
func (s *Store) Close() error {
	s.closed.Do(func() {
		if s.ro {
			s.cerr = s.read.Close()
			return
		}
		s.stop()
		s.wg.Wait()
		s.stmts.close()
		errs := []error{s.wconn.Close(), s.read.Close(), s.write.Close()}
		s.cerr = errors.Join(errs...)
	})
	return s.cerr
}

// Rooms returns every room in creation order with its last seq.
func (s *Store) Rooms() ([]chat.StoredRoom, error) {
	rows, err := s.read.Query(`
SELECT key, name, max(last_seq, coalesce((SELECT max(seq) FROM messages m WHERE m.room = r.key), 0)),
       topic, flags, closed
FROM rooms r ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.StoredRoom
	for rows.Next() {
		var r chat.StoredRoom
		var flags string
		if err := rows.Scan(&r.Key, &r.Name, &r.LastSeq, &r.Topic, &flags, &r.Closed); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(flags), &r.Flags); err != nil {
			return nil, fmt.Errorf("room %q flags: %w", r.Key, err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// SaveRoom creates or updates a room. It never lowers the room's last seq,
// whatever r.LastSeq says: seq numbers are never handed out twice.
func (s *Store) SaveRoom(r chat.StoredRoom) error {
	if r.Key == "" {
		r.Key = protocol.RoomKey(r.Name)
	}
	flags, err := json.Marshal(r.Flags)
	if err != nil {
		return err
	}
	return s.do(func(st *writeStmts) error {
		_, err := st.saveRoom.Exec(r.Key, r.Name, r.LastSeq, r.Topic, string(flags), r.Closed)
		return err
	})
}

// Append stores m and returns once it is durable (see Durability). m.Seq
// must be the room's last seq plus one.
func (s *Store) Append(m protocol.Message) error {
	key := protocol.RoomKey(m.Room)
	body, err := json.Marshal(m)
	if err != nil {
		return err
	}
	var clientID any
	if m.ClientID != "" {
		clientID = m.ClientID
	}
	return s.do(func(st *writeStmts) error {
		if _, err := st.ensureRoom.Exec(key, m.Room); err != nil {
			return err
		}
		res, err := st.bumpSeq.Exec(m.Seq, key)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("%w: room %q, seq %d", ErrSeq, key, m.Seq)
		}
		_, err = st.insertMsg.Exec(key, m.Seq, m.ID, clientID, m.From.ID, m.From.Name, m.TS, string(body))
		return err
	})
}

// MarkDeleted turns message seq of room into a tombstone: "deleted" set and
// the text emptied in the stored message, so Since and Last return it that
// way. A message no longer kept (or never stored) is left alone.
func (s *Store) MarkDeleted(room string, seq uint64) error {
	return s.do(func(st *writeStmts) error {
		_, err := st.markDeleted.Exec(protocol.RoomKey(room), seq)
		return err
	})
}

// Since returns up to limit messages of room with seq > after, oldest first,
// and the first seq still kept (0 if none).
func (s *Store) Since(room string, after uint64, limit int) ([]protocol.Message, uint64, error) {
	return s.query(room, `SELECT body FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// Last returns up to n newest messages of room, oldest first, and the first
// seq kept.
func (s *Store) Last(room string, n int) ([]protocol.Message, uint64, error) {
	return s.query(room, `SELECT body FROM (SELECT seq, body FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`, n)
}

func (s *Store) query(room, q string, args ...any) ([]protocol.Message, uint64, error) {
	key := protocol.RoomKey(room)
	// One read transaction: the first seq and the rows agree even while
	// retention deletes.
	tx, err := s.read.BeginTx(context.Background(), &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, 0, err
	}
	defer tx.Rollback()
	var first sql.NullInt64
	if err := tx.QueryRow(`SELECT min(seq) FROM messages WHERE room = ?`, key).Scan(&first); err != nil {
		return nil, 0, err
	}
	rows, err := tx.Query(q, append([]any{key}, args...)...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	var out []protocol.Message
	var body []byte
	for rows.Next() {
		if err := rows.Scan(&body); err != nil {
			return nil, 0, err
		}
		var m protocol.Message
		if err := json.Unmarshal(body, &m); err != nil {
			return nil, 0, fmt.Errorf("room %q: stored message: %w", key, err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	return out, uint64(first.Int64), nil
}

// ByClientID finds a kept message of room sent with clientID.
func (s *Store) ByClientID(room, clientID string) (protocol.Message, bool, error) {
	var body []byte
	err := s.read.QueryRow(`SELECT body FROM messages WHERE room = ? AND client_id = ?`, protocol.RoomKey(room), clientID).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return protocol.Message{}, false, nil
	}
	if err != nil {
		return protocol.Message{}, false, err
	}
	var m protocol.Message
	if err := json.Unmarshal(body, &m); err != nil {
		return protocol.Message{}, false, err
	}
	return m, true, nil
}

// FileName is the history database's name inside a host's data dir.
const FileName = "history.db"

// PathIn is the history database of the data dir dir.
func PathIn(dir string) string { return filepath.Join(dir, FileName) }
