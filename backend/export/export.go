// Package export writes room transcripts as Markdown, HTML or JSON, from any
// chat.Store: the live host's (the desktop app's save dialog) or a data dir's
// history database (`lanchat export`).
package export

import (
	"fmt"
	"io"
	"net/url"
	"slices"
	"strings"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Format is a transcript format.
type Format string

// Formats.
const (
	Markdown Format = "md"
	HTML     Format = "html"
	JSON     Format = "json"
	// Zip is the HTML transcript with the messages' files beside it
	// (files/…), and the JSON one, in a zip archive.
	Zip Format = "zip"
)

// Formats lists the formats in the order the CLI shows them.
var Formats = []Format{Markdown, HTML, JSON, Zip}

// ParseFormat reads a format name ("md", "markdown", "html", "json").
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimPrefix(s, ".")) {
	case "md", "markdown":
		return Markdown, nil
	case "html", "htm":
		return HTML, nil
	case "json":
		return JSON, nil
	case "zip":
		return Zip, nil
	}
	return "", fmt.Errorf("unknown format %q: use md, html, json or zip", s)
}

// Extension is the file extension for f, with the dot.
func (f Format) Extension() string { return "." + string(f) }

// Transcript is what gets written: one or more rooms with their messages.
type Transcript struct {
	Title    string    // e.g. the host's name; default "lanchat"
	Exported time.Time // when the transcript was made
	// Language is the language of the transcript's own words in the
	// Markdown and HTML formats: "pt-BR" (any "pt…") for Portuguese,
	// anything else for English. JSON has none.
	Language string
	Rooms    []Room
	// Files opens a message's file by its id, for the zip format; nil when
	// the files are not at hand (the zip then lists them only).
	Files func(id string) (io.ReadCloser, error)
}

// Room is one room's part of a transcript.
type Room struct {
	Name    string
	Topic   string
	Closed  bool
	Private bool // a private conversation between two members
	// People are the senders of a private conversation, in order of first
	// message (its name is only the members' hashed identities).
	People  []string
	LastSeq uint64
	// FirstKept is the oldest seq the host still had (0: none); messages
	// before it were removed by retention.
	FirstKept uint64
	Messages  []protocol.Message
}

// Options choose what Collect reads.
type Options struct {
	// Room exports one room (by name, case-insensitive); empty exports the
	// whole host.
	Room string
	// Private includes private conversations in a whole-host export. A
	// single room is exported whatever its kind.
	Private bool
}

// pageSize is how many messages Collect reads per store call.
const pageSize = 1000

// Collect reads rooms and their full kept history from s.
func Collect(s chat.Store, o Options) ([]Room, error) {
	stored, err := s.Rooms()
	if err != nil {
		return nil, err
	}
	var out []Room
	for _, sr := range stored {
		private := isPrivate(sr.Key)
		// A room is named by its name now, or by its store key (which a
		// rename or a localised default room name does not change).
		if o.Room != "" && sr.Key != protocol.RoomKey(o.Room) && protocol.RoomKey(sr.Name) != protocol.RoomKey(o.Room) {
			continue
		}
		if o.Room == "" && private && !o.Private {
			continue
		}
		r := Room{Name: sr.Name, Topic: sr.Topic, Closed: sr.Closed, Private: private, LastSeq: sr.LastSeq}
		var after uint64
		for {
			msgs, first, err := s.Since(sr.Key, after, pageSize)
			if err != nil {
				return nil, fmt.Errorf("room %q: %w", sr.Name, err)
			}
			if r.FirstKept == 0 {
				r.FirstKept = first
			}
			r.Messages = append(r.Messages, msgs...)
			if len(msgs) < pageSize {
				break
			}
			after = msgs[len(msgs)-1].Seq
		}
		if private {
			for _, m := range r.Messages {
				if !slices.Contains(r.People, m.From.Name) {
					r.People = append(r.People, m.From.Name)
				}
			}
		}
		out = append(out, r)
	}
	if o.Room != "" && len(out) == 0 {
		var names []string
		for _, sr := range stored {
			if !isPrivate(sr.Key) {
				names = append(names, sr.Name)
			}
		}
		return nil, fmt.Errorf("no room called %q (rooms: %s)", o.Room, strings.Join(names, ", "))
	}
	return out, nil
}

