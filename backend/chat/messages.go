package chat

import (
	"slices"
	"time"

	"lanchat/backend/protocol"
)

// Sending and typing: the paths a member takes many times a minute.

// memberRoom returns the room if it exists and the member is in it, with
// the member's role and mute as they are now.
func (c *Conn) memberRoom(name string) (*room, memberState, *protocol.Problem) {
	h := c.hub
	h.mu.Lock()
	defer h.mu.Unlock()
	key, p := h.roomKey(name, c.member)
	if p != nil {
		return nil, memberState{}, p
	}
	if !slices.Contains(c.member.rooms, key) || c.member.conn.Load() != c {
		return nil, memberState{}, protocol.Errorf(protocol.CodeNotInRoom, "join %q before writing there", name).WithRef(name)
	}
	return h.rooms[key], memberState{host: c.member.isHost(), muted: c.member.muted, public: c.member.public(),
		editSeconds: h.editSeconds, polls: h.polls}, nil
}

// memberState is a member's standing, read under the hub lock.
type memberState struct {
	host   bool
	muted  bool
	public protocol.Member
	// the host's settings for conversations now
	editSeconds int
	polls       string
}

// allow takes one token from the member's rate limiter.
func (c *Conn) allow() bool {
	now := c.hub.cfg.Now()
	cfg := c.hub.cfg
	c.tokens = min(float64(cfg.RateBurst), c.tokens+now.Sub(c.last).Seconds()*float64(cfg.RatePerSecond))
	c.last = now
	if c.tokens < 1 {
		return false
	}
	c.tokens--
	return true
}

// Post sends a message like a send frame and returns its ack, which is
// also queued on the connection's sink (before the message itself) for
// transports that pass frames through.
func (c *Conn) Post(f protocol.Send) (protocol.Ack, *protocol.Problem) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.send(f)
}

func (c *Conn) send(f protocol.Send) (protocol.Ack, *protocol.Problem) {
	if p := protocol.CheckClientID(f.ClientID); p != nil {
		return protocol.Ack{}, p.WithRef(f.ClientID) // a pipelining client can tell which send failed
	}
	r, st, p := c.memberRoom(f.Room)
	if p != nil {
		return protocol.Ack{}, p.WithRef(f.ClientID)
	}
	files, p := c.attachments(f.Attachments, st)
	if p != nil {
		return protocol.Ack{}, p.WithRef(f.ClientID)
	}
	if p := protocol.CheckText(f.Text, c.hub.cfg.MaxText); p != nil && (len(files) == 0 || p.Code != protocol.CodeEmptyText) {
		return protocol.Ack{}, p.WithRef(f.ClientID)
	}
	h := c.hub
	now := h.cfg.Now()
	msg := protocol.Message{Type: protocol.TypeMessage, Text: f.Text, Attachments: files}
	if f.ReplyTo != 0 {
		orig, p := h.target(r, f.ReplyTo)
		if p != nil {
			return protocol.Ack{}, p.WithRef(f.ClientID)
		}
		msg.ReplyTo, msg.ReplyFrom = orig.Seq, &protocol.Member{ID: orig.From.ID, Name: orig.From.Name}
	}
	if p := c.mayPost(r, st, now, postWords); p != nil {
		return protocol.Ack{}, p.WithRef(f.ClientID)
	}
	return c.post(r, st, msg, f.ClientID, now, func() {
		if len(files) > 0 {
			h.cfg.Files.Attached(f.Attachments)
		}
	})
}

