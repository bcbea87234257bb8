package export

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	alice = protocol.Member{ID: "m-a1", Name: "Alice"}
	bob   = protocol.Member{ID: "m-b2", Name: "Bob <script>"}
	host  = protocol.Member{ID: "m-h0", Name: "Teacher", Role: protocol.RoleHost}
	t0    = time.Date(2026, 11, 24, 23, 59, 50, 0, time.UTC)
)

func at(d time.Duration) int64 { return t0.Add(d).UnixMilli() }

func message(room string, seq uint64, from protocol.Member, d time.Duration, text string) protocol.Message {
	return protocol.Message{Type: protocol.TypeMessage, Room: room, Seq: seq, ID: fmt.Sprintf("%016x", seq*7919),
		From: from, Text: text, TS: at(d), ClientID: fmt.Sprintf("c-%d", seq)}
}

// sample is a transcript with everything a transcript shows: two days,
// markup and HTML in names and text, multi-line text, a deleted message, a
// closed room, a topic, a room that retention trimmed and an empty room.
func sample() Transcript {
	general := []protocol.Message{
		message("general", 1, host, 0, "Welcome! Today: **SQLite** & _WAL_ # not a heading"),
		message("general", 2, bob, 5*time.Second, "<img src=x onerror=alert(1)>"),
		message("general", 3, alice, 20*time.Second, "line one\nline two\n\n- not a list\n1. not a list either\n> not a quote"),
		{Type: protocol.TypeMessage, Room: "general", Seq: 4, ID: "00000000000000aa", From: bob, TS: at(30 * time.Second), ClientID: "c-4", Deleted: true},
		message("general", 5, alice, 10*time.Hour, "olá, ação 🎉 [link](javascript:alert(1)) `code` \\ | table |"),
		withFiles(message("general", 6, bob, 10*time.Hour+time.Minute, "the handout"),
			protocol.Attachment{ID: strings.Repeat("ab", 32), Name: "lista 3 <b>.pdf", Size: 482113, Type: "application/pdf"}),
		withFiles(message("general", 7, alice, 10*time.Hour+2*time.Minute, ""),
			protocol.Attachment{ID: strings.Repeat("cd", 32), Name: "quadro [1](x).jpg", Size: 2315220, Type: "image/jpeg", Width: 3024, Height: 4032, Thumb: strings.Repeat("ef", 32)}),
	}
	news := []protocol.Message{
		message("News", 8, host, time.Hour, "Exam moved to Friday."),
		message("News", 9, host, 2*time.Hour, "Room closes now."),
	}
	return Transcript{
		Title:    "Lab 3 <session>",
		Exported: time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC),
		Rooms: []Room{
			{Name: "general", Topic: "Databases & <b>durability</b>", LastSeq: 7, FirstKept: 1, Messages: general},
			{Name: "News", Closed: true, LastSeq: 9, FirstKept: 8, Messages: news},
			{Name: "class", LastSeq: 10, FirstKept: 1, Messages: conversation()},
			{Name: "random", LastSeq: 0},
			{Name: "@5d1c9e2a7b3f-a2b4c6d8e0f1", Private: true, People: []string{"Alice", "Bob <script>"}, LastSeq: 1, FirstKept: 1,
				Messages: []protocol.Message{message("@5d1c9e2a7b3f-a2b4c6d8e0f1", 1, alice, time.Minute, "see you after class")}},
		},
	}
}

