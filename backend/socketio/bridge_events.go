package socketio

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Inbound: the client's Socket.IO packets and the course's events, carried
// out on the hub (see the contract at the top of bridge.go).

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
