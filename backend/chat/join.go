package chat

import (
	"slices"
	"time"

	"lanchat/backend/protocol"
)

// Joining and leaving rooms: decided under Hub.mu, finished under the room's lock.

// joinJob is a join decided under Hub.mu: the member is in the room's
// joining set. finishJoin makes it a member and sends joined with history
// under the room's lock alone, so a long history read holds up that room
// and nothing else.
type joinJob struct {
	c     *Conn
	r     *room
	since *uint64
}

// joinLocked decides that the member is in the room (if not yet) and
// queues the job that sends it joined when Hub.mu is released (see unlock).
// It reports whether membership changed.
func (h *Hub) joinLocked(c *Conn, key string, since *uint64) bool {
	m := c.member
	r := h.rooms[key]
	added := false
	if !slices.Contains(m.rooms, key) {
		m.rooms = append(m.rooms, key)
		r.mu.Lock()
		r.joining[m] = true
		r.mu.Unlock()
		added = true
	}
	h.joins = append(h.joins, joinJob{c: c, r: r, since: since})
	return added
}

// unlock releases Hub.mu, then finishes the joins decided under it, in order.
func (h *Hub) unlock() {
	jobs := h.joins
	h.joins = nil
	h.mu.Unlock()
	for _, j := range jobs {
		h.finishJoin(j)
	}
}

// finishJoin sends joined: the member list, the room's last seq and the
// history the client asked for, all read under the room's lock, so every
// message after that seq reaches the member live and none before it does.
func (h *Hub) finishJoin(job joinJob) {
	c, r, since := job.c, job.r, job.since
	m := c.member
	r.mu.Lock()
	defer r.mu.Unlock()
	if m.conn.Load() != c {
		return // taken over or gone meanwhile
	}
	added := r.joining[m]
	if added {
		delete(r.joining, m)
		r.members = append(r.members, m)
		r.count.Store(int64(len(r.members)))
		h.resizedLocked(r)
		h.publishLocked(r, protocol.EventJoined, m)
		// Told to the others after joined went out: the member's own
		// frames start with joined.
		defer h.presenceLocked(r, protocol.EventJoined, m)
	} else if !slices.Contains(r.members, m) {
		return // left meanwhile
	}
	j := protocol.Joined{Room: r.name, LastSeq: r.lastSeq, Epoch: h.cfg.Store.Epoch(),
		Members: r.listLocked(m), Count: len(r.members), Partial: r.large, Pinned: r.pinnedIn(r.name)}
	var hist []protocol.Message
	var first uint64
	var err error
	switch {
	case since == nil:
		hist, first, err = h.readHistory(r, func() ([]protocol.Message, uint64, error) { return h.cfg.Store.Last(r.key, h.cfg.HistoryOnJoin) })
	case *since >= r.lastSeq:
		// nothing missed
	case r.lastSeq-*since > uint64(h.cfg.ResumeMax):
		hist, first, err = h.readHistory(r, func() ([]protocol.Message, uint64, error) { return h.cfg.Store.Last(r.key, h.cfg.ResumeMax) })
		j.Truncated = true
	default:
		hist, first, err = h.readHistory(r, func() ([]protocol.Message, uint64, error) { return h.cfg.Store.Since(r.key, *since, h.cfg.ResumeMax) })
		if first > *since+1 {
			j.Truncated = true
		}
	}
	if err != nil {
		c.sink.Send(NewOut(h.internal(err, "the history of %q could not be read", r.name).WithRef(r.name).Frame()))
	}
	if since != nil && *since < r.lastSeq && len(hist) == 0 {
		j.Truncated = true
	}
	// Messages stored but not yet sent to the room are not history yet:
	// they reach the member live.
	hist = slices.DeleteFunc(hist, func(m protocol.Message) bool { return m.Seq > r.lastSeq })
	for i := range hist {
		hist[i].Room = r.name // the room may have been renamed since
	}
	j.History = hist
	j.FirstKept = first
	c.sink.Send(NewOut(j))
}

