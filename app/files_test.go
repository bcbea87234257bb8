package app

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
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