// post stores msg (a message or an event) as the room's next, after
// mayPost counted it in r.appending, then acks it and delivers it in seq
// order. The store hands out the seq and commits it together with others
// (of this room too): the room's lock is not held meanwhile. A client_id
// the room already has gets the original ack and nothing is stored.
// stored runs once the new message has its seq, before it goes out.
func (c *Conn) post(r *room, st memberState, msg protocol.Message, clientID string, now time.Time, stored func()) (protocol.Ack, *protocol.Problem) {
	h := c.hub
	msg.ID, msg.From, msg.TS, msg.ClientID = randomHex(8), st.public, now.UnixMilli(), clientID
	msg, dup, err := h.cfg.Store.Append(r.key, msg)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.appending--
	defer r.stored.Broadcast()
	if err != nil {
		return protocol.Ack{}, h.internal(err, "the message could not be stored; try again").WithRef(clientID)
	}
	ack := protocol.Ack{ClientID: clientID, Room: r.name, Seq: msg.Seq, ID: msg.ID, TS: msg.TS}
	if dup {
		if protocol.NameKey(msg.From.Name) != protocol.NameKey(st.public.Name) {
			// Another member's message: never ack it for this one, never drop theirs.
			return protocol.Ack{}, protocol.Errorf(protocol.CodeBadClientID, "that client_id is taken by another message; use a new one").WithRef(clientID)
		}
		c.sink.Send(NewOut(ack))
		return ack, nil
	}
	own := true
	if h.cfg.Feed != nil {
		own = r.awaitTurnLocked(msg.Seq)
	} else {
		r.deliverInOrderLocked(msg.Seq)
	}
	if msg.FrameType() == protocol.TypeMessage || msg.FrameType() == protocol.TypePoll {
		r.lastSend[c.member] = now
	}
	if stored != nil {
		stored()
	}
	msg.Room = r.name
	ack.Room = r.name
	c.sink.Send(NewOut(ack))
	if own {
		h.fanoutLocked(r, NewOut(msg), nil)
		if h.cfg.Feed != nil {
			h.deliverFedLocked(r) // what other boxes sent right after
		}
	}
	return ack, nil
}

// What a member posts, for mayPost: words (a message, a poll) follow the
// lock and slow mode, an edit the lock only, a reaction, a vote or a poll's
// closing neither.
const (
	postWords = iota
	postEdit
	postMark
)

// mayPost checks the member may write in the room now: mute, lock and slow
// mode (as kind says) and the rate limit. On success the room counts one
// more append in flight, which post ends.
func (c *Conn) mayPost(r *room, st memberState, now time.Time, kind int) *protocol.Problem {
	h := c.hub
	r.mu.Lock()
	defer r.mu.Unlock()
	if !st.host {
		if st.muted {
			return protocol.Errorf(protocol.CodeMuted, "the host has muted you")
		}
		if kind != postMark && (r.flags.Locked || r.flags.Announcements) {
			return protocol.Errorf(protocol.CodeRoomLocked, "only the host posts in %q", r.name)
		}
		if slow := time.Duration(r.flags.SlowSeconds) * time.Second; slow > 0 && kind == postWords {
			if last, ok := r.lastSend[c.member]; ok && now.Sub(last) < slow {
				wait := (slow - now.Sub(last) + time.Second - 1) / time.Second
				return protocol.Errorf(protocol.CodeSlowMode, "slow mode: wait %d s before writing again in %q", int(wait), r.name)
			}
		}
	}
	if !c.allow() {
		return protocol.Errorf(protocol.CodeRateLimited, "slow down: at most %d messages per second", h.cfg.RatePerSecond)
	}
	r.appending++
	return nil
}

// deliverInOrderLocked waits (under r.mu, released while waiting) until
// seq is the room's next message to go out, then counts it as sent.
// Normally that is lastSeq+1. Should the store's count be ahead of the
// room's (nothing else in flight, yet a gap), the smallest stored seq goes
// next rather than waiting for numbers no send holds.
func (r *room) deliverInOrderLocked(seq uint64) {
	r.ready = append(r.ready, seq)
	for seq != r.lastSeq+1 && (r.appending > 0 || seq != slices.Min(r.ready)) {
		r.stored.Wait()
	}
	r.ready = slices.DeleteFunc(r.ready, func(s uint64) bool { return s == seq })
	r.lastSeq = max(r.lastSeq, seq)
}

// awaitTurnLocked (with a Feed) waits until every seq before seq went out,
// some of them sent on other boxes. It reports whether this send is to
// deliver its message: false when the feed delivered it already.
func (r *room) awaitTurnLocked(seq uint64) bool {
	for seq > r.lastSeq+1 {
		r.stored.Wait()
	}
	if seq <= r.lastSeq {
		return false
	}
	r.lastSeq = seq
	return true
}

func (c *Conn) typing(f protocol.Typing) *protocol.Problem {
	r, st, p := c.memberRoom(f.Room)
	if p != nil {
		return p
	}
	h := c.hub
	r.mu.Lock()
	defer r.mu.Unlock()
	if !st.host && (st.muted || r.flags.Locked || r.flags.Announcements) {
		return nil // they cannot write here, so they are not typing here
	}
	now := h.cfg.Now()
	if last, ok := r.lastTyping[c.member]; ok && now.Sub(last) < h.cfg.TypingInterval {
		return nil // rate-limited silently: typing is a hint
	}
	r.lastTyping[c.member] = now
	h.fanoutLocked(r, NewOut(protocol.Typing{Room: r.name, From: &st.public}), c.member)
	return nil
}
