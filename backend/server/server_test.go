package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

func TestHandshake(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	c := dial(t, h)
	c.send(protocol.Hello{Version: 1, Name: "  Alice  "})
	w := expect[protocol.Welcome](c)
	if w.Version != 1 || w.Host.ID != "host-test" || w.Host.Name != "test host" {
		t.Errorf("welcome host/version: %+v", w)
	}
	if w.Member.Name != "Alice" || !strings.HasPrefix(w.Member.ID, "m-") || w.Session == "" {
		t.Errorf("welcome member: %+v session %q", w.Member, w.Session)
	}
	if w.Limits.MaxText != 4096 || w.Limits.MaxFrame != 65536 || w.Limits.History != 100 {
		t.Errorf("limits: %+v", w.Limits)
	}
	var rooms []string
	for _, r := range w.Rooms {
		rooms = append(rooms, r.Name)
	}
	if got := strings.Join(rooms, ","); got != "lobby,general,projects,random" {
		t.Errorf("rooms %s", got)
	}
	j := expect[protocol.Joined](c)
	if j.Room != "lobby" || names(j.Members) != "Alice" {
		t.Errorf("lobby joined: %+v", j)
	}
}

func TestHelloRefusals(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{HelloWait: 300 * time.Millisecond})
	cases := []struct {
		name  string
		first []byte
		code  string
	}{
		{"wrong version", protocol.MustEncode(protocol.Hello{Version: 2, Name: "A"}), protocol.CodeVersion},
		{"join before hello", protocol.MustEncode(protocol.Join{Room: "general"}), protocol.CodeHelloRequired},
		{"not json", []byte("hello?"), protocol.CodeBadFrame},
		{"empty name", protocol.MustEncode(protocol.Hello{Version: 1, Name: "   "}), protocol.CodeBadName},
		{"long name", protocol.MustEncode(protocol.Hello{Version: 1, Name: strings.Repeat("x", 33)}), protocol.CodeBadName},
		{"control char", protocol.MustEncode(protocol.Hello{Version: 1, Name: "a\x07b"}), protocol.CodeBadName},
		{"no hello in time", nil, protocol.CodeHelloRequired},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, h)
			if tc.first != nil {
				c.sendRaw(websocket.TextMessage, tc.first)
			}
			expectError(c, tc.code)
			if code := expectClose(c); code != websocket.ClosePolicyViolation {
				t.Errorf("close code %d, want %d", code, websocket.ClosePolicyViolation)
			}
		})
	}
}

func TestNamesUniqueCaseInsensitive(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	join(t, h, "Alice")
	c := dial(t, h)
	c.send(protocol.Hello{Version: 1, Name: "aLiCe "})
	expectError(c, protocol.CodeNameTaken)
	expectClose(c)
	// A 32-character name is fine, and so are letters outside ASCII.
	join(t, h, strings.Repeat("é", 32))
}

func TestNameFreedOnDisconnect(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	a.ws.Close()
	waitFor(t, "Alice to leave", func() bool { return h.hub.Stats().Members == 0 })
	join(t, h, "alice")
}

func TestJoinLeaveAndPresence(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")

	ja := joinRoom(a, "general")
	if names(ja.Members) != "Alice" {
		t.Errorf("general members %s", names(ja.Members))
	}
	jb := joinRoom(b, "General") // room names are case-insensitive
	if jb.Room != "general" || names(jb.Members) != "Alice,Bob" {
		t.Errorf("joined %s with %s", jb.Room, names(jb.Members))
	}
	// Alice sees Bob join general (after his lobby join), and the member
	// counts, pushed to everyone, say so (in either order).
	sawJoin, sawCount := false, false
	for !sawJoin || !sawCount {
		typ, raw, err := a.next()
		if err != nil {
			t.Fatal(err)
		}
		switch typ {
		case protocol.TypePresence:
			var p protocol.Presence
			_ = json.Unmarshal(raw, &p)
			for _, ch := range p.Changes {
				if p.Room == "general" && ch.Member.Name == "Bob" {
					if ch.Event != protocol.EventJoined {
						t.Fatalf("presence %+v", p)
					}
					sawJoin = true
				}
			}
		case protocol.TypeRooms:
			var r protocol.Rooms
			_ = json.Unmarshal(raw, &r)
			sawCount = sawCount || r.Rooms[1].Name == "general" && r.Rooms[1].Members == 2
		}
	}
	b.send(protocol.Leave{Room: "general"})
	if l := expect[protocol.Left](b); l.Room != "general" {
		t.Errorf("left %+v", l)
	}
	expectChange(a, "general", protocol.EventLeft, "Bob")
	b.ws.Close()
	expectChange(a, "lobby", protocol.EventDisconnected, "Bob")
}

