package server

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
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

func TestReadLimitClosesWith1009(t *testing.T) {
	h := startHost(t, chat.Config{MaxText: 100 << 10}, Config{MaxFrame: 64 << 10})
	a := join(t, h, "Alice")
	big := protocol.MustEncode(protocol.Send{Room: "lobby", ClientID: "big", Text: strings.Repeat("x", 65<<10)})
	a.sendRaw(websocket.TextMessage, big)
	if code := expectClose(a); code != websocket.CloseMessageTooBig {
		t.Errorf("close code %d, want 1009", code)
	}
	// Just under the limit is fine.
	b := join(t, h, "Bob")
	sendText(b, "lobby", "fits", strings.Repeat("y", 60<<10))
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

func TestHistoryOnJoin(t *testing.T) {
	h := startHost(t, chat.Config{HistoryOnJoin: 3}, Config{})
	a := join(t, h, "Alice")
	joinRoom(a, "general")
	for i := 1; i <= 5; i++ {
		sendText(a, "general", fmt.Sprint(i), fmt.Sprintf("m%d", i))
	}
	b := join(t, h, "Bob")
	j := joinRoom(b, "general")
	if len(j.History) != 3 || j.History[0].Seq != 3 || j.History[2].Text != "m5" || j.LastSeq != 5 || j.Truncated {
		t.Errorf("joined %+v", j)
	}
}

func TestResumeGetsExactlyMissed(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	joinRoom(a, "general")
	joinRoom(b, "general")
	sendText(a, "general", "1", "one")
	sendText(a, "general", "2", "two")
	seen := collect[protocol.Message](b, 2)
	session := b.welcome.Session
	b.ws.Close()
	waitFor(t, "Bob to drop", func() bool { return h.hub.Stats().Members == 1 })
	sendText(a, "general", "3", "three")
	sendText(a, "general", "4", "four")

	b2 := dial(t, h)
	b2.send(protocol.Hello{Version: 1, Name: "Bob", Resume: &protocol.Resume{Session: session, Rooms: map[string]uint64{"general": seen[1].Seq, "lobby": 0}}})
	expect[protocol.Welcome](b2)
	got := map[string]protocol.Joined{}
	for range 2 {
		j := expect[protocol.Joined](b2)
		got[j.Room] = j
	}
	g := got["general"]
	if len(g.History) != 2 || g.History[0].Text != "three" || g.History[1].Text != "four" || g.Truncated {
		t.Errorf("resumed general: %+v", g)
	}
	if l := got["lobby"]; len(l.History) != 0 {
		t.Errorf("lobby history %+v", l.History)
	}
	sendText(a, "general", "5", "five")
	if m := expect[protocol.Message](b2); m.Seq != 5 {
		t.Errorf("live after resume: %+v", m)
	}
}

func TestResumeBeyondKeptIsTruncated(t *testing.T) {
	h := startHost(t, chat.Config{Store: chat.NewMemoryStore(3)}, Config{})
	a := join(t, h, "Alice")
	for i := 1; i <= 6; i++ {
		sendText(a, "lobby", fmt.Sprint(i), fmt.Sprint("m", i))
	}
	b := dial(t, h)
	b.send(protocol.Hello{Version: 1, Name: "Bob", Resume: &protocol.Resume{Rooms: map[string]uint64{"lobby": 1}}})
	expect[protocol.Welcome](b)
	j := expect[protocol.Joined](b)
	if !j.Truncated || j.FirstKept != 4 || len(j.History) != 3 || j.History[0].Seq != 4 {
		t.Errorf("joined %+v", j)
	}
}

// A resume naming rooms that are gone gets its welcome, which lists them
// once, then joined for the lobby and the rooms that still exist: no error
// frame per room.
func TestResumeUnknownRoom(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	b := dial(t, h)
	b.send(protocol.Hello{Version: 1, Name: "Bob", Resume: &protocol.Resume{Rooms: map[string]uint64{"gone": 3, "general": 0, "also-gone": 1}}})
	if w := expect[protocol.Welcome](b); !slices.Equal(w.GoneRooms, []string{"also-gone", "gone"}) {
		t.Errorf("welcome.gone_rooms %q", w.GoneRooms)
	}
	if j := expect[protocol.Joined](b); j.Room != "lobby" {
		t.Errorf("joined %s", j.Room)
	}
	if j := expect[protocol.Joined](b); j.Room != "general" {
		t.Errorf("joined %s", j.Room)
	}
}

// A resume naming 5,000 rooms that no longer exist (short names, so the
// hello fits the 64 KiB frame limit) gets its welcome listing every one,
// and the lobby; before, one error frame per room overflowed the queue.
func TestResumeThousandsOfGoneRooms(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	rooms := map[string]uint64{"lobby": 0}
	var want []string
	for i := range 5000 {
		name := fmt.Sprintf("r%04d", i)
		rooms[name] = uint64(i)
		want = append(want, name)
	}
	hello := protocol.MustEncode(protocol.Hello{Version: 1, Name: "Bob", Resume: &protocol.Resume{Rooms: rooms}})
	if len(hello) > h.hub.Config().MaxFrame {
		t.Fatalf("the hello is %d bytes, over the frame limit", len(hello))
	}
	b := dial(t, h)
	b.sendRaw(websocket.TextMessage, hello)
	w := expect[protocol.Welcome](b)
	if !slices.Equal(w.GoneRooms, want) {
		t.Fatalf("welcome lists %d gone rooms, want the 5000 named", len(w.GoneRooms))
	}
	if j := expect[protocol.Joined](b); j.Room != "lobby" {
		t.Errorf("joined %s", j.Room)
	}
	sendText(b, "lobby", "c1", "still here") // the connection works
}

func TestSessionTakeover(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	joinRoom(b, "general")
	expectChange(a, "lobby", protocol.EventJoined, "Bob")
	// Bob's network blips: his new connection arrives while the old one is open.
	b2 := dial(t, h)
	b2.send(protocol.Hello{Version: 1, Name: "Bob", Resume: &protocol.Resume{Session: b.welcome.Session, Rooms: map[string]uint64{"general": 0}}})
	w := expect[protocol.Welcome](b2)
	if w.Member.ID != b.welcome.Member.ID {
		t.Errorf("takeover gave a new member id %s, want %s", w.Member.ID, b.welcome.Member.ID)
	}
	collect[protocol.Joined](b2, 2)
	expectError(b, protocol.CodeReplaced)
	if code := expectClose(b); code != CloseReplaced {
		t.Errorf("old connection closed with %d", code)
	}
	// The room saw no leave: the next thing Alice sees from Bob is his message.
	sendText(b2, "lobby", "x", "back")
	for {
		typ, raw, err := a.next()
		if err != nil {
			t.Fatal(err)
		}
		if typ == protocol.TypePresence && strings.Contains(string(raw), "Bob") {
			t.Fatalf("takeover caused presence noise: %s", raw)
		}
		if typ == protocol.TypeMessage {
			break
		}
	}
	// A wrong session with a taken name is still name_taken.
	c := dial(t, h)
	c.send(protocol.Hello{Version: 1, Name: "Bob", Resume: &protocol.Resume{Session: "not-a-session"}})
	expectError(c, protocol.CodeNameTaken)
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

func TestRateLimit(t *testing.T) {
	h := startHost(t, chat.Config{RatePerSecond: 1, RateBurst: 3}, Config{})
	a := join(t, h, "Alice")
	for i := range 3 {
		sendText(a, "lobby", fmt.Sprint(i), "ok")
	}
	a.send(protocol.Send{Room: "lobby", ClientID: "over", Text: "too fast"})
	e := expectError(a, protocol.CodeRateLimited)
	if e.Ref != "over" {
		t.Errorf("ref %q", e.Ref)
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

func TestSlowReaderIsDroppedRoomKeepsFlowing(t *testing.T) {
	h := startHost(t, chat.Config{RatePerSecond: 1 << 20, RateBurst: 1 << 20, MaxText: 8192}, Config{QueueBytes: 64 << 10, QueueHardBytes: 256 << 10})
	a := join(t, h, "Alice")
	b := join(t, h, "Bob")
	join(t, h, "Slow") // never reads again

	// Bob reads all the time, on his own goroutine.
	seqs := make(chan uint64, 10000)
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		defer close(seqs)
		for {
			_, data, err := b.ws.ReadMessage()
			if err != nil {
				return
			}
			for _, part := range strings.Split(string(data), "\n") {
				var m protocol.Message
				if json.Unmarshal([]byte(part), &m) == nil && m.Type == protocol.TypeMessage {
					seqs <- m.Seq
				}
			}
		}
	}()
	text := strings.Repeat("z", 8000)
	for i := 0; i < 5000 && h.hub.Stats().Members == 3; i++ {
		sendText(a, "lobby", fmt.Sprint(i), text)
	}
	waitFor(t, "the slow reader to be dropped", func() bool { return h.hub.Stats().Members == 2 })
	// The room still works, and Bob got every message, in order.
	last := sendText(a, "lobby", "last", "still flowing").Seq
	for want := uint64(1); want <= last; want++ {
		if got := <-seqs; got != want {
			t.Fatalf("Bob got seq %d, want %d", got, want)
		}
	}
	b.ws.Close()
	<-readerDone
}

// MaxConns counts members: connections that have not said hello yet do
// not take a place, and a hello when the host is full gets server_full.
func TestMaxConnections(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{MaxConns: 2})
	waiting := dial(t, h) // no hello: not a member
	join(t, h, "A")
	b := join(t, h, "B")
	c := dial(t, h)
	c.send(protocol.Hello{Version: 1, Name: "C"})
	expectError(c, protocol.CodeServerFull)
	if code := expectClose(c); code != websocket.CloseTryAgainLater {
		t.Errorf("close code %d, want 1013", code)
	}
	waiting.send(protocol.Hello{Version: 1, Name: "W"})
	expectError(waiting, protocol.CodeServerFull)
	// A member leaves: its place is free again.
	b.ws.Close()
	waitFor(t, "B to leave", func() bool { return h.hub.Stats().Members == 1 })
	join(t, h, "D")
}

func TestOriginPolicy(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{AllowedOrigins: []string{"http://localhost:34115"}})
	host := strings.TrimPrefix(h.base, "http://")
	cases := []struct {
		origin string
		ok     bool
	}{
		{"", true},
		{"http://" + host, true},
		{"wails://wails", true},
		{"http://wails.localhost", true},
		{"http://localhost:34115", true},
		{"http://evil.example", false},
		{"http://" + host + ".evil.example", false},
		{"https://lanchat.attacker.test", false},
		{"null", false},
		{"file://", false},
	}
	for _, tc := range cases {
		hdr := http.Header{}
		if tc.origin != "" {
			hdr.Set("Origin", tc.origin)
		}
		ws, resp, err := dialRaw(t, h.url, hdr)
		if tc.ok {
			if err != nil {
				t.Errorf("origin %q refused: %v", tc.origin, err)
				continue
			}
			ws.Close()
			continue
		}
		if err == nil {
			ws.Close()
			t.Errorf("origin %q accepted", tc.origin)
			continue
		}
		if resp == nil || resp.StatusCode != http.StatusForbidden {
			t.Errorf("origin %q: %v, want 403", tc.origin, err)
		}
	}
}

func TestShutdownSays1001(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := join(t, h, "Alice")
	waiting := dial(t, h) // connected, no hello yet
	h.stop()
	expectError(a, protocol.CodeShuttingDown)
	if code := expectClose(a); code != websocket.CloseGoingAway {
		t.Errorf("close code %d, want 1001", code)
	}
	expectError(waiting, protocol.CodeShuttingDown)
	if code := expectClose(waiting); code != websocket.CloseGoingAway {
		t.Errorf("pre-hello close code %d, want 1001", code)
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
