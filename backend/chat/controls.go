package chat

import (
	"slices"
	"strings"
	"unicode"

	"lanchat/backend/protocol"
)

// control carries out a host action. Every refusal leaves everything as it was.
func (c *Conn) control(f protocol.Control) *protocol.Problem {
	h := c.hub
	if f.Action == protocol.ActionDelete {
		return c.deleteMessage(f)
	}
	unlock, ok := c.lockCurrent(h.unlock)
	if !ok {
		return nil
	}
	defer unlock()
	me := c.member
	ref := f.Action
	if !me.isHost() {
		return protocol.Errorf(protocol.CodeForbidden, "only the host can do that").WithRef(ref)
	}
	hostOnly := f.Action == protocol.ActionCohost || f.Action == protocol.ActionSetJoinCode || f.Action == protocol.ActionSetUploads ||
		f.Action == protocol.ActionSetEdit || f.Action == protocol.ActionSetPolls
	if hostOnly && me.role != protocol.RoleHost {
		return protocol.Errorf(protocol.CodeForbidden, "only the host (not a co-host) can do that").WithRef(ref)
	}
	switch f.Action {
	case protocol.ActionCreateRoom:
		return h.createRoomLocked(c, f.Name, f.Flag)
	case protocol.ActionRenameRoom:
		return h.renameRoomLocked(f.Room, f.Name)
	case protocol.ActionCloseRoom:
		return h.closeRoomLocked(f.Room)
	case protocol.ActionLock, protocol.ActionSlowMode:
		return h.setRoomFlagsLocked(f)
	case protocol.ActionMute, protocol.ActionKick, protocol.ActionBan, protocol.ActionCohost:
		return h.moderateLocked(me, f)
	case protocol.ActionSetJoinCode:
		return h.setJoinCodeLocked(f.Name)
	case protocol.ActionSetUploads:
		return h.setUploadsLocked(f.Name)
	case protocol.ActionPin:
		return h.pinLocked(me, f)
	case protocol.ActionAnnounce:
		return h.announceLocked(me, f.Text)
	case protocol.ActionSetEdit:
		return h.setEditLocked(f.Seconds)
	case protocol.ActionSetPolls:
		return h.setPollsLocked(f.Name)
	}
	return protocol.Errorf(protocol.CodeBadControl, "unknown action %q", f.Action).WithRef(ref)
}

// userRoomLocked finds a listed room (not a private one) by name.
func (h *Hub) userRoomLocked(name string) (*room, *protocol.Problem) {
	r, ok := h.rooms[protocol.RoomKey(name)]
	if !ok || r.dm[0] != "" {
		return nil, protocol.Errorf(protocol.CodeNoSuchRoom, "there is no room called %q", name).WithRef(name)
	}
	return r, nil
}

// updateRoomLocked stores the room as change leaves it and only then
// applies the change to the live room, so a store failure changes nothing.
// It holds the room's lock throughout, as sends do when they move lastSeq.
func (h *Hub) updateRoomLocked(r *room, change func(*StoredRoom)) *protocol.Problem {
	r.mu.Lock()
	defer r.mu.Unlock()
	sr := r.storedLocked()
	change(&sr)
	if err := h.cfg.Store.SaveRoom(sr); err != nil {
		return h.internal(err, "the change could not be stored").WithRef(r.name)
	}
	r.name, r.topic, r.flags, r.pinned = sr.Name, sr.Topic, sr.Flags, sr.Pinned
	return nil
}

