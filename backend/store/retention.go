package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Prune deletes the messages the retention options no longer keep and
// returns how many it deleted. Rooms and their last seq stay: numbering
// continues after deleted messages, and Since/Last report the new first seq.
func (s *Store) Prune(ctx context.Context) (int64, error) {
	// Each transaction deletes at most pruneBatch messages, so appends
	// queued behind it wait only briefly.
	batch := s.opts.pruneBatch
	var total int64
	drain := func(st func(*writeStmts) (int64, error)) error {
		for {
			if err := ctx.Err(); err != nil {
				return err
			}
			var n int64
			err := s.do(func(w *writeStmts) (err error) {
				n, err = st(w)
				return err
			})
			total += n
			if err != nil || n < int64(batch) {
				return err
			}
		}
	}
	if s.opts.MaxAge > 0 {
		cutoff := s.opts.Now().Add(-s.opts.MaxAge).UnixMilli()
		if err := drain(func(w *writeStmts) (int64, error) {
			res, err := w.pruneOld.Exec(cutoff, batch)
			if err != nil {
				return 0, err
			}
			return res.RowsAffected()
		}); err != nil {
			return total, err
		}
	}
	if s.opts.KeepPerRoom > 0 {
		rooms, err := s.Rooms()
		if err != nil {
			return total, err
		}
		for _, r := range rooms {
			// The newest seq to delete: the (KeepPerRoom+1)-th newest.
			var upTo uint64
			err := s.read.QueryRowContext(ctx, `SELECT seq FROM messages WHERE room = ? ORDER BY seq DESC LIMIT 1 OFFSET ?`,
				r.Key, s.opts.KeepPerRoom).Scan(&upTo)
			if errors.Is(err, sql.ErrNoRows) {
				continue // no more messages than kept
			}
			if err != nil {
				return total, err
			}
			if err := drain(func(w *writeStmts) (int64, error) {
				res, err := w.pruneRoom.Exec(r.Key, upTo, batch)
				if err != nil {
					return 0, err
				}
				return res.RowsAffected()
			}); err != nil {
				return total, err
			}
		}
	}
	return total, nil
}

// janitor runs Prune now and every PruneEvery until ctx ends.
func (s *Store) janitor(ctx context.Context) {
	t := time.NewTicker(s.opts.PruneEvery)
	defer t.Stop()
	for {
		n, err := s.Prune(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			s.opts.Logger.Warn("history retention failed", "err", err)
		case n > 0:
			s.opts.Logger.Info("history retention deleted old messages", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
