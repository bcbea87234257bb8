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
func (c *Conn) openDM(f protocol.DM) *protocol.Problem {
	h := c.hub
	unlock, ok := c.lockCurrent(h.unlock)
	if !ok {
		return nil
	}
	defer unlock()
	me := c.member
	other, ok := h.members[f.Member]
	if !ok || other.conn.Load() == nil {
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
	h.joinLocked(other.conn.Load(), key, nil)
	h.joinLocked(c, key, nil)
	return nil
}
