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

func (c *Conn) send(f protocol.Send) *protocol.Problem {
	if p := protocol.CheckClientID(f.ClientID); p != nil {
		return p
	}
	r, st, p := c.memberRoom(f.Room)
	if p != nil {
		return p.WithRef(f.ClientID)
	}
	if p := protocol.CheckText(f.Text, c.hub.cfg.MaxText); p != nil {
		return p.WithRef(f.ClientID)
	}
	h := c.hub
	r.mu.Lock()
	defer r.mu.Unlock()
	if prev, ok, err := h.cfg.Store.ByClientID(r.key, f.ClientID); err != nil {
		return protocol.Errorf(protocol.CodeInternal, "the message could not be checked").WithRef(f.ClientID)
	} else if ok {
		if protocol.NameKey(prev.From.Name) != protocol.NameKey(st.public.Name) {
			// Another member's message: never ack it for this one, never drop theirs.
			return protocol.Errorf(protocol.CodeBadClientID, "that client_id is taken by another message; use a new one").WithRef(f.ClientID)
		}
		c.sink.Send(NewOut(protocol.Ack{ClientID: f.ClientID, Room: r.name, Seq: prev.Seq, ID: prev.ID, TS: prev.TS}))
		return nil
	}
	now := h.cfg.Now()
	if !st.host {
		if st.muted {
			return protocol.Errorf(protocol.CodeMuted, "the host has muted you").WithRef(f.ClientID)
		}
		if r.flags.Locked || r.flags.Announcements {
			return protocol.Errorf(protocol.CodeRoomLocked, "only the host posts in %q", r.name).WithRef(f.ClientID)
		}
		if slow := time.Duration(r.flags.SlowSeconds) * time.Second; slow > 0 {
			if last, ok := c.member.lastSend[r.key]; ok && now.Sub(last) < slow {
				wait := (slow - now.Sub(last) + time.Second - 1) / time.Second
				return protocol.Errorf(protocol.CodeSlowMode, "slow mode: wait %d s before writing again in %q", int(wait), r.name).WithRef(f.ClientID)
			}
		}
	}
	if !c.allow() {
		return protocol.Errorf(protocol.CodeRateLimited, "slow down: at most %d messages per second", h.cfg.RatePerSecond).WithRef(f.ClientID)
	}
	msg := protocol.Message{
		Type:     protocol.TypeMessage,
		Room:     r.name,
		Seq:      r.lastSeq + 1,
		ID:       randomHex(8),
		From:     st.public,
		Text:     f.Text,
		TS:       now.UnixMilli(),
		ClientID: f.ClientID,
	}
	if err := h.cfg.Store.Append(msg); err != nil {
		return protocol.Errorf(protocol.CodeInternal, "the message could not be stored; try again").WithRef(f.ClientID)
	}
	r.lastSeq = msg.Seq
	c.member.lastSend[r.key] = now
	c.sink.Send(NewOut(protocol.Ack{ClientID: f.ClientID, Room: r.name, Seq: msg.Seq, ID: msg.ID, TS: msg.TS}))
	h.fanoutLocked(r, NewOut(msg), nil)
	return nil
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
	if last, ok := c.member.lastTyping[r.key]; ok && now.Sub(last) < h.cfg.TypingInterval {
		return nil // rate-limited silently: typing is a hint
	}
	c.member.lastTyping[r.key] = now
	h.fanoutLocked(r, NewOut(protocol.Typing{Room: r.name, From: &st.public}), c.member)
	return nil
}
