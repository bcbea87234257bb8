package chat

import (
	"cmp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"lanchat/backend/protocol"
)

// Searcher is a Store that finds messages by words. The SQLite store is
// one (a full-text index); a cluster's shared store is not, and its hosts
// refuse search with search_off.
type Searcher interface {
	// Search returns up to limit messages of the rooms (store keys) whose
	// text has every term (see protocol.SearchTerms) as the start of one of
	// its words, newest first. The text is the message's current one, as
	// Fold reads it: an edited message is found by its newest edit's words,
	// not by those the edit removed. Events (an edit among them) are never
	// results; tombstones are never found.
	Search(terms, rooms []string, limit int) ([]Found, error)
}

// Found is a message a search found, with its room's store key. Its Text
// is its current text (its newest edit's, when edited).
type Found struct {
	Room    string
	Message protocol.Message
}

// Matches reports whether text has every term as the start of a word.
func Matches(text string, terms []string) bool {
	if len(terms) == 0 {
		return false
	}
	words := protocol.FoldWords(text)
	for _, t := range terms {
		if !slices.ContainsFunc(words, func(w protocol.Word) bool { return strings.HasPrefix(w.Folded, t) }) {
			return false
		}
	}
	return true
}

// Search finds messages as the SQLite store does, by scanning what the
// memory store keeps: newest first, in the order they were stored, each by
// its current text. The rooms are copied under the store's lock and scanned
// after it, so appends do not wait for the scan.
func (s *MemoryStore) Search(terms, rooms []string, limit int) ([]Found, error) {
	if len(terms) == 0 || limit <= 0 {
		return nil, nil
	}
	type kept struct {
		key    string
		msgs   []protocol.Message
		stamps []uint64
	}
	var copies []kept
	s.mu.Lock()
	for _, key := range rooms {
		if mr, ok := s.rooms[key]; ok && len(mr.msgs) > 0 {
			copies = append(copies, kept{key, slices.Clone(mr.msgs), slices.Clone(mr.stamps)})
		}
	}
	s.mu.Unlock()
	var out []Found
	var stamps []uint64
	type by struct {
		target uint64
		author string
	}
	for _, r := range copies {
		n := 0
		// An edit comes after the message it edits: going back from the
		// newest, the first edit of a message by its author is its newest.
		edits := map[by]string{}
		for i := len(r.msgs) - 1; i >= 0 && n < limit; i-- {
			m := r.msgs[i]
			if m.FrameType() == protocol.TypeEdited && !m.Deleted {
				if _, ok := edits[by{m.Target, m.From.ID}]; !ok {
					edits[by{m.Target, m.From.ID}] = m.Text
				}
			}
			if m.Deleted || protocol.IsEvent(m.FrameType()) {
				continue
			}
			if text, ok := edits[by{m.Seq, m.From.ID}]; ok {
				m.Text = text
			}
			if Matches(m.Text, terms) {
				out = append(out, Found{Room: r.key, Message: m})
				stamps = append(stamps, r.stamps[i])
				n++
			}
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return cmp.Compare(stamps[b], stamps[a]) })
	newest := make([]Found, 0, min(limit, len(out)))
	for _, i := range idx[:min(limit, len(idx))] {
		newest = append(newest, out[i])
	}
	return newest, nil
}

// snippetBytes is about how much text a snippet shows.
const snippetBytes = 160

// Snippet is the part of text a search result shows: the whole text when
// short, else a window around the first matching word, with "…" where it
// was cut. The words that match a term are parts of their own, marked.
// White space runs are one space.
func Snippet(text string, terms []string) []protocol.SnippetPart {
	words := protocol.FoldWords(text)
	var hits []protocol.Word
	for _, w := range words {
		if slices.ContainsFunc(terms, func(t string) bool { return strings.HasPrefix(w.Folded, t) }) {
			hits = append(hits, w)
		}
	}
	start, end := 0, len(text)
	if len(text) > snippetBytes {
		if len(hits) > 0 {
			start = max(0, hits[0].Start-snippetBytes/3)
		}
		end = min(len(text), start+snippetBytes)
		// Cut between words, on rune boundaries; within a word as long as
		// the window when there is no other way.
		if s, e := wordEdge(text, words, start, true), wordEdge(text, words, end, false); e-s >= snippetBytes/2 {
			start, end = s, e
		} else {
			start, end = runeEdge(text, start), runeEdge(text, end)
		}
	}
	var out []protocol.SnippetPart
	add := func(s string, match bool) {
		if !match {
			s = squash(s)
		}
		if s == "" {
			return
		}
		if n := len(out); n > 0 && !out[n-1].Match && !match {
			if strings.HasSuffix(out[n-1].Text, " ") {
				s = strings.TrimPrefix(s, " ")
			}
			out[n-1].Text += s
			return
		}
		out = append(out, protocol.SnippetPart{Text: s, Match: match})
	}
	at := start
	if start > 0 {
		add("… ", false)
	}
	for _, w := range hits {
		if w.Start < start || w.Start >= end {
			continue
		}
		e := min(w.End, end) // a word the window cuts is marked as far as it shows
		add(text[at:w.Start], false)
		add(text[w.Start:e], true)
		at = e
	}
	add(text[at:end], false)
	if end < len(text) {
		add(" …", false)
	}
	if len(out) > 0 && !out[0].Match {
		out[0].Text = strings.TrimLeft(out[0].Text, " ")
	}
	if n := len(out); n > 0 && !out[n-1].Match {
		out[n-1].Text = strings.TrimRight(out[n-1].Text, " ")
	}
	return slices.DeleteFunc(out, func(p protocol.SnippetPart) bool { return p.Text == "" })
}

