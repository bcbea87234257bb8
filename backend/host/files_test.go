package host

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lanchat/backend/files"
	"lanchat/backend/protocol"
	"lanchat/backend/relay"
)

// fileClient speaks tus and downloads for a member of the host at base
// ("http://127.0.0.1:port"), as the host's own page does.
type fileClient struct {
	t    testing.TB
	base string
	key  string
	// origin is the page's origin; default base's.
	origin string
}

func (f fileClient) req(method, path string, body []byte, hdr map[string]string) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.base+path, bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	origin := f.origin
	if origin == "" {
		origin = f.base
	}
	req.Header.Set("Origin", origin)
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set(files.KeyHeader, f.key)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { res.Body.Close() })
	return res
}

// create starts an upload of size bytes named name; it returns its id.
func (f fileClient) create(name string, size int) string {
	f.t.Helper()
	res := f.req("POST", protocol.UploadPath, nil, map[string]string{
		"Upload-Length": strconv.Itoa(size), "Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte(name))})
	if res.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(res.Body)
		f.t.Fatalf("create: %s %s", res.Status, b)
	}
	loc := res.Header.Get("Location")
	return loc[strings.LastIndex(loc, "/")+1:]
}

func (f fileClient) patch(id string, off int, data []byte) {
	f.t.Helper()
	res := f.req("PATCH", protocol.UploadPath+id, data, map[string]string{"Upload-Offset": strconv.Itoa(off), "Content-Type": "application/offset+octet-stream"})
	if res.StatusCode != http.StatusNoContent {
		b, _ := io.ReadAll(res.Body)
		f.t.Fatalf("PATCH: %s %s", res.Status, b)
	}
}

func (f fileClient) offset(id string) int {
	f.t.Helper()
	n, err := strconv.Atoi(f.req("HEAD", protocol.UploadPath+id, nil, nil).Header.Get("Upload-Offset"))
	if err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f fileClient) upload(name string, data []byte) string {
	f.t.Helper()
	id := f.create(name, len(data))
	f.patch(id, 0, data)
	return id
}

// get downloads a message's file; it returns the status and the bytes.
func (f fileClient) get(room string, seq uint64, id string) (int, []byte) {
	f.t.Helper()
	q := url.Values{"key": {f.key}, "room": {room}, "seq": {strconv.FormatUint(seq, 10)}}
	res := f.req("GET", protocol.FilePath+id+"?"+q.Encode(), nil, nil)
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func filesOf(t testing.TB, base string, c *wsClient) fileClient {
	if c.filesKey == "" {
		t.Fatalf("%s has no files key", c.name)
	}
	return fileClient{t: t, base: base, key: c.filesKey}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestFilesInRoomsAndPrivate: a file sent in a room reaches its members
// and only them; one sent privately only the two; an upload is only its
// owner's to attach; a deleted message's file leaves the disk.
func TestFilesInRoomsAndPrivate(t *testing.T) {
	h := runHost(t, Config{Name: "Lab"})
	base := "http://127.0.0.1:" + strconv.Itoa(h.Port())
	wsURL := "ws://127.0.0.1:" + strconv.Itoa(h.Port()) + "/ws"
	ana, bruno, caio := joinHost(t, wsURL, "Ana"), joinHost(t, wsURL, "Bruno"), joinHost(t, wsURL, "Caio")
	joinRoom(t, ana, "general")
	joinRoom(t, bruno, "general")
	joinRoom(t, caio, "random")
	fa, fb, fc := filesOf(t, base, ana), filesOf(t, base, bruno), filesOf(t, base, caio)

	handout := randomBytes(3<<20 + 7)
	up := fa.upload("lista 3.pdf", handout)
	// Bruno cannot attach Ana's upload.
	if err := bruno.send(map[string]any{"type": "send", "room": "general", "client_id": "b1", "text": "mine", "attachments": []string{up}}); err != nil {
		t.Fatal(err)
	}
	if e, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "error" && f.Ref == "b1" }); !ok || e.Code != protocol.CodeNoSuchFile {
		t.Fatalf("Bruno attached Ana's upload: %+v", e)
	}
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "a1", "text": "", "attachments": []string{up}}); err != nil {
		t.Fatal(err)
	}
	msg, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "a1" })
	if !ok || len(msg.Attachments) != 1 {
		t.Fatalf("Bruno got %+v", msg)
	}
	att := msg.Attachments[0]
	if att.ID != sha256Hex(handout) || att.Name != "lista 3.pdf" || att.Size != int64(len(handout)) {
		t.Fatalf("attachment %+v", att)
	}
	if code, b := fb.get("general", msg.Seq, att.ID); code != 200 || !bytes.Equal(b, handout) {
		t.Fatalf("Bruno's download: %d, %d bytes", code, len(b))
	}
	if code, _ := fc.get("general", msg.Seq, att.ID); code != http.StatusForbidden {
		t.Fatalf("Caio, not in general, downloads: %d", code)
	}

	// Privately: Ana to Bruno.
	if err := ana.send(map[string]any{"type": "dm", "member": bruno.id}); err != nil {
		t.Fatal(err)
	}
	dm, ok := ana.waitFor(5*time.Second, func(f frame) bool { return f.Type == "joined" && strings.HasPrefix(f.Room, "@") })
	if !ok {
		t.Fatal("no private conversation")
	}
	photo := randomBytes(1000)
	up2 := fa.upload("só para ti.bin", photo)
	if err := ana.send(map[string]any{"type": "send", "room": dm.Room, "client_id": "a2", "text": "olha", "attachments": []string{up2}}); err != nil {
		t.Fatal(err)
	}
	pm, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "a2" })
	if !ok {
		t.Fatal("Bruno did not get the private file")
	}
	if code, b := fb.get(dm.Room, pm.Seq, pm.Attachments[0].ID); code != 200 || !bytes.Equal(b, photo) {
		t.Fatalf("Bruno's private download: %d", code)
	}
	if code, _ := fc.get(dm.Room, pm.Seq, pm.Attachments[0].ID); code == 200 {
		t.Fatal("Caio read a private conversation's file")
	}

	// Ana deletes her message in general: its file leaves the disk.
	blob := filepath.Join(h.cfg.DataDir, "files", "blobs", att.ID[:2], att.ID)
	if _, err := os.Stat(blob); err != nil {
		t.Fatal(err)
	}
	if err := ana.send(map[string]any{"type": "control", "action": "delete", "room": "general", "seq": msg.Seq}); err != nil {
		t.Fatal(err)
	}
	if _, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "deleted" }); !ok {
		t.Fatal("no deleted")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(blob); os.IsNotExist(err) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("a deleted message's file stayed on disk")
		}
	}
	if code, _ := fb.get("general", msg.Seq, att.ID); code != http.StatusNotFound {
		t.Fatalf("a deleted message's file still downloads: %d", code)
	}
}

