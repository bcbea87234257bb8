package store

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations[i] takes the schema from version i to version i+1. The version
// lives in SQLite's user_version header field and moves in the same
// transaction as the migration, so a crash mid-migration leaves the previous
// version intact. Never edit a released migration: append a new one.
var migrations = []string{
	// v1: rooms, and messages with their indexed columns plus the full
	// protocol.Message JSON (body), so fields added to the protocol later
	// are kept without a migration.
	`
CREATE TABLE rooms (
	key      TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	last_seq INTEGER NOT NULL DEFAULT 0,
	topic    TEXT NOT NULL DEFAULT '',
	flags    TEXT NOT NULL DEFAULT '{}',
	closed   INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE messages (
	room      TEXT NOT NULL,
	seq       INTEGER NOT NULL,
	id        TEXT NOT NULL,
	client_id TEXT,
	from_id   TEXT NOT NULL,
	from_name TEXT NOT NULL,
	ts        INTEGER NOT NULL,
	body      TEXT NOT NULL,
	UNIQUE (room, seq)
);
CREATE UNIQUE INDEX messages_client ON messages (room, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_ts ON messages (ts);
`,
	// v2: moderation and private messages. deleted marks a tombstone (the
	// message's text is gone, its seq stays); recipient is the member id a
	// private message is addressed to. Both are derived from body, so rows
	// written by v1 (or by a build that stored the fields only in the JSON)
	// are filled in from it.
	`
ALTER TABLE messages ADD COLUMN deleted INTEGER NOT NULL DEFAULT 0;
ALTER TABLE messages ADD COLUMN recipient TEXT;
UPDATE messages SET
	deleted = coalesce(json_extract(body, '$.deleted'), 0) != 0,
	recipient = CASE json_type(body, '$.to')
		WHEN 'object' THEN json_extract(body, '$.to.id')
		WHEN 'text' THEN json_extract(body, '$.to') END;
CREATE INDEX messages_recipient ON messages (recipient, ts) WHERE recipient IS NOT NULL;
`,
	// v3: facts about the database itself. The host stores the history's
	// epoch here (key 'epoch') when it opens the database.
	`
CREATE TABLE meta (
	key   TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
`,
	// v4: message search. messages_fts indexes the text of every message
	// that is not a tombstone under the message's rowid: words folded to
	// lower case without accents (unicode61, remove_diacritics 2), so
	// "avaliacao" finds "Avaliação". It keeps no copy of the text
	// (contentless); triggers keep it in step with inserts, updates
	// (a delete turns a message into a tombstone) and deletions
	// (retention), inside the writing transaction.
	`
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='', contentless_delete=1,
	tokenize='unicode61 remove_diacritics 2');
INSERT INTO messages_fts (rowid, text)
	SELECT rowid, json_extract(body, '$.text') FROM messages
	WHERE deleted = 0 AND coalesce(json_extract(body, '$.text'), '') != '';
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages
	WHEN new.deleted = 0 AND coalesce(json_extract(new.body, '$.text'), '') != '' BEGIN
	INSERT INTO messages_fts (rowid, text) VALUES (new.rowid, json_extract(new.body, '$.text'));
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
	DELETE FROM messages_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted ON messages BEGIN
	DELETE FROM messages_fts WHERE rowid = old.rowid;
	INSERT INTO messages_fts (rowid, text)
		SELECT new.rowid, json_extract(new.body, '$.text')
		WHERE new.deleted = 0 AND coalesce(json_extract(new.body, '$.text'), '') != '';
END;
`,
	// v5: a room's pinned message, as the protocol.Message JSON it had
	// when pinned; NULL when nothing is pinned.
	`
ALTER TABLE rooms ADD COLUMN pinned TEXT;
`,
	// v6: conversations. target is the seq of the message an event (a
	// reaction, an edit, a vote, a poll's closing) acts on, derived from
	// body, so the events of one message are found without reading the
	// room's log after it, and a deleted message's edits are found to be
	// masked with it.
	`
ALTER TABLE messages ADD COLUMN target INTEGER;
UPDATE messages SET target = ` + targetOf("body") + `;
CREATE INDEX messages_target ON messages (room, target) WHERE target IS NOT NULL;
`,
	// v7: search finds a message by the words it has now. messages_fts
	// holds, under each message's rowid (a message or a poll: not an
	// event, not a tombstone), its current text: its newest edit's (as
	// chat.Fold reads it: by its author, not masked by a delete), else its
	// own. Edits are no longer indexed under their own rowids. An edit
	// inserted, changed (masked by a delete) or pruned re-indexes the
	// message it acts on. The migration takes the edits out of the index
	// and re-indexes the messages they edited.
	`
DROP TRIGGER messages_fts_insert;
DROP TRIGGER messages_fts_update;
DROP TRIGGER messages_fts_delete;
DELETE FROM messages_fts WHERE rowid IN (SELECT rowid FROM messages WHERE ` + isEdit("messages") + `);
` + reindex(`(m.room, m.seq) IN (SELECT e.room, e.target FROM messages e WHERE `+isEdit("e")+`)`) + `;
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages WHEN new.target IS NULL BEGIN
	` + indexNow("m.rowid = new.rowid") + `;
END;
CREATE TRIGGER messages_fts_edit AFTER INSERT ON messages WHEN ` + isEdit("new") + ` BEGIN
	` + reindex("m.room = new.room AND m.seq = new.target") + `;
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF body, deleted ON messages
	WHEN new.target IS NULL OR ` + isEdit("new") + ` BEGIN
	` + reindex("m.room = new.room AND m.seq = coalesce(new.target, new.seq)") + `;
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages WHEN old.target IS NULL BEGIN
	DELETE FROM messages_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER messages_fts_unedit AFTER DELETE ON messages WHEN ` + isEdit("old") + ` BEGIN
	` + reindex("m.room = old.room AND m.seq = old.target") + `;
END;
`,
}