// squash makes every run of white space in s one space, keeping one where
// s begins or ends with white space, so the words on either side of a
// match stay apart.
func squash(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		if s != "" {
			return " "
		}
		return ""
	}
	j := strings.Join(f, " ")
	if r, _ := utf8.DecodeRuneInString(s); unicode.IsSpace(r) {
		j = " " + j
	}
	if r, _ := utf8.DecodeLastRuneInString(s); unicode.IsSpace(r) {
		j += " "
	}
	return j
}

// wordEdge moves i, a byte offset in text, out of any word it falls in:
// back to the word's start (forward false: the end is cut before it) or on
// to the word's end when forward. It always lands on a rune boundary.
func wordEdge(text string, words []protocol.Word, i int, forward bool) int {
	for _, w := range words {
		if w.Start < i && i < w.End {
			if forward {
				return w.End
			}
			return w.Start
		}
	}
	return runeEdge(text, i)
}

// runeEdge moves i back to the start of the rune it falls in.
func runeEdge(text string, i int) int {
	for i > 0 && i < len(text) && !utf8.RuneStart(text[i]) {
		i--
	}
	return i
}

// Searching: the rooms a member may read are decided under Hub.mu; the
// store is read with no lock held, at most maxSearches at once on the host,
// and each member may search searchBurst times at once, then once every
// searchEvery.
const (
	maxSearches = 2
	searchBurst = 5
	searchEvery = time.Second
)

// readableLocked returns the rooms m may read now, by store key, with
// their names: every room of the host, and m's own private rooms. Hub.mu
// is held.
func (h *Hub) readableLocked(m *Member) map[string]string {
	out := map[string]string{}
	for key, r := range h.rooms {
		if r.admits(m) {
			out[key] = r.name
		}
	}
	return out
}

// allowSearch takes one token from the member's search limiter. c.mu is held.
func (c *Conn) allowSearch() bool {
	now := c.hub.cfg.Now()
	if c.searchLast.IsZero() {
		c.searchTokens = searchBurst
	} else {
		c.searchTokens = min(searchBurst, c.searchTokens+now.Sub(c.searchLast).Seconds()/searchEvery.Seconds())
	}
	c.searchLast = now
	if c.searchTokens < 1 {
		return false
	}
	c.searchTokens--
	return true
}

func (c *Conn) search(f protocol.Search) *protocol.Problem {
	h := c.hub
	terms, p := protocol.CheckSearch(f.Query)
	if p != nil {
		return p
	}
	s, ok := h.cfg.Store.(Searcher)
	if !ok {
		return protocol.Errorf(protocol.CodeSearchOff, "this host cannot search messages")
	}
	unlock, ok := c.lockCurrent(h.mu.Unlock)
	if !ok {
		return nil
	}
	names := h.readableLocked(c.member)
	unlock()
	if !c.allowSearch() {
		return protocol.Errorf(protocol.CodeRateLimited, "slow down: at most one search per second")
	}
	res := protocol.SearchResults{Query: f.Query}
	if len(terms) > 0 {
		keys := make([]string, 0, len(names))
		for k := range names {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		h.searching <- struct{}{}
		found, err := s.Search(terms, keys, protocol.SearchResultsMax+1)
		<-h.searching
		if err != nil {
			return h.internal(err, "the search failed; try again")
		}
		if len(found) > protocol.SearchResultsMax {
			found, res.More = found[:protocol.SearchResultsMax], true
		}
		for _, fd := range found {
			m := fd.Message
			if t := m.FrameType(); m.Deleted || names[fd.Room] == "" || t != protocol.TypeMessage && t != protocol.TypePoll {
				continue // the store's answer is checked, not trusted
			}
			res.Results = append(res.Results, protocol.SearchHit{Room: names[fd.Room], Seq: m.Seq, ID: m.ID,
				From: m.From, TS: m.TS, Snippet: Snippet(m.Text, terms)})
		}
	}
	c.sink.Send(NewOut(res))
	return nil
}

// history answers a history query for a room the member is in: the
// messages before f.Before, read with no lock held. It counts against the
// rate limit as a send does.
func (c *Conn) history(f protocol.HistoryQuery) *protocol.Problem {
	h := c.hub
	if f.Before == 0 {
		return protocol.Errorf(protocol.CodeBadQuery, "history needs the seq to read before").WithRef(f.Room)
	}
	r, key, name, p := c.queryRoom(f.Room, "to read its history")
	if r == nil {
		return p
	}
	limit := queryLimit(f.Limit, 100, protocol.HistoryMax)
	r.mu.Lock()
	last := r.lastSeq
	r.mu.Unlock()
	// Messages stored but not yet sent to the room are not history yet.
	before := min(f.Before, last+1)
	after := uint64(0)
	if before > uint64(limit) {
		after = before - 1 - uint64(limit)
	}
	msgs, first, err := h.cfg.Store.Since(key, after, limit)
	if err != nil {
		return h.internal(err, "the history of %q could not be read", name).WithRef(f.Room)
	}
	msgs = slices.DeleteFunc(msgs, func(m protocol.Message) bool { return m.Seq >= before })
	for i := range msgs {
		msgs[i].Room = name
	}
	c.sink.Send(NewOut(protocol.History{Room: name, Before: f.Before, Messages: msgs, FirstKept: first}))
	return nil
}
