package socketio

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// The course chat's event contract, mapped onto the hub:
//
//   - On CONNECT the client is in the lobby (as the page sees it) and gets
//     rooms_list. It is not yet a hub member: the hub needs a name, and the
//     page sends one only with its first event. Any event carrying
//     "username" (join_lobby, join_room, leave_room, send_message) admits
//     the client under that name; a taken name gets " (2)", " (3)", … A
//     "message" event from a client that never gave a name admits it as
//     "Anônimo". Later events keep the admitted name whatever "username"
//     they carry, so nobody writes under someone else's name.
//   - The hub keeps every member in its lobby for good. The page's "current
//     room" is therefore a view: the client gets the messages and notices of
//     that one room only. join_room leaves every other non-lobby room (as the
//     course server does) and makes the room current; join_lobby leaves them
//     all and makes the lobby current; leave_room of a room leaves it and
//     returns to the lobby; leave_room of the lobby makes no room current (the
//     hub member stays in its lobby, so native clients keep seeing it there).
//   - send_message {room} posts to that room; if it is not the current one
//     (after a reconnect the server no longer knows where the page was), the
//     client first moves there as with join_room. "message" (text) posts to
//     the current room (the course server broadcast it to everyone; lanchat
//     has no broadcast outside the rooms).
//   - Outbound: room messages become `message` "Name: text", and each file
//     a message carries one more ("Ana enviou o arquivo lista.pdf (471 KB):
//     http://…/files/…", a download link with this member's files key); the hub's
//     presence becomes the course server's Portuguese notices ("Bob entrou na
//     sala general.", "Bob saiu da sala general.", "Bob desconectou.", "Bob
//     entrou no Lobby."). A presence frame carrying several changes of one
//     kind makes one notice ("Ana, Bruno e mais 23 entraram na sala
//     general."; see presenceNotices), one per kind when kinds are mixed.
//     The client's own member is left out of them: its own moves are told
//     to it by the bridge in the same words ("… entrou na sala X.", "…
//     entrou no Lobby.", "… voltou ao Lobby."). Refusals become
//     `error_message` {msg} in Portuguese; the rooms list (without the
//     lobby) is sent on connect, on join_lobby and when the host's rooms
//     change. A renamed current room stays current; a closed
//     one sends the client back to the lobby, each with a notice.
//   - A host that asks for a join code gets it from the CONNECT auth
//     payload: io({auth: {join_code: "…"}}).
//   - Every event may ask for an acknowledgement; it gets {"ok":true} (plus
//     room, seq and id for a sent message) or {"ok":false,"code","error"}.

// socket is the Socket.IO layer of a session, on the default namespace, and
// the client's chat.Sink once it is a hub member.
type socket struct {
	ss  *session
	hub *chat.Hub

	// Under the session's inMu.
	connected bool
	joinCode  string   // from the CONNECT auth payload {"join_code": …}
	rooms     []string // non-lobby room keys the member is in
	nextID    uint64

	mu     sync.Mutex // guards conn, name, closed
	conn   *chat.Conn
	name   string
	closed bool

	current atomic.Pointer[string] // the room whose traffic the client sees; "" none
	self    atomic.Pointer[string] // the member id from the hub's latest welcome
	files   atomic.Pointer[string] // the files key from the hub's latest welcome

	roomsMu   sync.Mutex
	lastRooms []string // the rooms_list the client has
}

func newSocket(ss *session) *socket {
	s := &socket{ss: ss, hub: ss.srv.hub}
	s.setCurrent(chat.Lobby)
	return s
}

func (s *socket) setCurrent(room string) { s.current.Store(&room) }

func (s *socket) currentRoom() string { return *s.current.Load() }

// sees reports whether frames of room reach the client.
func (s *socket) sees(room string) bool {
	cur := s.current.Load()
	return cur != nil && *cur != "" && strings.EqualFold(*cur, room)
}

// Send is chat.Sink.Send: it filters what the page shows and queues it.
// It runs under the hub's locks and never blocks.
func (s *socket) Send(o *chat.Out) {
	private := false
	switch f := o.Frame.(type) {
	case protocol.Message:
		if !s.sees(f.Room) || courseLine(f) == "" {
			return // reactions and votes: the course page does not show them
		}
	case protocol.Presence:
		if !s.sees(f.Room) {
			return
		}
		if self := s.self.Load(); self != nil && slices.ContainsFunc(f.Changes, func(c protocol.PresenceChange) bool { return c.Member.ID == *self }) {
			// The client hears of its own moves from the bridge itself.
			f.Changes = slices.DeleteFunc(slices.Clone(f.Changes), func(c protocol.PresenceChange) bool { return c.Member.ID == *self })
			if len(f.Changes) == 0 {
				return
			}
			o, private = chat.NewOut(f), true
		}
	case protocol.Welcome:
		s.self.Store(&f.Member.ID)
		s.files.Store(&f.FilesKey)
		return
	case protocol.Renamed:
		if !s.sees(f.Room) {
			return
		}
		s.setCurrent(f.Name)
	case protocol.Closed:
		if !s.sees(f.Room) {
			return
		}
		s.setCurrent(chat.Lobby)
	case protocol.Pinned:
		if !s.sees(f.Room) {
			return
		}
	case protocol.Rooms, protocol.Error, protocol.Announcement:
	default: // joined, left, typing: the course page has no use for them
		return
	}
	s.ss.enqueue(item{out: o, private: private})
}

// Close is chat.Sink.Close: the hub ends the client (shutdown, slow reader).
// It is told why (unless the host is just restarting), then the Engine.IO
// session closes after what is queued and the official client reconnects.
func (s *socket) Close(p *protocol.Problem) {
	if p != nil && p.Code != protocol.CodeShuttingDown {
		s.ss.enqueueRaw(errorEvent(p))
	}
	s.ss.enqueue(item{end: true})
}

func (s *socket) memberConn() *chat.Conn {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conn
}

// admit makes the client a hub member under username (numbered if taken).
func (s *socket) admit(username string) (*chat.Conn, *protocol.Problem) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		return s.conn, nil
	}
	if s.closed {
		return nil, protocol.Errorf(protocol.CodeShuttingDown, "the connection is closing")
	}
	base := strings.TrimSpace(username)
	var last *protocol.Problem
	for i := 1; i <= 9; i++ {
		name := base
		if i > 1 {
			name = fmt.Sprintf("%s (%d)", base, i)
		}
		hello := protocol.Hello{Version: protocol.Version, Name: name, JoinCode: s.joinCode}
		c, p := s.hub.ConnectFrom(hello, s.ss.remote, s)
		if p == nil {
			s.conn, s.name = c, c.Member().Name
			return c, nil
		}
		if p.Code != protocol.CodeNameTaken {
			return nil, p
		}
		last = p
	}
	return nil, last
}

// leaveHub ends the hub membership (a Socket.IO DISCONNECT); a later
// CONNECT starts over.
func (s *socket) leaveHub() {
	s.mu.Lock()
	c := s.conn
	s.conn, s.name = nil, ""
	s.mu.Unlock()
	s.rooms = nil
	s.setCurrent(chat.Lobby)
	if c != nil {
		c.Disconnect()
	}
}

// close ends the hub membership for good; the session is over.
func (s *socket) close() {
	s.mu.Lock()
	c := s.conn
	s.conn, s.closed = nil, true
	s.mu.Unlock()
	if c != nil {
		c.Disconnect()
	}
}