// isEdit, textNow, indexNow and reindex build migration 7 (and Search
// reads with textNow): change them only together with a new migration.

// isEdit is the SQL condition that the messages row a (a table alias, or
// new or old in a trigger) is an edit.
func isEdit(a string) string {
	return `json_extract(` + a + `.body, '$.type') = 'edited'`
}

// textNow is the SQL expression for the text the message in row a shows
// now, as chat.Fold reads it: its newest edit's by its author that a delete
// did not mask, else its own. The unary + keeps the planner from walking
// the room in seq order (sqlite_autoindex_messages_1) to save a sort:
// messages_target finds the message's few events directly.
func textNow(a string) string {
	return `coalesce((SELECT json_extract(e.body, '$.text') FROM messages e
		WHERE e.room = ` + a + `.room AND e.target = ` + a + `.seq AND ` + isEdit("e") + `
		AND e.from_id = ` + a + `.from_id AND e.deleted = 0
		ORDER BY +e.seq DESC LIMIT 1), json_extract(` + a + `.body, '$.text'))`
}

// indexNow is the SQL statement that indexes the current text (textNow) of
// the messages m matching the condition where, leaving out events,
// tombstones and messages without text.
func indexNow(where string) string {
	return `INSERT INTO messages_fts (rowid, text) SELECT rowid, text FROM (
		SELECT m.rowid, ` + textNow("m") + ` AS text FROM messages m
		WHERE m.target IS NULL AND m.deleted = 0 AND ` + where + `)
	WHERE coalesce(text, '') != ''`
}

// reindex is the SQL statements that index afresh (indexNow) the messages
// m matching the condition where.
func reindex(where string) string {
	return `DELETE FROM messages_fts WHERE rowid IN (SELECT m.rowid FROM messages m WHERE ` + where + `);
	` + indexNow(where)
}

// targetOf is the SQL expression deriving the v6 column target from a
// message's JSON body b: the target of an event, NULL for a message.
func targetOf(b string) string {
	return `CASE WHEN json_extract(` + b + `, '$.type') IN ('reaction', 'edited', 'vote', 'poll_closed') THEN json_extract(` + b + `, '$.target') END`
}

// deletedOf and recipientOf are the SQL expressions deriving the v2 columns
// from a message's JSON body b (a column or a parameter), as migration 2 does. A recipient is
// written either as a member object {"to":{"id":…}} or as a bare member id
// {"to":"m-…"}.
func deletedOf(b string) string {
	return `coalesce(json_extract(` + b + `, '$.deleted'), 0) != 0`
}

func recipientOf(b string) string {
	return `CASE json_type(` + b + `, '$.to') WHEN 'object' THEN json_extract(` + b + `, '$.to.id') WHEN 'text' THEN json_extract(` + b + `, '$.to') END`
}

// SchemaVersion is the schema version this build writes.
var SchemaVersion = len(migrations)

func userVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

// migrate brings the database on conn up to version target, one migration
// per transaction. A database newer than this build is refused rather than
// written with an older idea of the schema.
func migrate(ctx context.Context, conn *sql.Conn, target int) error {
	v, err := userVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if v > len(migrations) {
		return fmt.Errorf("%w: the database has schema version %d, this build knows up to %d", ErrTooNew, v, len(migrations))
	}
	for ; v < target; v++ {
		if err := apply(ctx, conn, v); err != nil {
			return fmt.Errorf("migrate schema to version %d: %w", v+1, err)
		}
	}
	return nil
}

func apply(ctx context.Context, conn *sql.Conn, from int) error {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if _, err := conn.ExecContext(ctx, migrations[from]); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", from+1)); err != nil {
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
		return err
	}
	_, err := conn.ExecContext(ctx, "COMMIT")
	return err
}
