package nstest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/identity"
)

// TestImpostorHost: a student's host meets the teacher's over mDNS and
// remembers its key. Then, with the teacher gone, two impostors advertise
// the teacher's name: one with an id of its own is listed as another host
// met for the first time; one that copied the teacher's id but not its key
// is listed as changed, and the student's relay refuses to take it for the
// teacher. The two hosts chat through the relay over pinned TLS.
func TestImpostorHost(t *testing.T) {
	Require(t)
	t.Parallel()
	bin := Lanchat(t)
	lan := NewLAN(t)
	th, sh, ih := lan.AddHost("teacher", 1), lan.AddHost("student", 2), lan.AddHost("impostor", 3)
	teacher := th.Serve(t, bin, "", "--name", "Teacher")
	student := sh.Serve(t, bin, "")
	idT := teacher.SelfID(t)
	pl, ok := student.WaitEvent(0, "added", idT, 20*time.Second)
	if !ok {
		t.Fatalf("the student never listed the teacher; output: %v", student.Out.All())
	}
	var info struct {
		Fingerprint string `json:"fingerprint"`
	}
	if err := sh.GetJSON(th.URL("/api/info"), &info); err != nil || !identity.ValidFingerprint(info.Fingerprint) {
		t.Fatalf("teacher's info: %+v %v", info, err)
	}
	fpT := info.Fingerprint
	if pl.Fields["trust"] != "new" || pl.Fields["key"] != identity.Short(fpT) || pl.Fields["name"] != "Teacher" {
		t.Fatalf("teacher first listed as %+v", pl.Fields)
	}

	// The student (through its own host's relay, over TLS pinned to the
	// teacher's key) and someone on the teacher's host chat.
	relay := func(addr, fp string) (*websocket.Conn, *http.Response, error) {
		d := websocket.Dialer{NetDialContext: sh.DialContext, HandshakeTimeout: 10 * time.Second}
		u := fmt.Sprintf("ws://127.0.0.1:%d/relay?addr=%s:%d&fp=%s", Port, addr, Port, fp)
		return d.Dial(u, http.Header{"Origin": {"wails://wails"}})
	}
	ws, _, err := relay(th.IP, fpT)
	if err != nil {
		t.Fatalf("relay to the teacher: %v", err)
	}
	ana := newChatter(t, ws, "Ana")
	ws2, _, err := (&websocket.Dialer{NetDialContext: th.DialContext}).Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", Port), nil)
	if err != nil {
		t.Fatal(err)
	}
	bia := newChatter(t, ws2, "Bia")
	ana.say(t, "general", "hello over pinned TLS")
	bia.await(t, "general", "hello over pinned TLS")
	bia.say(t, "general", "hi Ana")
	ana.await(t, "general", "hi Ana")
	ana.ws.Close()
	bia.ws.Close()

	from := len(student.Out.All())
	teacher.Signal(syscall.SIGTERM)
	if _, ok := student.WaitEvent(from, "removed", idT, 20*time.Second); !ok {
		t.Fatal("the teacher's host was never dropped")
	}
	if err := teacher.Wait(10 * time.Second); err != nil {
		t.Errorf("teacher's host: %v", err)
	}

	// An impostor with an id of its own: another host, met for the first time.
	from = len(student.Out.All())
	other := ih.Serve(t, bin, "", "--name", "Teacher")
	idO := other.SelfID(t)
	if pl, ok := student.WaitEvent(from, "added", idO, 20*time.Second); !ok || pl.Fields["trust"] != "new" || pl.Fields["key"] == identity.Short(fpT) {
		t.Fatalf("a look-alike host listed as %+v (ok %v)", pl.Fields, ok)
	}
	from = len(student.Out.All())
	other.Signal(syscall.SIGTERM)
	if _, ok := student.WaitEvent(from, "removed", idO, 20*time.Second); !ok {
		t.Fatal("the look-alike was never dropped")
	}
	_ = other.Wait(10 * time.Second)

	// An impostor that copied the teacher's id, not its key.
	dir := t.TempDir()
	id, err := os.ReadFile(filepath.Join(teacher.DataDir, "host-id"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "host-id"), id, 0o600); err != nil {
		t.Fatal(err)
	}
	from = len(student.Out.All())
	copycat := ih.Serve(t, bin, dir, "--name", "Teacher")
	if got := copycat.SelfID(t); got != idT {
		t.Fatalf("copycat id %s, teacher's %s", got, idT)
	}
	pl, ok = student.WaitEvent(from, "added", idT, 20*time.Second)
	if !ok || pl.Fields["trust"] != "changed" || pl.Addr != fmt.Sprintf("%s:%d", ih.IP, Port) {
		t.Fatalf("the copycat listed as %+v at %s (ok %v); output: %v", pl.Fields, pl.Addr, ok, student.Out.All())
	}
	// The relay does not take it for the teacher, whichever key is asked.
	if _, resp, err := relay(ih.IP, fpT); err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("relay to the copycat under the teacher's key: %v", err)
	}
	var copyInfo struct {
		Fingerprint string `json:"fingerprint"`
	}
	if err := sh.GetJSON(ih.URL("/api/info"), &copyInfo); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := relay(ih.IP, copyInfo.Fingerprint); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("relay to the copycat under its own key: %v", err)
	}
	// The remembered key is still the teacher's.
	b, err := os.ReadFile(filepath.Join(student.DataDir, "pins.json"))
	if err != nil || !strings.Contains(string(b), fpT) || strings.Contains(string(b), copyInfo.Fingerprint) {
		t.Errorf("pins.json: %s %v", b, err)
	}
}

// chatter is a plain protocol client for these tests.
type chatter struct {
	ws   *websocket.Conn
	name string
	n    int
}

func newChatter(t *testing.T, ws *websocket.Conn, name string) *chatter {
	t.Helper()
	c := &chatter{ws: ws, name: name}
	c.send(t, map[string]any{"type": "hello", "version": 1, "name": name})
	c.wait(t, func(f map[string]any) bool { return f["type"] == "welcome" })
	c.send(t, map[string]any{"type": "join", "room": "general"})
	c.wait(t, func(f map[string]any) bool { return f["type"] == "joined" })
	return c
}

func (c *chatter) send(t *testing.T, v any) {
	t.Helper()
	if err := c.ws.WriteJSON(v); err != nil {
		t.Fatalf("%s: %v", c.name, err)
	}
}

func (c *chatter) say(t *testing.T, room, text string) {
	t.Helper()
	c.n++
	c.send(t, map[string]any{"type": "send", "room": room, "client_id": fmt.Sprintf("%s-%d", c.name, c.n), "text": text})
}

func (c *chatter) await(t *testing.T, room, text string) {
	t.Helper()
	c.wait(t, func(f map[string]any) bool {
		return f["type"] == "message" && strings.EqualFold(fmt.Sprint(f["room"]), room) && f["text"] == text
	})
}

// wait reads frames until one matches, failing on an error frame or after 10 s.
func (c *chatter) wait(t *testing.T, match func(map[string]any) bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		_ = c.ws.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			var f map[string]any
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				continue
			}
			if f["type"] == "error" {
				t.Fatalf("%s: error frame %v", c.name, f)
			}
			if match(f) {
				return
			}
		}
	}
	t.Fatalf("%s: %v", c.name, errors.New("timed out"))
}
