package socketio

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Outbound: what the page is told. Hub frames become Engine.IO packets in the
// course server's words (see the contract at the top of bridge.go).

// translate turns a hub frame into the Engine.IO packets the page gets
// (none, one, or one per kind of presence change). Frames the same for
// every client are encoded once; private ones were made for this client.
func (s *socket) translate(o *chat.Out, private bool) [][]byte {
	switch f := o.Frame.(type) {
	case protocol.Message:
		if len(f.Attachments) > 0 {
			return s.fileLines(f) // links carry this member's files key
		}
		return encoded(o, func() [][]byte {
			return [][]byte{eventPacket("message", courseLine(f))}
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
	case protocol.Announcement:
		return encoded(o, func() [][]byte {
			return [][]byte{eventPacket("message", fmt.Sprintf("📢 Aviso de %s: %s", f.From.Name, f.Text))}
		})
	case protocol.Pinned:
		if f.Message == nil {
			return one(eventPacket("message", "A mensagem fixada nesta sala foi removida."))
		}
		return one(eventPacket("message", fmt.Sprintf("📌 Mensagem fixada: %s: %s", f.Message.From.Name, f.Message.Text)))
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
		if kind != protocol.EventJoined && kind != protocol.EventDisconnected && kind != protocol.EventRemoved {
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
		case g.kind == protocol.EventRemoved:
			line = who + " " + verb("foi removido", "foram removidos") + " pelo anfitrião."
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
		return "O anfitrião está sendo encerrado."
	case protocol.CodeSlowConsumer:
		return "A conexão não acompanhou as mensagens e foi encerrada."
	case protocol.CodeMuted:
		return "O anfitrião silenciou você."
	case protocol.CodeRoomLocked:
		return "Só o anfitrião escreve nesta sala."
	case protocol.CodeSlowMode:
		return "Modo lento: espere um pouco antes de enviar de novo."
	case protocol.CodeKicked:
		return "O anfitrião removeu você desta sessão."
	case protocol.CodeBanned:
		return "O anfitrião baniu você desta sessão."
	case protocol.CodeJoinCodeRequired, protocol.CodeJoinCodeWrong:
		return "Este anfitrião pede um código de entrada (auth: {join_code})."
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

// sioCodec keys the bridge's encodings in a chat.Out.
type sioCodec struct{}

// encoded returns the packets of a frame every client gets the same
// (messages, notices): encoded once per Out, however many clients get it.
func encoded(o *chat.Out, encode func() [][]byte) [][]byte {
	return o.Encoding(sioCodec{}, func() any { return encode() }).([][]byte)
}

// fileLines is a message with files as the course page shows it: the text
// (if any), then a line per file with its name, size and download link.
func (s *socket) fileLines(f protocol.Message) [][]byte {
	var pkts [][]byte
	if strings.TrimSpace(f.Text) != "" {
		pkts = append(pkts, eventPacket("message", f.From.Name+": "+f.Text))
	}
	key := ""
	if k := s.files.Load(); k != nil {
		key = *k
	}
	for _, a := range f.Attachments {
		q := url.Values{"room": {f.Room}, "seq": {strconv.FormatUint(f.Seq, 10)}, "key": {key}, "download": {"1"}}
		link := s.ss.origin + protocol.FilePath + a.ID + "?" + q.Encode()
		pkts = append(pkts, eventPacket("message", fmt.Sprintf("%s enviou o arquivo %s (%s): %s", f.From.Name, a.Name, tamanho(a.Size), link)))
	}
	return pkts
}

// tamanho is a file size in Portuguese: "482 KB", "2,2 MB".
func tamanho(n int64) string {
	switch {
	case n >= 1<<20:
		return strings.Replace(fmt.Sprintf("%.1f MB", float64(n)/(1<<20)), ".", ",", 1)
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", (n+1<<9)>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// courseLine is a message of the room's log as the course page shows it, in
// its words: messages as "Name: text", replies, polls, edits and a poll's
// result as readable lines, reactions and votes not at all ("").
func courseLine(f protocol.Message) string {
	switch f.FrameType() {
	case protocol.TypeMessage:
		if f.ReplyFrom != nil {
			return fmt.Sprintf("%s (em resposta a %s): %s", f.From.Name, f.ReplyFrom.Name, f.Text)
		}
		return f.From.Name + ": " + f.Text
	case protocol.TypePoll:
		var opts []string
		for i, o := range f.Options {
			opts = append(opts, fmt.Sprintf("%d) %s", i+1, o))
		}
		return fmt.Sprintf("%s abriu uma enquete: %s — %s (vote no app do lanchat)", f.From.Name, f.Text, strings.Join(opts, "; "))
	case protocol.TypePollClosed:
		var res []string
		for i, n := range f.Counts {
			votos := "votos"
			if n == 1 {
				votos = "voto"
			}
			res = append(res, fmt.Sprintf("%d) %d %s", i+1, n, votos))
		}
		return fmt.Sprintf("%s encerrou a enquete. Resultado: %s", f.From.Name, strings.Join(res, "; "))
	case protocol.TypeEdited:
		if f.Deleted {
			return ""
		}
		return fmt.Sprintf("%s corrigiu uma mensagem: %s", f.From.Name, f.Text)
	}
	return ""
}