// conversation is a room's log with a poll, votes (one changed) and its
// closing, an edited message with reactions, a reply, and a deleted
// message with an edit.
func conversation() []protocol.Message {
	ev := func(typ string, seq uint64, from protocol.Member, target uint64) protocol.Message {
		m := message("class", seq, from, time.Duration(seq)*time.Minute, "")
		m.Type, m.Target = typ, target
		return m
	}
	zero, one := 0, 1
	poll := message("class", 1, host, time.Minute, "Exam on Friday or Monday?")
	poll.Type, poll.Options = protocol.TypePoll, []string{"Friday", "Monday <b>"}
	v1, v2, v3 := ev(protocol.TypeVote, 2, alice, 1), ev(protocol.TypeVote, 3, bob, 1), ev(protocol.TypeVote, 4, alice, 1)
	v1.Option, v2.Option, v3.Option = &zero, &one, &one
	closed := ev(protocol.TypePollClosed, 5, host, 1)
	closed.Counts = []int{0, 2}
	edit := ev(protocol.TypeEdited, 7, alice, 6)
	edit.Text = "the test is on Monday"
	r1, r2 := ev(protocol.TypeReaction, 8, bob, 6), ev(protocol.TypeReaction, 9, host, 6)
	r1.Emoji, r2.Emoji = "👍", "👍"
	reply := message("class", 10, bob, 10*time.Minute, "thanks")
	reply.ReplyTo, reply.ReplyFrom = 6, &protocol.Member{ID: alice.ID, Name: alice.Name}
	gone := message("class", 11, bob, 11*time.Minute, "")
	gone.Deleted = true
	goneEdit := ev(protocol.TypeEdited, 12, bob, 11)
	goneEdit.Deleted = true
	return []protocol.Message{poll, v1, v2, v3, closed, message("class", 6, alice, 6*time.Minute, "the tset is on Monday"), edit, r1, r2, reply, gone, goneEdit}
}

