package chat

import (
	"encoding/json"
	"slices"

	"lanchat/backend/protocol"
)

// Pinned messages and announcements (see protocol/announce.go).
//
// A room's pin is part of the room as the store keeps it (StoredRoom.Pinned),
// so it survives a restart and, on a cluster, reaches every box with the
// room (RoomFeed). Announcements are a Decision (DecideAnnouncements) whose
// value is the newest protocol.MaxAnnouncements of them: a host on its own
// keeps it in its database, a cluster in its store, and every box sends the
// ones it had not seen to its members.

// DecideAnnouncements is the kept decision that holds the newest
// announcements: Value is their JSON array, oldest first.
const DecideAnnouncements = "announcements"

// storedLocked is the room as the store keeps it now. r.mu is held.
func (r *room) storedLocked() StoredRoom {
	return StoredRoom{Key: r.key, Name: r.name, LastSeq: r.lastSeq, Topic: r.topic, Flags: r.flags, Pinned: r.pinned}
}

// pinnedIn is the room's pinned message under the room's name now (the
// room may have been renamed since it was pinned), or nil.
func (r *room) pinnedIn(name string) *protocol.Message {
	if r.pinned == nil {
		return nil
	}
	m := *r.pinned
	m.Room = name
	return &m
}

// samePin reports whether two pins are the same message.
func samePin(a, b *protocol.Message) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Seq == b.Seq && a.ID == b.ID
}

// pinLocked pins message f.Seq of a room at its top (f.Flag) or unpins
// what is pinned there. The room's members are told with a pinned frame.
func (h *Hub) pinLocked(me *Member, f protocol.Control) *protocol.Problem {
	if p := protocol.CheckPin(f); p != nil {
		return p
	}
	r, p := h.userRoomLocked(f.Room)
	if p != nil {
		return p
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var pin *protocol.Message
	if f.Flag {
		if f.Seq <= r.lastSeq {
			msgs, _, err := h.cfg.Store.Since(r.key, f.Seq-1, 1)
			if err != nil {
				return h.internal(err, "the message could not be read").WithRef(f.Action)
			}
			if len(msgs) == 1 && msgs[0].Seq == f.Seq && !msgs[0].Deleted {
				pin = &msgs[0]
			}
		}
		if pin == nil {
			return protocol.Errorf(protocol.CodeNoSuchMessage, "there is no message %d in %q", f.Seq, r.name).WithRef(f.Action)
		}
		pin.Room = r.name
	}
	if samePin(r.pinned, pin) {
		return nil
	}
	sr := r.storedLocked()
	sr.Pinned = pin
	if err := h.cfg.Store.SaveRoom(sr); err != nil {
		return h.internal(err, "the pin could not be stored").WithRef(r.name)
	}
	r.pinned = pin
	by := me.public()
	h.fanoutLocked(r, NewOut(protocol.Pinned{Room: r.name, Message: r.pinnedIn(r.name), By: &by}), nil)
	return nil
}

// unpinDeletedLocked unpins message seq of r if it is the pinned one (it
// was just deleted). r.mu is held; a store failure leaves the pin, logged.
func (h *Hub) unpinDeletedLocked(r *room, seq uint64) {
	if r.pinned == nil || r.pinned.Seq != seq {
		return
	}
	sr := r.storedLocked()
	sr.Pinned = nil
	if err := h.cfg.Store.SaveRoom(sr); err != nil {
		h.cfg.Logger.Error("chat: the pin of a deleted message could not be removed", "room", r.name, "err", err)
		return
	}
	r.pinned = nil
	h.fanoutLocked(r, NewOut(protocol.Pinned{Room: r.name}), nil)
}

// announceLocked sends an announcement to every member of this host (and,
// on a cluster, of every box) and keeps it for those who connect later.
func (h *Hub) announceLocked(me *Member, text string) *protocol.Problem {
	if p := protocol.CheckAnnouncement(text, h.cfg.MaxText); p != nil {
		return p
	}
	a := protocol.Announcement{Type: protocol.TypeAnnouncement, ID: randomHex(8), From: me.public(), Text: text, TS: h.cfg.Now().UnixMilli()}
	h.announcements = append(h.announcements, a)
	if over := len(h.announcements) - protocol.MaxAnnouncements; over > 0 {
		h.announcements = slices.Clone(h.announcements[over:])
	}
	h.broadcastLocked(NewOut(a))
	b, err := json.Marshal(h.announcements)
	if err != nil {
		return h.internal(err, "the announcement could not be kept").WithRef(protocol.ActionAnnounce)
	}
	h.decideLocked(Decision{Kind: DecideAnnouncements, Value: string(b)})
	return nil
}

// announcedLocked applies the kept announcements of any box: the ones not
// seen here go to this box's members when live (this box's own come back
// already sent), and the list becomes the one new members get.
func (h *Hub) announcedLocked(value string, live bool) {
	var list []protocol.Announcement
	if err := json.Unmarshal([]byte(value), &list); err != nil {
		h.cfg.Logger.Warn("chat: the kept announcements could not be read", "err", err)
		return
	}
	if live {
		for _, a := range list {
			if !slices.ContainsFunc(h.announcements, func(o protocol.Announcement) bool { return o.ID == a.ID }) {
				a.Type = protocol.TypeAnnouncement
				h.broadcastLocked(NewOut(a))
			}
		}
	}
	if over := len(list) - protocol.MaxAnnouncements; over > 0 {
		list = list[over:]
	}
	h.announcements = list
}