// readHistory reads a joiner's history. With a shared store (a Feed) the
// messages sent to the room so far (up to r.lastSeq) are stored, so a read
// that ends before r.lastSeq is short (a replica still catching up, a box
// that just came back), and a failed read may be a stream electing a new
// leader: both are read again for up to historyPatience before the answer
// is taken, since a joined without them would leave a gap. r.mu is held.
func (h *Hub) readHistory(r *room, read func() ([]protocol.Message, uint64, error)) ([]protocol.Message, uint64, error) {
	start := time.Now()
	for {
		hist, first, err := read()
		short := err == nil && r.lastSeq > 0 && (len(hist) == 0 || hist[len(hist)-1].Seq < r.lastSeq)
		if h.cfg.Feed == nil || (err == nil && !short) {
			return hist, first, err
		}
		if time.Since(start) > historyPatience {
			if short {
				h.cfg.Logger.Warn("chat: the history read ends before the room's last message", "room", r.name, "last", r.lastSeq, "read", len(hist))
			}
			return hist, first, err
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// historyPatience bounds readHistory's retries.
const historyPatience = 15 * time.Second

// leaveLocked removes the member from the room and tells the room.
func (h *Hub) leaveLocked(m *Member, key, event string) {
	r := h.rooms[key]
	m.rooms = slices.DeleteFunc(m.rooms, func(k string) bool { return k == key })
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.joining[m] {
		delete(r.joining, m) // never announced: nothing to tell
		return
	}
	r.members = slices.DeleteFunc(r.members, func(o *Member) bool { return o == m })
	r.count.Store(int64(len(r.members)))
	delete(r.lastTyping, m)
	delete(r.lastSend, m)
	h.publishLocked(r, event, m)
	if h.resizedLocked(r) {
		return // the complete list pushed to every member says it
	}
	h.presenceLocked(r, event, m)
}

// roomOf resolves a room name for a frame, checking it exists.
func (h *Hub) roomKey(name string, m *Member) (string, *protocol.Problem) {
	key := protocol.RoomKey(name)
	if r, ok := h.rooms[key]; !ok || !r.admits(m) {
		return "", protocol.Errorf(protocol.CodeNoSuchRoom, "there is no room called %q", name).WithRef(name)
	}
	return key, nil
}

// whileCurrent runs fn under the hub lock if c is still its member's
// connection, releasing the lock with release afterwards (see lockCurrent),
// and returns fn's refusal. A connection that is no longer current gets nil:
// its frame is dropped.
func (c *Conn) whileCurrent(release func(), fn func() *protocol.Problem) *protocol.Problem {
	unlock, ok := c.lockCurrent(release)
	if !ok {
		return nil
	}
	defer unlock()
	return fn()
}

// inRoom is whileCurrent for a frame that names a room: under the hub lock
// it resolves the name to the room's key (refusing a room the member cannot
// see) and hands the key to fn.
func (c *Conn) inRoom(release func(), name string, fn func(key string) *protocol.Problem) *protocol.Problem {
	return c.whileCurrent(release, func() *protocol.Problem {
		key, p := c.hub.roomKey(name, c.member)
		if p != nil {
			return p
		}
		return fn(key)
	})
}

func (c *Conn) join(f protocol.Join) *protocol.Problem {
	h := c.hub
	return c.inRoom(h.unlock, f.Room, func(key string) *protocol.Problem {
		if h.joinLocked(c, key, f.Since) {
			h.broadcastRoomsLocked()
		}
		return nil
	})
}

func (c *Conn) leave(f protocol.Leave) *protocol.Problem {
	return c.inRoom(c.hub.mu.Unlock, f.Room, func(key string) *protocol.Problem {
		return c.leaveLocked(f, key)
	})
}

// leaveLocked takes the member out of the room key, which f names.
func (c *Conn) leaveLocked(f protocol.Leave, key string) *protocol.Problem {
	h := c.hub
	if key == Lobby {
		return protocol.Errorf(protocol.CodeCannotLeaveLobby, "everyone stays in the lobby").WithRef(f.Room)
	}
	if !slices.Contains(c.member.rooms, key) {
		return protocol.Errorf(protocol.CodeNotInRoom, "you are not in %q", f.Room).WithRef(f.Room)
	}
	h.leaveLocked(c.member, key, protocol.EventLeft)
	c.sink.Send(NewOut(protocol.Left{Room: h.rooms[key].name}))
	h.broadcastRoomsLocked()
	return nil
}
