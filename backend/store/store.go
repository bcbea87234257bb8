// Package store keeps a host's rooms and messages in an embedded SQLite
// database (modernc.org/sqlite: pure Go, no cgo) in the data dir. It
// implements chat.Store.
//
// Every room argument is the room's key (chat.StoredRoom.Key), which stays
// the same when the room is renamed.
//
// Durability: the database runs in WAL mode. Every write goes through one
// writer goroutine that commits concurrent appends (of one room or of
// several) in one transaction (group commit). Append returns only after its transaction
// has committed, so the hub's ack always follows durability. With Full (the
// default) the commit includes an fsync of the WAL: an acknowledged message
// survives a crash of the process, of the operating system and a power loss.
// With Process, SQLite runs synchronous=NORMAL: the commit is in the WAL file
// (in the kernel's page cache) but not yet synced, so an acknowledged message
// survives kill -9 and a panic, but not a power loss. See docs/architecture.md.
package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite" // registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"

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

	// CommitDelay is how long the writer waits for more writes before it
	// commits, when writes are streaming in: the previous commit ended less
	// than CommitDelay before. Each commit at full durability syncs the WAL
	// (a blocking system call that holds one of the Go runtime's Ps while it
	// lasts, the only one on a one-core host), so committing what arrives
	// within a few milliseconds together costs one sync instead of one per
	// message. A lone write after a pause never waits. Default 5 ms at full
	// durability, none at process durability (whose commits do not sync);
	// a negative value never waits.
	CommitDelay time.Duration

	Now    func() time.Time // the retention clock; default time.Now
	Logger *slog.Logger

	pruneBatch int  // most messages deleted per transaction; default 500
	noJanitor  bool // retention runs only when Prune is called
}

// DefaultCommitDelay is Options.CommitDelay at full durability.
const DefaultCommitDelay = 5 * time.Millisecond

// Errors.
var (
	ErrClosed   = errors.New("store: closed")
	ErrReadOnly = errors.New("store: opened read-only")
	ErrTooNew   = errors.New("store: database written by a newer lanchat")
)

// Store is a SQLite-backed chat.Store. Its methods are safe for concurrent use.
type Store struct {
	opts  Options
	path  string
	read  *sql.DB
	ro    bool
	epoch string

	// writer side (nil when read-only)
	write  *sql.DB
	wconn  *sql.Conn
	ops    chan *op
	stop   context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	closed sync.Once
	cerr   error

	stmts   writeStmts
	commits atomic.Uint64 // transactions the writer ran (a batch retried op by op counts once)
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
	if opts.CommitDelay == 0 && opts.Durability != Process {
		opts.CommitDelay = DefaultCommitDelay
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
	if s.epoch, err = initEpoch(ctx, s.wconn); err != nil {
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
	// A database of schema 2 has no epoch yet: the host gives it one the
	// next time it opens it.
	var epoch string
	_ = r.QueryRow(`SELECT value FROM meta WHERE key = 'epoch'`).Scan(&epoch)
	return &Store{path: path, read: r, ro: true, epoch: epoch, opts: Options{Now: time.Now, Logger: slog.Default()}}, nil
}

// initEpoch gives the database its epoch if it has none yet and returns it.
func initEpoch(ctx context.Context, c *sql.Conn) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	if _, err := c.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('epoch', ?) ON CONFLICT (key) DO NOTHING`,
		hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("epoch: %w", err)
	}
	var epoch string
	if err := c.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'epoch'`).Scan(&epoch); err != nil {
		return "", fmt.Errorf("epoch: %w", err)
	}
	return epoch, nil
}

// Epoch names the history in this database: 16 random hex digits chosen
// when the database was created (or first opened by a build that has
// epochs), the same for as long as the file is kept. A read-only store of a
// database that has none yet returns "".
func (s *Store) Epoch() string { return s.epoch }

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
       topic, flags, closed, pinned