func TestRoomErrors(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	cases := []struct {
		frame protocol.Frame
		code  string
		ref   string
	}{
		{protocol.Join{Room: "sala9"}, protocol.CodeNoSuchRoom, "sala9"},
		{protocol.Leave{Room: "lobby"}, protocol.CodeCannotLeaveLobby, "lobby"},
		{protocol.Leave{Room: "general"}, protocol.CodeNotInRoom, "general"},
		{protocol.Leave{Room: "nowhere"}, protocol.CodeNoSuchRoom, "nowhere"},
		{protocol.Send{Room: "general", ClientID: "c1", Text: "hi"}, protocol.CodeNotInRoom, "c1"},
		{protocol.Send{Room: "nowhere", ClientID: "c1b", Text: "hi"}, protocol.CodeNoSuchRoom, "c1b"},
		{protocol.Send{Room: "lobby", ClientID: "", Text: "hi"}, protocol.CodeBadClientID, ""},
		{protocol.Send{Room: "lobby", ClientID: strings.Repeat("c", 65), Text: "hi"}, protocol.CodeBadClientID, strings.Repeat("c", 65)},
		{protocol.Send{Room: "lobby", ClientID: "c2", Text: "  \n "}, protocol.CodeEmptyText, "c2"},
		{protocol.Send{Room: "lobby", ClientID: "c3", Text: strings.Repeat("x", 4097)}, protocol.CodeTextTooLong, "c3"},
		{protocol.Typing{Room: "general"}, protocol.CodeNotInRoom, "general"},
		{protocol.CreateRoom{Room: "new"}, protocol.CodeRoomCreateOff, "new"},
		{protocol.Hello{Version: 1, Name: "Again"}, protocol.CodeAlreadyHello, ""},
	}
	for _, tc := range cases {
		a.send(tc.frame)
		e := expectError(a, tc.code)
		if e.Ref != tc.ref {
			t.Errorf("%s: ref %q, want %q", tc.code, e.Ref, tc.ref)
		}
	}
	// The connection is still usable after every refusal.
	sendText(a, "lobby", "ok", "still here")
}

func TestBadFrames(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	cases := []struct {
		name string
		mt   int
		data string
		code string
	}{
		{"invalid json", websocket.TextMessage, `{"type":"send",`, protocol.CodeBadFrame},
		{"json array", websocket.TextMessage, `[1,2]`, protocol.CodeBadFrame},
		{"invalid utf-8", websocket.TextMessage, "{\"type\":\"send\",\"text\":\"\xff\xfe\"}", protocol.CodeBadFrame},
		{"binary", websocket.BinaryMessage, `{"type":"typing","room":"lobby"}`, protocol.CodeBadFrame},
		{"wrong field type", websocket.TextMessage, `{"type":"send","room":5}`, protocol.CodeBadFrame},
		{"no type", websocket.TextMessage, `{"room":"lobby"}`, protocol.CodeBadFrame},
		{"unknown type", websocket.TextMessage, `{"type":"launch"}`, protocol.CodeUnknownType},
		{"server-only type", websocket.TextMessage, `{"type":"welcome"}`, protocol.CodeUnknownType},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a.t = t
			a.sendRaw(tc.mt, []byte(tc.data))
			expectError(a, tc.code)
		})
	}
	a.t = t
	sendText(a, "lobby", "ok", "still here")
}

func TestMessagesAckSeqAndDedupe(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	joinRoom(a, "general")
	joinRoom(b, "general")
	for i := 1; i <= 5; i++ {
		ack := sendText(a, "general", fmt.Sprintf("c-%d", i), fmt.Sprintf("msg %d", i))
		if ack.Seq != uint64(i) || ack.Room != "general" || ack.ID == "" || ack.TS == 0 {
			t.Fatalf("ack %d: %+v", i, ack)
		}
	}
	// A resend of c-3 returns the original ack and delivers nothing.
	again := sendText(a, "general", "c-3", "msg 3")
	if again.Seq != 3 {
		t.Errorf("resent ack seq %d, want 3", again.Seq)
	}
	sendText(a, "general", "c-6", "msg 6")
	msgs := collect[protocol.Message](b, 6)
	for i, m := range msgs {
		if m.Seq != uint64(i+1) || m.Text != fmt.Sprintf("msg %d", i+1) || m.From.Name != "Alice" || m.Room != "general" {
			t.Errorf("message %d: %+v", i, m)
		}
	}
	// Messages stay in their room: the lobby has seq 1 next.
	if ack := sendText(a, "lobby", "l-1", "hello lobby"); ack.Seq != 1 {
		t.Errorf("lobby seq %d", ack.Seq)
	}
	m := expect[protocol.Message](b)
	if m.Room != "lobby" {
		t.Errorf("got %+v", m)
	}
}

