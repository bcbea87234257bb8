package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"lanchat/backend/export"
	"lanchat/backend/protocol"
)

// post says hello as name, joins room and sends each text, waiting for
// every ack: the messages are stored when it returns.
func post(t *testing.T, wsURL, name, room string, texts ...string) {
	t.Helper()
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(wsURL, http.Header{"Origin": {"wails://wails"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	write := func(f protocol.Frame) {
		if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(f)); err != nil {
			t.Fatal(err)
		}
	}
	write(protocol.Hello{Version: protocol.Version, Name: name})
	write(protocol.Join{Room: room})
	for i, text := range texts {
		write(protocol.Send{Room: room, ClientID: "c-" + strings.Repeat("x", i+1), Text: text})
	}
	acks := 0
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for acks < len(texts) {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for acks (%d of %d): %v", acks, len(texts), err)
		}
		for _, part := range bytes.Split(b, []byte("\n")) {
			var f struct{ Type, Code string }
			if err := json.Unmarshal(part, &f); err != nil {
				t.Fatalf("frame %s: %v", part, err)
			}
			switch f.Type {
			case protocol.TypeAck:
				acks++
			case protocol.TypeError:
				t.Fatalf("refused: %s", part)
			}
		}
	}
}

// answerDialog makes the save dialog answer path (or fail with err) and
// records what it was asked.
func answerDialog(t *testing.T, path string, err error) *[]runtime.SaveDialogOptions {
	t.Helper()
	var asked []runtime.SaveDialogOptions
	old := saveDialog
	saveDialog = func(_ context.Context, o runtime.SaveDialogOptions) (string, error) {
		asked = append(asked, o)
		return path, err
	}
	t.Cleanup(func() { saveDialog = old })
	return &asked
}

func TestExportTranscriptWritesEachFormat(t *testing.T) {
	rh := startHost(t, "Sala 12")
	ws := rh.app.Self().WSURL
	post(t, ws, "Ana", "general", "bom dia, turma", "a prova é <amanhã>")
	post(t, ws, "Bruno", "random", "only in random")
	dir := t.TempDir()

	for _, tc := range []struct {
		format, answer, wantPath string
	}{
		{"md", filepath.Join(dir, "t.md"), filepath.Join(dir, "t.md")},
		{"html", filepath.Join(dir, "t.html"), filepath.Join(dir, "t.html")},
		{"json", filepath.Join(dir, "no-extension"), filepath.Join(dir, "no-extension.json")},
	} {
		t.Run(tc.format, func(t *testing.T) {
			asked := answerDialog(t, tc.answer, nil)
			got, err := rh.app.ExportTranscript("general", tc.format)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.wantPath {
				t.Errorf("wrote %q, want %q", got, tc.wantPath)
			}
			if len(*asked) != 1 {
				t.Fatalf("the dialog was shown %d times", len(*asked))
			}
			o := (*asked)[0]
			ext := "." + tc.format
			if !strings.HasPrefix(o.DefaultFilename, "Sala-12-general-") || !strings.HasSuffix(o.DefaultFilename, ext) {
				t.Errorf("suggested file name %q", o.DefaultFilename)
			}
			if len(o.Filters) != 1 || o.Filters[0].Pattern != "*"+ext {
				t.Errorf("filters %+v", o.Filters)
			}
			b, err := os.ReadFile(got)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := os.Stat(got)
			if st.Mode().Perm() != 0o600 {
				t.Errorf("transcript mode %v, want 0600", st.Mode().Perm())
			}
			// the same bytes the host's own export makes, apart from the export time
			var want bytes.Buffer
			f, _ := export.ParseFormat(tc.format)
			if err := rh.h.ExportTranscriptIn(&want, "general", f, rh.app.settings.Get().Language); err != nil {
				t.Fatal(err)
			}
			if len(b) == 0 || !sameLines(string(b), want.String()) {
				t.Errorf("transcript differs from the host's export:\n%s\n---\n%s", b, want.String())
			}
			if !strings.Contains(string(b), "bom dia, turma") || strings.Contains(string(b), "only in random") {
				t.Errorf("transcript of general:\n%s", b)
			}
		})
	}

	var tr struct {
		Format string
		Rooms  []struct {
			Name     string
			Messages []protocol.Message
		}
	}
	b, _ := os.ReadFile(filepath.Join(dir, "no-extension.json"))
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if tr.Format != export.JSONFormatName || len(tr.Rooms) != 1 || tr.Rooms[0].Name != "general" ||
		len(tr.Rooms[0].Messages) != 2 || tr.Rooms[0].Messages[1].Text != "a prova é <amanhã>" {
		t.Errorf("JSON transcript %+v", tr)
	}

	t.Run("whole host", func(t *testing.T) {
		p := filepath.Join(dir, "all.md")
		asked := answerDialog(t, p, nil)
		if _, err := rh.app.ExportTranscript("", "md"); err != nil {
			t.Fatal(err)
		}
		if n := (*asked)[0].DefaultFilename; !strings.HasPrefix(n, "Sala-12-2") {
			t.Errorf("suggested %q for the whole host", n)
		}
		b, _ := os.ReadFile(p)
		if !strings.Contains(string(b), "bom dia, turma") || !strings.Contains(string(b), "only in random") {
			t.Errorf("whole-host transcript:\n%s", b)
		}
	})
}

// sameLines compares two transcripts except for lines holding the export time.
func sameLines(a, b string) bool {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	if len(al) != len(bl) {
		return false
	}
	for i := range al {
		if al[i] != bl[i] && !strings.Contains(strings.ToLower(al[i]), "export") {
			return false
		}
	}
	return true
}

// TestExportTranscriptInTheUILanguage: with the UI in Portuguese, the
// transcript's own words are Portuguese; switched to English, English.
func TestExportTranscriptInTheUILanguage(t *testing.T) {
	rh := startHost(t, "Sala 12")
	post(t, rh.app.Self().WSURL, "Ana", "general", "bom dia, turma")
	path := filepath.Join(t.TempDir(), "t.md")
	for _, tc := range []struct{ lang, want, not string }{
		{"pt-BR", "Transcrição exportada em", "Transcript exported"},
		{"en", "Transcript exported", "Transcrição"},
	} {
		s := rh.app.settings.Get()
		s.Language = tc.lang
		if err := rh.app.SaveSettings(s); err != nil {
			t.Fatal(err)
		}
		answerDialog(t, path, nil)
		if _, err := rh.app.ExportTranscript("general", "md"); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), tc.want) || strings.Contains(string(b), tc.not) || !strings.Contains(string(b), "bom dia, turma") {
			t.Errorf("the transcript with the UI in %s:\n%s", tc.lang, b)
		}
	}
}

