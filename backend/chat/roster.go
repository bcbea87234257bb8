package chat

import (
	"errors"
	"slices"
	"strings"

	"lanchat/backend/protocol"
)

// Members of other boxes (cluster mode). Each box's hub holds its own
// members' connections; a Roster tells the other boxes who joined and left
// which room, and keeps names unique across boxes. A member of another box
// is a Member without a connection: it is in the room's list, counts, and
// shows in presence and members answers like anyone, and frames sent to it
// go nowhere (its own box delivers them).

// Roster shares this box's members with the other boxes of a cluster.
type Roster interface {
	// Claim reserves a name (its NameKey) for the member id of this box.
	// It returns ErrNameTaken when a member of another box holds it.
	Claim(nameKey, id string) error
	// Release frees a name this box claimed for id.
	Release(nameKey, id string)
	// Publish tells the other boxes that m joined, left or disconnected
	// from the room with store key room, or (event RosterOpened) that m, a
	// member of another box, is asked into the private room room. It must
	// not block.
	Publish(room, event string, m BoxMember)
	// Boxes lists the join links of the other boxes that are up, for
	// welcome. It must not block.
	Boxes() []string
}

// BoxMember is a member as the boxes tell each other of it: what clients
// see of it, and the identity that keys its private rooms.
type BoxMember struct {
	protocol.Member
	Identity string `json:"identity,omitempty"`
}

// RosterOpened is the roster event that asks a member's own box to join it
// to a private room a member of another box opened with it (see openDM).
const RosterOpened = "opened"

func (m *Member) boxMember() BoxMember {
	return BoxMember{Member: m.public(), Identity: m.identity}
}

// ErrNameTaken is a Roster's answer for a name held on another box.
var ErrNameTaken = errors.New("chat: the name is taken on another box")

// publishLocked tells the other boxes of a local member's change in r.
func (h *Hub) publishLocked(r *room, event string, m *Member) {
	if h.cfg.Roster != nil && m.box == "" {
		h.cfg.Roster.Publish(r.key, event, m.boxMember())
	}
}

// boxesLocked lists the other boxes for welcome; none without a roster.
func (h *Hub) boxesLocked() []string {
	if h.cfg.Roster == nil {
		return nil
	}
	return h.cfg.Roster.Boxes()
}

// roomByStoreKey finds a room by its store key. Hub.mu is held.
func (h *Hub) roomByStoreKey(key string) (string, *room) {
	for k, r := range h.rooms {
		if r.key == key {
			return k, r
		}
	}
	return "", nil
}

// Remote applies a change another box published: member bm of box joined,
// left or disconnected from the room with store key room; or, for event
// RosterOpened, bm (a member of this box) is asked into the private room
// room.
func (h *Hub) Remote(box, room, event string, bm BoxMember) {
	if event == RosterOpened {
		// The join reads the room's history, which may take a while in
		// a room just made: not on the roster's goroutine, which must
		// keep up with the boxes' heartbeats.
		go func() {
			h.mu.Lock()
			defer h.unlock()
			if !h.closed {
				h.openedLocked(room, bm)
			}
		}()
		return
	}
	h.mu.Lock()
	defer h.unlock()
	pm := bm.Member
	key, r := h.roomByStoreKey(room)
	if r == nil && event == protocol.EventJoined {
		// A private room this box has not heard of yet (the room feed
		// may come after the roster): it is in the shared store.
		if _, ok := parseDMKey(room); ok {
			key, r = room, h.ensureDMLocked(room)
		}
	}
	m := h.remote[pm.ID]
	if m == nil {
		if event != protocol.EventJoined || r == nil {
			return
		}
		m = &Member{id: pm.ID, name: pm.Name, nameKey: protocol.NameKey(pm.Name), sortKey: strings.ToLower(pm.Name), box: box, identity: bm.Identity}
		h.remote[m.id] = m
		if _, taken := h.names[m.nameKey]; !taken {
			h.names[m.nameKey] = m
		}
	}
	m.setStanding(pm.Role, pm.Muted)
	switch {
	case r == nil:
	case event == protocol.EventJoined && !slices.Contains(m.rooms, key):
		m.rooms = append(m.rooms, key)
		r.mu.Lock()
		r.members = append(r.members, m)
		r.count.Store(int64(len(r.members)))
		h.resizedLocked(r)
		h.presenceLocked(r, protocol.EventJoined, m)
		r.mu.Unlock()
	case event != protocol.EventJoined && slices.Contains(m.rooms, key):
		h.leaveLocked(m, key, event)
	}
	if len(m.rooms) == 0 {
		h.forgetRemoteLocked(m)
	}
	h.broadcastRoomsLocked()
}

// RemoteGone removes every member of a box that stopped (or lost touch):
// each is "disconnected" from its rooms.
func (h *Hub) RemoteGone(box string) {
	h.mu.Lock()
	defer h.unlock()
	for _, m := range h.remote {
		if m.box != box {
			continue
		}
		for _, key := range slices.Clone(m.rooms) {
			h.leaveLocked(m, key, protocol.EventDisconnected)
		}
		h.forgetRemoteLocked(m)
	}
	h.broadcastRoomsLocked()
}

func (h *Hub) forgetRemoteLocked(m *Member) {
	delete(h.remote, m.id)
	if h.names[m.nameKey] == m {
		delete(h.names, m.nameKey)
	}
}

// Membership is one local member in one room, as Local lists them.
type Membership struct {
	Room   string // store key
	Member BoxMember
}

// Local lists this box's members and their rooms, for a box that starts
// and asks the others who is there.
func (h *Hub) Local() []Membership {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []Membership
	for _, m := range h.members {
		for _, k := range m.rooms {
			r := h.rooms[k]
			if r == nil {
				continue
			}
			// A join finishes under the room's lock alone (finishJoin).
			r.mu.Lock()
			in := slices.Contains(r.members, m)
			r.mu.Unlock()
			if in {
				out = append(out, Membership{Room: r.key, Member: m.boxMember()})
			}
		}
	}
	return out
}