// isPrivate reports whether a room key is a private conversation's: those
// are keyed by the two members and are no valid room name.
func isPrivate(key string) bool {
	_, p := protocol.CleanRoom(key)
	return p != nil
}

// Write writes t in format f, with times shown in loc (nil: UTC).
func Write(w io.Writer, t Transcript, f Format, loc *time.Location) error {
	if loc == nil {
		loc = time.UTC
	}
	if t.Title == "" {
		t.Title = "lanchat"
	}
	t.Rooms = slices.Clone(t.Rooms)
	switch f {
	case Markdown:
		return writeMarkdown(w, t, loc)
	case HTML:
		return writeHTML(w, t, loc)
	case JSON:
		return writeJSON(w, t, loc)
	case Zip:
		return writeZip(w, t, loc)
	}
	return fmt.Errorf("unknown format %q", f)
}

// deleted reports whether m is a tombstone: deleted messages keep their
// seq and lose their text and files (a live message never has neither).
func deleted(m protocol.Message) bool {
	return m.Deleted || (m.Text == "" && len(m.Attachments) == 0)
}

// filePath is where a message's file lies beside the transcript: in
// files/, its name after the start of its id (two files may share a name).
func filePath(a protocol.Attachment) string {
	id := a.ID
	if len(id) > 12 {
		id = id[:12]
	}
	// Characters Windows refuses in file names become "_", so the zip
	// unpacks everywhere.
	name := strings.Map(func(r rune) rune {
		if strings.ContainsRune(`<>:"/\|?*`, r) {
			return '_'
		}
		return r
	}, protocol.CleanFileName(a.Name))
	return "files/" + id + "-" + name
}

// fileHref is filePath as a relative URL, every character that could end
// or break a link escaped.
func fileHref(a protocol.Attachment) string {
	seg := url.PathEscape(strings.TrimPrefix(filePath(a), "files/"))
	return "files/" + strings.NewReplacer("(", "%28", ")", "%29").Replace(seg)
}

// day groups a room's messages by calendar day in loc.
type day struct {
	Date     time.Time
	Messages []chat.Folded
}

// byDay groups the messages of a room's log as they are now (edited,
// reacted to, voted on: chat.Fold) by day.
func byDay(msgs []protocol.Message, loc *time.Location) []day {
	var out []day
	for _, m := range chat.Fold(msgs) {
		t := time.UnixMilli(m.TS).In(loc)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, loc)
		if len(out) == 0 || !out[len(out)-1].Date.Equal(d) {
			out = append(out, day{Date: d})
		}
		out[len(out)-1].Messages = append(out[len(out)-1].Messages, m)
	}
	return out
}

// Layouts shared by the human-readable formats; their words are in words.go.
const (
	clockLayout = "15:04:05"
	stampLayout = "2006-01-02 15:04 MST"
)

// shownCount is how many messages (and polls) a room's log holds, its
// events left out.
func shownCount(msgs []protocol.Message) int { return len(chat.Fold(msgs)) }

// reactionsLabel lists a message's reactions with their count and people.
func reactionsLabel(m chat.Folded) string {
	var parts []string
	for _, r := range m.Reactions {
		var names []string
		for _, p := range r.Members {
			names = append(names, p.Name)
		}
		parts = append(parts, fmt.Sprintf("%s %d (%s)", r.Emoji, len(r.Members), strings.Join(names, ", ")))
	}
	return strings.Join(parts, " · ")
}

// pollOption is one answer of a poll with its votes.
type pollOption struct {
	Text  string
	Votes int
}

func pollOptions(m chat.Folded) []pollOption {
	var out []pollOption
	for i, o := range m.Options {
		n := 0
		if i < len(m.Votes) {
			n = m.Votes[i]
		}
		out = append(out, pollOption{o, n})
	}
	return out
}

func isPoll(m chat.Folded) bool { return m.FrameType() == protocol.TypePoll }

func truncated(r Room) bool { return r.FirstKept > 1 || (r.FirstKept == 0 && r.LastSeq > 0) }

func truncatedFrom(r Room) uint64 {
	if r.FirstKept == 0 {
		return r.LastSeq + 1
	}
	return r.FirstKept
}
