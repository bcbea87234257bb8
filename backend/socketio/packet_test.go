package socketio

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestDecodeEIO(t *testing.T) {
	tests := []struct {
		in      string
		typ     byte
		data    string
		binary  bool
		wantErr bool
	}{
		{in: "2", typ: eioPing},
		{in: "3", typ: eioPong},
		{in: "2probe", typ: eioPing, data: "probe"},
		{in: `40{"token":"x"}`, typ: eioMessage, data: `0{"token":"x"}`},
		{in: "5", typ: eioUpgrade},
		{in: "6", typ: eioNoop},
		{in: "1", typ: eioClose},
		{in: "bAQID", typ: eioMessage, data: "AQID", binary: true},
		{in: "", wantErr: true},
		{in: "7", wantErr: true},
		{in: "x", wantErr: true},
		{in: "/", wantErr: true},
	}
	for _, tt := range tests {
		p, err := decodeEIO([]byte(tt.in))
		if tt.wantErr {
			if err == nil {
				t.Errorf("decodeEIO(%q) = %+v, want an error", tt.in, p)
			}
			continue
		}
		if err != nil || p.Type != tt.typ || string(p.Data) != tt.data || p.Binary != tt.binary {
			t.Errorf("decodeEIO(%q) = %+v, %v; want type %c data %q binary %v", tt.in, p, err, tt.typ, tt.data, tt.binary)
		}
	}
}

