package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

// TestFileLimitsOverTheBridge: the host's person changes the file limits;
// a connected member hears the new largest file, the host refuses a file
// over it, saving other settings keeps them, and they are saved.
func TestFileLimitsOverTheBridge(t *testing.T) {
	rh := startHost(t, "Lab")
	if got := rh.app.FileLimits(); got.Off || got.MaxFileMB != 0 || got.EffectiveFileMB != 100 {
		t.Fatalf("defaults %+v", got)
	}
	wsURL := "ws://127.0.0.1:" + strconv.Itoa(rh.h.Port()) + "/ws"
	ws, _, err := websocket.DefaultDialer.Dial(wsURL, http.Header{"Origin": {"wails://wails"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: 1, Name: "Ana"})); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, b, err := ws.ReadMessage(); err != nil || !bytes.Contains(b, []byte(`"type":"welcome"`)) || !bytes.Contains(b, []byte(`"max_file":104857600`)) {
		t.Fatalf("welcome %s, %v", b, err)
	}

	for _, bad := range [][2]int{{-1, 0}, {maxFileMB + 1, 0}, {0, maxFilesMB + 1}} {
		if _, err := rh.app.SetFileLimits(bad[0], bad[1]); err == nil {
			t.Errorf("limits %v taken", bad)
		}
	}
	got, err := rh.app.SetFileLimits(5, 50)
	if err != nil || got.MaxFileMB != 5 || got.EffectiveFileMB != 5 || got.EffectiveFilesMB != 50 {
		t.Fatalf("SetFileLimits = %+v, %v", got, err)
	}
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for heard := false; !heard; {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatal("the member never heard the new limit:", err)
		}
		for line := range bytes.SplitSeq(b, []byte("\n")) {
			var f struct {
				Type   string          `json:"type"`
				Limits protocol.Limits `json:"limits"`
			}
			if json.Unmarshal(line, &f) == nil && f.Type == protocol.TypeLimits && f.Limits.MaxFile == 5<<20 {
				heard = true
			}
		}
	}
	if err := rh.app.SaveSettings(Settings{Name: "Prof", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	again, err := loadSettings(rh.app.settings.dataDir)
	if err != nil || again.Get().MaxFileMB != 5 || again.Get().MaxFilesMB != 50 {
		t.Fatalf("saved %+v, %v", again.Get(), err)
	}
}

// TestSaveFile: the desktop page's download goes through SaveFile: the
// save dialog, then the file from the own host, whole, under the name
// chosen; an address that is not the own host's files is refused before
// any dialog.
func TestSaveFile(t *testing.T) {
	rh := startHost(t, "Lab")
	base := "http://127.0.0.1:" + strconv.Itoa(rh.h.Port())
	ws, _, err := websocket.DefaultDialer.Dial("ws"+base[len("http"):]+"/ws", http.Header{"Origin": {"wails://wails"}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	read := func(typ string) map[string]any {
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			_, b, err := ws.ReadMessage()
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			for line := range bytes.SplitSeq(b, []byte("\n")) {
				var f map[string]any
				if json.Unmarshal(line, &f) == nil && f["type"] == typ {
					return f
				}
			}
		}
	}
	if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: 1, Name: "Ana", Device: "d-ana"})); err != nil {
		t.Fatal(err)
	}
	key := read("welcome")["files_key"].(string)
	data := bytes.Repeat([]byte("notas da aula\n"), 5000)
	req := func(method, path string, body []byte, hdr map[string]string) *http.Response {
		r, _ := http.NewRequest(method, base+path, bytes.NewReader(body))
		r.Header.Set("Tus-Resumable", "1.0.0")
		r.Header.Set("Lanchat-Key", key)
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := req("POST", protocol.UploadPath, nil, map[string]string{"Upload-Length": strconv.Itoa(len(data))})
	loc := res.Header.Get("Location")
	upload := loc[strings.LastIndex(loc, "/")+1:]
	if res := req("PATCH", protocol.UploadPath+upload, data, map[string]string{"Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}); res.StatusCode != http.StatusNoContent {
		t.Fatalf("upload: %s", res.Status)
	}
	if err := ws.WriteJSON(map[string]any{"type": "send", "room": "lobby", "client_id": "c1", "text": "", "attachments": []string{upload}}); err != nil {
		t.Fatal(err)
	}
	msg := read("message")
	att := msg["attachments"].([]any)[0].(map[string]any)
	fileURL := base + protocol.FilePath + att["id"].(string) + "?" + url.Values{"room": {"lobby"}, "seq": {strconv.Itoa(int(msg["seq"].(float64)))}, "key": {key}, "download": {"1"}}.Encode()

	dir := t.TempDir()
	asked := answerDialog(t, filepath.Join(dir, "aula.txt"), nil)
	for _, bad := range []string{"http://10.0.0.9:47800/files/x", "http://127.0.0.1:1/files/x", base + "/api/peers", "file:///etc/passwd"} {
		if _, err := rh.app.SaveFile(bad, "x"); err == nil {
			t.Errorf("SaveFile(%q) went ahead", bad)
		}
	}
	if len(*asked) != 0 {
		t.Fatal("a refused address opened the dialog")
	}
	path, err := rh.app.SaveFile(fileURL, "../notas.txt")
	if err != nil || path != filepath.Join(dir, "aula.txt") {
		t.Fatalf("SaveFile = %q, %v", path, err)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, data) {
		t.Fatalf("saved %d bytes, want %d", len(got), len(data))
	}
	if (*asked)[0].DefaultFilename != "notas.txt" {
		t.Fatalf("the dialog suggested %q", (*asked)[0].DefaultFilename)
	}
	if left, _ := os.ReadDir(dir); len(left) != 1 {
		t.Fatalf("the dir holds %d entries, want only the file", len(left))
	}
}
