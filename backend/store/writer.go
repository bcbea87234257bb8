package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// The writer goroutine owns the one write connection. Callers hand it
// operations over an unbuffered channel; it takes every operation already
// waiting (up to MaxBatch) and commits them in one transaction, so the
// appends in flight share one WAL sync (group commit), whether they go to
// one room or to several. Operations run in the order taken, so the seqs
// they hand out follow commit order. Appends that arrive while a commit
// syncs wait on the channel and make up the next batch.

type op struct {
	fn   func(*writeStmts) error
	done chan error
}

type writeStmts struct {
	nextSeq, setSeq, insertMsg, byClientID, markDeleted, saveRoom *sql.Stmt
	markEdits                                                     *sql.Stmt
	pruneOld, pruneRoom, setMeta                                  *sql.Stmt
}

func (w *writeStmts) prepare(ctx context.Context, c *sql.Conn) error {
	for _, p := range []struct {
		dst **sql.Stmt
		q   string
	}{
		// The room's next seq: after its last seq and after every message
		// kept (the two agree unless the rooms row went missing).
		{&w.nextSeq, `SELECT max(coalesce((SELECT last_seq FROM rooms WHERE key = ?1), 0),
			coalesce((SELECT max(seq) FROM messages WHERE room = ?1), 0)) + 1`},
		// Records the seq handed out, creating the room (named by its key)
		// if it is new.
		{&w.setSeq, `INSERT INTO rooms (key, name, last_seq) VALUES (?1, ?1, ?2)
			ON CONFLICT (key) DO UPDATE SET last_seq = max(rooms.last_seq, excluded.last_seq)`},
		{&w.insertMsg, `INSERT INTO messages (room, seq, id, client_id, from_id, from_name, ts, body, deleted, recipient, target)
			VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ` + deletedOf("?8") + `, ` + recipientOf("?8") + `, ` + targetOf("?8") + `)`},
		{&w.byClientID, `SELECT body FROM messages WHERE room = ? AND client_id = ?`},
		{&w.markDeleted, `UPDATE messages SET body = json_remove(json_set(body, '$.deleted', json('true'), '$.text', ''), '$.attachments', '$.options'), deleted = 1
			WHERE room = ? AND seq = ?`},
		// A deleted message's edits lose their text with it.
		{&w.markEdits, `UPDATE messages SET body = json_set(body, '$.deleted', json('true'), '$.text', ''), deleted = 1
			WHERE room = ? AND target = ? AND json_extract(body, '$.type') = 'edited'`},
		{&w.saveRoom, `INSERT INTO rooms (key, name, last_seq, topic, flags, closed, pinned) VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET name = excluded.name, last_seq = max(rooms.last_seq, excluded.last_seq),
			topic = excluded.topic, flags = excluded.flags, closed = excluded.closed, pinned = excluded.pinned`},
		{&w.pruneOld, `DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages WHERE ts < ? LIMIT ?)`},
		{&w.pruneRoom, `DELETE FROM messages WHERE rowid IN (SELECT rowid FROM messages WHERE room = ? AND seq <= ? ORDER BY seq LIMIT ?)`},
		{&w.setMeta, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`},
	} {
		st, err := c.PrepareContext(ctx, p.q)
		if err != nil {
			return err
		}
		*p.dst = st
	}
	return nil
}

func (w *writeStmts) close() {
	for _, st := range []*sql.Stmt{w.nextSeq, w.setSeq, w.insertMsg, w.byClientID, w.markDeleted, w.markEdits, w.saveRoom, w.pruneOld, w.pruneRoom, w.setMeta} {
		if st != nil {
			_ = st.Close()
		}
	}
}

// do runs fn in the writer's next transaction and returns once that
// transaction has committed (or failed).
func (s *Store) do(fn func(*writeStmts) error) error {
	if s.ro {
		return ErrReadOnly
	}
	o := &op{fn: fn, done: make(chan error, 1)}
	select {
	case s.ops <- o:
	case <-s.ctx.Done():
		return ErrClosed
	}
	return <-o.done
}

func (s *Store) writer() {
	batch := make([]*op, 0, s.opts.MaxBatch)
	var lastEnd time.Time // when the previous commit ended
	for {
		select {
		case o := <-s.ops:
			batch = append(batch[:0], o)
		case <-s.ctx.Done():
			return
		}
	fill:
		for len(batch) < s.opts.MaxBatch {
			select {
			case o := <-s.ops:
				batch = append(batch, o)
			default:
				break fill
			}
		}
		if d := s.opts.CommitDelay; d > 0 && len(batch) < s.opts.MaxBatch && time.Since(lastEnd) < d {
			batch = s.gather(batch, d)
		}
		s.commit(batch)
		s.commits.Add(1)
		lastEnd = time.Now()
		clear(batch)
	}
}

// gather adds to batch the writes that arrive within d (writes are
// streaming in: more are on their way), up to MaxBatch. The callers wait the
// same d longer for their commit; in exchange a burst of writes shares one
// WAL sync.
func (s *Store) gather(batch []*op, d time.Duration) []*op {
	t := time.NewTimer(d)
	defer t.Stop()
	for len(batch) < s.opts.MaxBatch {
		select {
		case o := <-s.ops:
			batch = append(batch, o)
		case <-t.C:
			return batch
		case <-s.ctx.Done():
			return batch // commit what was taken: its callers are waiting
		}
	}
	return batch
}

// commit runs a batch in one transaction. If any operation fails, the batch
// is rolled back and each operation is retried in a transaction of its own,
// so one bad write never fails its neighbours. The retries run in the
// batch's order and take their seqs afresh; a failed one takes none.
func (s *Store) commit(batch []*op) {
	err := s.runTx(batch)
	if err == nil || len(batch) == 1 {
		for _, o := range batch {
			o.done <- err
		}
		return
	}
	for i, o := range batch {
		o.done <- s.runTx(batch[i : i+1])
	}
}

func (s *Store) runTx(batch []*op) error {
	ctx := context.Background() // a started commit is never interrupted
	if _, err := s.wconn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	for _, o := range batch {
		if err := o.fn(&s.stmts); err != nil {
			_, rerr := s.wconn.ExecContext(ctx, "ROLLBACK")
			return errors.Join(err, rerr)
		}
	}
	if _, err := s.wconn.ExecContext(ctx, "COMMIT"); err != nil {
		// A failed COMMIT may leave the transaction open; end it.
		_, _ = s.wconn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	return nil
}