func TestExportTranscriptRefusals(t *testing.T) {
	rh := startHost(t, "Sala 12")
	dir := t.TempDir()
	p := filepath.Join(dir, "t.md")

	asked := answerDialog(t, p, nil)
	if _, err := rh.app.ExportTranscript("general", "pdf"); err == nil {
		t.Error("format pdf accepted")
	}
	if _, err := rh.app.ExportTranscript("sala9", "md"); err == nil || !strings.Contains(err.Error(), "sala9") {
		t.Errorf("unknown room: %v", err)
	}
	if len(*asked) != 0 {
		t.Errorf("the dialog opened for a refused export: %+v", *asked)
	}

	answerDialog(t, "", nil) // the user cancels
	if got, err := rh.app.ExportTranscript("general", "md"); got != "" || err != nil {
		t.Errorf("cancelled: %q, %v", got, err)
	}
	boom := errors.New("no dialog today")
	answerDialog(t, p, boom)
	if _, err := rh.app.ExportTranscript("general", "md"); !errors.Is(err, boom) {
		t.Errorf("dialog failure: %v", err)
	}
	answerDialog(t, filepath.Join(dir, "missing", "t.md"), nil)
	if _, err := rh.app.ExportTranscript("general", "md"); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
	if _, err := os.Stat(p); !os.IsNotExist(err) {
		t.Errorf("a file was written: %v", err)
	}
}

func TestSaveDialogNeedsTheWindow(t *testing.T) {
	if _, err := saveDialog(nil, runtime.SaveDialogOptions{}); err == nil { //nolint:staticcheck // nil: no window yet
		t.Error("the dialog opened without a window")
	}
}

func TestTranscriptFilename(t *testing.T) {
	day := time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ host, room, want string }{
		{"Sala 12", "general", "Sala-12-general-2026-11-25.md"},
		{"Ana's laptop", "", "Ana-s-laptop-2026-11-25.md"},
		{"lab/pc:3", "a b.c", "lab-pc-3-a-b-c-2026-11-25.md"},
		{"", "", "lanchat-2026-11-25.md"},
		{"  ", "ção", "ção-2026-11-25.md"},
		{strings.Repeat("x", 60), "", strings.Repeat("x", 40) + "-2026-11-25.md"},
	} {
		if got := transcriptFilename(tc.host, tc.room, export.Markdown, day); got != tc.want {
			t.Errorf("transcriptFilename(%q, %q) = %q, want %q", tc.host, tc.room, got, tc.want)
		}
	}
}
