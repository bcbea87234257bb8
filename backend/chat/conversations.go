package chat

import (
	"slices"
	"time"

	"lanchat/backend/protocol"
)

// Conversations: replies, reactions, edits and polls. Each is a message of
// the room's log (protocol.IsEvent tells the events from messages), stored
// with Store.Append like any send, so it is acked, numbered, deduplicated by
// client_id, kept and resumed as messages are. What a message looks like
// now (its last text, its reactions, a poll's votes) is the fold of the
// events that act on it: Fold.

// EventReader is a Store that finds the events acting on one message
// without reading the room's log after it. A store without it is read from
// the message on.
type EventReader interface {
	EventsOf(room string, target uint64) ([]protocol.Message, error)
}

// ClientIDReader is a Store that finds a kept message by its client_id.
type ClientIDReader interface {
	ByClientID(room, clientID string) (protocol.Message, bool, error)
}

// resent answers a resend (after a reconnect) of an event the room keeps
// with its original ack, before any check that may have changed since (an
// edit's time, a poll closed meanwhile). It reports whether it answered.
// A store that cannot find a client_id (a ClientIDReader) is asked only
// when scan is set (a check failed), by reading the events of target.
func (c *Conn) resent(r *room, st memberState, clientID string, target uint64, scan bool) bool {
	var m protocol.Message
	var found bool
	var err error
	if cr, ok := c.hub.cfg.Store.(ClientIDReader); ok {
		m, found, err = cr.ByClientID(r.key, clientID)
	} else if scan && target != 0 {
		var evs []protocol.Message
		evs, err = c.hub.eventsOf(r, target)
		if i := slices.IndexFunc(evs, func(e protocol.Message) bool { return e.ClientID == clientID }); i >= 0 {
			m, found = evs[i], true
		}
	}
	if err != nil || !found || protocol.NameKey(m.From.Name) != protocol.NameKey(st.public.Name) {
		return false // post decides (a store error, or another member's: bad_client_id)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Seq > r.lastSeq {
		return false // stored, not yet delivered: its own send acks it
	}
	c.sink.Send(NewOut(protocol.Ack{ClientID: clientID, Room: r.name, Seq: m.Seq, ID: m.ID, TS: m.TS}))
	return true
}

// target reads the message seq of r that a reply or an event names: a
// message or a poll the room has sent, not deleted.
func (h *Hub) target(r *room, seq uint64) (protocol.Message, *protocol.Problem) {
	r.mu.Lock()
	last := r.lastSeq
	r.mu.Unlock()
	none := protocol.Errorf(protocol.CodeNoSuchMessage, "there is no message %d in %q", seq, r.name)
	if seq == 0 || seq > last {
		return protocol.Message{}, none
	}
	msgs, _, err := h.cfg.Store.Since(r.key, seq-1, 1)
	if err != nil {
		return protocol.Message{}, h.internal(err, "the message could not be read")
	}
	if len(msgs) != 1 || msgs[0].Seq != seq || msgs[0].Deleted || protocol.IsEvent(msgs[0].FrameType()) {
		return protocol.Message{}, none
	}
	return msgs[0], nil
}

// eventsOf returns the events acting on message target of r, in seq order.
func (h *Hub) eventsOf(r *room, target uint64) ([]protocol.Message, error) {
	if er, ok := h.cfg.Store.(EventReader); ok {
		return er.EventsOf(r.key, target)
	}
	var out []protocol.Message
	after := target
	for {
		msgs, _, err := h.cfg.Store.Since(r.key, after, 1000)
		if err != nil {
			return nil, err
		}
		for _, m := range msgs {
			if m.Target == target && protocol.IsEvent(m.FrameType()) {
				out = append(out, m)
			}
		}
		if len(msgs) < 1000 {
			return out, nil
		}
		after = msgs[len(msgs)-1].Seq
	}
}

