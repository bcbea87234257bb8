package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Message search and older history.
//
// A member searches the messages of every room it may read (every room of
// the host, and its own private conversations) with a Search; the host
// answers SearchResults, newest first. A result names the room and seq of
// the message; the client shows it in its room, asking for the messages
// before what it has loaded with a HistoryQuery when the message is older.

// Frame types of search and history.
const (
	TypeSearch        = "search"         // client: find messages by words
	TypeSearchResults = "search_results" // server: the answer to a search
	TypeHistory       = "history"        // client: older messages of a room; server: the answer
)

// Search bounds.
const (
	// SearchMaxRunes is the longest query, in characters.
	SearchMaxRunes = 100
	// SearchMaxTerms is the most words of a query that count; later ones are ignored.
	SearchMaxTerms = 8
	// SearchResultsMax is the most results one answer holds.
	SearchResultsMax = 50
	// HistoryMax is the most messages one history answer holds.
	HistoryMax = 500
)

// Search asks for the messages whose text has every word of Query (as the
// start of a word, accents and case ignored: "avalia" finds "Avaliação").
// Punctuation separates words and has no other meaning.
type Search struct {
	Type  string `json:"type"`
	Query string `json:"query"`
}

// SearchResults answers a Search: at most SearchResultsMax messages, newest
// first; More is true when there were more. Query is echoed.
type SearchResults struct {
	Type    string      `json:"type"`
	Query   string      `json:"query"`
	Results []SearchHit `json:"results"`
	More    bool        `json:"more,omitempty"`
}

// SearchHit is one message found: its room (the name, or a private room's
// "@…" key), seq, id, author and time, and a Snippet of its text around the
// first match, split into parts where Match marks the words that matched.
type SearchHit struct {
	Room    string        `json:"room"`
	Seq     uint64        `json:"seq"`
	ID      string        `json:"id"`
	From    Member        `json:"from"`
	TS      int64         `json:"ts"`
	Snippet []SnippetPart `json:"snippet"`
}

// SnippetPart is a piece of a snippet: plain text, a matched word when Match.
type SnippetPart struct {
	Text  string `json:"text"`
	Match bool   `json:"match,omitempty"`
}

// HistoryQuery asks for the messages of a room the member is in with a seq
// below Before (the oldest the client has), at most Limit of them (default
// 100, at most HistoryMax), the newest of them.
type HistoryQuery struct {
	Type   string `json:"type"`
	Room   string `json:"room"`
	Before uint64 `json:"before"`
	Limit  int    `json:"limit,omitempty"`
}

// History answers a HistoryQuery: Messages in seq order, all below Before.
// FirstKept is the oldest seq the host keeps in the room (absent when none):
// a client that has it has everything the host can give.
type History struct {
	Type      string    `json:"type"`
	Room      string    `json:"room"`
	Before    uint64    `json:"before"`
	Messages  []Message `json:"messages"`
	FirstKept uint64    `json:"first_kept,omitempty"`
}

func (Search) FrameType() string        { return TypeSearch }
func (SearchResults) FrameType() string { return TypeSearchResults }
func (HistoryQuery) FrameType() string  { return TypeHistory }
func (History) FrameType() string       { return TypeHistory }

func init() {
	RegisterClientFrame(Search{})
	RegisterClientFrame(HistoryQuery{})
}

// CheckSearch checks a search query and returns the words it looks for
// (see SearchTerms): a query longer than SearchMaxRunes, or blank, gets
// bad_query. A query of punctuation alone has no words: it is valid and
// finds nothing.
func CheckSearch(q string) ([]string, *Problem) {
	if strings.TrimSpace(q) == "" {
		return nil, Errorf(CodeBadQuery, "the search is empty")
	}
	if len(q) > 4*SearchMaxRunes || utf8.RuneCountInString(q) > SearchMaxRunes {
		return nil, Errorf(CodeBadQuery, "the search is longer than %d characters", SearchMaxRunes)
	}
	return SearchTerms(q), nil
}

// SearchTerms splits text into the words a search compares: runs of
// letters and digits, lower-cased, without accents ("Avaliação!" is
// "avaliacao"), at most SearchMaxTerms, each once. This is what SQLite's
// unicode61 tokenizer with remove_diacritics 2 does to indexed text.
func SearchTerms(q string) []string {
	var out []string
	for _, w := range FoldWords(q) {
		if !containsString(out, w.Folded) {
			out = append(out, w.Folded)
			if len(out) == SearchMaxTerms {
				break
			}
		}
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Word is a word of a text: its byte offsets in the text and its folded form.
type Word struct {
	Start, End int
	Folded     string
}

// FoldWords returns the words of text (runs of letters, digits and the
// combining marks on them) with their offsets and folded forms.
func FoldWords(text string) []Word {
	var out []Word
	start := -1
	flush := func(end int) {
		if start >= 0 {
			if f := Fold(text[start:end]); f != "" {
				out = append(out, Word{Start: start, End: end, Folded: f})
			}
			start = -1
		}
	}
	for i, r := range text {
		if isWordRune(r) || (start >= 0 && unicode.IsMark(r)) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return out
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r)
}

// Fold lower-cases s and removes its accents (every combining mark after
// canonical decomposition): "Ação" is "acao".
func Fold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		if unicode.IsMark(r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
