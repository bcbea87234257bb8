package store

import (
	"database/sql"
	"errors"

	"lanchat/backend/chat"
)

// A host on its own keeps two decisions across a restart: the join code the
// host set, so that a class that needs one still needs it after the host's
// computer restarts, and the newest announcements, which members who
// connect later still get. Bans, mutes and co-hosts hold for the host's
// session (the UI says so) and end with it; a cluster keeps its decisions
// in the cluster's own store.

// kept maps the decisions kept to their key in the meta table.
var kept = map[string]string{
	chat.DecideJoinCode:      "join_code",
	chat.DecideAnnouncements: "announcements",
}

// Decide keeps the join code (an empty one removes it) and the
// announcements; other decisions are not kept.
func (s *Store) Decide(d chat.Decision) error {
	key, ok := kept[d.Kind]
	if !ok {
		return nil
	}
	return s.do(func(w *writeStmts) error {
		_, err := w.setMeta.Exec(key, d.Value)
		return err
	})
}

// WatchDecisions calls apply with the join code and the announcements
// kept, if there are any. Nothing comes later: a host on its own makes its
// decisions itself.
func (s *Store) WatchDecisions(apply func(d chat.Decision, live bool)) (stop func()) {
	for _, kind := range []string{chat.DecideJoinCode, chat.DecideAnnouncements} {
		var value string
		err := s.read.QueryRow(`SELECT value FROM meta WHERE key = ?`, kept[kind]).Scan(&value)
		switch {
		case err == nil && value != "":
			apply(chat.Decision{Kind: kind, Value: value}, false)
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			s.opts.Logger.Warn("a decision kept in the history could not be read", "kind", kind, "err", err)
		}
	}
	return func() {}
}
