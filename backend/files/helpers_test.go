package files

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"lanchat/backend/protocol"
)

// members is a hub stand-in: keys to owners, and which files each key may
// read (by room and seq, from the messages "sent").
type members struct {
	mu      sync.Mutex
	owners  map[string]string                // key → owner
	uploads string                           // protocol.Uploads…
	msgs    map[string][]protocol.Attachment // "room/seq" → files
	readers map[string]map[string]bool       // key → rooms
}

func newMembers() *members {
	return &members{owners: map[string]string{}, msgs: map[string][]protocol.Attachment{}, readers: map[string]map[string]bool{}, uploads: protocol.UploadsEveryone}
}

func (m *members) add(key, owner string, rooms ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.owners[key] = owner
	m.readers[key] = map[string]bool{}
	for _, r := range rooms {
		m.readers[key][r] = true
	}
}

func (m *members) post(room string, seq uint64, atts ...protocol.Attachment) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.msgs[room+"/"+strconv.FormatUint(seq, 10)] = atts
}

func (m *members) Uploader(key string) (string, *protocol.Problem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	o, ok := m.owners[key]
	if !ok {
		return "", protocol.Errorf(protocol.CodeForbidden, "join the chat to send or open files")
	}
	if m.uploads != protocol.UploadsEveryone {
		return "", protocol.Errorf(protocol.CodeUploadsOff, "off")
	}
	return o, nil
}

func (m *members) Readable(key, room string, seq uint64, id string) (protocol.Attachment, bool, *protocol.Problem) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.owners[key]; !ok {
		return protocol.Attachment{}, false, protocol.Errorf(protocol.CodeForbidden, "join the chat")
	}
	if !m.readers[key][room] {
		return protocol.Attachment{}, false, protocol.Errorf(protocol.CodeNotInRoom, "join the room")
	}
	for _, a := range m.msgs[room+"/"+strconv.FormatUint(seq, 10)] {
		if a.ID == id {
			return a, false, nil
		}
		if a.Thumb == id {
			return a, true, nil
		}
	}
	return protocol.Attachment{}, false, protocol.Errorf(protocol.CodeNoSuchFile, "none")
}

// rig is a store served over HTTP on loopback.
type rig struct {
	t   *testing.T
	s   *Store
	m   *members
	srv *httptest.Server
}

const hostOrigin = "http://host.test"

func newRig(t *testing.T, cfg Config) *rig {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	m := newMembers()
	h, err := s.Handler(m, func(r *http.Request) bool { return r.Header.Get("Origin") == hostOrigin })
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &rig{t: t, s: s, m: m, srv: srv}
}

// do sends a request with the files key (when key != "").
func (g *rig) do(method, path, key string, body io.Reader, hdr map[string]string) *http.Response {
	g.t.Helper()
	req, err := http.NewRequest(method, g.srv.URL+path, body)
	if err != nil {
		g.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set(KeyHeader, key)
	}
	req.Header.Set("Tus-Resumable", "1.0.0")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		g.t.Fatal(err)
	}
	g.t.Cleanup(func() { res.Body.Close() })
	return res
}

// create starts an upload and returns its id, or the refusal.
func (g *rig) create(key, name, typ string, size int) (string, *http.Response) {
	g.t.Helper()
	md := "filename " + base64.StdEncoding.EncodeToString([]byte(name))
	if typ != "" {
		md += ",filetype " + base64.StdEncoding.EncodeToString([]byte(typ))
	}
	res := g.do("POST", protocol.UploadPath, key, nil, map[string]string{"Upload-Length": strconv.Itoa(size), "Upload-Metadata": md})
	if res.StatusCode != http.StatusCreated {
		return "", res
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		g.t.Fatal(err)
	}
	return loc.Path[strings.LastIndex(loc.Path, "/")+1:], res
}

// patch sends data at offset.
func (g *rig) patch(key, id string, offset int, data []byte) *http.Response {
	g.t.Helper()
	return g.do("PATCH", protocol.UploadPath+id, key, bytes.NewReader(data), map[string]string{
		"Upload-Offset": strconv.Itoa(offset), "Content-Type": "application/offset+octet-stream"})
}

// offset asks where the upload stands.
func (g *rig) offset(key, id string) int {
	g.t.Helper()
	res := g.do("HEAD", protocol.UploadPath+id, key, nil, nil)
	if res.StatusCode != http.StatusOK {
		g.t.Fatalf("HEAD %s: %s", id, res.Status)
	}
	n, err := strconv.Atoi(res.Header.Get("Upload-Offset"))
	if err != nil {
		g.t.Fatal(err)
	}
	return n
}

// upload sends data whole in chunks and returns the upload id.
func (g *rig) upload(key, name, typ string, data []byte) string {
	g.t.Helper()
	id, res := g.create(key, name, typ, len(data))
	if id == "" {
		g.t.Fatalf("create: %s %s", res.Status, readAll(res))
	}
	const chunk = 1 << 20
	for off := 0; off < len(data); off += chunk {
		res := g.patch(key, id, off, data[off:min(off+chunk, len(data))])
		if res.StatusCode != http.StatusNoContent {
			g.t.Fatalf("PATCH at %d: %s %s", off, res.Status, readAll(res))
		}
	}
	return id
}

// get downloads a message's file with key.
func (g *rig) get(key, room string, seq uint64, id string, hdr map[string]string) *http.Response {
	g.t.Helper()
	q := url.Values{"key": {key}, "room": {room}, "seq": {strconv.FormatUint(seq, 10)}}
	return g.do("GET", protocol.FilePath+id+"?"+q.Encode(), "", nil, hdr)
}

func readAll(res *http.Response) string {
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// problemOf decodes an error answer.
func problemOf(t *testing.T, res *http.Response) protocol.Error {
	t.Helper()
	var e protocol.Error
	body := readAll(res)
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("%s: not an error frame: %q", res.Status, body)
	}
	return e
}

func random(n int) []byte {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return b
}

func sha(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}
