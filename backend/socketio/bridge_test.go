package socketio

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// changes builds presence changes from "event:Name" pairs; a member's id
// is its name in lower case.
func changes(specs ...string) []protocol.PresenceChange {
	var out []protocol.PresenceChange
	for _, s := range specs {
		event, name, _ := strings.Cut(s, ":")
		out = append(out, protocol.PresenceChange{Event: event, Member: protocol.Member{ID: strings.ToLower(name), Name: name}})
	}
	return out
}

func many(event string, n int) []string {
	names := []string{"Ana", "Bruno", "Carla", "Dani", "Eva"}
	var out []string
	for i := range n {
		name := fmt.Sprint("Aluno", i)
		if i < len(names) {
			name = names[i]
		}
		out = append(out, event+":"+name)
	}
	return out
}

func TestPresenceNotices(t *testing.T) {
	const j, l, d = protocol.EventJoined, protocol.EventLeft, protocol.EventDisconnected
	tests := []struct {
		room    string
		changes []string
		want    []string
	}{
		// One change: the course server's words.
		{"general", []string{"joined:Bob"}, []string{"Bob entrou na sala general."}},
		{"general", []string{"left:Bob"}, []string{"Bob saiu da sala general."}},
		{"general", []string{"disconnected:Bob"}, []string{"Bob desconectou."}},
		{"lobby", []string{"joined:Bob"}, []string{"Bob entrou no Lobby."}},
		{"lobby", []string{"left:Bob"}, []string{"Bob saiu do Lobby."}},
		{"lobby", []string{"disconnected:Bob"}, []string{"Bob desconectou."}},
		{"general", []string{"removed:Bob"}, []string{"Bob foi removido pelo anfitrião."}},
		{"general", []string{"removed:Bob", "removed:Eva", "disconnected:Ana"}, []string{"Bob e Eva foram removidos pelo anfitrião.", "Ana desconectou."}},
		// Many of one kind: one line.
		{"general", many(j, 2), []string{"Ana e Bruno entraram na sala general."}},
		{"general", many(j, 3), []string{"Ana, Bruno e Carla entraram na sala general."}},
		{"general", many(j, 4), []string{"Ana, Bruno e mais 2 entraram na sala general."}},
		{"general", many(j, 25), []string{"Ana, Bruno e mais 23 entraram na sala general."}},
		{"general", many(l, 3), []string{"Ana, Bruno e Carla saíram da sala general."}},
		{"general", many(l, 2), []string{"Ana e Bruno saíram da sala general."}},
		{"general", many(d, 2), []string{"Ana e Bruno desconectaram."}},
		{"general", many(d, 30), []string{"Ana, Bruno e mais 28 desconectaram."}},
		{"lobby", many(j, 200), []string{"Ana, Bruno e mais 198 entraram no Lobby."}},
		{"lobby", many(l, 5), []string{"Ana, Bruno e mais 3 saíram do Lobby."}},
		// Mixed kinds: one line per kind, in the order of first appearance.
		{"general", []string{"joined:Ana", "left:Bruno", "joined:Carla", "disconnected:Dani", "left:Eva"}, []string{
			"Ana e Carla entraram na sala general.", "Bruno e Eva saíram da sala general.", "Dani desconectou.",
		}},
		{"general", []string{"disconnected:Ana", "joined:Bruno"}, []string{"Ana desconectou.", "Bruno entrou na sala general."}},
		{"lobby", append(many(d, 6), "joined:Zé"), []string{"Ana, Bruno e mais 4 desconectaram.", "Zé entrou no Lobby."}},
		{"general", nil, []string{}},
	}
	for _, tt := range tests {
		got := presenceNotices(protocol.Presence{Room: tt.room, Changes: changes(tt.changes...)})
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s %v:\n got %q\nwant %q", tt.room, tt.changes, got, tt.want)
		}
	}
}

