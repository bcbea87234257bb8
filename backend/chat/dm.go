package chat

import (
	"strings"

	"lanchat/backend/protocol"
)

// Private rooms have the store key "@" + identityA + "-" + identityB, the two
// identities sorted. The key is also the room's name on the wire; clients
// show the other member's name.
func dmKey(a, b string) string {
	if a > b {
		a, b = b, a
	}
	return "@" + a + "-" + b
}

func parseDMKey(key string) ([2]string, bool) {
	rest, ok := strings.CutPrefix(key, "@")
	if !ok {
		return [2]string{}, false
	}
	a, b, ok := strings.Cut(rest, "-")
	if !ok || a == "" || b == "" {
		return [2]string{}, false
	}
	return [2]string{a, b}, true
}

// openDM joins the member and the other member to their private room,
// creating it on first use. Both get joined with its history.
//
// In a cluster the other member may be on another box. The room is saved
// in the shared store, which every box follows (its messages through the
// Feed, the room itself through the RoomFeed), and the other member's own
// box is asked through the Roster to join it (RosterOpened): from then on
// it is a room like any other whose two members are on two boxes.
func (c *Conn) openDM(f protocol.DM) *protocol.Problem {
	return c.whileCurrent(c.hub.unlock, func() *protocol.Problem { return c.openDMLocked(f) })
}

// openDMLocked is openDM under the hub lock.
func (c *Conn) openDMLocked(f protocol.DM) *protocol.Problem {
	h := c.hub
	me := c.member
	other, ok := h.members[f.Member]
	if !ok {
		other, ok = h.remote[f.Member]
	}
	if !ok || (other.box == "" && other.conn.Load() == nil) || other.identity == "" {
		return protocol.Errorf(protocol.CodeNoSuchMember, "that member is not here").WithRef(f.Member)
	}
	if other == me {
		return protocol.Errorf(protocol.CodeNoSuchMember, "a private conversation needs someone else").WithRef(f.Member)
	}
	key := dmKey(me.identity, other.identity)
	if _, ok := h.rooms[key]; !ok {
		if err := h.cfg.Store.SaveRoom(StoredRoom{Key: key, Name: key}); err != nil {
			return h.internal(err, "the conversation could not be created").WithRef(f.Member)
		}
		h.addRoomLocked(key, key, 0, RoomFlags{}, "")
	}
	if other.box != "" {
		// Before this member's join goes out (h.unlock), so that the
		// other box knows the room when it hears of the join.
		h.cfg.Roster.Publish(key, RosterOpened, other.boxMember())
	} else {
		h.joinLocked(other.conn.Load(), key, nil)
	}
	h.joinLocked(c, key, nil)
	return nil
}

// openedLocked joins a member of this box to the private room key, which
// a member of another box opened with it (RosterOpened).
func (h *Hub) openedLocked(key string, bm BoxMember) {
	m := h.members[bm.ID]
	dm, ok := parseDMKey(key)
	if m == nil || !ok || (m.identity != dm[0] && m.identity != dm[1]) {
		return // gone meanwhile, or not this box's
	}
	c := m.conn.Load()
	if c == nil {
		return
	}
	h.ensureDMLocked(key)
	h.joinLocked(c, key, nil)
}

// ensureDMLocked returns the private room key, adding it when this box has
// not heard of it yet: another box saved it in the shared store, which it
// is followed in from its start.
func (h *Hub) ensureDMLocked(key string) *room {
	if r, ok := h.rooms[key]; ok {
		return r
	}
	return h.addRoomLocked(key, key, 0, RoomFlags{}, "")
}
