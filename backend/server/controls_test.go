package server

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

const hostToken = "7f3c9a1e5b2d4f6081a3c5e7092b4d6f"

// joinAs connects with a full hello and returns after the lobby's joined.
func joinAs(t *testing.T, h *testHost, hello protocol.Hello) *client {
	t.Helper()
	c := dial(t, h)
	hello.Version = protocol.Version
	c.send(hello)
	c.welcome = expect[protocol.Welcome](c)
	expect[protocol.Joined](c)
	return c
}

// recorder reads everything a connection receives, on its own goroutine.
type recorder struct {
	frames chan string
	done   chan struct{}
}

func record(c *client) *recorder {
	r := &recorder{frames: make(chan string, 10000), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for {
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				return
			}
			for _, part := range strings.Split(string(data), "\n") {
				r.frames <- part
			}
		}
	}()
	return r
}

// until returns frames up to and including the first that contains marker.
func (r *recorder) until(t *testing.T, marker string) []string {
	t.Helper()
	var got []string
	timeout := time.After(10 * time.Second)
	for {
		select {
		case f := <-r.frames:
			got = append(got, f)
			if strings.Contains(f, marker) {
				return got
			}
		case <-timeout:
			t.Fatalf("no frame with %q; got %v", marker, got)
		}
	}
}

func TestGuestCannotUseHostControls(t *testing.T) {
	h := startHost(t, chat.Config{HostToken: hostToken}, Config{})
	host := joinAs(t, h, protocol.Hello{Name: "Teacher", HostToken: hostToken})
	if host.welcome.Member.Role != protocol.RoleHost {
		t.Fatalf("host role: %+v", host.welcome.Member)
	}
	guest := joinAs(t, h, protocol.Hello{Name: "Student", HostToken: "guessed-wrong"})
	if guest.welcome.Member.Role != "" {
		t.Fatalf("a wrong token gave role %q", guest.welcome.Member.Role)
	}
	other := join(t, h, "Other")
	sendText(host, "lobby", "h1", "welcome everyone")
	before := h.hub.Stats()

	actions := []protocol.Control{
		{Action: protocol.ActionCreateRoom, Name: "mine"},
		{Action: protocol.ActionRenameRoom, Room: "general", Name: "taken"},
		{Action: protocol.ActionCloseRoom, Room: "general"},
		{Action: protocol.ActionLock, Room: "lobby", Flag: true},
		{Action: protocol.ActionSlowMode, Room: "lobby", Seconds: 60},
		{Action: protocol.ActionMute, Member: other.welcome.Member.ID, Flag: true},
		{Action: protocol.ActionKick, Member: other.welcome.Member.ID},
		{Action: protocol.ActionBan, Member: other.welcome.Member.ID},
		{Action: protocol.ActionDelete, Room: "lobby", Seq: 1},
		{Action: protocol.ActionCohost, Member: guest.welcome.Member.ID, Flag: true},
		{Action: protocol.ActionSetJoinCode, Name: "1234"},
	}
	for _, a := range actions {
		guest.send(a)
		e := expectError(guest, protocol.CodeForbidden)
		if e.Ref != a.Action {
			t.Errorf("%s: ref %q", a.Action, e.Ref)
		}
	}
	// Nothing changed: same rooms, flags and members; Other can still post;
	// the host's message is intact; no join code.
	after := h.hub.Stats()
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("state changed:\n%v\n%v", before, after)
	}
	sendText(other, "lobby", "o1", "still allowed")
	j := joinRoom(join(t, h, "Late"), "lobby")
	if j.History[0].Text != "welcome everyone" || j.History[0].Deleted {
		t.Errorf("history %+v", j.History[0])
	}
	if h.hub.JoinCodeRequired() {
		t.Error("a guest set a join code")
	}
}

