package socketio

import (
	"encoding/json"
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
//   - Outbound: room messages become `message` "Name: text"; the hub's
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
		if !s.sees(f.Room) {
			return
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
	case protocol.Rooms, protocol.Error:
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

// translate turns a hub frame into the Engine.IO packets the page gets
// (none, one, or one per kind of presence change). Frames the same for
// every client are encoded once; private ones were made for this client.
func (s *socket) translate(o *chat.Out, private bool) [][]byte {
	switch f := o.Frame.(type) {
	case protocol.Message:
		return encoded(o, func() [][]byte {
			return [][]byte{eventPacket("message", f.From.Name+": "+f.Text)}
		})
	case protocol.Presence:
		encode := func() [][]byte {
			var pkts [][]byte
			for _, line := range presenceNotices(f) {
				pkts = append(pkts, eventPacket("message", line))
			}
			return pkts
		}
		if private {
			return encode()
		}
		return encoded(o, encode)
	case protocol.Rooms:
		return one(s.roomsList(f.Rooms, false))
	case protocol.Renamed:
		return one(eventPacket("message", fmt.Sprintf("A sala %s agora se chama %s.", f.Room, f.Name)))
	case protocol.Closed:
		return one(eventPacket("message", fmt.Sprintf("A sala %s foi fechada; você voltou ao Lobby.", f.Room)))
	case protocol.Error:
		return one(errorEvent(&protocol.Problem{Code: f.Code, Message: f.Message, Ref: f.Ref}))
	}
	return nil
}

func one(pkt []byte) [][]byte {
	if pkt == nil {
		return nil
	}
	return [][]byte{pkt}
}

// roomsList encodes rooms_list, or nil when the client already has it and
// force is false.
func (s *socket) roomsList(rooms []protocol.RoomInfo, force bool) []byte {
	names := make([]string, 0, len(rooms))
	for _, r := range rooms {
		if protocol.RoomKey(r.Name) != chat.Lobby {
			names = append(names, r.Name)
		}
	}
	s.roomsMu.Lock()
	defer s.roomsMu.Unlock()
	if !force && s.lastRooms != nil && slices.Equal(names, s.lastRooms) {
		return nil
	}
	s.lastRooms = names
	return eventPacket("rooms_list", map[string]any{"rooms": names})
}

// presenceNotices are the course server's notices for a presence frame:
// one line per kind of change (joined, left, disconnected), in the order
// each kind first appears. A kind with one member reads as the course
// server says it ("Bob entrou na sala general."); with more, the names
// are collapsed (see nameList) and the verb is plural ("Ana, Bruno e mais
// 23 entraram na sala general.").
func presenceNotices(p protocol.Presence) []string {
	type group struct {
		kind  string
		names []string
	}
	var groups []group
	for _, c := range p.Changes {
		kind := c.Event
		if kind != protocol.EventJoined && kind != protocol.EventDisconnected {
			kind = protocol.EventLeft
		}
		i := slices.IndexFunc(groups, func(g group) bool { return g.kind == kind })
		if i < 0 {
			groups = append(groups, group{kind: kind})
			i = len(groups) - 1
		}
		groups[i].names = append(groups[i].names, c.Member.Name)
	}
	lobby := protocol.RoomKey(p.Room) == chat.Lobby
	lines := make([]string, 0, len(groups))
	for _, g := range groups {
		who, many := nameList(g.names), len(g.names) > 1
		verb := func(one, more string) string {
			if many {
				return more
			}
			return one
		}
		var line string
		switch {
		case g.kind == protocol.EventDisconnected:
			line = who + " " + verb("desconectou", "desconectaram") + "."
		case g.kind == protocol.EventJoined && lobby:
			line = who + " " + verb("entrou", "entraram") + " no Lobby."
		case g.kind == protocol.EventJoined:
			line = fmt.Sprintf("%s %s na sala %s.", who, verb("entrou", "entraram"), p.Room)
		case lobby:
			line = who + " " + verb("saiu", "saíram") + " do Lobby."
		default:
			line = fmt.Sprintf("%s %s da sala %s.", who, verb("saiu", "saíram"), p.Room)
		}
		lines = append(lines, line)
	}
	return lines
}

// nameList joins names in Portuguese: "Ana", "Ana e Bruno", "Ana, Bruno e
// Carla", and from four on "Ana, Bruno e mais N".
func nameList(names []string) string {
	switch n := len(names); {
	case n == 0:
		return ""
	case n == 1:
		return names[0]
	case n <= 3:
		return strings.Join(names[:n-1], ", ") + " e " + names[n-1]
	default:
		return fmt.Sprintf("%s, %s e mais %d", names[0], names[1], n-2)
	}
}

// errorText is the Portuguese wording of a refusal.
func errorText(p *protocol.Problem) string {
	switch p.Code {
	case protocol.CodeNoSuchRoom, protocol.CodeBadRoomName:
		return fmt.Sprintf("A sala '%s' não existe.", p.Ref)
	case protocol.CodeNameTaken:
		return "Esse nome de usuário já está em uso."
	case protocol.CodeBadName:
		return "Escolha um nome de usuário de 1 a 32 caracteres, sem caracteres de controle."
	case protocol.CodeEmptyText:
		return "A mensagem está vazia."
	case protocol.CodeTextTooLong:
		return "A mensagem é longa demais."
	case protocol.CodeRateLimited:
		return "Calma: mensagens demais por segundo."
	case protocol.CodeShuttingDown:
		return "O host está sendo encerrado."
	case protocol.CodeSlowConsumer:
		return "A conexão não acompanhou as mensagens e foi encerrada."
	case protocol.CodeMuted:
		return "O host silenciou você."
	case protocol.CodeRoomLocked:
		return "Só o host escreve nesta sala."
	case protocol.CodeSlowMode:
		return "Modo lento: espere um pouco antes de enviar de novo."
	case protocol.CodeKicked:
		return "O host removeu você desta sessão."
	case protocol.CodeBanned:
		return "O host baniu você desta sessão."
	case protocol.CodeJoinCodeRequired, protocol.CodeJoinCodeWrong:
		return "Este host pede um código de entrada (auth: {join_code})."
	case codeBinary:
		return "Anexos binários não são aceitos por este servidor."
	case codeBadEvent:
		return "Evento com dados inválidos: " + p.Message
	}
	return p.Message
}

// Codes of this endpoint's own refusals (in acks; the hub's codes otherwise).
const (
	codeBinary       = "binary_unsupported"
	codeBadEvent     = "bad_event"
	codeUnknownEvent = "unknown_event"
)

func errorEvent(p *protocol.Problem) []byte {
	return eventPacket("error_message", map[string]string{"msg": errorText(p)})
}

// ackResult is the argument of an acknowledgement.
type ackResult struct {
	OK    bool   `json:"ok"`
	Code  string `json:"code,omitempty"`
	Error string `json:"error,omitempty"`
	Room  string `json:"room,omitempty"`
	Seq   uint64 `json:"seq,omitempty"`
	ID    string `json:"id,omitempty"`
}

// onMessage handles one Socket.IO packet. The session's inMu is held.
func (s *socket) onMessage(data []byte) {
	p, err := decodeSIO(data)
	if err != nil {
		s.ss.terminate(reasonProtocol)
		return
	}
	if p.Namespace != "/" {
		if p.Type == sioConnect {
			msg, _ := json.Marshal(map[string]string{"message": "Invalid namespace"})
			s.ss.enqueueRaw(appendSIO(nil, sioPacket{Type: sioConnectError, Namespace: p.Namespace, Data: msg}))
		}
		return // packets for namespaces that were refused are ignored
	}
	switch p.Type {
	case sioConnect:
		s.connected = true
		var auth struct {
			JoinCode string `json:"join_code"`
		}
		if p.Data != nil && json.Unmarshal(p.Data, &auth) == nil {
			s.joinCode = auth.JoinCode
		}
		b, _ := json.Marshal(map[string]string{"sid": newID()})
		s.ss.enqueueRaw(appendSIO(nil, sioPacket{Type: sioConnect, Data: b}))
		if s.memberConn() == nil {
			s.setCurrent(chat.Lobby)
		}
		s.ss.enqueueRaw(s.roomsList(s.hub.Stats().Rooms, true))
	case sioDisconnect:
		s.connected = false
		s.leaveHub()
	case sioEvent:
		if !s.connected {
			return
		}
		name, args, _ := p.event()
		res := s.onEvent(name, args)
		if p.HasID {
			s.ss.enqueueRaw(ackPacket(p.ID, res))
		}
	case sioBinaryEvent, sioBinaryAck:
		s.ss.skipBinary += p.Attachments
		if p.Type == sioBinaryEvent && s.connected {
			pr := &protocol.Problem{Code: codeBinary, Message: "binary attachments are not supported"}
			s.ss.enqueueRaw(errorEvent(pr))
			if p.HasID {
				s.ss.enqueueRaw(ackPacket(p.ID, fail(pr)))
			}
		}
	case sioAck:
		// The server never asks the client for acknowledgements.
	default:
		s.ss.terminate(reasonProtocol)
	}
}

func fail(p *protocol.Problem) ackResult {
	return ackResult{Code: p.Code, Error: errorText(p)}
}

// seedData is the payload of the course's events.
type seedData struct {
	Username *string `json:"username"`
	Room     *string `json:"room"`
	Message  *string `json:"message"`
}

func (d seedData) username() string {
	if d.Username == nil || strings.TrimSpace(*d.Username) == "" {
		return "Anônimo"
	}
	return *d.Username
}

func (d seedData) room() string {
	if d.Room == nil {
		return ""
	}
	return *d.Room
}

// onEvent carries out one of the course's events. A refusal is also sent
// as error_message, as the course server does.
func (s *socket) onEvent(name string, args []json.RawMessage) ackResult {
	var res ackResult
	var p *protocol.Problem
	switch name {
	case "message":
		var text string
		if len(args) == 0 || json.Unmarshal(args[0], &text) != nil {
			p = &protocol.Problem{Code: codeBadEvent, Message: "message takes a text"}
			break
		}
		room := s.currentRoom()
		if room == "" {
			room = chat.Lobby
		}
		res, p = s.sendMessage("Anônimo", room, text)
	case "join_lobby", "join_room", "leave_room", "send_message":
		var d seedData
		if len(args) == 0 || json.Unmarshal(args[0], &d) != nil {
			p = &protocol.Problem{Code: codeBadEvent, Message: name + " takes an object"}
			break
		}
		switch name {
		case "join_lobby":
			p = s.joinLobby(d.username())
		case "join_room":
			p = s.joinRoom(d.username(), d.room())
		case "leave_room":
			p = s.leaveRoom(d.username(), d.room())
		case "send_message":
			room := d.room()
			if room == "" {
				room = chat.Lobby
			}
			text := ""
			if d.Message != nil {
				text = *d.Message
			}
			res, p = s.sendMessage(d.username(), room, text)
		}
	default:
		return fail(&protocol.Problem{Code: codeUnknownEvent, Message: "unknown event " + name})
	}
	if p != nil {
		s.ss.enqueueRaw(errorEvent(p))
		return fail(p)
	}
	res.OK = true
	return res
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

func (s *socket) selfNotice(format string, args ...any) {
	s.mu.Lock()
	name := s.name
	s.mu.Unlock()
	s.ss.enqueueRaw(eventPacket("message", fmt.Sprintf(format, append([]any{name}, args...)...)))
}

// roomName returns the host's spelling of a room, or a no_such_room problem.
func (s *socket) roomName(room string) (string, *protocol.Problem) {
	key := protocol.RoomKey(room)
	for _, r := range s.hub.Stats().Rooms {
		if protocol.RoomKey(r.Name) == key {
			return r.Name, nil
		}
	}
	return "", protocol.Errorf(protocol.CodeNoSuchRoom, "there is no room called %q", room).WithRef(room)
}

// leaveRooms leaves every non-lobby room but keep.
func (s *socket) leaveRooms(c *chat.Conn, keep string) {
	kept := s.rooms[:0]
	for _, key := range s.rooms {
		if key == keep {
			kept = append(kept, key)
			continue
		}
		_ = c.Handle(protocol.Leave{Type: protocol.TypeLeave, Room: key})
	}
	s.rooms = kept
}

func (s *socket) joinLobby(username string) *protocol.Problem {
	c, p := s.admit(username)
	if p != nil {
		return p
	}
	s.setCurrent(chat.Lobby)
	s.leaveRooms(c, "")
	s.selfNotice("%s entrou no Lobby.")
	s.ss.enqueueRaw(s.roomsList(s.hub.Stats().Rooms, true))
	return nil
}

func (s *socket) joinRoom(username, room string) *protocol.Problem {
	if protocol.RoomKey(room) == chat.Lobby {
		return s.joinLobby(username)
	}
	name, p := s.roomName(room)
	if p != nil {
		return p
	}
	prev := s.currentRoom()
	s.setCurrent(name)
	c, p := s.admit(username)
	if p == nil {
		p = c.Handle(protocol.Join{Type: protocol.TypeJoin, Room: name})
	}
	if p != nil {
		s.setCurrent(prev)
		return p
	}
	key := protocol.RoomKey(name)
	s.leaveRooms(c, key)
	if !slices.Contains(s.rooms, key) {
		s.rooms = append(s.rooms, key)
	}
	s.selfNotice("%s entrou na sala %s.", name)
	return nil
}

func (s *socket) leaveRoom(username, room string) *protocol.Problem {
	c, p := s.admit(username)
	if p != nil {
		return p
	}
	if protocol.RoomKey(room) == chat.Lobby {
		s.setCurrent("")
		return nil
	}
	if _, p := s.roomName(room); p != nil {
		return p
	}
	s.setCurrent(chat.Lobby)
	s.leaveRooms(c, "")
	s.selfNotice("%s voltou ao Lobby.")
	return nil
}

func (s *socket) sendMessage(username, room, text string) (ackResult, *protocol.Problem) {
	c, p := s.admit(username)
	if p != nil {
		return ackResult{}, p
	}
	name, p := s.roomName(room)
	if p != nil {
		return ackResult{}, p
	}
	if !strings.EqualFold(name, s.currentRoom()) {
		var p *protocol.Problem
		if protocol.RoomKey(name) == chat.Lobby {
			p = s.joinLobby(username)
		} else {
			p = s.joinRoom(username, name)
		}
		if p != nil {
			return ackResult{}, p
		}
	}
	s.nextID++
	id := fmt.Sprintf("sio-%s-%d", s.ss.id, s.nextID)
	a, p := c.Post(protocol.Send{Type: protocol.TypeSend, Room: name, ClientID: id, Text: text})
	if p != nil {
		return ackResult{}, p
	}
	return ackResult{Room: a.Room, Seq: a.Seq, ID: a.ID}, nil
}

// sioCodec keys the bridge's encodings in a chat.Out.
type sioCodec struct{}

// encoded returns the packets of a frame every client gets the same
// (messages, notices): encoded once per Out, however many clients get it.
func encoded(o *chat.Out, encode func() [][]byte) [][]byte {
	return o.Encoding(sioCodec{}, func() any { return encode() }).([][]byte)
}