func (c *Conn) react(f protocol.React) *protocol.Problem {
	if p := protocol.CheckClientID(f.ClientID); p != nil {
		return p.WithRef(f.ClientID)
	}
	if p := protocol.CheckEmoji(f.Emoji); p != nil {
		return p.WithRef(f.ClientID)
	}
	r, st, done, p := c.eventRoom(f.ClientID, f.Room)
	if done || p != nil {
		return p
	}
	h := c.hub
	if _, p := h.target(r, f.Target); p != nil {
		return p.WithRef(f.ClientID)
	}
	return c.postEvent(r, st, postMark, protocol.Message{Type: protocol.TypeReaction, Target: f.Target, Emoji: f.Emoji, Remove: f.Remove}, f.ClientID, h.cfg.Now())
}

func (c *Conn) edit(f protocol.Edit) *protocol.Problem {
	r, st, done, p := c.eventRoom(f.ClientID, f.Room)
	if done || p != nil {
		return p
	}
	h := c.hub
	orig, p := h.target(r, f.Target)
	if p != nil {
		return p.WithRef(f.ClientID)
	}
	if orig.FrameType() != protocol.TypeMessage {
		return protocol.Errorf(protocol.CodeNoSuchMessage, "only messages are edited").WithRef(f.ClientID)
	}
	if orig.From.ID != st.public.ID {
		return protocol.Errorf(protocol.CodeForbidden, "only its author edits a message").WithRef(f.ClientID)
	}
	if p := protocol.CheckText(f.Text, h.cfg.MaxText); p != nil && (len(orig.Attachments) == 0 || p.Code != protocol.CodeEmptyText) {
		return p.WithRef(f.ClientID)
	}
	now := h.cfg.Now()
	window := time.Duration(st.editSeconds) * time.Second
	if window <= 0 || now.Sub(time.UnixMilli(orig.TS)) > window {
		if c.resent(r, st, f.ClientID, f.Target, true) {
			return nil
		}
		return protocol.Errorf(protocol.CodeEditExpired, "a message can be edited for %d s after it was sent", st.editSeconds).WithRef(f.ClientID)
	}
	return c.postEvent(r, st, postEdit, protocol.Message{Type: protocol.TypeEdited, Target: f.Target, Text: f.Text}, f.ClientID, now)
}

func (c *Conn) poll(f protocol.Poll) *protocol.Problem {
	r, st, done, p := c.eventRoom(f.ClientID, f.Room)
	if done || p != nil {
		return p
	}
	h := c.hub
	if !st.host && st.polls != protocol.PollsEveryone {
		return protocol.Errorf(protocol.CodeForbidden, "only the host posts polls here").WithRef(f.ClientID)
	}
	if p := protocol.CheckPoll(f.Text, f.Options, h.cfg.MaxText); p != nil {
		return p.WithRef(f.ClientID)
	}
	return c.postEvent(r, st, postWords, protocol.Message{Type: protocol.TypePoll, Text: f.Text, Options: f.Options}, f.ClientID, h.cfg.Now())
}

// eventRoom starts an event (a reaction, an edit, a poll, a vote, a
// poll's closing) as a send starts: it checks the client_id and finds the
// member's room and standing. done is true when the event was resent and
// got its first ack again; p is a refusal, with the client_id as its ref.
func (c *Conn) eventRoom(clientID, room string) (r *room, st memberState, done bool, p *protocol.Problem) {
	if p := protocol.CheckClientID(clientID); p != nil {
		return nil, st, false, p.WithRef(clientID)
	}
	r, st, p = c.memberRoom(room)
	if p != nil {
		return nil, st, false, p.WithRef(clientID)
	}
	return r, st, c.resent(r, st, clientID, 0, false), nil
}

// postEvent posts an event that passed its own checks, as a send posts a
// message: mute, lock, slow mode and the rate limit, then the store.
func (c *Conn) postEvent(r *room, st memberState, kind int, m protocol.Message, clientID string, now time.Time) *protocol.Problem {
	if p := c.mayPost(r, st, now, kind); p != nil {
		return p.WithRef(clientID)
	}
	_, p := c.post(r, st, m, clientID, now, nil)
	return p
}

// pollEvent starts a vote or a poll's closing: eventRoom, then openPoll.
func (c *Conn) pollEvent(clientID, room string, target uint64) (r *room, st memberState, poll protocol.Message, evs []protocol.Message, done bool, p *protocol.Problem) {
	r, st, done, p = c.eventRoom(clientID, room)
	if done || p != nil {
		return r, st, poll, nil, done, p
	}
	poll, evs, done, p = c.openPoll(r, st, clientID, target)
	return r, st, poll, evs, done, p
}

