package socketio

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
)

// Engine.IO v4 packet types, as the first character of a text packet.
const (
	eioOpen    = '0'
	eioClose   = '1'
	eioPing    = '2'
	eioPong    = '3'
	eioMessage = '4'
	eioUpgrade = '5'
	eioNoop    = '6'
)

// recordSeparator joins packets in an HTTP long-polling payload.
const recordSeparator = '\x1e'

// eioPacket is one Engine.IO packet. Binary packets arrive as WebSocket
// binary frames or, over polling, as "b" followed by base64; lanchat
// refuses their content but must recognise them.
type eioPacket struct {
	Type   byte
	Data   []byte
	Binary bool
}

var (
	errEmptyPacket  = errors.New("engine.io: empty packet")
	errBadPacket    = errors.New("engine.io: unknown packet type")
	errBadSIOPacket = errors.New("socket.io: malformed packet")
)

// decodeEIO parses one text Engine.IO packet.
func decodeEIO(b []byte) (eioPacket, error) {
	if len(b) == 0 {
		return eioPacket{}, errEmptyPacket
	}
	if b[0] == 'b' {
		return eioPacket{Type: eioMessage, Data: b[1:], Binary: true}, nil
	}
	if b[0] < eioOpen || b[0] > eioNoop {
		return eioPacket{}, errBadPacket
	}
	return eioPacket{Type: b[0], Data: b[1:]}, nil
}

// decodePayload splits a long-polling payload into packets.
func decodePayload(b []byte) ([]eioPacket, error) {
	var out []eioPacket
	for part := range bytes.SplitSeq(b, []byte{recordSeparator}) {
		p, err := decodeEIO(part)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// appendPayload adds an encoded packet to a long-polling payload.
func appendPayload(payload, packet []byte) []byte {
	if len(payload) > 0 {
		payload = append(payload, recordSeparator)
	}
	return append(payload, packet...)
}

// Socket.IO v5 packet types.
const (
	sioConnect      = 0
	sioDisconnect   = 1
	sioEvent        = 2
	sioAck          = 3
	sioConnectError = 4
	sioBinaryEvent  = 5
	sioBinaryAck    = 6
)

// sioPacket is one Socket.IO packet:
//
//	<type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
type sioPacket struct {
	Type        int
	Attachments int
	Namespace   string // "/" when absent
	HasID       bool
	ID          uint64
	Data        json.RawMessage // nil when absent
}

// maxAckDigits bounds an ack id; larger ones are malformed.
const maxAckDigits = 15

// decodeSIO parses a Socket.IO packet carried in an Engine.IO message.
func decodeSIO(b []byte) (sioPacket, error) {
	if len(b) == 0 || b[0] < '0' || b[0] > '6' {
		return sioPacket{}, errBadSIOPacket
	}
	p := sioPacket{Type: int(b[0] - '0'), Namespace: "/"}
	i := 1
	if p.Type == sioBinaryEvent || p.Type == sioBinaryAck {
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		if j == i || j >= len(b) || b[j] != '-' || j-i > 6 {
			return sioPacket{}, errBadSIOPacket
		}
		n, _ := strconv.Atoi(string(b[i:j]))
		p.Attachments = n
		i = j + 1
	}
	if i < len(b) && b[i] == '/' {
		j := bytes.IndexByte(b[i:], ',')
		if j < 0 {
			p.Namespace = string(b[i:])
			i = len(b)
		} else {
			p.Namespace = string(b[i : i+j])
			i += j + 1
		}
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j > i {
		if j-i > maxAckDigits {
			return sioPacket{}, errBadSIOPacket
		}
		p.ID, _ = strconv.ParseUint(string(b[i:j]), 10, 64)
		p.HasID = true
		i = j
	}
	if i < len(b) {
		data := b[i:]
		if !json.Valid(data) {
			return sioPacket{}, errBadSIOPacket
		}
		p.Data = json.RawMessage(data)
	}
	switch p.Type {
	case sioEvent, sioBinaryEvent:
		if _, _, err := p.event(); err != nil {
			return sioPacket{}, err
		}
	case sioAck, sioBinaryAck:
		if !p.HasID || !isArray(p.Data) {
			return sioPacket{}, errBadSIOPacket
		}
	case sioConnect:
		if p.Data != nil && !isObject(p.Data) {
			return sioPacket{}, errBadSIOPacket
		}
	case sioDisconnect:
		if p.Data != nil || p.HasID {
			return sioPacket{}, errBadSIOPacket
		}
	}
	return p, nil
}

// event returns an EVENT packet's name and arguments.
func (p sioPacket) event() (string, []json.RawMessage, error) {
	var parts []json.RawMessage
	if !isArray(p.Data) || json.Unmarshal(p.Data, &parts) != nil || len(parts) == 0 {
		return "", nil, errBadSIOPacket
	}
	var name string
	if err := json.Unmarshal(parts[0], &name); err != nil {
		return "", nil, errBadSIOPacket
	}
	return name, parts[1:], nil
}

func isArray(d json.RawMessage) bool {
	d = bytes.TrimLeft(d, " \t\r\n")
	return len(d) > 0 && d[0] == '['
}

func isObject(d json.RawMessage) bool {
	d = bytes.TrimLeft(d, " \t\r\n")
	return len(d) > 0 && d[0] == '{'
}

// appendSIO encodes p as an Engine.IO message packet ("4" + Socket.IO packet).
func appendSIO(dst []byte, p sioPacket) []byte {
	dst = append(dst, eioMessage, byte('0'+p.Type))
	if p.Type == sioBinaryEvent || p.Type == sioBinaryAck {
		dst = strconv.AppendInt(dst, int64(p.Attachments), 10)
		dst = append(dst, '-')
	}
	if p.Namespace != "" && p.Namespace != "/" {
		dst = append(dst, p.Namespace...)
		dst = append(dst, ',')
	}
	if p.HasID {
		dst = strconv.AppendUint(dst, p.ID, 10)
	}
	return append(dst, p.Data...)
}

// eventPacket encodes an EVENT for the default namespace as an Engine.IO
// message: 42["name",arg...].
func eventPacket(name string, args ...any) []byte {
	data := make([]any, 0, 1+len(args))
	data = append(data, name)
	data = append(data, args...)
	b, err := json.Marshal(data)
	if err != nil {
		panic("socketio: encode event " + name + ": " + err.Error())
	}
	return appendSIO(nil, sioPacket{Type: sioEvent, Data: b})
}

// ackPacket encodes an ACK for the default namespace: 43<id>[arg...].
func ackPacket(id uint64, args ...any) []byte {
	if args == nil {
		args = []any{}
	}
	b, err := json.Marshal(args)
	if err != nil {
		panic("socketio: encode ack: " + err.Error())
	}
	return appendSIO(nil, sioPacket{Type: sioAck, HasID: true, ID: id, Data: b})
}