// TestUploadsSetting: the host turns uploads to hosts only; a guest's
// upload and attach are refused with uploads_off, everyone hears the new
// limits, and the host still sends.
func TestUploadsSetting(t *testing.T) {
	h := runHost(t, Config{Name: "Lab", HostToken: "tok"})
	base := "http://127.0.0.1:" + strconv.Itoa(h.Port())
	wsURL := "ws://127.0.0.1:" + strconv.Itoa(h.Port()) + "/ws"
	ws, _, err := dialWS(wsURL)
	if err != nil {
		t.Fatal(err)
	}
	teacher, _, err := sayHello(ws, "Prof", map[string]any{"type": "hello", "version": 1, "name": "Prof", "host_token": "tok"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(teacher.close)
	ana := joinHost(t, wsURL, "Ana")
	joinRoom(t, ana, "general")
	joinRoom(t, teacher, "general")
	early := filesOf(t, base, ana).upload("a.txt", []byte("before the change"))

	if err := teacher.send(map[string]any{"type": "control", "action": "set_uploads", "name": "hosts"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ana.waitFor(5*time.Second, func(f frame) bool { return f.Type == "limits" && f.Limits.Uploads == "hosts" }); !ok {
		t.Fatal("Ana did not hear the new limits")
	}
	res := filesOf(t, base, ana).req("POST", protocol.UploadPath, nil, map[string]string{"Upload-Length": "5"})
	if res.StatusCode != http.StatusForbidden {
		t.Fatalf("a guest's upload with uploads for hosts: %s", res.Status)
	}
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "a1", "text": "x", "attachments": []string{early}}); err != nil {
		t.Fatal(err)
	}
	if e, ok := ana.waitFor(5*time.Second, func(f frame) bool { return f.Type == "error" && f.Ref == "a1" }); !ok || e.Code != protocol.CodeUploadsOff {
		t.Fatalf("a guest attached with uploads for hosts: %+v", e)
	}
	up := filesOf(t, base, teacher).upload("prova.pdf", []byte("%PDF"))
	if err := teacher.send(map[string]any{"type": "send", "room": "general", "client_id": "t1", "text": "", "attachments": []string{up}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := ana.waitFor(5*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "t1" && len(f.Attachments) == 1 }); !ok {
		t.Fatal("the host's file did not arrive")
	}
}

// TestUploadSurvivesKill9: the host is killed mid-upload. Nothing half
// written is a file; after the restart the member (a new connection, the
// same name and device) resumes the upload where it stopped and sends it.
func TestUploadSurvivesKill9(t *testing.T) {
	addr := freeAddrs(t, 1)[0]
	b := &testBox{spec: boxSpec{Addr: addr, Data: filepath.Join(t.TempDir(), "host"), Name: "host"}}
	b.start(t)
	t.Cleanup(b.stop)
	b.waitUp(t)
	base := b.url()
	ana, _, err := dialBox(b.ws(), "Ana", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	data := randomBytes(4 << 20)
	fa := filesOf(t, base, ana)
	id := fa.create("video.mp4", len(data))
	fa.patch(id, 0, data[:3<<20])
	b.kill()
	ana.close()
	blobs := filepath.Join(b.spec.Data, "files", "blobs")
	if entries, _ := os.ReadDir(blobs); len(entries) != 0 {
		t.Fatalf("a half upload is a file: %v", entries)
	}

	b.start(t)
	b.waitUp(t)
	ana = joinHost(t, b.ws(), "Ana")
	bruno := joinHost(t, b.ws(), "Bruno")
	joinRoom(t, ana, "general")
	joinRoom(t, bruno, "general")
	fa = filesOf(t, base, ana)
	off := fa.offset(id)
	if off != 3<<20 {
		t.Fatalf("resumes at %d, want %d", off, 3<<20)
	}
	fa.patch(id, off, data[off:])
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "a1", "text": "", "attachments": []string{id}}); err != nil {
		t.Fatal(err)
	}
	msg, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "a1" })
	if !ok {
		t.Fatal("the resumed file was not sent")
	}
	if code, got := filesOf(t, base, bruno).get("general", msg.Seq, msg.Attachments[0].ID); code != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download after the kill: %d, %d bytes", code, len(got))
	}
}