// openPoll reads poll seq of r for a vote or a closing: refused when it is
// closed, unless this one was resent (done: it got its first ack again).
func (c *Conn) openPoll(r *room, st memberState, clientID string, seq uint64) (poll protocol.Message, evs []protocol.Message, done bool, p *protocol.Problem) {
	poll, evs, p = c.hub.pollState(r, seq)
	if p != nil && p.Code == protocol.CodePollClosed && c.resent(r, st, clientID, seq, true) {
		return poll, evs, true, nil
	}
	if p != nil {
		return poll, evs, false, p.WithRef(clientID)
	}
	return poll, evs, false, nil
}

// pollState reads poll seq of r and whether it is closed.
func (h *Hub) pollState(r *room, seq uint64) (protocol.Message, []protocol.Message, *protocol.Problem) {
	poll, p := h.target(r, seq)
	if p != nil {
		return poll, nil, p
	}
	if poll.FrameType() != protocol.TypePoll {
		return poll, nil, protocol.Errorf(protocol.CodeNoSuchMessage, "message %d is not a poll", seq)
	}
	evs, err := h.eventsOf(r, seq)
	if err != nil {
		return poll, nil, h.internal(err, "the poll could not be read")
	}
	if slices.ContainsFunc(evs, func(m protocol.Message) bool { return m.FrameType() == protocol.TypePollClosed }) {
		return poll, evs, protocol.Errorf(protocol.CodePollClosed, "the poll is closed")
	}
	return poll, evs, nil
}

func (c *Conn) vote(f protocol.Vote) *protocol.Problem {
	r, st, poll, _, done, p := c.pollEvent(f.ClientID, f.Room, f.Target)
	if done || p != nil {
		return p
	}
	h := c.hub
	if f.Option < 0 || f.Option >= len(poll.Options) {
		return protocol.Errorf(protocol.CodeBadPoll, "the poll has options 0 to %d", len(poll.Options)-1).WithRef(f.ClientID)
	}
	opt := f.Option
	return c.postEvent(r, st, postMark, protocol.Message{Type: protocol.TypeVote, Target: f.Target, Option: &opt}, f.ClientID, h.cfg.Now())
}

func (c *Conn) closePoll(f protocol.ClosePoll) *protocol.Problem {
	r, st, poll, evs, done, p := c.pollEvent(f.ClientID, f.Room, f.Target)
	if done || p != nil {
		return p
	}
	h := c.hub
	if !st.host && poll.From.ID != st.public.ID {
		return protocol.Errorf(protocol.CodeForbidden, "only the host or the poll's author closes it").WithRef(f.ClientID)
	}
	counts := Tally(poll, evs)
	return c.postEvent(r, st, postMark, protocol.Message{Type: protocol.TypePollClosed, Target: f.Target, Counts: counts}, f.ClientID, h.cfg.Now())
}

// setEditLocked sets how long authors may edit their messages and tells everyone.
func (h *Hub) setEditLocked(seconds int) *protocol.Problem {
	if seconds < 0 || seconds > 7*24*3600 {
		return protocol.Errorf(protocol.CodeBadControl, "edits are allowed for 0 to 604800 seconds").WithRef(protocol.ActionSetEdit)
	}
	h.editSeconds = seconds
	h.broadcastLocked(NewOut(protocol.LimitsUpdate{Limits: h.limitsLocked()}))
	return nil
}

// setPollsLocked sets who may post polls and tells everyone.
func (h *Hub) setPollsLocked(who string) *protocol.Problem {
	if who != protocol.PollsHosts && who != protocol.PollsEveryone {
		return protocol.Errorf(protocol.CodeBadControl, "polls are for hosts or everyone").WithRef(protocol.ActionSetPolls)
	}
	h.polls = who
	h.broadcastLocked(NewOut(protocol.LimitsUpdate{Limits: h.limitsLocked()}))
	return nil
}

