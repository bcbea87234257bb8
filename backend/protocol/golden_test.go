package protocol

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the examples in docs/protocol.md from the code")

const docPath = "../../docs/protocol.md"

func u64(v uint64) *uint64 { return &v }

var alice = Member{ID: "m-3f2a9c1b7d4e", Name: "Alice"}
var bob = Member{ID: "m-8c01d2e3f4a5", Name: "Bob"}
var teacher = Member{ID: "m-0a1b2c3d4e5f", Name: "Teacher", Role: RoleHost}

// examples are the frames shown in docs/protocol.md, by the label of their block.
var examples = map[string]Frame{
	"hello": Hello{Version: 1, Name: "Alice", Device: "d-5b1e0c9a",
		Resume: &Resume{Session: "9b2f4c8e1a7d3f60b5e2c4a8d1f3e7b9", Rooms: map[string]uint64{"lobby": 41, "general": 7, "robotics": 3}}},
	"welcome": Welcome{Version: 1, Host: HostInfo{ID: "bec7a456eb2fe88e", Name: "lab-pc-3"}, Member: alice,
		Session: "9b2f4c8e1a7d3f60b5e2c4a8d1f3e7b9",
		Limits:  Limits{MaxText: 4096, MaxFrame: 65536, RatePerSecond: 10, RateBurst: 20, History: 100, TypingMillis: 2000, PingSeconds: 20, FullList: 1000, MaxFile: 104857600, Uploads: UploadsEveryone, Search: true, EditSeconds: 900, Polls: PollsHosts},
		Rooms:   []RoomInfo{{Name: "lobby", Members: 2}, {Name: "general", Members: 1}, {Name: "projects"}, {Name: "random"}},
		Epoch:   "6f1d0c3b9a2e4857", GoneRooms: []string{"robotics"}, Boxes: []string{"http://10.0.0.2:47800/"}, FilesKey: "4be1f0c29d7a3e58b6c0d2f4a1e3c5b7"},
	"join":  Join{Room: "general", Since: u64(7)},
	"leave": Leave{Room: "general"},
	"joined": Joined{Room: "general", LastSeq: 9, Epoch: "6f1d0c3b9a2e4857", Members: []Member{bob, alice}, Count: 2,
		History: []Message{{Type: TypeMessage, Room: "general", Seq: 8, ID: "5d1c9e2a7b3f4c60", From: bob, Text: "who has the slides?", TS: 1764067200000, ClientID: "c-71ad"},
			{Type: TypeMessage, Room: "general", Seq: 9, ID: "a2b4c6d8e0f13579", From: bob, Text: "found them", TS: 1764067215000, ClientID: "c-71ae"}}},
	"left":         Left{Room: "general"},
	"send":         Send{Room: "general", ClientID: "c-0193a7f2", Text: "hi everyone"},
	"ack":          Ack{ClientID: "c-0193a7f2", Room: "general", Seq: 10, ID: "e4f5a6b7c8d9e0f1", TS: 1764067230000},
	"message":      Message{Room: "general", Seq: 10, ID: "e4f5a6b7c8d9e0f1", From: alice, Text: "hi everyone", TS: 1764067230000, ClientID: "c-0193a7f2"},
	"typing":       Typing{Room: "general"},
	"typing-relay": Typing{Room: "general", From: &alice},
	"presence": Presence{Room: "general", TS: 1764067201000, Changes: []PresenceChange{
		{Event: EventJoined, Member: alice}, {Event: EventLeft, Member: Member{ID: "m-77e0c2a9b5d1", Name: "Carla"}}}, Count: 14},
	"members": MembersQuery{Room: "lobby", Query: "ana", Limit: 20},
	"members-list": MembersList{Room: "lobby", Query: "ana", Count: 2412, Partial: true, Members: []Member{
		{ID: "m-5e6f7a8b9c0d", Name: "Ana Lima"}, {ID: "m-1a2b3c4d5e6f", Name: "Mariana"}}},
	"rooms":       Rooms{Rooms: []RoomInfo{{Name: "lobby", Members: 3}, {Name: "general", Members: 2}, {Name: "projects"}, {Name: "random"}}},
	"create_room": CreateRoom{Room: "robotics"},
	"control":     Control{Action: ActionMute, Member: "m-8c01d2e3f4a5", Flag: true},
	"dm":          DM{Member: "m-8c01d2e3f4a5"},
	"deleted":     Deleted{Room: "general", Seq: 9, ID: "a2b4c6d8e0f13579", By: Member{ID: "m-0a1b2c3d4e5f", Name: "Teacher", Role: RoleHost}},
	"renamed":     Renamed{Room: "projects", Name: "Robotics"},
	"closed":      Closed{Room: "random"},
	"member":      MemberUpdate{Member: Member{ID: "m-8c01d2e3f4a5", Name: "Bob", Muted: true}},
	"host":        HostUpdate{Host: HostInfo{ID: "bec7a456eb2fe88e", Name: "Sala da Prof. Ana"}},
	"error":       Error{Code: CodeNoSuchRoom, Message: `there is no room called "sala9"`, Ref: "sala9"},
	"send-files":  Send{Room: "general", ClientID: "c-0193a7f3", Text: "the handout and the board", Attachments: []string{"0f5a2c7e91b34d68a1c0e2f4b6d8a9c1", "7d3e9b1a0c2f4e6d8b5a7c9e1f3d5b70"}},
	"message-files": Message{Room: "general", Seq: 11, ID: "f0e1d2c3b4a59687", From: alice, Text: "the handout and the board", TS: 1764067240000, ClientID: "c-0193a7f3",
		Attachments: []Attachment{
			{ID: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", Name: "lista 3.pdf", Size: 482113, Type: "application/octet-stream"},
			{ID: "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752", Name: "quadro.jpg", Size: 2315220, Type: "image/jpeg", Width: 3024, Height: 4032,
				Thumb: "fd61a03af4f77d870fc21e05e7e80678095c92d808cfb3b5c279ee04c74aca13"}}},
	"control-pin":      Control{Action: ActionPin, Room: "lobby", Seq: 12, Flag: true},
	"control-announce": Control{Action: ActionAnnounce, Text: "Prova na sexta: tragam calculadora"},
	"pinned": Pinned{Room: "lobby", By: &teacher, Message: &Message{Type: TypeMessage, Room: "lobby", Seq: 12, ID: "c3d4e5f6a7b8c9d0", From: teacher,
		Text: "Prova na sexta: tragam calculadora", TS: 1764067300000, ClientID: "c-0193a801"}},
	"announcement": Announcement{ID: "7e1f2a3b4c5d6e7f", From: teacher, Text: "Intervalo de 10 minutos", TS: 1764067320000},
	"limits": LimitsUpdate{Limits: Limits{MaxText: 4096, MaxFrame: 65536, RatePerSecond: 10, RateBurst: 20, History: 100, TypingMillis: 2000, PingSeconds: 20, FullList: 1000,
		MaxFile: 104857600, Uploads: UploadsHosts, Search: true, EditSeconds: 900, Polls: PollsEveryone}},
	"search": Search{Query: "avaliacao prova"},
	"search_results": SearchResults{Query: "avaliacao prova", Results: []SearchHit{
		{Room: "general", Seq: 42, ID: "c3d4e5f6a7b8c9d0", From: bob, TS: 1764153000000, Snippet: []SnippetPart{
			{Text: "a "}, {Text: "Prova", Match: true}, {Text: " de sexta vale como "}, {Text: "avaliação", Match: true}, {Text: " final"}}},
		{Room: "@5e6f7a8b9c0d-8c01d2e3f4a5", Seq: 3, ID: "0a1b2c3d4e5f6071", From: alice, TS: 1764067300000, Snippet: []SnippetPart{
			{Text: "… e depois da "}, {Text: "provas", Match: true}, {Text: ", a "}, {Text: "avaliação", Match: true}, {Text: " dos projetos …"}}}}},
	"history": HistoryQuery{Room: "general", Before: 40, Limit: 20},
	"history-answer": History{Room: "general", Before: 10, FirstKept: 8, Messages: []Message{
		{Type: TypeMessage, Room: "general", Seq: 8, ID: "5d1c9e2a7b3f4c60", From: bob, Text: "who has the slides?", TS: 1764067200000, ClientID: "c-71ad"},
		{Type: TypeMessage, Room: "general", Seq: 9, ID: "a2b4c6d8e0f13579", From: bob, Text: "found them", TS: 1764067215000, ClientID: "c-71ae"}}},
}

func intp(v int) *int { return &v }

func init() {
	for k, v := range map[string]Frame{
		"send-reply": Send{Room: "general", ClientID: "c-0193a7f4", Text: "I have them", ReplyTo: 8},
		"message-reply": Message{Room: "general", Seq: 12, ID: "0c1d2e3f4a5b6c7d", From: alice, Text: "I have them", TS: 1764067250000, ClientID: "c-0193a7f4",
			ReplyTo: 8, ReplyFrom: &Member{ID: bob.ID, Name: bob.Name}},
		"react":    React{Room: "general", ClientID: "c-0193a7f5", Target: 12, Emoji: "👍"},
		"reaction": Message{Type: TypeReaction, Room: "general", Seq: 13, ID: "1d2e3f4a5b6c7d8e", From: bob, TS: 1764067255000, ClientID: "c-9a01", Target: 12, Emoji: "👍"},
		"edit":     Edit{Room: "general", ClientID: "c-0193a7f6", Target: 12, Text: "I have them, on the shelf"},
		"edited": Message{Type: TypeEdited, Room: "general", Seq: 14, ID: "2e3f4a5b6c7d8e9f", From: alice, Text: "I have them, on the shelf", TS: 1764067260000,
			ClientID: "c-0193a7f6", Target: 12},
		"poll": Poll{Room: "general", ClientID: "c-77a0", Text: "Test on Friday or Monday?", Options: []string{"Friday", "Monday"}},
		"poll-event": Message{Type: TypePoll, Room: "general", Seq: 15, ID: "3f4a5b6c7d8e9fa0", From: teacher, Text: "Test on Friday or Monday?", TS: 1764067270000,
			ClientID: "c-77a0", Options: []string{"Friday", "Monday"}},
		"vote":       Vote{Room: "general", ClientID: "c-0193a7f7", Target: 15, Option: 1},
		"vote-event": Message{Type: TypeVote, Room: "general", Seq: 16, ID: "4a5b6c7d8e9fa0b1", From: alice, TS: 1764067275000, ClientID: "c-0193a7f7", Target: 15, Option: intp(1)},
		"close_poll": ClosePoll{Room: "general", ClientID: "c-77a1", Target: 15},
		"poll_closed": Message{Type: TypePollClosed, Room: "general", Seq: 17, ID: "5b6c7d8e9fa0b1c2", From: teacher, TS: 1764067290000, ClientID: "c-77a1", Target: 15,
			Counts: []int{9, 14}},
	} {
		examples[k] = v
	}
}

var blockRE = regexp.MustCompile("(?s)```json frame=([a-z_-]+)\n(.*?)```")

func render(t *testing.T, f Frame) string {
	t.Helper()
	raw, err := Encode(f)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	return buf.String() + "\n"
}

// TestDocExamples keeps docs/protocol.md and the code in step: every example
// block in the doc is exactly what the code encodes for that frame, every
// example decodes back (for client frames), and every frame type and error
// code is documented.
func TestDocExamples(t *testing.T) {
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		doc = blockRE.ReplaceAllFunc(doc, func(b []byte) []byte {
			label := blockRE.FindSubmatch(b)[1]
			f, ok := examples[string(label)]
			if !ok {
				return b
			}
			return []byte("```json frame=" + string(label) + "\n" + render(t, f) + "```")
		})
		if err := os.WriteFile(docPath, doc, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, m := range blockRE.FindAllSubmatch(doc, -1) {
		label, body := string(m[1]), string(m[2])
		f, ok := examples[label]
		if !ok {
			t.Errorf("doc has an example %q that the code does not know", label)
			continue
		}
		seen[label] = true
		if want := render(t, f); body != want {
			t.Errorf("example %q in the doc differs from the code (go test ./backend/protocol -run TestDocExamples -update rewrites it)\n--- doc\n%s--- code\n%s", label, body, want)
		}
		// Server frames that share a client frame's type (a relayed typing, a
		// members answer) are not decoded as one.
		if ct, isClient := clientFrames[f.FrameType()]; isClient && ct == reflect.TypeOf(f) && label != "typing-relay" {
			got, err := Decode([]byte(body))
			if err != nil {
				t.Errorf("example %q does not decode: %v", label, err)
			} else if render(t, got) != body {
				t.Errorf("example %q does not survive decode and encode", label)
			}
		}
	}
	for label := range examples {
		if !seen[label] {
			t.Errorf("example %q is missing from the doc", label)
		}
	}
	// Every frame type a client may send has an example.
	for typ := range clientFrames {
		if !seen[typ] {
			t.Errorf("client frame %q has no example in the doc", typ)
		}
	}
	// Every error code appears in the doc's code table, in order.
	var documented []string
	_, codeSection, _ := strings.Cut(string(doc), "## Error codes")
	codeSection, _, _ = strings.Cut(codeSection, "\n## ") // up to the next section
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(codeSection, -1) {
		documented = append(documented, m[1])
	}
	if !slices.Equal(documented, Codes) {
		t.Errorf("error codes in the doc:\n%s\ncodes in the code:\n%s", strings.Join(documented, " "), strings.Join(Codes, " "))
	}
}