// TestFilesThroughTheRelay: the desktop app's webview reaches another
// host's files through its own host's relay, over TLS pinned to the key
// it met: an upload (whose Location comes back through the relay), a
// resume, the message, and a download compared byte for byte.
func TestFilesThroughTheRelay(t *testing.T) {
	own := runHost(t, Config{Name: "Mine"})
	far := runHost(t, Config{Name: "Far"})
	farAddr := "127.0.0.1:" + strconv.Itoa(far.Port())
	if _, err := own.Pins.Check(far.ID, "Far", far.Fingerprint()); err != nil {
		t.Fatal(err)
	}
	webview := "wails://wails"
	ownWS := "ws://127.0.0.1:" + strconv.Itoa(own.Port()) + "/ws"
	base := relay.FilesURL(ownWS, farAddr, far.Fingerprint())

	ana := joinHost(t, "ws://"+farAddr+"/ws", "Ana")
	bruno := joinHost(t, "ws://"+farAddr+"/ws", "Bruno")
	joinRoom(t, ana, "general")
	joinRoom(t, bruno, "general")

	fa := fileClient{t: t, base: base, key: ana.filesKey, origin: webview}
	data := randomBytes(2<<20 + 5)
	res := fa.req("POST", protocol.UploadPath, nil, map[string]string{"Upload-Length": strconv.Itoa(len(data)),
		"Upload-Metadata": "filename " + base64.StdEncoding.EncodeToString([]byte("relay.bin"))})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusCreated || !strings.HasPrefix(loc, relay.FilesPath) || res.Header.Get("Access-Control-Allow-Origin") != webview {
		t.Fatalf("create through the relay: %s, Location %q, headers %v", res.Status, loc, res.Header)
	}
	id := loc[strings.LastIndex(loc, "/")+1:]
	fa.patch(id, 0, data[:1<<20])
	if off := fa.offset(id); off != 1<<20 {
		t.Fatalf("offset %d", off)
	}
	fa.patch(id, 1<<20, data[1<<20:])
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "a1", "text": "", "attachments": []string{id}}); err != nil {
		t.Fatal(err)
	}
	msg, ok := bruno.waitFor(5*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "a1" })
	if !ok {
		t.Fatal("no message")
	}
	fb := fileClient{t: t, base: base, key: bruno.filesKey, origin: webview}
	if code, got := fb.get("general", msg.Seq, msg.Attachments[0].ID); code != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download through the relay: %d, %d bytes", code, len(got))
	}

	// Not through the relay: a key never met, a route other than files,
	// a foreign page.
	other := fileClient{t: t, base: relay.FilesURL(ownWS, farAddr, strings.Repeat("a", 52)), key: bruno.filesKey, origin: webview}
	if code, _ := other.get("general", msg.Seq, msg.Attachments[0].ID); code != http.StatusForbidden {
		t.Fatalf("an unknown key: %d", code)
	}
	if res := fb.req("GET", "/api/peers", nil, nil); res.StatusCode != http.StatusNotFound {
		t.Fatalf("the relay passed /api/peers: %s", res.Status)
	}
	if res := fb.req("GET", "/files/../api/peers", nil, nil); res.StatusCode == http.StatusOK {
		t.Fatalf("the relay passed a dot-dot path: %s", res.Status)
	}
	evil := fileClient{t: t, base: base, key: bruno.filesKey, origin: "http://evil.example"}
	if code, _ := evil.get("general", msg.Seq, msg.Attachments[0].ID); code != http.StatusForbidden {
		t.Fatalf("a foreign page through the relay: %d", code)
	}
}

// TestClusterFilesOnEveryBox: a file sent on one box of a cluster is read
// by a member of another box, from that box, byte for byte (the cluster's
// object store carries it).
func TestClusterFilesOnEveryBox(t *testing.T) {
	boxes := startCluster(t, 3)
	ana := joinHost(t, boxes[0].ws(), "Ana")
	bruno := joinHost(t, boxes[1].ws(), "Bruno")
	joinRoom(t, ana, "general")
	joinRoom(t, bruno, "general")
	data := randomBytes(3<<20 + 11)
	id := filesOf(t, boxes[0].url(), ana).upload("slides.pdf", data)
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "a1", "text": "", "attachments": []string{id}}); err != nil {
		t.Fatal(err)
	}
	msg, ok := bruno.waitFor(20*time.Second, func(f frame) bool { return f.Type == "message" && f.ClientID == "a1" })
	if !ok || len(msg.Attachments) != 1 {
		t.Fatalf("Bruno, on another box, got %+v", msg)
	}
	code, got := filesOf(t, boxes[1].url(), bruno).get("general", msg.Seq, msg.Attachments[0].ID)
	if code != 200 || !bytes.Equal(got, data) {
		t.Fatalf("download from the other box: %d, %d bytes", code, len(got))
	}
}
