package chat

import (
	"slices"
	"time"

	"lanchat/backend/protocol"
)

// Presence and the rooms list: gathered per window and fanned out together.

// throttle lets an update out at once, or schedules it for the end of the
// window when the previous one went out less than a window ago.
type throttle struct {
	last  time.Time
	timer *time.Timer
}

// due reports whether to send now; otherwise it makes sure fire runs at the
// end of the window. The caller holds the lock that fire takes.
func (t *throttle) due(window time.Duration, fire func()) bool {
	if t.timer != nil {
		return false
	}
	wait := time.Until(t.last.Add(window))
	if wait <= 0 {
		t.last = time.Now()
		return true
	}
	t.timer = time.AfterFunc(wait, fire)
	return false
}

// fired is called by fire, under the lock, before it sends.
func (t *throttle) fired() {
	t.timer = nil
	t.last = time.Now()
}

func (t *throttle) stop() {
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
}

// presenceLocked records a member's change for the room's next presence
// frame, which goes out at once or at the end of the window. r.mu is held.
// A large room tells only its count and its hosts' changes, every
// LargeWindow at most.
func (h *Hub) presenceLocked(r *room, event string, m *Member) {
	r.counted = true
	if !r.large || m.isHost() {
		ch := protocol.PresenceChange{Event: event, Member: m.public()}
		i := slices.IndexFunc(r.presence, func(p protocol.PresenceChange) bool { return p.Member.ID == m.id })
		if i >= 0 {
			// One change per member: the latest, in the place of the earlier.
			r.presence = append(slices.Delete(r.presence, i, i+1), ch)
		} else {
			r.presence = append(r.presence, ch)
		}
	}
	window := h.cfg.PresenceWindow
	if r.large {
		window = max(window, LargeWindow)
	}
	if r.pushed.due(window, func() {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.pushed.fired()
		h.flushPresenceLocked(r)
	}) {
		h.flushPresenceLocked(r)
	}
}

func (h *Hub) flushPresenceLocked(r *room) {
	if len(r.presence) == 0 && !r.counted {
		return
	}
	o := NewOut(protocol.Presence{Room: r.name, Changes: r.presence, TS: h.cfg.Now().UnixMilli(),
		Count: len(r.members), Partial: r.large})
	r.presence, r.counted = nil, false
	h.fanoutLocked(r, o, nil)
}

// fanoutLocked queues o for every member of r except skip. r.mu is held.
func (h *Hub) fanoutLocked(r *room, o *Out, skip *Member) {
	for _, m := range r.members {
		if m != skip {
			m.send(o)
		}
	}
}

// broadcastRoomsLocked pushes the rooms list to every member, at once or
// at the end of the window, so a burst of joins sends it a few times, not
// once per join.
func (h *Hub) broadcastRoomsLocked() {
	window := h.cfg.PresenceWindow
	if len(h.members) > h.cfg.FullList {
		window = max(window, LargeWindow)
	}
	if h.roomsList.due(window, func() {
		h.mu.Lock()
		defer h.mu.Unlock()
		h.roomsList.fired()
		h.sendRoomsLocked()
	}) {
		h.sendRoomsLocked()
	}
}

func (h *Hub) sendRoomsLocked() {
	if h.closed {
		return
	}
	o := NewOut(protocol.Rooms{Rooms: h.roomsLocked()})
	for _, m := range h.members {
		m.send(o)
	}
}