FROM rooms r ORDER BY rowid`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.StoredRoom
	for rows.Next() {
		var r chat.StoredRoom
		var flags string
		var pinned sql.NullString
		if err := rows.Scan(&r.Key, &r.Name, &r.LastSeq, &r.Topic, &flags, &r.Closed, &pinned); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(flags), &r.Flags); err != nil {
			return nil, fmt.Errorf("room %q flags: %w", r.Key, err)
		}
		if pinned.Valid {
			r.Pinned = new(protocol.Message)
			if err := json.Unmarshal([]byte(pinned.String), r.Pinned); err != nil {
				return nil, fmt.Errorf("room %q pinned message: %w", r.Key, err)
			}
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
	var pinned sql.NullString
	if r.Pinned != nil {
		b, err := json.Marshal(r.Pinned)
		if err != nil {
			return err
		}
		pinned = sql.NullString{String: string(b), Valid: true}
	}
	return s.do(func(st *writeStmts) error {
		_, err := st.saveRoom.Exec(r.Key, r.Name, r.LastSeq, r.Topic, string(flags), r.Closed, pinned)
		return err
	})
}

// Append stores m as the next message of room (the room's key) and returns
// it as stored, once it is durable (see Durability). The store hands out the
// seq: the room's last seq plus one, taken inside the writer's transaction,
// so appends to one room may run concurrently and are committed together.
// When the room still keeps a message sent with m.ClientID, the unique index
// on (room, client_id) refuses the insert: nothing is stored, no seq is used
// and Append returns the kept message with dup true.
func (s *Store) Append(room string, m protocol.Message) (protocol.Message, bool, error) {
	var res appended
	if err := s.do(appendOp(room, m, &res)); err != nil {
		return protocol.Message{}, false, err
	}
	return res.msg, res.dup, nil
}

// appended is what an append op stored, or found already stored (dup).
type appended struct {
	msg protocol.Message
	dup bool
}

// appendOp is the writer's part of Append: it runs inside the batch's
// transaction and leaves its result in res.
func appendOp(room string, m protocol.Message, res *appended) func(*writeStmts) error {
	var clientID any
	if m.ClientID != "" {
		clientID = m.ClientID
	}
	return func(st *writeStmts) error {
		// Set on every run: a batch that failed is retried op by op, and
		// the retry takes a fresh seq.
		*res = appended{}
		msg := m
		if err := st.nextSeq.QueryRow(room).Scan(&msg.Seq); err != nil {
			return err
		}
		body, err := json.Marshal(msg)
		if err != nil {
			return err
		}
		// A failed statement undoes only itself: the transaction, and the
		// other appends in it, carry on, and the seq was not recorded.
		if _, err := st.insertMsg.Exec(room, msg.Seq, msg.ID, clientID, msg.From.ID, msg.From.Name, msg.TS, string(body)); err != nil {
			if clientID == nil || !isConstraint(err) {
				return err
			}
			kept, found, qerr := scanMessage(st.byClientID.QueryRow(room, clientID))
			if qerr != nil {
				return errors.Join(err, qerr)
			}
			if !found {
				return err // a constraint other than the client id's
			}
			*res = appended{msg: kept, dup: true}
			return nil
		}
		if _, err := st.setSeq.Exec(room, msg.Seq); err != nil {
			return err
		}
		res.msg = msg
		return nil
	}
}

// isConstraint reports whether err is SQLite refusing a write for a
// constraint (UNIQUE and the like).
func isConstraint(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_CONSTRAINT
}

// scanMessage decodes the body in row; found is false when there is none.
func scanMessage(row *sql.Row) (m protocol.Message, found bool, err error) {
	var body []byte
	if err := row.Scan(&body); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return m, false, nil
		}
		return m, false, err
	}
	if err := json.Unmarshal(body, &m); err != nil {
		return m, false, fmt.Errorf("stored message: %w", err)
	}
	return m, true, nil
}

// MarkDeleted turns message seq of room (its key) into a tombstone: "deleted" set and
// the text (and a poll's options) emptied in the stored message, so Since and Last return it that
// way; its edits lose their text too. A message no longer kept (or never stored) is left alone.
func (s *Store) MarkDeleted(room string, seq uint64) error {
	return s.do(func(st *writeStmts) error {
		if _, err := st.markDeleted.Exec(room, seq); err != nil {
			return err
		}
		_, err := st.markEdits.Exec(room, seq)
		return err
	})
}

// eventsOfQuery finds a message's events through messages_target: "+seq"
// sorts the few it finds, where a plain ORDER BY seq makes SQLite walk the
// whole room in seq order instead.
const eventsOfQuery = `SELECT body FROM messages WHERE room = ? AND target = ? ORDER BY +seq`

// EventsOf returns the events (reactions, edits, votes, a poll's closing)
// acting on message target of room, oldest first.
func (s *Store) EventsOf(room string, target uint64) ([]protocol.Message, error) {
	msgs, _, err := s.query(room, eventsOfQuery, target)
	return msgs, err
}

// ByClientID returns the message of room kept under clientID, if any.
func (s *Store) ByClientID(room, clientID string) (protocol.Message, bool, error) {
	return scanMessage(s.read.QueryRow(`SELECT body FROM messages WHERE room = ? AND client_id = ?`, room, clientID))
}

// Since returns up to limit messages of room (its key) with seq > after, oldest first,
// and the first seq still kept (0 if none).
func (s *Store) Since(room string, after uint64, limit int) ([]protocol.Message, uint64, error) {
	return s.query(room, `SELECT body FROM messages WHERE room = ? AND seq > ? ORDER BY seq LIMIT ?`, after, limit)
}

// Last returns up to n newest messages of room (its key), oldest first, and the first
// seq kept.
func (s *Store) Last(room string, n int) ([]protocol.Message, uint64, error) {
	return s.query(room, `SELECT body FROM (SELECT seq, body FROM messages WHERE room = ? ORDER BY seq DESC LIMIT ?) ORDER BY seq`, n)
}

func (s *Store) query(key, q string, args ...any) ([]protocol.Message, uint64, error) {
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

// FileName is the history database's name inside a host's data dir.
const FileName = "history.db"

// PathIn is the history database of the data dir dir.
func PathIn(dir string) string { return filepath.Join(dir, FileName) }
