package server

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

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