func TestHostControls(t *testing.T) {
	h := startHost(t, chat.Config{HostToken: hostToken}, Config{})
	host := joinAs(t, h, protocol.Hello{Name: "Teacher", HostToken: hostToken})
	s1 := joinAs(t, h, protocol.Hello{Name: "Ana", Device: "dev-ana"})
	s2 := joinAs(t, h, protocol.Hello{Name: "Bruno", Device: "dev-bruno"})

	// An announcements room: the host posts, students read but cannot post.
	host.send(protocol.Control{Action: protocol.ActionCreateRoom, Name: "Avisos", Flag: true})
	expect[protocol.Joined](host)
	joinRoom(s1, "avisos")
	sendText(host, "avisos", "a1", "prova amanhã")
	if m := expect[protocol.Message](s1); m.Text != "prova amanhã" {
		t.Errorf("got %+v", m)
	}
	s1.send(protocol.Send{Room: "avisos", ClientID: "s1", Text: "e eu?"})
	expectError(s1, protocol.CodeRoomLocked)

	// Lock and unlock a room.
	joinRoom(s1, "general")
	joinRoom(host, "general")
	host.send(protocol.Control{Action: protocol.ActionLock, Room: "general", Flag: true})
	for r := expect[protocol.Rooms](s1); !r.Rooms[1].Locked; r = expect[protocol.Rooms](s1) {
	}
	s1.send(protocol.Send{Room: "general", ClientID: "g1", Text: "hi"})
	expectError(s1, protocol.CodeRoomLocked)
	host.send(protocol.Control{Action: protocol.ActionLock, Room: "general", Flag: false})
	for r := expect[protocol.Rooms](s1); r.Rooms[1].Locked; r = expect[protocol.Rooms](s1) {
	}
	sendText(s1, "general", "g2", "hi again")

	// Slow mode: one message per 60 s for students, not for the host.
	host.send(protocol.Control{Action: protocol.ActionSlowMode, Room: "general", Seconds: 60})
	for r := expect[protocol.Rooms](s1); r.Rooms[1].SlowSeconds != 60; r = expect[protocol.Rooms](s1) {
	}
	s1.send(protocol.Send{Room: "general", ClientID: "g3", Text: "again"})
	expectError(s1, protocol.CodeSlowMode)
	sendText(host, "general", "h2", "one")
	sendText(host, "general", "h3", "two")

	// Mute follows the member across a reconnect on the same device.
	host.send(protocol.Control{Action: protocol.ActionMute, Member: s2.welcome.Member.ID, Flag: true})
	if u := expect[protocol.MemberUpdate](s2); !u.Member.Muted {
		t.Errorf("member update %+v", u)
	}
	s2.send(protocol.Send{Room: "lobby", ClientID: "m1", Text: "let me talk"})
	expectError(s2, protocol.CodeMuted)
	s2.ws.Close()
	waitFor(t, "Bruno to leave", func() bool { return h.hub.Stats().Members == 2 })
	s2 = joinAs(t, h, protocol.Hello{Name: "Bruno", Device: "dev-bruno"})
	if !s2.welcome.Member.Muted {
		t.Error("reconnecting unmuted Bruno")
	}
	host.send(protocol.Control{Action: protocol.ActionMute, Member: s2.welcome.Member.ID, Flag: false})
	expect[protocol.MemberUpdate](s2)
	sendText(s2, "lobby", "m2", "thanks")

	// Delete: everyone sees the tombstone and history keeps it deleted.
	ack := sendText(s2, "lobby", "m3", "something rude")
	host.send(protocol.Control{Action: protocol.ActionDelete, Room: "lobby", Seq: ack.Seq})
	d := expect[protocol.Deleted](s1)
	if d.Seq != ack.Seq || d.Room != "lobby" || d.By.Name != "Teacher" {
		t.Errorf("deleted %+v", d)
	}
	late := join(t, h, "Late")
	j := joinRoom(late, "lobby")
	lastMsg := j.History[len(j.History)-1]
	if lastMsg.Seq != ack.Seq || !lastMsg.Deleted || lastMsg.Text != "" {
		t.Errorf("history keeps %+v", lastMsg)
	}
	expect[protocol.Deleted](host)
	host.send(protocol.Control{Action: protocol.ActionDelete, Room: "lobby", Seq: 999})
	expectError(host, protocol.CodeNoSuchMessage)

	// Rename and close.
	host.send(protocol.Control{Action: protocol.ActionRenameRoom, Room: "general", Name: "Geral"})
	if r := expect[protocol.Renamed](s1); r.Room != "general" || r.Name != "Geral" {
		t.Errorf("renamed %+v", r)
	}
	expect[protocol.Renamed](host)
	sendText(host, "geral", "h4", "same room, new name")
	if m := expect[protocol.Message](s1); m.Room != "Geral" {
		t.Errorf("message room %q", m.Room)
	}
	host.send(protocol.Control{Action: protocol.ActionCloseRoom, Room: "Geral"})
	if c := expect[protocol.Closed](s1); c.Room != "Geral" {
		t.Errorf("closed %+v", c)
	}
	expect[protocol.Closed](host)
	s1.send(protocol.Join{Room: "geral"})
	expectError(s1, protocol.CodeNoSuchRoom)
	for _, bad := range []protocol.Control{
		{Action: protocol.ActionCloseRoom, Room: "lobby"},
		{Action: protocol.ActionRenameRoom, Room: "lobby", Name: "hall"},
	} {
		host.send(bad)
		expectError(host, protocol.CodeForbidden)
	}
	host.send(protocol.Control{Action: "launch"})
	expectError(host, protocol.CodeBadControl)

	// Kick: gone with 4001, may come back.
	host.send(protocol.Control{Action: protocol.ActionKick, Member: s2.welcome.Member.ID})
	expectError(s2, protocol.CodeKicked)
	if code := expectClose(s2); code != CloseKicked {
		t.Errorf("kick close code %d", code)
	}
	// The client sees the close before the hub has let the name go.
	waitFor(t, "kicked Bruno to leave", func() bool { return h.hub.Stats().Members == 3 })
	s2 = joinAs(t, h, protocol.Hello{Name: "Bruno", Device: "dev-bruno"})

	// Ban: by name on that device, and by device under any name.
	host.send(protocol.Control{Action: protocol.ActionBan, Member: s2.welcome.Member.ID})
	expectError(s2, protocol.CodeBanned)
	if code := expectClose(s2); code != CloseBanned {
		t.Errorf("ban close code %d", code)
	}
	for _, hello := range []protocol.Hello{
		{Version: 1, Name: "Bruno", Device: "dev-bruno"},
		{Version: 1, Name: "Not Bruno", Device: "dev-bruno"},
	} {
		c := dial(t, h)
		c.send(hello)
		expectError(c, protocol.CodeBanned)
	}
	waitFor(t, "banned Bruno to leave", func() bool { return h.hub.Stats().Members == 3 })
	joinAs(t, h, protocol.Hello{Name: "Bruno", Device: "another-laptop"})

	// Co-host: can moderate, cannot name co-hosts or moderate the host.
	host.send(protocol.Control{Action: protocol.ActionCohost, Member: s1.welcome.Member.ID, Flag: true})
	if u := expect[protocol.MemberUpdate](s1); u.Member.Role != protocol.RoleCohost {
		t.Errorf("cohost update %+v", u)
	}
	s1.send(protocol.Control{Action: protocol.ActionLock, Room: "random", Flag: true})
	for r := expect[protocol.Rooms](s1); !r.Rooms[2].Locked; r = expect[protocol.Rooms](s1) {
	}
	s1.send(protocol.Control{Action: protocol.ActionCohost, Member: late.welcome.Member.ID, Flag: true})
	expectError(s1, protocol.CodeForbidden)
	s1.send(protocol.Control{Action: protocol.ActionMute, Member: host.welcome.Member.ID, Flag: true})
	expectError(s1, protocol.CodeForbidden)
}

