package store

import (
	"encoding/json"
	"fmt"
	"strings"

	"lanchat/backend/chat"
)

var _ chat.Searcher = (*Store)(nil)

// Search returns up to limit messages of the rooms (keys) whose text has
// every term as the start of one of its words (terms as
// protocol.SearchTerms makes them), newest first (in the order they were
// stored). Tombstones are never found: deleting a message takes it out of
// the index (messages_fts, schema version 4), and so does retention. The
// index holds each message's current text (schema version 7): an edited
// message is found by its newest edit's words, and returned with them as
// its Text; edits are never results of their own.
func (s *Store) Search(terms, rooms []string, limit int) ([]chat.Found, error) {
	if len(terms) == 0 || len(rooms) == 0 || limit <= 0 {
		return nil, nil
	}
	keys, err := json.Marshal(rooms)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.Query(`
SELECT m.room, m.body, coalesce(`+textNow("m")+`, '') FROM messages_fts f JOIN messages m ON m.rowid = f.rowid
WHERE messages_fts MATCH ?1
  AND m.room IN (SELECT value FROM json_each(?2))
  AND m.deleted = 0 AND m.recipient IS NULL
ORDER BY f.rowid DESC LIMIT ?3`, ftsQuery(terms), string(keys), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []chat.Found
	for rows.Next() {
		var f chat.Found
		var body []byte
		var text string
		if err := rows.Scan(&f.Room, &body, &text); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(body, &f.Message); err != nil {
			return nil, fmt.Errorf("room %q: stored message: %w", f.Room, err)
		}
		f.Message.Text = text
		out = append(out, f)
	}
	return out, rows.Err()
}

// ftsQuery is the FTS5 query for terms: each a quoted string (a double
// quote inside doubled, so nothing in a term is FTS5 syntax) matched as a
// prefix, all of them required.
func ftsQuery(terms []string) string {
	parts := make([]string, len(terms))
	for i, t := range terms {
		parts[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"*`
	}
	return strings.Join(parts, " AND ")
}
