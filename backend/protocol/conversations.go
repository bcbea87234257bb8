package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Conversations: replies, reactions, edits and polls. Each is an event in
// a room's log under the rules of messages: acknowledged with ack, numbered
// by the room's seq, deduplicated by client_id, kept in history and sent
// again on resume. The host sends every event as a Message whose Type says
// what it is; a client that knows only TypeMessage skips the others (and
// counts their seq, so it sees no gap).

// Client frames.
const (
	TypeReact     = "react"      // add or remove a reaction to a message
	TypeEdit      = "edit"       // the author changes a message's text
	TypePoll      = "poll"       // post a poll (also the event's type)
	TypeVote      = "vote"       // vote in a poll (also the event's type)
	TypeClosePoll = "close_poll" // close a poll
)

// Event types in a room's log besides TypeMessage (Message.Type).
const (
	TypeReaction   = "reaction"    // Target, Emoji, Remove
	TypeEdited     = "edited"      // Target, Text: the message's text from now on
	TypePollClosed = "poll_closed" // Target: the poll takes no more votes
)

// Poll limits.
const (
	MinPollOptions   = 2
	MaxPollOptions   = 6
	MaxOptionBytes   = 200
	MaxEmojiBytes    = 64
	DefaultEditLimit = 15 * 60 // seconds an author may edit a message for, unless the host says otherwise
)

// Who may post polls (Limits.Polls).
const (
	PollsHosts    = "hosts"
	PollsEveryone = "everyone"
)

// React adds (or with Remove, takes back) the member's reaction Emoji to
// message Target of Room. A member has at most one reaction of each emoji
// on a message: adding it again changes nothing.
type React struct {
	Type     string `json:"type"`
	Room     string `json:"room"`
	ClientID string `json:"client_id"`
	Target   uint64 `json:"target"`
	Emoji    string `json:"emoji"`
	Remove   bool   `json:"remove,omitempty"`
}

// Edit replaces the text of the member's own message Target of Room, within
// Limits.EditSeconds of its sending.
type Edit struct {
	Type     string `json:"type"`
	Room     string `json:"room"`
	ClientID string `json:"client_id"`
	Target   uint64 `json:"target"`
	Text     string `json:"text"`
}

// Poll posts a poll: Text is the question, Options the 2–6 answers.
type Poll struct {
	Type     string   `json:"type"`
	Room     string   `json:"room"`
	ClientID string   `json:"client_id"`
	Text     string   `json:"text"`
	Options  []string `json:"options"`
}

// Vote chooses Option (0-based) of poll Target. A member has one vote per
// poll; a later vote replaces an earlier one.
type Vote struct {
	Type     string `json:"type"`
	Room     string `json:"room"`
	ClientID string `json:"client_id"`
	Target   uint64 `json:"target"`
	Option   int    `json:"option"`
}

// ClosePoll closes poll Target: it takes no more votes.
type ClosePoll struct {
	Type     string `json:"type"`
	Room     string `json:"room"`
	ClientID string `json:"client_id"`
	Target   uint64 `json:"target"`
}

func (React) FrameType() string     { return TypeReact }
func (Edit) FrameType() string      { return TypeEdit }
func (Poll) FrameType() string      { return TypePoll }
func (Vote) FrameType() string      { return TypeVote }
func (ClosePoll) FrameType() string { return TypeClosePoll }

func init() {
	for _, f := range []Frame{React{}, Edit{}, Poll{}, Vote{}, ClosePoll{}} {
		RegisterClientFrame(f)
	}
}

// IsEvent reports whether a message of this type acts on another message
// (Target) rather than being one: a reaction, an edit, a vote or a poll's
// closing.
func IsEvent(typ string) bool {
	switch typ {
	case TypeReaction, TypeEdited, TypeVote, TypePollClosed:
		return true
	}
	return false
}

// CheckEmoji checks a reaction: one emoji, as sent (a flag, a skin tone or
// a family joined with ZWJ is one): at most MaxEmojiBytes, no letters,
// digits, spaces or control characters, and at least one symbol.
func CheckEmoji(e string) *Problem {
	bad := Errorf(CodeBadReaction, "a reaction is one emoji")
	if e == "" || len(e) > MaxEmojiBytes || !utf8.ValidString(e) {
		return bad
	}
	symbol := false
	for _, r := range e {
		switch {
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsSpace(r), unicode.IsControl(r), r == utf8.RuneError:
			return bad
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r) || unicode.Is(unicode.Sm, r):
			symbol = true
		}
	}
	if !symbol {
		return bad
	}
	return nil
}

// CheckPoll checks a poll's question (as a message text) and options:
// 2–6 of them, each 1–200 bytes and not blank, no two the same.
func CheckPoll(text string, options []string, maxText int) *Problem {
	if p := CheckText(text, maxText); p != nil {
		return p
	}
	if len(options) < MinPollOptions || len(options) > MaxPollOptions {
		return Errorf(CodeBadPoll, "a poll has %d to %d options", MinPollOptions, MaxPollOptions)
	}
	seen := map[string]bool{}
	for _, o := range options {
		t := strings.TrimSpace(o)
		if t == "" || len(o) > MaxOptionBytes {
			return Errorf(CodeBadPoll, "each option has 1 to %d bytes", MaxOptionBytes)
		}
		if seen[strings.ToLower(t)] {
			return Errorf(CodeBadPoll, "two options are the same")
		}
		seen[strings.ToLower(t)] = true
	}
	return nil
}