// TestOwnPresenceLeftOut: the hub's presence frames may carry the client's
// own change (it joins the room it is in); the client hears of its own
// moves from the bridge, so it is left out, and a frame about it alone
// sends nothing.
func TestOwnPresenceLeftOut(t *testing.T) {
	hub, err := chat.NewHub(chat.Config{HostID: "h", HostName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	srv := New(Config{Hub: hub})
	defer srv.cancel()
	ss := newSession(srv, "sid", transportPolling)
	s := ss.sock
	s.Send(chat.NewOut(protocol.Welcome{Member: protocol.Member{ID: "ana", Name: "Ana"}}))
	s.setCurrent("general")

	shared := chat.NewOut(protocol.Presence{Room: "general", Changes: changes("joined:Bruno", "joined:Ana", "joined:Carla")})
	tests := []struct {
		o    *chat.Out
		want []string
	}{
		{shared, []string{"Bruno e Carla entraram na sala general."}},
		{chat.NewOut(protocol.Presence{Room: "general", Changes: changes("joined:Ana")}), nil},
		{chat.NewOut(protocol.Presence{Room: "general", Changes: changes("joined:Ana", "left:Bruno")}), []string{"Bruno saiu da sala general."}},
		{chat.NewOut(protocol.Presence{Room: "random", Changes: changes("joined:Dani")}), nil}, // not the current room
		{chat.NewOut(protocol.Presence{Room: "General", Changes: changes("disconnected:Eva")}), []string{"Eva desconectou."}},
	}
	for i, tt := range tests {
		s.Send(tt.o)
		var got []string
		for _, it := range ss.queue.Take(nil, 1<<20) {
			for _, pkt := range s.translate(it.out, it.private) {
				got = append(got, string(pkt))
			}
		}
		var want []string
		for _, line := range tt.want {
			want = append(want, string(eventPacket("message", line)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("case %d: packets %q, want %q", i, got, want)
		}
	}
	// The shared frame was not changed for the other clients.
	if p := shared.Frame.(protocol.Presence); len(p.Changes) != 3 {
		t.Errorf("the shared frame lost changes: %+v", p.Changes)
	}
}

// TestQueuedPresenceMerges: presence frames queued for a client that is
// behind merge into one, which still makes one line per kind.
func TestQueuedPresenceMerges(t *testing.T) {
	hub, err := chat.NewHub(chat.Config{HostID: "h", HostName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	srv := New(Config{Hub: hub})
	defer srv.cancel()
	ss := newSession(srv, "sid", transportPolling)
	s := ss.sock
	s.setCurrent("general")
	for _, name := range []string{"Ana", "Bruno", "Carla", "Dani"} {
		s.Send(chat.NewOut(protocol.Presence{Room: "general", Changes: changes("joined:" + name)}))
	}
	s.Send(chat.NewOut(protocol.Presence{Room: "general", Changes: changes("left:Ana")}))
	items := ss.queue.Take(nil, 1<<20)
	if len(items) != 1 || !items[0].private {
		t.Fatalf("queued %d items: %+v", len(items), items)
	}
	var got []string
	for _, pkt := range s.translate(items[0].out, items[0].private) {
		got = append(got, string(pkt))
	}
	want := []string{
		string(eventPacket("message", "Bruno, Carla e Dani entraram na sala general.")),
		string(eventPacket("message", "Ana saiu da sala general.")),
	}
	if !slices.Equal(got, want) {
		t.Errorf("packets %q, want %q", got, want)
	}
}

// TestFilesAsLines: the course page sees a message with files as its text
// and a line per file with a download link that carries this member's
// files key, on the address the page reached the host by.
func TestFilesAsLines(t *testing.T) {
	hub, err := chat.NewHub(chat.Config{HostID: "h", HostName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	srv := New(Config{Hub: hub})
	defer srv.cancel()
	lines := func(key string, m protocol.Message) []string {
		ss := newSession(srv, "sid-"+key, transportPolling)
		ss.origin = "http://10.0.0.5:47800"
		s := ss.sock
		s.Send(chat.NewOut(protocol.Welcome{Member: protocol.Member{ID: key, Name: key}, FilesKey: "key-" + key}))
		s.setCurrent("general")
		s.Send(chat.NewOut(m))
		var got []string
		for _, it := range ss.queue.Take(nil, 1<<20) {
			for _, pkt := range s.translate(it.out, it.private) {
				got = append(got, string(pkt))
			}
		}
		return got
	}
	id := strings.Repeat("ab", 32)
	m := protocol.Message{Room: "general", Seq: 11, From: protocol.Member{Name: "Ana"}, Text: "a lista",
		Attachments: []protocol.Attachment{{ID: id, Name: "lista 3.pdf", Size: 482113, Type: "application/pdf"}, {ID: id, Name: "quadro.jpg", Size: 2315220}}}
	for _, who := range []string{"bruno", "carla"} {
		want := []string{
			string(eventPacket("message", "Ana: a lista")),
			string(eventPacket("message", "Ana enviou o arquivo lista 3.pdf (471 KB): http://10.0.0.5:47800/files/"+id+"?download=1&key=key-"+who+"&room=general&seq=11")),
			string(eventPacket("message", "Ana enviou o arquivo quadro.jpg (2,2 MB): http://10.0.0.5:47800/files/"+id+"?download=1&key=key-"+who+"&room=general&seq=11")),
		}
		if got := lines(who, m); !slices.Equal(got, want) {
			t.Errorf("%s sees %q\nwant %q", who, got, want)
		}
	}
	m.Text = ""
	if got := lines("dani", m); len(got) != 2 {
		t.Errorf("a message of files alone: %q", got)
	}
}

// TestCourseLines: an announcement reaches the course page whatever room it
// is in, as a Portuguese line; a pin of its room is a line too, another
// room's is not. Replies, polls, a poll's result and edits are lines in its
// Portuguese; reactions and votes are not shown at all.
func TestCourseLines(t *testing.T) {
	hub, err := chat.NewHub(chat.Config{HostID: "h", HostName: "test"})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	srv := New(Config{Hub: hub})
	defer srv.cancel()
	ss := newSession(srv, "sid", transportPolling)
	s := ss.sock
	s.Send(chat.NewOut(protocol.Welcome{Member: protocol.Member{ID: "ana", Name: "Ana"}}))
	s.setCurrent("general")
	one := 1
	teacher := protocol.Member{ID: "m-p", Name: "Prof. Ana", Role: protocol.RoleHost}
	pin := protocol.Message{Room: "general", Seq: 3, From: teacher, Text: "prova na sexta"}
	ana, prof := protocol.Member{ID: "a", Name: "Ana"}, protocol.Member{ID: "p", Name: "Prof"}
	tests := []struct {
		f    protocol.Frame
		want []string
	}{
		{protocol.Announcement{ID: "a1", From: teacher, Text: "intervalo de 10 minutos"}, []string{"📢 Aviso de Prof. Ana: intervalo de 10 minutos"}},
		{protocol.Pinned{Room: "General", Message: &pin, By: &teacher}, []string{"📌 Mensagem fixada: Prof. Ana: prova na sexta"}},
		{protocol.Pinned{Room: "random", Message: &pin, By: &teacher}, nil},
		{protocol.Pinned{Room: "general"}, []string{"A mensagem fixada nesta sala foi removida."}},
		{protocol.Message{Type: protocol.TypeMessage, Room: "general", From: ana, Text: "eu tenho", ReplyTo: 3, ReplyFrom: &prof}, []string{"Ana (em resposta a Prof): eu tenho"}},
		{protocol.Message{Type: protocol.TypePoll, Room: "general", From: prof, Text: "Prova na sexta?", Options: []string{"sim", "não"}},
			[]string{"Prof abriu uma enquete: Prova na sexta? — 1) sim; 2) não (vote no app do lanchat)"}},
		{protocol.Message{Type: protocol.TypeReaction, Room: "general", From: ana, Target: 3, Emoji: "👍"}, nil},
		{protocol.Message{Type: protocol.TypeVote, Room: "general", From: ana, Target: 4, Option: &one}, nil},
		{protocol.Message{Type: protocol.TypePollClosed, Room: "general", From: prof, Target: 4, Counts: []int{1, 0}}, []string{"Prof encerrou a enquete. Resultado: 1) 1 voto; 2) 0 votos"}},
		{protocol.Message{Type: protocol.TypeEdited, Room: "general", From: ana, Target: 5, Text: "eu tenho, sim"}, []string{"Ana corrigiu uma mensagem: eu tenho, sim"}},
	}
	for i, tt := range tests {
		s.Send(chat.NewOut(tt.f))
		var got []string
		for _, it := range ss.queue.Take(nil, 1<<20) {
			for _, pkt := range s.translate(it.out, it.private) {
				got = append(got, string(pkt))
			}
		}
		var want []string
		for _, line := range tt.want {
			want = append(want, string(eventPacket("message", line)))
		}
		if !slices.Equal(got, want) {
			t.Errorf("case %d: packets %q, want %q", i, got, want)
		}
	}
}
