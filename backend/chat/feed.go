package chat

import (
	"lanchat/backend/protocol"
)

// Shared history: hubs on several boxes that share one Store (cluster
// mode) each hand out seqs through it, so a room's seqs interleave across
// boxes. A Feed tells each hub every message appended to a room, by any
// box, in seq order; the hub delivers them to its members in seq order,
// its own sends included, so every member on every box sees one sequence.

// Feed follows the rooms of a shared store. A hub on its own has none.
type Feed interface {
	// Follow calls deliver with every message of room with a seq above
	// after, in seq order, from now until stop is called. deliver must not
	// block for long: it runs on the feed's goroutine for that room.
	Follow(room string, after uint64, deliver func(protocol.Message)) (stop func())
}

// followLocked starts following a new room, when the hub has a feed.
func (h *Hub) followLocked(r *room) {
	if h.cfg.Feed == nil {
		return
	}
	r.fed = map[uint64]protocol.Message{}
	r.unfollow = h.cfg.Feed.Follow(r.key, r.lastSeq, func(m protocol.Message) { h.fromFeed(r, m) })
}

// stopFollowing stops following a room that is gone.
func (r *room) stopFollowing() {
	if r.unfollow != nil {
		r.unfollow()
	}
}

// fromFeed delivers a message appended by any box once every seq before it
// went out.
func (h *Hub) fromFeed(r *room, m protocol.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.Seq <= r.lastSeq {
		return // this box's own send delivered it already
	}
	r.fed[m.Seq] = m
	h.deliverFedLocked(r)
	r.stored.Broadcast()
}

// deliverFedLocked sends the fed messages that are next in line. r.mu is held.
func (h *Hub) deliverFedLocked(r *room) {
	for {
		m, ok := r.fed[r.lastSeq+1]
		if !ok {
			return
		}
		delete(r.fed, m.Seq)
		r.lastSeq = m.Seq
		m.Room = r.name
		h.fanoutLocked(r, NewOut(m), nil)
	}
}