// Tally counts a poll's votes from the events acting on it (in seq order):
// each member's last vote before the poll closed.
func Tally(poll protocol.Message, events []protocol.Message) []int {
	counts := make([]int, len(poll.Options))
	votes := map[string]int{}
	var order []string
	for _, e := range events {
		if e.Target != poll.Seq {
			continue
		}
		if e.FrameType() == protocol.TypePollClosed {
			break
		}
		if e.FrameType() != protocol.TypeVote || e.Option == nil || *e.Option < 0 || *e.Option >= len(counts) {
			continue
		}
		if _, ok := votes[e.From.ID]; !ok {
			order = append(order, e.From.ID)
		}
		votes[e.From.ID] = *e.Option
	}
	for _, id := range order {
		counts[votes[id]]++
	}
	return counts
}

// Reaction is one emoji on a message and who chose it, in order.
type Reaction struct {
	Emoji   string            `json:"emoji"`
	Members []protocol.Member `json:"members"`
}

// Folded is a message as its events leave it.
type Folded struct {
	protocol.Message
	// Edited: the text is an edit's (EditedTS its time).
	Edited   bool  `json:"edited,omitempty"`
	EditedTS int64 `json:"edited_ts,omitempty"`
	// Reactions in the order their emoji first came.
	Reactions []Reaction `json:"reactions,omitempty"`
	// A poll's votes per option, and whether it is closed.
	Votes  []int `json:"votes,omitempty"`
	Closed bool  `json:"closed,omitempty"`
}

// Fold applies a log's events (in seq order) to its messages and returns
// the messages (and polls) as they are now, without the events or
// anything of a type this build does not know. An edit counts only if
// its author is the message's, a vote only until its poll closed, and a
// member has one reaction of each emoji. Events whose message is not in
// msgs are dropped.
func Fold(msgs []protocol.Message) []Folded {
	var out []Folded
	at := map[uint64]int{}
	for _, m := range msgs {
		if t := m.FrameType(); t == protocol.TypeMessage || t == protocol.TypePoll {
			at[m.Seq] = len(out)
			f := Folded{Message: m}
			if m.FrameType() == protocol.TypePoll {
				f.Votes = make([]int, len(m.Options))
			}
			out = append(out, f)
		}
	}
	votes := map[uint64][]protocol.Message{}
	for _, e := range msgs {
		i, ok := at[e.Target]
		if !ok || !protocol.IsEvent(e.FrameType()) {
			continue
		}
		f := &out[i]
		switch e.FrameType() {
		case protocol.TypeEdited:
			if e.From.ID == f.From.ID && !f.Deleted && !e.Deleted {
				f.Text, f.Edited, f.EditedTS = e.Text, true, e.TS
			}
		case protocol.TypeReaction:
			f.Reactions = react(f.Reactions, e)
		case protocol.TypeVote, protocol.TypePollClosed:
			votes[e.Target] = append(votes[e.Target], e)
			if e.FrameType() == protocol.TypePollClosed {
				f.Closed = true
			}
		}
	}
	for seq, evs := range votes {
		f := &out[at[seq]]
		if f.FrameType() == protocol.TypePoll {
			f.Votes = Tally(f.Message, evs)
		}
	}
	return out
}

func react(rs []Reaction, e protocol.Message) []Reaction {
	i := slices.IndexFunc(rs, func(r Reaction) bool { return r.Emoji == e.Emoji })
	if e.Remove {
		if i >= 0 {
			rs[i].Members = slices.DeleteFunc(rs[i].Members, func(m protocol.Member) bool { return m.ID == e.From.ID })
			if len(rs[i].Members) == 0 {
				rs = slices.Delete(rs, i, i+1)
			}
		}
		return rs
	}
	if i < 0 {
		return append(rs, Reaction{Emoji: e.Emoji, Members: []protocol.Member{{ID: e.From.ID, Name: e.From.Name}}})
	}
	if !slices.ContainsFunc(rs[i].Members, func(m protocol.Member) bool { return m.ID == e.From.ID }) {
		rs[i].Members = append(rs[i].Members, protocol.Member{ID: e.From.ID, Name: e.From.Name})
	}
	return rs
}