func TestPrivateMessages(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{})
	a := joinAs(t, h, protocol.Hello{Name: "Ana", Device: "dev-a"})
	b := joinAs(t, h, protocol.Hello{Name: "Bruno", Device: "dev-b"})
	c := joinAs(t, h, protocol.Hello{Name: "Caio", Device: "dev-c"})
	a.send(protocol.DM{Member: b.welcome.Member.ID})
	ja := expect[protocol.Joined](a)
	jb := expect[protocol.Joined](b)
	if !strings.HasPrefix(ja.Room, "@") || ja.Room != jb.Room || names(ja.Members) != "Bruno,Ana" {
		t.Fatalf("joined %+v / %+v", ja, jb)
	}
	room := ja.Room
	ack := sendText(a, room, "p1", "só entre nós")
	if ack.Seq != 1 {
		t.Errorf("ack %+v", ack)
	}
	if m := expect[protocol.Message](b); m.Text != "só entre nós" {
		t.Errorf("got %+v", m)
	}
	// Private rooms are not listed, and others cannot join or post there.
	for _, r := range h.hub.Stats().Rooms {
		if strings.HasPrefix(r.Name, "@") {
			t.Errorf("private room listed: %+v", r)
		}
	}
	c.send(protocol.Join{Room: room})
	expectError(c, protocol.CodeNoSuchRoom)
	c.send(protocol.Send{Room: room, ClientID: "x", Text: "hi"})
	expectError(c, protocol.CodeNoSuchRoom)
	c.send(protocol.DM{Member: "m-nobody"})
	expectError(c, protocol.CodeNoSuchMember)
	// Resume across a reconnect: exactly the missed messages, deduped by client_id.
	session := b.welcome.Session
	b.ws.Close()
	waitFor(t, "Bruno to leave", func() bool { return h.hub.Stats().Members == 2 })
	sendText(a, room, "p2", "are you there?")
	b2 := dial(t, h)
	b2.send(protocol.Hello{Version: 1, Name: "Bruno", Device: "dev-b", Resume: &protocol.Resume{Session: session, Rooms: map[string]uint64{room: 1}}})
	expect[protocol.Welcome](b2)
	var got protocol.Joined
	for got.Room != room {
		got = expect[protocol.Joined](b2)
	}
	if len(got.History) != 1 || got.History[0].Text != "are you there?" {
		t.Errorf("resumed %+v", got.History)
	}
	if again := sendText(a, room, "p2", "are you there?"); again.Seq != 2 {
		t.Errorf("resend ack %+v", again)
	}
	// Someone else with Bruno's name on another device cannot read it.
	b2.ws.Close()
	waitFor(t, "Bruno to leave", func() bool { return h.hub.Stats().Members == 2 })
	imp := dial(t, h)
	imp.send(protocol.Hello{Version: 1, Name: "Bruno", Device: "dev-impostor", Resume: &protocol.Resume{Rooms: map[string]uint64{room: 0}}})
	if w := expect[protocol.Welcome](imp); !slices.Equal(w.GoneRooms, []string{room}) {
		t.Errorf("the impostor's welcome lists %q as gone, want [%s]", w.GoneRooms, room)
	}
	if j := expect[protocol.Joined](imp); j.Room != "lobby" {
		t.Errorf("the impostor joined %s", j.Room)
	}
}

