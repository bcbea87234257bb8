package host

import (
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/export"
	"lanchat/backend/store"
)

// openHistory opens the durable history in the data dir and makes it the
// hub's store, unless the hub was given a store of its own. It returns nil
// when it opened nothing.
func openHistory(cfg Config, hc *chat.Config) (*store.Store, error) {
	if hc.Store != nil || cfg.DataDir == "" {
		return nil, nil
	}
	opts := cfg.Store
	if opts.Logger == nil {
		opts.Logger = cfg.Logger
	}
	s, err := store.Open(store.PathIn(cfg.DataDir), opts)
	if err != nil {
		return nil, err
	}
	hc.Store = s
	if hc.Decisions == nil {
		hc.Decisions = s // the join code survives a restart
	}
	return s, nil
}

// closeHistory closes the history once nothing uses it any more (the
// server, Socket.IO and discovery have stopped), keeping the first error.
func (h *Host) closeHistory(err *error) {
	if h.history != nil {
		if cerr := h.history.Close(); cerr != nil && *err == nil {
			*err = cerr
		}
	}
	if cerr := h.cluster.close(nil); cerr != nil && *err == nil {
		*err = cerr
	}
}

// History is the hub's store: the SQLite history in the data dir, or the
// store the configuration gave.
func (h *Host) History() chat.Store { return h.Hub.Config().Store }

// ExportTranscript writes the transcript of room (empty: every public room)
// in format f, with times in the local time zone, in the host's language.
// `lanchat export` does the same from a data dir.
func (h *Host) ExportTranscript(w io.Writer, room string, f export.Format) error {
	return h.ExportTranscriptIn(w, room, f, h.Hub.Config().Language)
}

// ExportTranscriptIn is ExportTranscript with the transcript's words in
// language lang ("pt-BR", "en"): the desktop app's save dialog uses it with
// the UI's language.
func (h *Host) ExportTranscriptIn(w io.Writer, room string, f export.Format, lang string) error {
	rooms, err := export.Collect(h.History(), export.Options{Room: room})
	if err != nil {
		return err
	}
	t := export.Transcript{Title: h.Hub.HostName(), Exported: time.Now(), Rooms: rooms, Language: lang}
	if h.Files != nil {
		t.Files = h.Files.Open
	}
	return export.Write(w, t, f, time.Local)
}

// HistoryFlags registers the history's flags: durability and retention.
func HistoryFlags(fs *flag.FlagSet, o *store.Options) {
	fs.Func("durability", "when a message counts as stored: full (survives power loss; default) or process (survives the process being killed)", func(s string) (err error) {
		o.Durability, err = store.ParseDurability(s)
		return err
	})
	fs.Func("keep-days", "delete messages older than this many days (default: keep everything)", func(s string) error {
		d, err := positive(s)
		o.MaxAge = time.Duration(d) * 24 * time.Hour
		return err
	})
	fs.Func("keep-messages", "keep only this many newest messages per room (default: keep everything)", func(s string) (err error) {
		o.KeepPerRoom, err = positive(s)
		return err
	})
}

func positive(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err == nil && n <= 0 {
		err = fmt.Errorf("%d is not a positive number", n)
	}
	return n, err
}
