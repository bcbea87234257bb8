package chat

import (
	"sync"
	"time"

	"lanchat/backend/protocol"
)

// RoomFeed follows the rooms of a Store shared by several boxes (cluster
// mode): every room any box creates, renames, closes or changes.
type RoomFeed interface {
	// WatchRooms calls changed with every room saved from now on, this
	// box's saves included, in order, until stop is called; stop waits
	// for the last call to return.
	WatchRooms(changed func(StoredRoom)) (stop func())
}

// roomChanged applies a room another box saved: a new room is listed, a
// closed one taken away (its members told), a renamed one renamed (everyone
// told), new flags or topic listed. This box's own saves come back here
// too, and change nothing: the room is already as saved. A private room
// another box opened is added, unlisted, so that either member finds it
// on any box (a failover resumes it); joining it is the roster's
// (RosterOpened).
func (h *Hub) roomChanged(sr StoredRoom) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return
	}
	if _, dm := parseDMKey(sr.Key); dm {
		if !sr.Closed {
			h.ensureDMLocked(sr.Key)
		}
		return
	}
	var r *room
	for _, x := range h.rooms {
		if x.key == sr.Key {
			r = x
			break
		}
	}
	newKey := protocol.RoomKey(sr.Name)
	if other, ok := h.rooms[newKey]; ok && other != r {
		h.cfg.Logger.Warn("a room saved by another box clashes with one here; left as it is", "room", sr.Name)
		return
	}
	switch {
	case r == nil && !sr.Closed:
		h.addRoomLocked(sr.Key, sr.Name, sr.LastSeq, sr.Flags, sr.Topic).pinned = sr.Pinned
		h.broadcastRoomsLocked()
	case r == nil:
	case sr.Closed:
		if r.key != Lobby {
			h.closedLocked(r)
		}
	default:
		r.mu.Lock()
		old := r.name
		changed := r.flags != sr.Flags || r.topic != sr.Topic
		r.name, r.flags, r.topic = sr.Name, sr.Flags, sr.Topic
		if !samePin(r.pinned, sr.Pinned) {
			r.pinned = sr.Pinned
			h.fanoutLocked(r, NewOut(protocol.Pinned{Room: r.name, Message: r.pinnedIn(r.name)}), nil)
		}
		r.mu.Unlock()
		if oldKey := protocol.RoomKey(old); oldKey != newKey || old != sr.Name {
			h.renamedLocked(r, old, oldKey, newKey)
		} else if changed {
			h.broadcastRoomsLocked()
		}
	}
}

// addRoomLocked adds a room under its store key. Rooms are found by the
// key of their current name; private rooms are never listed.
func (h *Hub) addRoomLocked(key, name string, lastSeq uint64, flags RoomFlags, topic string) *room {
	r := &room{key: key, name: name, lastSeq: lastSeq, flags: flags, topic: topic,
		joining: map[*Member]bool{}, lastTyping: map[*Member]time.Time{}, lastSend: map[*Member]time.Time{}}
	r.stored = sync.NewCond(&r.mu)
	h.followLocked(r)
	if dm, ok := parseDMKey(key); ok {
		r.dm = dm
		h.rooms[key] = r
		return r
	}
	h.rooms[protocol.RoomKey(name)] = r
	h.order = append(h.order, protocol.RoomKey(name))
	return r
}

func (h *Hub) roomsLocked() []protocol.RoomInfo {
	out := make([]protocol.RoomInfo, 0, len(h.order))
	for _, k := range h.order {
		// Without the room's lock, which a history read may hold: name, topic
		// and flags change under Hub.mu too, the count is atomic.
		r := h.rooms[k]
		out = append(out, protocol.RoomInfo{Name: r.name, Members: int(r.count.Load()), Topic: r.topic,
			Locked: r.flags.Locked || r.flags.Announcements, Announcements: r.flags.Announcements, SlowSeconds: r.flags.SlowSeconds})
	}
	return out
}
