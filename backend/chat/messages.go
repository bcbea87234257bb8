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
	return h.rooms[key], memberState{host: c.member.isHost(), muted: c.member.muted, public: c.member.public()}, nil
}

// memberState is a member's standing, read under the hub lock.
type memberState struct {
	host   bool
	muted  bool
	public protocol.Member
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
	if p := c.mayPost(r, st, now); p != nil {
		return protocol.Ack{}, p.WithRef(f.ClientID)
	}
	// The store hands out the seq and commits this message together with
	// others (of this room too): the room's lock is not held meanwhile.
	msg, dup, err := h.cfg.Store.Append(r.key, protocol.Message{
		Type:        protocol.TypeMessage,
		ID:          randomHex(8),
		From:        st.public,
		Text:        f.Text,
		TS:          now.UnixMilli(),
		Attachments: files,
		ClientID:    f.ClientID,
	})
	r.mu.Lock()
	defer r.mu.Unlock()
	r.appending--
	defer r.stored.Broadcast()
	if err != nil {
		return protocol.Ack{}, h.internal(err, "the message could not be stored; try again").WithRef(f.ClientID)
	}
	ack := protocol.Ack{ClientID: f.ClientID, Room: r.name, Seq: msg.Seq, ID: msg.ID, TS: msg.TS}
	if dup {
		if protocol.NameKey(msg.From.Name) != protocol.NameKey(st.public.Name) {
			// Another member's message: never ack it for this one, never drop theirs.
			return protocol.Ack{}, protocol.Errorf(protocol.CodeBadClientID, "that client_id is taken by another message; use a new one").WithRef(f.ClientID)
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
	r.lastSend[c.member] = now
	if len(files) > 0 {
		h.cfg.Files.Attached(f.Attachments)
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

// mayPost checks the member may write in the room now: mute, lock, slow
// mode and the rate limit.
func (c *Conn) mayPost(r *room, st memberState, now time.Time) *protocol.Problem {
	h := c.hub
	r.mu.Lock()
	defer r.mu.Unlock()
	if !st.host {
		if st.muted {
			return protocol.Errorf(protocol.CodeMuted, "the host has muted you")
		}
		if r.flags.Locked || r.flags.Announcements {
			return protocol.Errorf(protocol.CodeRoomLocked, "only the host posts in %q", r.name)
		}
		if slow := time.Duration(r.flags.SlowSeconds) * time.Second; slow > 0 {
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