// createRoomLocked creates a listed room and joins c to it.
func (h *Hub) createRoomLocked(c *Conn, name string, announcements bool) *protocol.Problem {
	clean, p := protocol.CleanRoom(name)
	if p != nil {
		return p
	}
	key := protocol.RoomKey(clean)
	if _, ok := h.rooms[key]; ok {
		return protocol.Errorf(protocol.CodeRoomExists, "a room called %q already exists", clean).WithRef(name)
	}
	if len(h.order) >= h.cfg.MaxRooms {
		return protocol.Errorf(protocol.CodeTooManyRooms, "this host has its maximum of %d rooms", h.cfg.MaxRooms).WithRef(name)
	}
	flags := RoomFlags{Announcements: announcements}
	if err := h.cfg.Store.SaveRoom(StoredRoom{Key: key, Name: clean, Flags: flags}); err != nil {
		return h.internal(err, "the room could not be created").WithRef(name)
	}
	h.addRoomLocked(key, clean, 0, flags, "")
	h.joinLocked(c, key, nil)
	h.broadcastRoomsLocked()
	return nil
}

func (h *Hub) renameRoomLocked(from, to string) *protocol.Problem {
	r, p := h.userRoomLocked(from)
	if p != nil {
		return p
	}
	if r.key == Lobby {
		return protocol.Errorf(protocol.CodeForbidden, "the lobby keeps its name").WithRef(from)
	}
	clean, p := protocol.CleanRoom(to)
	if p != nil {
		return p
	}
	oldKey, newKey := protocol.RoomKey(r.name), protocol.RoomKey(clean)
	if other, ok := h.rooms[newKey]; ok && other != r {
		return protocol.Errorf(protocol.CodeRoomExists, "a room called %q already exists", clean).WithRef(to)
	}
	old := r.name
	if p := h.updateRoomLocked(r, func(sr *StoredRoom) { sr.Name = clean }); p != nil {
		return p
	}
	h.renamedLocked(r, old, oldKey, newKey)
	return nil
}

// renamedLocked files a room renamed from old under its new name's key and
// tells everyone.
func (h *Hub) renamedLocked(r *room, old, oldKey, newKey string) {
	delete(h.rooms, oldKey)
	h.rooms[newKey] = r
	h.order[slices.Index(h.order, oldKey)] = newKey
	for _, m := range h.members {
		for i, k := range m.rooms {
			if k == oldKey {
				m.rooms[i] = newKey
			}
		}
	}
	h.broadcastLocked(NewOut(protocol.Renamed{Room: old, Name: r.name}))
	h.broadcastRoomsLocked()
}

func (h *Hub) closeRoomLocked(name string) *protocol.Problem {
	r, p := h.userRoomLocked(name)
	if p != nil {
		return p
	}
	if r.key == Lobby {
		return protocol.Errorf(protocol.CodeForbidden, "the lobby cannot be closed").WithRef(name)
	}
	if p := h.updateRoomLocked(r, func(sr *StoredRoom) { sr.Closed = true }); p != nil {
		return p
	}
	h.closedLocked(r)
	return nil
}

// closedLocked takes a closed room away: its members are told and leave it.
func (h *Hub) closedLocked(r *room) {
	key := protocol.RoomKey(r.name)
	r.mu.Lock()
	out := NewOut(protocol.Closed{Room: r.name})
	for _, m := range r.members {
		m.rooms = slices.DeleteFunc(m.rooms, func(k string) bool { return k == key })
		m.send(out)
	}
	for m := range r.joining {
		m.rooms = slices.DeleteFunc(m.rooms, func(k string) bool { return k == key })
	}
	clear(r.joining)
	r.members = nil
	r.count.Store(0)
	r.mu.Unlock()
	r.stopFollowing()
	delete(h.rooms, key)
	h.order = slices.DeleteFunc(h.order, func(k string) bool { return k == key })
	h.broadcastRoomsLocked()
}

func (h *Hub) setRoomFlagsLocked(f protocol.Control) *protocol.Problem {
	r, p := h.userRoomLocked(f.Room)
	if p != nil {
		return p
	}
	if f.Action == protocol.ActionSlowMode && (f.Seconds < 0 || f.Seconds > 3600) {
		return protocol.Errorf(protocol.CodeBadControl, "slow mode takes 0 to 3600 seconds").WithRef(f.Action)
	}
	if p := h.updateRoomLocked(r, func(sr *StoredRoom) {
		if f.Action == protocol.ActionLock {
			sr.Flags.Locked = f.Flag
		} else {
			sr.Flags.SlowSeconds = f.Seconds
		}
	}); p != nil {
		return p
	}
	h.broadcastRoomsLocked()
	return nil
}

