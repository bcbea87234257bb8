package chat

import (
	"lanchat/backend/protocol"
)

// Decisions about members, shared by the boxes of a cluster. A host on its
// own keeps them in its hub. On a cluster every box must know them: the
// host on box A mutes, kicks or bans a member connected to box B, and a
// banned student who reconnects to box C is refused there too.
//
// Two kinds travel:
//   - actions on a member (mute, unmute, co-host, kick, ban), named by the
//     member's id: live only, applied by every box that is up (the member's
//     own box to its connection, the others to their view of it);
//   - what the member's own box makes of them, named by identity (name on a
//     device) and device: bans, mutes and co-hosts that hold for the
//     member's next connection on any box, and the join code. These are
//     kept, and replayed to a box that starts.

// Decisions shares decisions with the other boxes.
type Decisions interface {
	// Decide saves d; every box's watcher gets it, this box's too.
	Decide(d Decision) error
	// WatchDecisions calls apply with every decision kept (live false),
	// then with every decision made from then on (live true), in order,
	// until stop is called; stop waits for the last call to return.
	WatchDecisions(apply func(d Decision, live bool)) (stop func())
}

// Decision is one decision. An action names Member (and the Box that made
// it); a kept decision names Key (an identity, or a device for
// DecideBanDevice; nothing for the join code).
type Decision struct {
	Kind   string `json:"kind"`
	Member string `json:"member,omitempty"`
	Box    string `json:"box,omitempty"`
	Key    string `json:"key,omitempty"`
	On     bool   `json:"on,omitempty"`
	Value  string `json:"value,omitempty"`
}

// Decision kinds: the moderation actions (protocol.ActionMute, ActionKick,
// ActionBan, ActionCohost) and these kept ones.
const (
	DecideBanned    = "banned"     // Key: an identity
	DecideBanDevice = "ban_device" // Key: a device
	DecideMuted     = "muted"      // Key: an identity
	DecideCohost    = "cohosted"   // Key: an identity
	DecideJoinCode  = "join_code"  // Value: the code ("" none)
)

// decideLocked shares d with the other boxes. A decision that cannot be
// shared still holds on this box; the failure is logged.
func (h *Hub) decideLocked(d Decision) {
	if h.cfg.Decisions == nil {
		return
	}
	if d.Member != "" {
		d.Box = h.box
	}
	if err := h.cfg.Decisions.Decide(d); err != nil {
		h.cfg.Logger.Warn("a decision could not be shared with the other boxes", "kind", d.Kind, "err", err)
	}
}

// keepLocked shares what a moderation action means for m's identity (and
// device) on every box from now on.
func (h *Hub) keepLocked(action string, m *Member, on bool) {
	switch action {
	case protocol.ActionMute:
		h.decideLocked(Decision{Kind: DecideMuted, Key: m.identity, On: on})
	case protocol.ActionCohost:
		h.decideLocked(Decision{Kind: DecideCohost, Key: m.identity, On: on})
	case protocol.ActionBan:
		h.decideLocked(Decision{Kind: DecideBanned, Key: m.identity, On: true})
		if m.device != "" {
			h.decideLocked(Decision{Kind: DecideBanDevice, Key: m.device, On: true})
		}
	}
}

// decided applies a decision of any box. This box's own actions come back
// here too and are skipped; kept decisions that are already in force
// change nothing.
func (h *Hub) decided(d Decision, live bool) {
	h.mu.Lock()
	defer h.unlock()
	if h.closed {
		return
	}
	switch d.Kind {
	case protocol.ActionMute, protocol.ActionCohost, protocol.ActionKick, protocol.ActionBan:
		if !live || d.Box == h.box {
			return
		}
		if m := h.members[d.Member]; m != nil && m.role != protocol.RoleHost {
			h.applyActionLocked(m, d.Kind, d.On)
			h.keepLocked(d.Kind, m, d.On)
		} else if m := h.remote[d.Member]; m != nil {
			h.applyActionLocked(m, d.Kind, d.On) // this box's view of it
		}
	case DecideBanned:
		h.bannedIDs[d.Key] = d.On
		h.dropLocked(func(m *Member) bool { return d.On && m.identity == d.Key })
	case DecideBanDevice:
		h.bannedDev[d.Key] = d.On
		h.dropLocked(func(m *Member) bool { return d.On && m.device == d.Key })
	case DecideMuted:
		h.mutes[d.Key] = d.On
		for _, m := range h.members {
			if m.identity == d.Key && m.muted != d.On && m.role != protocol.RoleHost {
				h.applyActionLocked(m, protocol.ActionMute, d.On)
			}
		}
	case DecideCohost:
		h.cohosts[d.Key] = d.On
		for _, m := range h.members {
			if m.identity == d.Key && (m.role == protocol.RoleCohost) != d.On && m.role != protocol.RoleHost {
				h.applyActionLocked(m, protocol.ActionCohost, d.On)
			}
		}
	case DecideAnnouncements:
		h.announcedLocked(d.Value, live)
	case DecideJoinCode:
		if h.joinCode != d.Value {
			h.joinCode = d.Value
			clear(h.joinFails)
		}
	}
}

// dropLocked bans this box's members that match (never the host).
func (h *Hub) dropLocked(match func(*Member) bool) {
	for _, m := range h.members {
		if m.role != protocol.RoleHost && match(m) {
			delete(h.sessions, m.session)
			m.close(protocol.Errorf(protocol.CodeBanned, "the host has banned you from this session"))
		}
	}
}

// applyActionLocked does what a moderation action does to m here: a mute
// or a role change is told to everyone on this box; a kick or ban closes
// m's connection (a member of another box has none: its box closes it).
func (h *Hub) applyActionLocked(m *Member, action string, on bool) {
	switch action {
	case protocol.ActionMute:
		if m.box == "" {
			h.mutes[m.identity] = on
		}
		m.setStanding(m.role, on)
		h.broadcastLocked(NewOut(protocol.MemberUpdate{Member: m.public()}))
	case protocol.ActionCohost:
		if m.box == "" {
			h.cohosts[m.identity] = on
		}
		role := ""
		if on {
			role = protocol.RoleCohost
		}
		m.setStanding(role, m.muted)
		h.broadcastLocked(NewOut(protocol.MemberUpdate{Member: m.public()}))
	case protocol.ActionKick, protocol.ActionBan:
		code, msg := protocol.CodeKicked, "the host removed you from this session"
		if action == protocol.ActionBan {
			code, msg = protocol.CodeBanned, "the host has banned you from this session"
			if m.box == "" {
				h.bannedIDs[m.identity] = true
				if m.device != "" {
					h.bannedDev[m.device] = true
				}
				delete(h.sessions, m.session) // no takeover back in
			}
		}
		if c := m.conn.Load(); c != nil {
			c.removed = true // its rooms hear "removed", not "disconnected"
		}
		m.close(protocol.Errorf(code, "%s", msg))
	}
}
