package sendq

import (
	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Frames is the policy for hub frames: an item counts for its encoded bytes
// (encoded once, shared by every connection that gets the frame); a rooms
// list replaces a queued rooms list in its place; a presence frame merges
// with the queued presence frame of its room (see MergePresence), the result
// going where the newer frame would have gone. Merging makes a new
// *chat.Out, encoded for this connection alone: it only happens to a
// connection that is behind.
var Frames = Policy[*chat.Out]{
	Size:  func(o *chat.Out) int { return len(o.Bytes()) },
	Key:   func(o *chat.Out) (string, Mode) { return FrameKey(o.Frame) },
	Merge: MergeOut,
}

// FrameKey says what a hub frame supersedes in a queue: "rooms" (Replace)
// for a rooms list, "presence" and the room's name (Merge) for presence.
//
// A presence frame goes where the newer one would have gone, not where the
// older one was: the connection may have queued its own joined for the room
// (a member list) in between, and changes moved before it would be lost.
// Applied after anything, the merged frame still gives the room's list as
// it is now.
func FrameKey(f protocol.Frame) (string, Mode) {
	switch f := f.(type) {
	case protocol.Rooms:
		return "rooms", Replace
	case protocol.Presence:
		return "presence\x00" + f.Room, Merge
	}
	return "", Add
}

// MergeOut merges two presence frames of a room (see MergePresence). For
// anything else it returns newer.
func MergeOut(older, newer *chat.Out) *chat.Out {
	a, ok1 := older.Frame.(protocol.Presence)
	b, ok2 := newer.Frame.(protocol.Presence)
	if !ok1 || !ok2 {
		return newer
	}
	return chat.NewOut(MergePresence(a, b))
}

// MergePresence returns one frame standing for a then b: the changes of
// both, in order, keeping for each member only its latest change, at the
// place of that change (as the hub gathers a room's changes). Applying the
// result (add by id if missing, remove by id) gives the same members as
// applying a then b. Room, type, time, count and partial are b's.
func MergePresence(a, b protocol.Presence) protocol.Presence {
	all := make([]protocol.PresenceChange, 0, len(a.Changes)+len(b.Changes))
	all = append(all, a.Changes...)
	all = append(all, b.Changes...)
	last := make(map[string]int, len(all))
	for i, c := range all {
		last[c.Member.ID] = i
	}
	out := all[:0]
	for i, c := range all {
		if last[c.Member.ID] == i {
			out = append(out, c)
		}
	}
	b.Changes = out
	return b
}