func TestDecodePayload(t *testing.T) {
	tests := []struct {
		in      string
		want    []string // type + data of each packet
		wantErr bool
	}{
		{in: "3", want: []string{"3"}},
		{in: "3\x1e42[\"a\"]", want: []string{"3", `42["a"]`}},
		{in: "42[\"a\"]\x1e42[\"b\"]\x1e1", want: []string{`42["a"]`, `42["b"]`, "1"}},
		{in: "", wantErr: true},
		{in: "3\x1e", wantErr: true},
		{in: "\x1e3", wantErr: true},
		{in: "3\x1e9", wantErr: true},
	}
	for _, tt := range tests {
		ps, err := decodePayload([]byte(tt.in))
		if tt.wantErr {
			if err == nil {
				t.Errorf("decodePayload(%q) = %v, want an error", tt.in, ps)
			}
			continue
		}
		var got []string
		for _, p := range ps {
			got = append(got, string(p.Type)+string(p.Data))
		}
		if err != nil || !equalStrings(got, tt.want) {
			t.Errorf("decodePayload(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	var payload []byte
	for _, p := range []string{"2", `42["x"]`, "6"} {
		payload = appendPayload(payload, []byte(p))
	}
	if string(payload) != "2\x1e42[\"x\"]\x1e6" {
		t.Errorf("appendPayload = %q", payload)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDecodeSIO(t *testing.T) {
	tests := []struct {
		in      string
		want    sioPacket
		wantErr bool
	}{
		{in: "0", want: sioPacket{Type: sioConnect, Namespace: "/"}},
		{in: `0{"token":"123"}`, want: sioPacket{Type: sioConnect, Namespace: "/", Data: json.RawMessage(`{"token":"123"}`)}},
		{in: `0/admin,{"token":"123"}`, want: sioPacket{Type: sioConnect, Namespace: "/admin", Data: json.RawMessage(`{"token":"123"}`)}},
		{in: "0/admin,", want: sioPacket{Type: sioConnect, Namespace: "/admin"}},
		{in: "0/admin", want: sioPacket{Type: sioConnect, Namespace: "/admin"}},
		{in: "1", want: sioPacket{Type: sioDisconnect, Namespace: "/"}},
		{in: "1/admin,", want: sioPacket{Type: sioDisconnect, Namespace: "/admin"}},
		{in: `2["hello",1]`, want: sioPacket{Type: sioEvent, Namespace: "/", Data: json.RawMessage(`["hello",1]`)}},
		{in: `2/admin,456["project:delete",123]`, want: sioPacket{Type: sioEvent, Namespace: "/admin", HasID: true, ID: 456, Data: json.RawMessage(`["project:delete",123]`)}},
		{in: `212["join_room",{"username":"Alice","room":"general"}]`, want: sioPacket{Type: sioEvent, Namespace: "/", HasID: true, ID: 12, Data: json.RawMessage(`["join_room",{"username":"Alice","room":"general"}]`)}},
		{in: `3/admin,456[]`, want: sioPacket{Type: sioAck, Namespace: "/admin", HasID: true, ID: 456, Data: json.RawMessage(`[]`)}},
		{in: `4{"message":"Not authorized"}`, want: sioPacket{Type: sioConnectError, Namespace: "/", Data: json.RawMessage(`{"message":"Not authorized"}`)}},
		{in: `51-["hello",{"_placeholder":true,"num":0}]`, want: sioPacket{Type: sioBinaryEvent, Attachments: 1, Namespace: "/", Data: json.RawMessage(`["hello",{"_placeholder":true,"num":0}]`)}},
		{in: `61-/admin,456[{"_placeholder":true,"num":0}]`, want: sioPacket{Type: sioBinaryAck, Attachments: 1, Namespace: "/admin", HasID: true, ID: 456, Data: json.RawMessage(`[{"_placeholder":true,"num":0}]`)}},
		{in: "", wantErr: true},
		{in: "7", wantErr: true},
		{in: "2", wantErr: true},                      // an event needs data
		{in: `2{"a":1}`, wantErr: true},               // … an array
		{in: `2[]`, wantErr: true},                    // … with a name
		{in: `2[1,2]`, wantErr: true},                 // … that is a string
		{in: `2["a"`, wantErr: true},                  // invalid JSON
		{in: `2["a"]x`, wantErr: true},                // trailing garbage
		{in: `3[]`, wantErr: true},                    // an ack needs an id
		{in: `312{}`, wantErr: true},                  // … and an array
		{in: `0[1]`, wantErr: true},                   // connect data is an object
		{in: `1["x"]`, wantErr: true},                 // disconnect carries nothing
		{in: `5["a"]`, wantErr: true},                 // binary needs a count
		{in: `51["a"]`, wantErr: true},                // … ending in '-'
		{in: `21234567890123456["a"]`, wantErr: true}, // an absurd ack id
		{in: `5999999999-["a"]`, wantErr: true},       // an absurd attachment count
		{in: "2/admin,abc", wantErr: true},            // not JSON after the namespace
		{in: "0/admin,{\"a\":1}{", wantErr: true},     // two values
	}
	for _, tt := range tests {
		got, err := decodeSIO([]byte(tt.in))
		if tt.wantErr {
			if err == nil {
				t.Errorf("decodeSIO(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil {
			t.Errorf("decodeSIO(%q): %v", tt.in, err)
			continue
		}
		if got.Type != tt.want.Type || got.Attachments != tt.want.Attachments || got.Namespace != tt.want.Namespace ||
			got.HasID != tt.want.HasID || got.ID != tt.want.ID || !bytes.Equal(got.Data, tt.want.Data) {
			t.Errorf("decodeSIO(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
		// Encoding gives back the packet as sent.
		if enc := appendSIO(nil, got); string(enc) != "4"+tt.in && !(tt.in == "0/admin" || tt.in == "0/admin,") {
			t.Errorf("appendSIO(decodeSIO(%q)) = %q", tt.in, enc)
		}
	}
}

func TestEventAndAckPackets(t *testing.T) {
	if got := string(eventPacket("message", "Alice: hi")); got != `42["message","Alice: hi"]` {
		t.Errorf("eventPacket = %s", got)
	}
	if got := string(eventPacket("rooms_list", map[string]any{"rooms": []string{"a", "b"}})); got != `42["rooms_list",{"rooms":["a","b"]}]` {
		t.Errorf("eventPacket = %s", got)
	}
	if got := string(ackPacket(7, ackResult{OK: true})); got != `437[{"ok":true}]` {
		t.Errorf("ackPacket = %s", got)
	}
	if got := string(ackPacket(0)); got != `430[]` {
		t.Errorf("ackPacket() = %s", got)
	}
	ns := appendSIO(nil, sioPacket{Type: sioConnectError, Namespace: "/admin", Data: json.RawMessage(`{"message":"Invalid namespace"}`)})
	if string(ns) != `44/admin,{"message":"Invalid namespace"}` {
		t.Errorf("connect error = %s", ns)
	}
}

func TestAppendFrame(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 65535, 65536} {
		f := appendTextFrame(nil, bytes.Repeat([]byte{'a'}, n))
		if f[0] != 0x81 {
			t.Fatalf("opcode byte %x", f[0])
		}
		var size, hdr int
		switch f[1] {
		case 126:
			size, hdr = int(f[2])<<8|int(f[3]), 4
		case 127:
			for _, b := range f[2:10] {
				size = size<<8 | int(b)
			}
			hdr = 10
		default:
			size, hdr = int(f[1]), 2
		}
		if size != n || len(f) != hdr+n {
			t.Errorf("frame of %d bytes: header says %d, frame is %d long", n, size, len(f))
		}
	}
}

// FuzzDecodeSIO: the decoder never panics, and what it accepts re-encodes
// into a packet that decodes to the same thing.
func FuzzDecodeSIO(f *testing.F) {
	for _, s := range []string{"0", `0/admin,{"a":1}`, `212["join_room",{"room":"x"}]`, `3/a,4[]`, `51-["a",{"_placeholder":true,"num":0}]`, "1", `4{"message":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		p, err := decodeSIO(in)
		if err != nil {
			return
		}
		enc := appendSIO(nil, p)
		q, err := decodeSIO(enc[1:])
		if err != nil {
			t.Fatalf("%q decoded to %+v, whose encoding %q does not decode: %v", in, p, enc, err)
		}
		if q.Type != p.Type || q.Namespace != p.Namespace || q.HasID != p.HasID || q.ID != p.ID || q.Attachments != p.Attachments || !bytes.Equal(q.Data, p.Data) {
			t.Fatalf("%q: %+v re-decoded as %+v", in, p, q)
		}
	})
}

// FuzzDecodePayload: the payload decoder never panics and splits exactly on
// the record separator.
func FuzzDecodePayload(f *testing.F) {
	for _, s := range []string{"3", "3\x1e42[\"a\"]", "bAQID\x1e2", "\x1e"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		ps, err := decodePayload(in)
		if err != nil {
			return
		}
		if len(ps) != bytes.Count(in, []byte{recordSeparator})+1 {
			t.Fatalf("%q: %d packets", in, len(ps))
		}
		var out []byte
		for _, p := range ps {
			pkt := append([]byte{p.Type}, p.Data...)
			if p.Binary {
				pkt = append([]byte{'b'}, p.Data...)
			}
			out = appendPayload(out, pkt)
		}
		if !bytes.Equal(out, in) {
			t.Fatalf("%q re-encoded as %q", in, out)
		}
	})
}