// TestConversationsExported: a transcript shows each message as it is
// now: its last text marked edited, its reactions, a poll's result, the
// message a reply answers; never an edit's or a vote's own line.
func TestConversationsExported(t *testing.T) {
	tr := Transcript{Title: "t", Exported: t0, Rooms: []Room{{Name: "class", LastSeq: 12, FirstKept: 1, Messages: conversation()}}}
	var md, js bytes.Buffer
	if err := Write(&md, tr, Markdown, time.UTC); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4 messages.", "#6 · (edited)", "> the test is on Monday", "> 👍 2 (Bob \\<script\\>, Teacher)", "> - Friday: 0 votes",
		"> - Monday \\<b\\>: 2 votes", "Poll (closed)", "replying to Alice (\\#6)"} {
		if !strings.Contains(md.String(), want) {
			t.Errorf("the Markdown lacks %q:\n%s", want, md.String())
		}
	}
	if strings.Contains(md.String(), "tset") || strings.Contains(md.String(), "#7") {
		t.Errorf("the Markdown shows an edit's text or line:\n%s", md.String())
	}
	if err := Write(&js, tr, JSON, time.UTC); err != nil {
		t.Fatal(err)
	}
	var out struct {
		Rooms []struct {
			Messages []chat.Folded `json:"messages"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal(js.Bytes(), &out); err != nil {
		t.Fatal(err)
	}
	ms := out.Rooms[0].Messages
	if len(ms) != 4 || !ms[0].Closed || !slices.Equal(ms[0].Votes, []int{0, 2}) || !ms[1].Edited || ms[1].Text != "the test is on Monday" ||
		len(ms[1].Reactions) != 1 || ms[2].ReplyTo != 6 || !ms[3].Deleted {
		t.Fatalf("the JSON says %+v", ms)
	}
}

// textFormats are the formats that are text (not the zip, tested apart).
var textFormats = []Format{Markdown, HTML, JSON}

func withFiles(m protocol.Message, atts ...protocol.Attachment) protocol.Message {
	m.Attachments = atts
	return m
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./backend/export -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./backend/export -update rewrites it):\n%s", name, got)
	}
}

func TestGolden(t *testing.T) {
	for _, f := range textFormats {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, sample(), f, time.UTC); err != nil {
				t.Fatal(err)
			}
			golden(t, "transcript"+f.Extension(), b.Bytes())
		})
	}
}

// TestNoMarkupLeaks checks the escaping the golden files show, so that a
// carelessly updated golden file cannot hide an injection.
func TestNoMarkupLeaks(t *testing.T) {
	out := map[Format]string{}
	for _, f := range textFormats {
		var b bytes.Buffer
		if err := Write(&b, sample(), f, time.UTC); err != nil {
			t.Fatal(err)
		}
		out[f] = b.String()
	}
	cases := []struct {
		f       Format
		present []string
		absent  []string
	}{
		{HTML,
			[]string{"&lt;img src=x onerror=alert(1)&gt;", "Bob &lt;script&gt;", "Lab 3 &lt;session&gt;", "Databases &amp; &lt;b&gt;durability&lt;/b&gt;",
				`content="default-src 'none'; style-src 'unsafe-inline'"`},
			[]string{"<img", "<script", "<session", "<b>", "<b>.pdf"}},
		{Markdown,
			[]string{`\<img src=x onerror=alert(1)\>`, `Bob \<script\>`, `\*\*SQLite\*\* \& \_WAL\_ \# not a heading`,
				`\[link\](javascript:alert(1))`, "> \\- not a list", "> 1\\. not a list either", "> \\> not a quote",
				"> line one\\\n> line two\n>\n"},
			[]string{"**SQLite**", "[link](javascript"}},
		{JSON,
			[]string{`\u003cimg src=x onerror=alert(1)\u003e`, `"deleted": true`},
			[]string{"<img", "<script"}},
	}
	for _, c := range cases {
		for _, s := range c.present {
			if !strings.Contains(out[c.f], s) {
				t.Errorf("%s lacks %q", c.f, s)
			}
		}
		for _, s := range c.absent {
			if strings.Contains(out[c.f], s) {
				t.Errorf("%s contains %q", c.f, s)
			}
		}
	}
	// In Markdown every '<' is escaped, so no raw HTML reaches a renderer.
	md := out[Markdown]
	for i := strings.IndexByte(md, '<'); i >= 0; i = strings.IndexByte(md[i+1:], '<') + i + 1 {
		if i == 0 || md[i-1] != '\\' {
			t.Fatalf("unescaped '<' in Markdown at %d: %q", i, md[max(0, i-20):min(len(md), i+20)])
		}
		if strings.IndexByte(md[i+1:], '<') < 0 {
			break
		}
	}
	// JSON keeps every message whole.
	var back struct {
		Rooms []struct {
			Messages []protocol.Message `json:"messages"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal([]byte(out[JSON]), &back); err != nil {
		t.Fatal(err)
	}
	if got := back.Rooms[0].Messages; len(got) != 7 || !reflect.DeepEqual(got[1], sample().Rooms[0].Messages[1]) || !got[3].Deleted ||
		!reflect.DeepEqual(got[6], sample().Rooms[0].Messages[6]) {
		t.Fatalf("JSON round trip: %+v", got)
	}
}

func TestMarkdownEscape(t *testing.T) {
	cases := []struct{ in, want string }{
		{"plain words, no marks", "plain words, no marks"},
		{"a-b c.d e+f (x)", "a-b c.d e+f (x)"},
		{"- item", `\- item`},
		{"+ item", `\+ item`},
		{"12. item", `12\. item`},
		{"3) item", `3\) item`},
		{"===", `\===`},
		{"# h", `\# h`},
		{"<b>&amp;</b>", `\<b\>\&amp;\</b\>`},
		{"![i](u)", `!\[i\](u)`},
		{"a\\b", `a\\b`},
		{"`x` *y* _z_ ~s~ |t|", "\\`x\\` \\*y\\* \\_z\\_ \\~s\\~ \\|t\\|"},
	}
	for _, c := range cases {
		if got := mdEscape(c.in); got != c.want {
			t.Errorf("mdEscape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"md": Markdown, "Markdown": Markdown, ".md": Markdown, "html": HTML, ".htm": HTML, "JSON": JSON} {
		if got, err := ParseFormat(in); err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseFormat("pdf"); err == nil {
		t.Error("pdf accepted")
	}
}

// fill stores a host's worth of rooms in s: general with n messages, a
// private conversation and an empty room.
func fill(t *testing.T, s chat.Store, n int) {
	t.Helper()
	for _, r := range []chat.StoredRoom{{Key: "lobby", Name: "lobby"}, {Key: "general", Name: "General", Topic: "t"}, {Key: "@a-b", Name: "@a-b"}, {Key: "random", Name: "random"}} {
		if err := s.SaveRoom(r); err != nil {
			t.Fatal(err)
		}
	}
	for i := 1; i <= n; i++ {
		if _, _, err := s.Append("general", message("General", uint64(i), alice, time.Duration(i)*time.Second, fmt.Sprintf("m%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.Append("@a-b", message("@a-b", 1, alice, 0, "private")); err != nil {
		t.Fatal(err)
	}
}

func TestCollect(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(store.PathIn(dir), store.Options{Durability: store.Process})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fill(t, s, 2500) // more than one page

	names := func(rs []Room) string {
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%s:%d", r.Name, len(r.Messages)))
		}
		return strings.Join(out, " ")
	}
	cases := []struct {
		o    Options
		want string
		err  string
	}{
		{Options{}, "lobby:0 General:2500 random:0", ""},
		{Options{Private: true}, "lobby:0 General:2500 @a-b:1 random:0", ""},
		{Options{Room: "GENERAL"}, "General:2500", ""},
		{Options{Room: "@a-b"}, "@a-b:1", ""},
		{Options{Room: "nope"}, "", `no room called "nope" (rooms: lobby, General, random)`},
	}
	for _, c := range cases {
		got, err := Collect(s, c.o)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("Collect(%+v) error %v, want %q", c.o, err, c.err)
			}
			continue
		}
		if err != nil || names(got) != c.want {
			t.Errorf("Collect(%+v) = %s, %v; want %s", c.o, names(got), err, c.want)
		}
	}
	rooms, _ := Collect(s, Options{Room: "general"})
	for i, m := range rooms[0].Messages {
		if m.Seq != uint64(i+1) || m.Text != fmt.Sprintf("m%d", i+1) {
			t.Fatalf("message %d is %d %q", i, m.Seq, m.Text)
		}
	}
	if r := rooms[0]; r.FirstKept != 1 || r.LastSeq != 2500 || r.Topic != "t" || r.Private || r.People != nil {
		t.Fatalf("room %+v", r)
	}
	if dm, _ := Collect(s, Options{Room: "@a-b"}); !dm[0].Private || len(dm[0].People) != 1 || dm[0].People[0] != "Alice" {
		t.Fatalf("private room %+v", dm[0])
	}
}

func TestMain_CLI(t *testing.T) {
	dir := t.TempDir()
	s, err := store.Open(store.PathIn(dir), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	fill(t, s, 3)
	// The export reads while the host still has the database open.
	var stdout, stderr bytes.Buffer
	if code := Main([]string{"--data-dir", dir, "--room", "general", "--format", "json", "--utc"}, "", &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	var doc jsonTranscript
	if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	if doc.Format != JSONFormatName || len(doc.Rooms) != 1 || len(doc.Rooms[0].Messages) != 3 || doc.Title != "lanchat transcript" {
		t.Fatalf("json export %+v", doc)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(t.TempDir(), "session.html")
	stdout.Reset()
	if code := Main([]string{"--out", out, "--title", "Lab"}, dir, &stdout, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("<!doctype html>")) || !bytes.Contains(data, []byte("<title>Lab</title>")) || bytes.Contains(data, []byte("private")) || stdout.Len() != 0 {
		t.Fatalf("html export from --out extension:\n%s", data)
	}
	if entries, _ := os.ReadDir(filepath.Dir(out)); len(entries) != 1 {
		t.Fatalf("left files behind: %v", entries)
	}

	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--data-dir", t.TempDir()}, 1, "no history in"},
		{[]string{"--data-dir", dir, "--format", "pdf"}, 2, `unknown format "pdf"`},
		{[]string{"--data-dir", dir, "--room", "nope"}, 1, `no room called "nope"`},
		{[]string{"--data-dir", dir, "extra"}, 2, `unexpected argument "extra"`},
	} {
		stderr.Reset()
		if code := Main(c.args, "", &stdout, &stderr); code != c.code || !strings.Contains(stderr.String(), c.msg) {
			t.Errorf("Main(%v) = %d, %q; want %d, %q", c.args, code, stderr.String(), c.code, c.msg)
		}
	}
}

// TestZipHasTheFiles: the zip holds the HTML transcript, whose links lead
// to the files beside it, each file once; a file the host lost is named
// in missing-files.txt.
func TestZipHasTheFiles(t *testing.T) {
	tr := sample()
	blobs := map[string]string{strings.Repeat("ab", 32): "%PDF the handout"}
	tr.Files = func(id string) (io.ReadCloser, error) {
		b, ok := blobs[id]
		if !ok {
			return nil, os.ErrNotExist
		}
		return io.NopCloser(strings.NewReader(b)), nil
	}
	var b bytes.Buffer
	if err := Write(&b, tr, Zip, time.UTC); err != nil {
		t.Fatal(err)
	}
	z, err := zip.NewReader(bytes.NewReader(b.Bytes()), int64(b.Len()))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(r)
		r.Close()
		got[f.Name] = string(data)
	}
	pdf := "files/abababababab-lista 3 _b_.pdf"
	if got[pdf] != "%PDF the handout" {
		t.Fatalf("zip entries %v", slices.Sorted(maps.Keys(got)))
	}
	if !strings.Contains(got["transcript.html"], `href="files/abababababab-lista%203%20_b_.pdf"`) {
		t.Fatal("the transcript does not link the file beside it")
	}
	if !strings.Contains(got["missing-files.txt"], "files/cdcdcdcdcdcd-quadro [1](x).jpg") || len(got) != 4 {
		t.Fatalf("entries %v, missing %q", slices.Sorted(maps.Keys(got)), got["missing-files.txt"])
	}
	var j struct{ Format string }
	if json.Unmarshal([]byte(got["transcript.json"]), &j) != nil || j.Format != JSONFormatName {
		t.Fatal("no JSON transcript in the zip")
	}
}

// TestPortuguese: a transcript in Portuguese (the host's or the desktop
// UI's language) has its own words in Portuguese, its dates in Brazilian
// form and the lobby as "Geral"; names and messages are as they were.
func TestPortuguese(t *testing.T) {
	tr := sample()
	tr.Language = "pt-BR"
	tr.Rooms = append([]Room{{Name: "lobby", LastSeq: 1, FirstKept: 1, Messages: []protocol.Message{message("lobby", 1, host, 0, "Bom dia, turma")}}}, tr.Rooms...)
	for _, f := range []Format{Markdown, HTML} {
		t.Run(string(f), func(t *testing.T) {
			var b bytes.Buffer
			if err := Write(&b, tr, f, time.UTC); err != nil {
				t.Fatal(err)
			}
			golden(t, "transcript.pt-BR"+f.Extension(), b.Bytes())
			got := b.String()
			for _, want := range []string{
				"Transcrição exportada em 2026-11-25 12:00 UTC.",
				"terça-feira, 24 de novembro de 2026", "quarta-feira, 25 de novembro de 2026",
				"mensagem apagada", "7 mensagens", "1 mensagem.", "Tema: Databases",
				"Geral", "(fechada)", "conversa privada: Alice", "antes da nº 8",
			} {
				if !strings.Contains(got, want) {
					t.Errorf("%s: no %q", f, want)
				}
			}
			for _, english := range []string{"Transcript exported", "message deleted", "messages", "Topic:", "Tuesday", "November", "(closed)", "private conversation"} {
				if strings.Contains(got, english) {
					t.Errorf("%s: English left: %q", f, english)
				}
			}
			if f == HTML && !strings.Contains(got, `<html lang="pt-BR">`) {
				t.Error("the HTML page does not say it is in Portuguese")
			}
		})
	}
	if w := wordsFor("pt"); w.Lang != "pt-BR" {
		t.Errorf("pt: %s", w.Lang)
	}
	if w := wordsFor("fr-FR"); w.Lang != "en" {
		t.Errorf("fr-FR falls back to %s", w.Lang)
	}
}

// A room whose name is not its store key (renamed, or a default room named
// in the host's language) is exported by its name or by its key.
func TestCollectByNameOrKey(t *testing.T) {
	s := chat.NewMemoryStore(100)
	if err := s.SaveRoom(chat.StoredRoom{Key: "general", Name: "conversa"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Append("general", message("conversa", 0, alice, 0, "oi")); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"Conversa", "general"} {
		rooms, err := Collect(s, Options{Room: name})
		if err != nil || len(rooms) != 1 || rooms[0].Name != "conversa" || len(rooms[0].Messages) != 1 {
			t.Errorf("Collect(%q): %+v, %v", name, rooms, err)
		}
	}
}
