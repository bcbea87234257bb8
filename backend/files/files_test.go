package files

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

func TestUploadResumeAndDownload(t *testing.T) {
	g := newRig(t, Config{})
	g.m.add("k-ana", "ana", "general")
	data := random(5<<20 + 123)

	id, res := g.create("k-ana", "notas da aula.pdf", "application/pdf", len(data))
	if id == "" {
		t.Fatalf("create: %s %s", res.Status, readAll(res))
	}
	// The first PATCH is cut after 1.5 MiB: the connection dies mid-body.
	cut := 3 << 19
	req, _ := http.NewRequest("PATCH", g.srv.URL+protocol.UploadPath+id, io.MultiReader(bytes.NewReader(data[:cut]), failingReader{}))
	req.Header.Set(KeyHeader, "k-ana")
	req.Header.Set("Tus-Resumable", "1.0.0")
	req.Header.Set("Upload-Offset", "0")
	req.Header.Set("Content-Type", "application/offset+octet-stream")
	req.ContentLength = int64(len(data))
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatalf("a cut PATCH answered %s", res.Status)
	}
	off := waitOffset(t, g, "k-ana", id)
	if off > cut {
		t.Fatalf("offset %d past the %d bytes sent", off, cut)
	}
	if _, ok := g.s.Finished("ana", id); ok {
		t.Fatal("a half upload is already a file")
	}
	for off < len(data) {
		end := min(off+1<<20, len(data))
		if res := g.patch("k-ana", id, off, data[off:end]); res.StatusCode != http.StatusNoContent {
			t.Fatalf("PATCH at %d: %s %s", off, res.Status, readAll(res))
		}
		off = end
	}
	att, ok := g.s.Finished("ana", id)
	want := protocol.Attachment{ID: sha(data), Name: "notas da aula.pdf", Size: int64(len(data)), Type: "application/pdf"}
	if !ok || att != want {
		t.Fatalf("Finished = %+v, %v; want %+v", att, ok, want)
	}
	if _, ok := g.s.Finished("bruno", id); ok {
		t.Fatal("another member may attach Ana's upload")
	}
	// A client that lost the last answer asks again and hears it is complete.
	if got := g.offset("k-ana", id); got != len(data) {
		t.Fatalf("offset of a finished upload %d", got)
	}

	g.m.post("general", 7, att)
	res = g.get("k-ana", "general", 7, att.ID, nil)
	if body := readAll(res); res.StatusCode != 200 || body != string(data) {
		t.Fatalf("download: %s, %d bytes", res.Status, len(body))
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="notas da aula.pdf"; filename*=UTF-8''notas%20da%20aula.pdf` {
		t.Fatalf("Content-Disposition %q", cd)
	}
	res = g.get("k-ana", "general", 7, att.ID, map[string]string{"Range": "bytes=1000-1999"})
	if body := readAll(res); res.StatusCode != http.StatusPartialContent || body != string(data[1000:2000]) {
		t.Fatalf("range: %s, %d bytes", res.Status, len(body))
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// waitOffset waits until the host has written what arrived of a cut
// request (it does so once it notices the cut) and returns the offset.
func waitOffset(t *testing.T, g *rig, key, id string) int {
	t.Helper()
	for range 500 {
		if off := g.offset(key, id); off > 0 {
			return off
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("nothing of the cut request was kept")
	return 0
}

func TestLimitsRefuseBeforeTheBytes(t *testing.T) {
	g := newRig(t, Config{MaxFile: 1 << 20, MaxTotal: 3 << 20})
	g.m.add("k", "ana")
	for _, tc := range []struct {
		size   int
		status int
		code   string
	}{
		{1<<20 + 1, http.StatusRequestEntityTooLarge, protocol.CodeFileTooLarge},
		{0, http.StatusBadRequest, protocol.CodeBadFrame},
	} {
		id, res := g.create("k", "big.bin", "", tc.size)
		if id != "" || res.StatusCode != tc.status || problemOf(t, res).Code != tc.code {
			t.Fatalf("size %d: %q %s", tc.size, id, res.Status)
		}
	}
	// Three files of 1 MiB fill the host; uploads in progress count.
	for i := range 3 {
		if id, res := g.create("k", "f.bin", "", 1<<20); id == "" {
			t.Fatalf("upload %d refused: %s", i, res.Status)
		}
	}
	id, res := g.create("k", "f.bin", "", 1)
	if id != "" || res.StatusCode != http.StatusInsufficientStorage || !strings.Contains(problemOf(t, res).Message, "3.0 MB of 3.0 MB used") {
		t.Fatalf("a full host took more: %q %s", id, res.Status)
	}
}

func TestAccessIsRefused(t *testing.T) {
	g := newRig(t, Config{})
	g.m.add("k-ana", "ana", "general")
	g.m.add("k-bruno", "bruno", "other")
	data := []byte("the handout")
	id := g.upload("k-ana", "h.txt", "text/plain", data)
	att, _ := g.s.Finished("ana", id)
	g.m.post("general", 1, att)

	cases := []struct {
		name   string
		res    func() *http.Response
		status int
	}{
		{"upload without a key", func() *http.Response { _, r := g.create("", "x", "", 5); return r }, 403},
		{"upload with a stale key", func() *http.Response { _, r := g.create("k-gone", "x", "", 5); return r }, 403},
		{"upload from a foreign page", func() *http.Response {
			return g.do("POST", protocol.UploadPath, "k-ana", nil, map[string]string{"Origin": "http://evil.test", "Upload-Length": "5"})
		}, 403},
		{"another member's upload", func() *http.Response {
			id2, _ := g.create("k-ana", "y", "", 10)
			return g.patch("k-bruno", id2, 0, []byte("0123456789"))
		}, 404},
		{"a path for an upload id", func() *http.Response { return g.do("HEAD", protocol.UploadPath+"..%2f..%2fdone", "k-ana", nil, nil) }, 404},
		{"download without a key", func() *http.Response { return g.get("", "general", 1, att.ID, nil) }, 403},
		{"download by another room's member", func() *http.Response { return g.get("k-bruno", "general", 1, att.ID, nil) }, 403},
		{"download from a foreign page", func() *http.Response {
			return g.get("k-ana", "general", 1, att.ID, map[string]string{"Origin": "http://evil.test"})
		}, 403},
		{"download of a file the message does not carry", func() *http.Response { return g.get("k-ana", "general", 1, sha([]byte("other")), nil) }, 404},
		{"download by a traversal", func() *http.Response {
			return g.do("GET", protocol.FilePath+"..%2f..%2fdone?key=k-ana&room=general&seq=1", "", nil, nil)
		}, 404},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if res := tc.res(); res.StatusCode != tc.status {
				t.Fatalf("%s, want %d", res.Status, tc.status)
			}
		})
	}
	// The host's own page passes, and hears CORS for its origin.
	res := g.get("k-ana", "general", 1, att.ID, map[string]string{"Origin": hostOrigin})
	if readAll(res) != string(data) || res.Header.Get("Access-Control-Allow-Origin") != hostOrigin {
		t.Fatalf("own origin: %s %v", res.Status, res.Header)
	}
}

// TestOnlyRasterImagesShowInline: whatever a file is named or claims to
// be, only bytes that decode as PNG, JPEG, GIF or WebP are served inline;
// HTML and SVG with script download.
func TestOnlyRasterImagesShowInline(t *testing.T) {
	g := newRig(t, Config{})
	g.m.add("k", "ana", "general")
	script := `<html><body><script>alert(document.cookie)</script></body></html>`
	svg := `<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`
	for i, tc := range []struct {
		name, claimed string
		data          []byte
		inline        string // the inline type, "" for a download
	}{
		{"page.html", "text/html", []byte(script), ""},
		{"drawing.svg", "image/svg+xml", []byte(svg), ""},
		{"fake.png", "image/png", []byte(script), ""},
		{"doc.pdf", "application/pdf", []byte("%PDF-1.4 …"), ""},
		{"photo.png", "image/png", pngOf(40, 20), "image/png"},
		{"photo", "application/octet-stream", jpegOf(t, 16, 8, 0), "image/jpeg"},
	} {
		id := g.upload("k", tc.name, tc.claimed, tc.data)
		att, ok := g.s.Finished("ana", id)
		if !ok {
			t.Fatalf("%s: not finished", tc.name)
		}
		g.m.post("general", uint64(i+1), att)
		res := g.get("k", "general", uint64(i+1), att.ID, nil)
		readAll(res)
		h := res.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(h.Get("Content-Security-Policy"), "sandbox") {
			t.Fatalf("%s: headers %v", tc.name, h)
		}
		cd, ct := h.Get("Content-Disposition"), h.Get("Content-Type")
		if tc.inline == "" {
			if !strings.HasPrefix(cd, "attachment;") || ct != "application/octet-stream" || protocol.InlineImage(att.Type) {
				t.Fatalf("%s: served as %q, %q (type %q)", tc.name, ct, cd, att.Type)
			}
			continue
		}
		if !strings.HasPrefix(cd, "inline;") || ct != tc.inline || att.Type != tc.inline || att.Thumb == "" {
			t.Fatalf("%s: served as %q, %q; attachment %+v", tc.name, ct, cd, att)
		}
		// download=1 saves an image instead.
		res = g.do("GET", protocol.FilePath+att.ID+"?key=k&room=general&seq="+strconv.Itoa(i+1)+"&download=1", "", nil, nil)
		readAll(res)
		if !strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment;") {
			t.Fatalf("%s: download=1 gave %q", tc.name, res.Header.Get("Content-Disposition"))
		}
	}
}

func TestNamesAreCleaned(t *testing.T) {
	g := newRig(t, Config{})
	g.m.add("k", "ana")
	for _, tc := range []struct{ in, want string }{
		{"../../etc/passwd", "passwd"},
		{`..\..\boot.ini`, "boot.ini"},
		{"a\x00b\u202e.txt", "ab.txt"},
		{".bashrc", "bashrc"},
		{"", "file"},
		{"aula 3 — revisão.pdf", "aula 3 — revisão.pdf"},
	} {
		id := g.upload("k", tc.in, "", []byte("x"+tc.in))
		if att, _ := g.s.Finished("ana", id); att.Name != tc.want {
			t.Errorf("%q named %q, want %q", tc.in, att.Name, tc.want)
		}
	}
}

func TestDecompressionBombIsRefused(t *testing.T) {
	g := newRig(t, Config{MaxPixels: 10_000_000})
	g.m.add("k", "ana")
	bomb := pngOf(4, 4)
	setPNGSize(bomb, 100_000, 100_000)
	id, _ := g.create("k", "bomb.png", "image/png", len(bomb))
	res := g.patch("k", id, 0, bomb)
	if p := problemOf(t, res); res.StatusCode != http.StatusRequestEntityTooLarge || p.Code != protocol.CodeFileTooLarge || !strings.Contains(p.Message, "100000 × 100000") {
		t.Fatalf("bomb: %s %+v", res.Status, p)
	}
	if _, ok := g.s.Finished("ana", id); ok {
		t.Fatal("the bomb became a file")
	}
	if g.s.Used() != 0 || countFiles(t, filepath.Join(g.s.cfg.Dir, "blobs")) != 0 {
		t.Fatalf("the bomb left %d bytes counted", g.s.Used())
	}
}

func TestEXIFOrientationIsRespected(t *testing.T) {
	g := newRig(t, Config{})
	g.m.add("k", "ana", "general")
	// A 40 × 20 picture taken with the phone turned: shown 20 × 40.
	id := g.upload("k", "phone.jpg", "image/jpeg", jpegOf(t, 40, 20, 6))
	att, _ := g.s.Finished("ana", id)
	if att.Width != 20 || att.Height != 40 {
		t.Fatalf("size %d × %d, want 20 × 40", att.Width, att.Height)
	}
	g.m.post("general", 1, att)
	res := g.get("k", "general", 1, att.Thumb, nil)
	img, err := jpeg.Decode(res.Body)
	if err != nil || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("thumb: %v %v", err, res.Header)
	}
	if b := img.Bounds(); b.Dx() != 20 || b.Dy() != 40 {
		t.Fatalf("thumb %v, want 20 × 40", b)
	}
	// A big image's thumbnail fits ThumbSize.
	id = g.upload("k", "wide.png", "image/png", pngOf(1600, 400))
	att, _ = g.s.Finished("ana", id)
	g.m.post("general", 2, att)
	img, err = jpeg.Decode(g.get("k", "general", 2, att.Thumb, nil).Body)
	if err != nil || img.Bounds().Dx() != ThumbSize || img.Bounds().Dy() != 80 {
		t.Fatalf("thumb of 1600 × 400: %v %v", img.Bounds(), err)
	}
}

func TestTheSameFileIsStoredOnce(t *testing.T) {
	g := newRig(t, Config{})
	g.m.add("k", "ana")
	g.m.add("k2", "bruno")
	data := random(300 << 10)
	a1, _ := g.s.Finished("ana", g.upload("k", "a.bin", "", data))
	a2, _ := g.s.Finished("bruno", g.upload("k2", "b.bin", "", data))
	if a1.ID != a2.ID || a1.Name != "a.bin" || a2.Name != "b.bin" {
		t.Fatalf("%+v / %+v", a1, a2)
	}
	if n := countFiles(t, filepath.Join(g.s.cfg.Dir, "blobs")); n != 1 || g.s.Used() != int64(len(data)) {
		t.Fatalf("%d blobs, %d bytes counted", n, g.s.Used())
	}
}

func TestSweepDeletesWhatNoMessageUses(t *testing.T) {
	now := time.Now()
	refs := map[string]bool{}
	g := newRig(t, Config{Now: func() time.Time { return now }, Referenced: func() (map[string]bool, error) { return refs, nil }})
	g.m.add("k", "ana")
	kept, _ := g.s.Finished("ana", g.upload("k", "kept.png", "", pngOf(8, 8)))
	gone, _ := g.s.Finished("ana", g.upload("k", "gone.bin", "", []byte("deleted message")))
	fresh := g.upload("k", "stale.bin", "", []byte("never sent"))
	refs[kept.ID], refs[kept.Thumb] = true, true
	half, _ := g.create("k", "half.bin", "", 100)
	g.patch("k", half, 0, []byte("0123456789"))

	// A file sent and then deleted at once: only messages kept it.
	sentID := g.upload("k", "sent.bin", "", []byte("sent, then deleted"))
	sent, _ := g.s.Finished("ana", sentID)
	g.s.Attached([]string{sentID})
	if err := g.s.Sweep(); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.s.Finished("ana", fresh); !ok {
		t.Fatal("a fresh upload went before its grace")
	}
	if _, err := os.Stat(g.s.blobPath(sent.ID)); err == nil {
		t.Fatal("a deleted message's file stayed for the grace of fresh uploads")
	}
	now = now.Add(2 * time.Hour)
	if err := g.s.Sweep(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(g.s.blobPath(kept.ID)); err != nil {
		t.Fatal("a used file went")
	}
	if _, err := os.Stat(g.s.blobPath(kept.Thumb)); err != nil {
		t.Fatal("a used thumbnail went")
	}
	for _, id := range []string{gone.ID} {
		if _, err := os.Stat(g.s.blobPath(id)); err == nil {
			t.Fatal("an unused file stayed")
		}
	}
	if _, ok := g.s.Finished("ana", fresh); ok {
		t.Fatal("an upload never attached stayed past its grace")
	}
	if got := g.offset("k", half); got != 10 {
		t.Fatalf("an upload in progress went early: %d", got)
	}
	now = now.Add(25 * time.Hour)
	os.Chtimes(g.s.partialPath(half), now.Add(-25*time.Hour), now.Add(-25*time.Hour))
	if err := g.s.Sweep(); err != nil {
		t.Fatal(err)
	}
	if _, ok := g.s.readPartial(half); ok {
		t.Fatal("a stale upload stayed")
	}
	fi, _ := os.Stat(g.s.blobPath(kept.ID))
	th, _ := os.Stat(g.s.blobPath(kept.Thumb))
	if g.s.Used() != fi.Size()+th.Size() {
		t.Fatalf("%d bytes counted, %d kept", g.s.Used(), fi.Size()+th.Size())
	}
}

// TestRestartMidUpload: a host that stops mid-upload (its process gone)
// shows no file for it, counts it on restart, and the upload resumes.
func TestRestartMidUpload(t *testing.T) {
	dir := t.TempDir()
	g := newRig(t, Config{Dir: dir})
	g.m.add("k", "ana", "general")
	data := random(2 << 20)
	id, _ := g.create("k", "video.bin", "", len(data))
	g.patch("k", id, 0, data[:1<<20])
	g.srv.Close()

	g2 := newRig(t, Config{Dir: dir})
	g2.m.add("k", "ana", "general")
	if _, ok := g2.s.Finished("ana", id); ok || countFiles(t, filepath.Join(dir, "blobs")) != 0 {
		t.Fatal("a half upload is visible as a file")
	}
	if g2.s.Used() != int64(len(data)) {
		t.Fatalf("restart counts %d bytes, want the upload's %d", g2.s.Used(), len(data))
	}
	off := g2.offset("k", id)
	if res := g2.patch("k", id, off, data[off:]); res.StatusCode != http.StatusNoContent {
		t.Fatalf("resume: %s", res.Status)
	}
	if att, ok := g2.s.Finished("ana", id); !ok || att.ID != sha(data) {
		t.Fatalf("after resume %+v %v", att, ok)
	}
}

func FuzzJPEGOrientation(f *testing.F) {
	f.Add(jpegOf(f, 4, 2, 6))
	f.Add([]byte("\xff\xd8\xff\xe1\x00\x10Exif\x00\x00MM\x00*\x00\x00\x00\x08"))
	f.Fuzz(func(t *testing.T, b []byte) {
		if o := jpegOrientation(bytes.NewReader(b)); o < 1 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	return n
}

func pngOf(w, h int) []byte {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.NRGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	_ = png.Encode(&b, img)
	return b.Bytes()
}

// setPNGSize rewrites the IHDR of a PNG to claim w × h.
func setPNGSize(b []byte, w, h uint32) {
	binary.BigEndian.PutUint32(b[16:], w)
	binary.BigEndian.PutUint32(b[20:], h)
	binary.BigEndian.PutUint32(b[29:], crc32.ChecksumIEEE(b[12:29]))
}

// jpegOf encodes a w × h JPEG, with an EXIF orientation when orient > 0.
func jpegOf(t testing.TB, w, h, orient int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	if orient == 0 {
		return b.Bytes()
	}
	tiff := []byte("MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00")
	binary.BigEndian.PutUint16(tiff[18:], uint16(orient))
	seg := append([]byte("Exif\x00\x00"), tiff...)
	app1 := []byte{0xff, 0xe1, 0, 0}
	binary.BigEndian.PutUint16(app1[2:], uint16(len(seg)+2))
	out := append([]byte{0xff, 0xd8}, app1...)
	out = append(out, seg...)
	return append(out, b.Bytes()[2:]...)
}