func TestClientIDOfAnotherMemberIsRefused(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	first := sendText(a, "lobby", "same-id", "from Alice")
	b.send(protocol.Send{Room: "lobby", ClientID: "same-id", Text: "from Bob"})
	if e := expectError(b, protocol.CodeBadClientID); e.Ref != "same-id" {
		t.Errorf("ref %q", e.Ref)
	}
	// Bob's message goes through under a new id; Alice's resend still gets her ack.
	if ack := sendText(b, "lobby", "bob-1", "from Bob"); ack.Seq != first.Seq+1 {
		t.Errorf("Bob's ack %+v", ack)
	}
	if again := sendText(a, "lobby", "same-id", "from Alice"); again.Seq != first.Seq || again.ID != first.ID {
		t.Errorf("Alice's resend %+v, first %+v", again, first)
	}
}

func TestTypingRelayedAndLimited(t *testing.T) {
	h := startHost(t, chat.Config{TypingInterval: time.Hour}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	a.send(protocol.Typing{Room: "lobby"})
	a.send(protocol.Typing{Room: "lobby"}) // within the interval: dropped
	sendText(a, "lobby", "after", "done typing")
	typings := 0
	for {
		typ, raw, err := b.next()
		if err != nil {
			t.Fatal(err)
		}
		if typ == protocol.TypeTyping {
			var ty protocol.Typing
			_ = json.Unmarshal(raw, &ty)
			if ty.From == nil || ty.From.Name != "Alice" || ty.Room != "lobby" {
				t.Errorf("typing %s", raw)
			}
			typings++
		}
		if typ == protocol.TypeMessage {
			break
		}
	}
	if typings != 1 {
		t.Errorf("Bob saw %d typing frames, want 1", typings)
	}
	// The typist does not get her own typing back.
	for {
		typ, _, err := a.next()
		if err != nil {
			t.Fatal(err)
		}
		if typ == protocol.TypeTyping {
			t.Fatal("typing echoed to its sender")
		}
		if typ == protocol.TypeMessage {
			break
		}
	}
}

func TestCreateRoom(t *testing.T) {
	h := startHost(t, chat.Config{AllowCreate: true, MaxRooms: 5}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	a.send(protocol.CreateRoom{Room: "Robotics"})
	if j := expect[protocol.Joined](a); j.Room != "Robotics" || names(j.Members) != "Alice" {
		t.Errorf("joined %+v", j)
	}
	for {
		r := expect[protocol.Rooms](b)
		if len(r.Rooms) == 5 && r.Rooms[4].Name == "Robotics" {
			break
		}
	}
	joinRoom(b, "robotics")
	for _, tc := range []struct{ room, code string }{
		{"ROBOTICS", protocol.CodeRoomExists},
		{"bad/name", protocol.CodeBadRoomName},
		{"sixth", protocol.CodeTooManyRooms},
	} {
		a.send(protocol.CreateRoom{Room: tc.room})
		expectError(a, tc.code)
	}
}

func TestInfo(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{Version: "1.2.3", JoinURLs: func() []string { return []string{"http://10.0.0.5:47800/"} }})
	join(t, h, "Alice")
	resp, err := http.Get(h.base + "/api/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info Info
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil {
		t.Fatal(err)
	}
	if info.ID != "host-test" || info.Name != "test host" || info.Version != "1.2.3" || info.Protocol != 1 ||
		info.Members != 1 || len(info.Rooms) != 4 || info.Rooms[0].Members != 1 || info.URLs[0] != "http://10.0.0.5:47800/" ||
		info.Port == 0 || info.JoinCode {
		t.Errorf("info %+v", info)
	}
	page, err := http.Get(h.base + "/")
	if err != nil {
		t.Fatal(err)
	}
	page.Body.Close()
	if page.StatusCode != 200 || !strings.HasPrefix(page.Header.Get("Content-Type"), "text/html") {
		t.Errorf("/ answered %d %s", page.StatusCode, page.Header.Get("Content-Type"))
	}
}

func TestBatchedFramesSplitCleanly(t *testing.T) {
	h := startHost(t, chat.Config{RatePerSecond: 1000, RateBurst: 1000}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	record(a) // Alice reads her acks as they come, or she would be a slow reader
	for i := range 200 {
		a.send(protocol.Send{Room: "lobby", ClientID: fmt.Sprint(i), Text: fmt.Sprintf("line\n%d", i)})
	}
	msgs := collect[protocol.Message](b, 200)
	for i, m := range msgs {
		if m.Text != fmt.Sprintf("line\n%d", i) {
			t.Fatalf("message %d: %q", i, m.Text)
		}
	}
}