func TestJoinCodeThrottled(t *testing.T) {
	// A fake clock the test moves while the server's goroutines read it.
	var mu sync.Mutex
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		return now
	}
	h := startHost(t, chat.Config{HostToken: hostToken, JoinCode: "AULA42", Now: clock}, Config{})
	try := func(hello protocol.Hello) *client {
		c := dial(t, h)
		hello.Version = 1
		c.send(hello)
		return c
	}
	expectError(try(protocol.Hello{Name: "Ana"}), protocol.CodeJoinCodeRequired)
	for i := range 5 {
		expectError(try(protocol.Hello{Name: "Ana", JoinCode: fmt.Sprint("guess", i)}), protocol.CodeJoinCodeWrong)
	}
	// Throttled now, even with the right code.
	expectError(try(protocol.Hello{Name: "Ana", JoinCode: "AULA42"}), protocol.CodeJoinCodeThrottled)
	// The host's own app is never throttled and needs no code.
	c := try(protocol.Hello{Name: "Teacher", HostToken: hostToken})
	expect[protocol.Welcome](c)
	// A minute later the right code (in any case) works.
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	c = try(protocol.Hello{Name: "Ana", JoinCode: "aula42"})
	if w := expect[protocol.Welcome](c); !w.Limits.JoinCode {
		t.Errorf("welcome does not say a code is needed: %+v", w.Limits)
	}
	// The host changes the code; the old one stops working.
	if p := h.hub.SetJoinCode("x"); p == nil {
		t.Error("a one-letter code was accepted")
	}
	if p := h.hub.SetJoinCode("NOVO77"); p != nil {
		t.Fatal(p)
	}
	expectError(try(protocol.Hello{Name: "Bia", JoinCode: "AULA42"}), protocol.CodeJoinCodeWrong)
	expect[protocol.Welcome](try(protocol.Hello{Name: "Bia", JoinCode: "novo77"}))
}

// TestHostTokenNeverSent: everything a guest receives during a session
// with every kind of host action contains no trace of the host token.
func TestHostTokenNeverSent(t *testing.T) {
	h := startHost(t, chat.Config{HostToken: hostToken}, Config{})
	guest := joinAs(t, h, protocol.Hello{Name: "Guest", Device: "dev-g"})
	rec := record(guest)
	host := joinAs(t, h, protocol.Hello{Name: "Teacher", HostToken: hostToken})
	host.send(protocol.Control{Action: protocol.ActionCreateRoom, Name: "avisos", Flag: true})
	expect[protocol.Joined](host)
	sendText(host, "lobby", "t1", "hello class")
	host.send(protocol.Control{Action: protocol.ActionMute, Member: guest.welcome.Member.ID, Flag: true})
	host.send(protocol.DM{Member: guest.welcome.Member.ID})
	expect[protocol.Joined](host)
	host.send(protocol.Typing{Room: "lobby"})
	sendText(host, "lobby", "t2", "done")
	frames := rec.until(t, `"text":"done"`)
	if len(frames) < 5 {
		t.Fatalf("guest saw only %v", frames)
	}
	for _, f := range frames {
		if strings.Contains(f, hostToken) || strings.Contains(f, hostToken[:12]) {
			t.Errorf("frame to a guest carries the host token: %s", f)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(f), &v); err != nil {
			t.Errorf("invalid frame %s", f)
		}
	}
	guest.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	<-rec.done
}
