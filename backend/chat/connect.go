package chat

import (
	"crypto/subtle"
	"errors"
	"slices"
	"strings"

	"lanchat/backend/protocol"
)

// A member's connection coming and going: the hello (a new member, a
// member taking over its own older connection, a resume) and the end.

// Connect admits a member after its hello. On success the welcome and the
// lobby's joined frame (plus one per resumed room) are already queued on sink.
// A Problem means the hello was refused; the transport sends it and closes.
func (h *Hub) Connect(hello protocol.Hello, sink Sink) (*Conn, *protocol.Problem) {
	return h.ConnectFrom(hello, "", sink)
}

// ConnectFrom is Connect for a client at a remote address (without port),
// which the join-code throttle counts wrong guesses by.
func (h *Hub) ConnectFrom(hello protocol.Hello, addr string, sink Sink) (*Conn, *protocol.Problem) {
	if hello.Version != protocol.Version {
		return nil, protocol.Errorf(protocol.CodeVersion, "this host speaks protocol version %d, not %d", protocol.Version, hello.Version)
	}
	name, p := protocol.CleanName(hello.Name)
	if p != nil {
		return nil, p
	}
	key := protocol.NameKey(name)
	h.mu.Lock()
	defer h.unlock()
	if h.closed {
		return nil, protocol.Errorf(protocol.CodeShuttingDown, "the host is shutting down")
	}
	isHost := h.cfg.HostToken != "" && subtle.ConstantTimeCompare([]byte(hello.HostToken), []byte(h.cfg.HostToken)) == 1
	if !isHost {
		if p := h.checkJoinCodeLocked(hello.JoinCode, addr); p != nil {
			return nil, p
		}
	}
	identity := identityOf(name, hello.Device)
	if !isHost && (h.bannedIDs[identity] || (hello.Device != "" && h.bannedDev[hello.Device])) {
		return nil, protocol.Errorf(protocol.CodeBanned, "the host has banned you from this session")
	}
	var m *Member
	var resumeSession bool
	if hello.Resume != nil && hello.Resume.Session != "" {
		if old, ok := h.sessions[hello.Resume.Session]; ok && protocol.NameKey(old.name) == protocol.NameKey(name) {
			m, resumeSession = old, true
		}
	}
	if !resumeSession {
		if other, taken := h.names[key]; taken {
			return nil, protocol.Errorf(protocol.CodeNameTaken, "someone here is already called %q", other.name)
		}
		// The host's display name and the host role's name are the host's.
		if !isHost && (key == protocol.NameKey(h.hostName) || key == h.hostRoleKey) {
			return nil, protocol.Errorf(protocol.CodeNameTaken, "that name belongs to the host")
		}
		session := randomHex(16)
		if hello.Device == "" {
			identity = identityOf(name, session) // no device: private rooms last one connection
		}
		// The member id follows the identity, so that a member who comes
		// back after a host restart (or on another box) is the author of
		// their earlier messages again.
		m = &Member{id: "m-" + identity, name: name, nameKey: key, sortKey: strings.ToLower(name), session: session,
			filesKey: randomHex(16), device: hello.Device, identity: identity}
		if old := h.remote[m.id]; old != nil {
			// Their earlier connection, on a box that went quiet.
			for _, k := range slices.Clone(old.rooms) {
				h.leaveLocked(old, k, protocol.EventDisconnected)
			}
			h.forgetRemoteLocked(old)
		}
		if h.cfg.Roster != nil {
			if err := h.cfg.Roster.Claim(key, m.id); errors.Is(err, ErrNameTaken) {
				return nil, protocol.Errorf(protocol.CodeNameTaken, "someone here is already called %q", name)
			} else if err != nil {
				return nil, h.internal(err, "the name could not be checked with the other boxes; try again")
			}
		}
		switch {
		case isHost:
			m.role = protocol.RoleHost
			h.hostRoleKey = key
		case h.cohosts[m.identity]:
			m.role = protocol.RoleCohost
		}
		m.muted = h.mutes[m.identity]
		h.members[m.id] = m
		h.names[key] = m
		h.sessions[m.session] = m
		h.fileKeys[m.filesKey] = m
	}
	c := &Conn{hub: h, member: m, sink: sink, tokens: float64(h.cfg.RateBurst), last: h.cfg.Now()}
	if old := m.conn.Load(); old != nil {
		old.sink.Close(protocol.Errorf(protocol.CodeReplaced, "you connected again from another window or network"))
	}
	m.conn.Store(c)

	// The rooms the resume names that are gone (or were never there, or
	// are another pair's private room) are listed once, in welcome: one
	// frame each could overflow the connection's queue before it is read.
	want := []string{Lobby}
	since := map[string]uint64{}
	var gone []string
	if hello.Resume != nil {
		for name, seq := range hello.Resume.Rooms {
			key := protocol.RoomKey(name)
			if r, ok := h.rooms[key]; !ok || !r.admits(m) {
				gone = append(gone, name)
				continue
			}
			if prev, dup := since[key]; dup {
				since[key] = min(prev, seq) // two spellings of one room: the older seq misses nothing
				continue
			}
			since[key] = seq
			if key != Lobby {
				want = append(want, key)
			}
		}
	}
	slices.Sort(gone)
	sink.Send(NewOut(protocol.Welcome{
		Version:   protocol.Version,
		Host:      protocol.HostInfo{ID: h.cfg.HostID, Name: h.hostName},
		Member:    m.public(),
		Session:   m.session,
		Limits:    h.limitsLocked(),
		Rooms:     h.roomsLocked(),
		Epoch:     h.cfg.Store.Epoch(),
		GoneRooms: gone,
		Boxes:     h.boxesLocked(),
		FilesKey:  h.filesKeyOf(m),

		Announcements: slices.Clone(h.announcements),
	}))
	slices.Sort(want[1:])
	if resumeSession {
		for _, key := range slices.Clone(m.rooms) {
			if !slices.Contains(want, key) {
				h.leaveLocked(m, key, protocol.EventLeft)
			}
		}
	}
	changed := false
	for _, key := range want {
		var s *uint64
		if seq, ok := since[key]; ok {
			s = &seq
		}
		if h.joinLocked(c, key, s) {
			changed = true
		}
	}
	if changed {
		h.broadcastRoomsLocked()
	}
	return c, nil
}

// Disconnect removes the connection's member from every room with a
// "disconnected" notice ("removed" when the host removed the member). It
// does nothing for a connection that was taken over.
func (c *Conn) Disconnect() {
	h := c.hub
	unlock, ok := c.lockCurrent(h.mu.Unlock)
	if !ok {
		return
	}
	defer unlock()
	m := c.member
	event := protocol.EventDisconnected
	if c.removed {
		event = protocol.EventRemoved
	}
	for _, key := range slices.Clone(m.rooms) {
		h.leaveLocked(m, key, event)
	}
	m.conn.Store(nil)
	delete(h.members, m.id)
	delete(h.names, protocol.NameKey(m.name))
	if h.cfg.Roster != nil {
		h.cfg.Roster.Release(m.nameKey, m.id)
	}
	delete(h.sessions, m.session)
	delete(h.fileKeys, m.filesKey)
	h.broadcastRoomsLocked()
}