// moderateLocked mutes, kicks, bans or names a co-host.
func (h *Hub) moderateLocked(me *Member, f protocol.Control) *protocol.Problem {
	target, ok := h.members[f.Member]
	if !ok {
		target, ok = h.remote[f.Member] // a member of another box
	}
	if !ok {
		return protocol.Errorf(protocol.CodeNoSuchMember, "that member is not here").WithRef(f.Member)
	}
	if target.role == protocol.RoleHost || (target.isHost() && me.role != protocol.RoleHost) {
		return protocol.Errorf(protocol.CodeForbidden, "a host cannot be moderated").WithRef(f.Member)
	}
	h.applyActionLocked(target, f.Action, f.Flag)
	if target.box == "" {
		h.keepLocked(f.Action, target, f.Flag)
	}
	// The other boxes act on it (the member's own box) or show it.
	h.decideLocked(Decision{Kind: f.Action, Member: target.id, On: f.Flag})
	return nil
}

// broadcastLocked queues o for every connected member.
func (h *Hub) broadcastLocked(o *Out) {
	for _, m := range h.members {
		m.send(o)
	}
}

// deleteMessage turns a message into a tombstone. The host and co-hosts may
// delete any message; a member may delete their own.
func (c *Conn) deleteMessage(f protocol.Control) *protocol.Problem {
	r, st, p := c.memberRoom(f.Room)
	if p != nil {
		return p
	}
	h := c.hub
	r.mu.Lock()
	defer r.mu.Unlock()
	var target protocol.Message
	if f.Seq > 0 && f.Seq <= r.lastSeq {
		msgs, _, err := h.cfg.Store.Since(r.key, f.Seq-1, 1)
		if err != nil {
			return h.internal(err, "the message could not be read").WithRef(f.Action)
		}
		if len(msgs) == 1 && msgs[0].Seq == f.Seq && !protocol.IsEvent(msgs[0].FrameType()) {
			target = msgs[0]
		}
	}
	if target.Seq == 0 {
		return protocol.Errorf(protocol.CodeNoSuchMessage, "there is no message %d in %q", f.Seq, r.name).WithRef(f.Action)
	}
	if !st.host && target.From.ID != st.public.ID {
		return protocol.Errorf(protocol.CodeForbidden, "only the host can delete other people's messages").WithRef(f.Action)
	}
	if target.Deleted {
		return nil
	}
	if err := h.cfg.Store.MarkDeleted(r.key, f.Seq); err != nil {
		return h.internal(err, "the message could not be deleted").WithRef(f.Action)
	}
	h.fanoutLocked(r, NewOut(protocol.Deleted{Room: r.name, Seq: f.Seq, ID: target.ID, By: st.public}), nil)
	h.unpinDeletedLocked(r, f.Seq)
	if len(target.Attachments) > 0 && h.cfg.Files != nil {
		h.cfg.Files.Released()
	}
	return nil
}

// validJoinCode: 4 to 16 letters or digits.
func validJoinCode(code string) bool {
	if len(code) < 4 || len(code) > 16 {
		return false
	}
	return strings.IndexFunc(code, func(r rune) bool { return r > unicode.MaxASCII || !(unicode.IsLetter(r) || unicode.IsDigit(r)) }) < 0
}

func (h *Hub) setJoinCodeLocked(code string) *protocol.Problem {
	code = strings.TrimSpace(code)
	if code != "" && !validJoinCode(code) {
		return protocol.Errorf(protocol.CodeBadControl, "a join code has 4 to 16 letters or digits").WithRef(protocol.ActionSetJoinCode)
	}
	h.joinCode = code
	clear(h.joinFails)
	h.decideLocked(Decision{Kind: DecideJoinCode, Value: code})
	return nil
}
