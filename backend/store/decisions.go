package store

import (
	"database/sql"
	"errors"

	"lanchat/backend/chat"
)

// A host on its own keeps one decision across a restart: the join code the
// host set, so that a class that needs one still needs it after the host's
// computer restarts. Bans, mutes and co-hosts hold for the host's session
// (the UI says so) and end with it; a cluster keeps its decisions in the
// cluster's own store.

const metaJoinCode = "join_code"

// Decide keeps the join code (an empty one removes it); other decisions
// are not kept.
func (s *Store) Decide(d chat.Decision) error {
	if d.Kind != chat.DecideJoinCode {
		return nil
	}
	return s.do(func(w *writeStmts) error {
		_, err := w.setMeta.Exec(metaJoinCode, d.Value)
		return err
	})
}

// WatchDecisions calls apply with the join code kept, if there is one.
// Nothing comes later: a host on its own makes its decisions itself.
func (s *Store) WatchDecisions(apply func(d chat.Decision, live bool)) (stop func()) {
	var code string
	err := s.read.QueryRow(`SELECT value FROM meta WHERE key = ?`, metaJoinCode).Scan(&code)
	switch {
	case err == nil && code != "":
		apply(chat.Decision{Kind: chat.DecideJoinCode, Value: code}, false)
	case err != nil && !errors.Is(err, sql.ErrNoRows):
		s.opts.Logger.Warn("the join code kept in the history could not be read", "err", err)
	}
	return func() {}
}
