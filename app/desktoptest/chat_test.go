//go:build desktoptest

package desktoptest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/discovery"
	"lanchat/backend/discovery/nstest"
)

// desktop is one person's computer in the test: a host namespace with its
// own screen, session bus, home and the desktop app.
type desktop struct {
	host    *nstest.Host
	display int
	app     *nstest.Proc
	dataDir string
	win     uint32
	id      string // the host id
	listed  time.Duration
	notes   *notificationServer // the desktop notifications it showed
}

// Two desktop apps, each in its own namespace of a LAN, find each other
// over mDNS, and two people chat through the windows alone: Ana stays on
// her own host, Beto picks Ana's host in the left rail, each types a
// message into the composer and presses Enter. An observer member on
// Ana's host sees both messages; the windows are saved as screenshots.
func TestTwoDesktopsChat(t *testing.T) {
	bin := setup(t)
	outDir := outputDir(t)
	lan := nstest.NewLAN(t)
	a := &desktop{host: lan.AddHost("deska", 1)}
	b := &desktop{host: lan.AddHost("deskb", 2)}
	for _, d := range []*desktop{a, b} {
		var busAddr string
		busAddr, d.notes = startSessionBus(t, d.host)
		d.display, d.app, d.dataDir = startDesktop(t, d.host, bin, []string{"DBUS_SESSION_BUS_ADDRESS=" + busAddr},
			"--name", d.host.Name)
	}
	for _, d := range []*desktop{a, b} {
		d.win = waitWindow(t, d.display, d.app)
		waitRendered(t, d.display, d.win, filepath.Join(t.TempDir(), "first.png"))
		d.id = hostID(t, d.dataDir)
		t.Logf("%s: display :%d, window %d", d.host.Name, d.display, d.win)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range []*desktop{a, b} {
				shot := filepath.Join(outDir, "desktop-"+d.host.Name+"-failed.png")
				cmd := exec.Command("import", "-window", "root", "png:"+shot)
				cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(d.display))
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Logf("import: %v: %s", err, out)
				} else {
					t.Logf("%s at the failure: %s", d.host.Name, shot)
				}
			}
		}
	})

	// 1. Each host lists the other, found by mDNS on the namespace LAN.
	waitMutualListing(t, a, b)
	fmt.Printf("two desktops: %s lists %s %d ms after its start; %s lists %s %d ms after its start\n",
		a.host.Name, b.host.Name, a.listed.Milliseconds(), b.host.Name, a.host.Name, b.listed.Milliseconds())

	// A member on Ana's host, connected from Beto's computer, watches the
	// lobby.
	obs := observe(t, b.host, a.host)

	// 2. First run on both windows: a name, Enter.
	firstRun(t, a, "Ana")
	obs.mustSee(t, "Ana in the lobby of "+a.host.Name, inLobby("Ana"))
	firstRun(t, b, "Beto")
	waitMembers(t, b.host, 1)

	// Beto opens Ana's host from the rail with the keyboard: a click on the
	// rail's empty margin takes the focus off the composer, then Tab goes
	// to "This computer" (the rail's hosts are one Tab stop), the Down
	// arrow to the one host on the network, Enter opens it.
	settle(t, b)
	clickAt(t, b, 4, 4)
	xdo(t, b.display, "key", "--delay", "80", "Tab", "Down", "Return")
	obs.mustSee(t, "Beto in the lobby of "+a.host.Name, inLobby("Beto"))
	checkPinnedRelay(t, b, a)

	// Ana writes, Beto answers; both go through the composers.
	fromAna := "Hi Beto, this is Ana on deska"
	fromBeto := "Hello Ana, Beto here from deskb"
	say(t, a, fromAna)
	obs.mustSee(t, "Ana's message", said("Ana", fromAna))
	say(t, b, fromBeto)
	obs.mustSee(t, "Beto's reply", said("Beto", fromBeto))

	// Beto attaches a picture from the composer and sends it: the upload
	// goes from his window through his own host's relay to Ana's host,
	// which names the file by the sha256 of the bytes it got and makes
	// its thumbnail.
	picture := testPicture(t)
	attachImage(t, b, picture)
	sum := sha256.Sum256(picture)
	obs.mustSee(t, "Beto's picture", func(f wire) bool {
		return f.Type == "message" && f.From.Name == "Beto" && len(f.Attachments) == 1 &&
			f.Attachments[0].ID == hex.EncodeToString(sum[:]) && f.Attachments[0].Type == "image/png" && f.Attachments[0].Thumb != ""
	})

	// Beto mentions Ana from his composer: "@An" offers her name, Tab takes
	// it, and the message names her.
	settle(t, b)
	xdo(t, b.display, "windowfocus", "--sync", strconv.Itoa(int(b.win)))
	xdo(t, b.display, "type", "--delay", "30", "@An")
	settle(t, b)
	xdo(t, b.display, "key", "Tab")
	xdo(t, b.display, "type", "--delay", "30", "look at this")
	xdo(t, b.display, "key", "Return")
	mention := obs.mustSee(t, "Beto's mention of Ana", func(f wire) bool {
		return f.Type == "message" && f.From.Name == "Beto" && strings.HasPrefix(f.Text, "@Ana ") && strings.HasSuffix(f.Text, "look at this")
	})

	// Beto edits that message from his empty composer: Up opens its editor,
	// Ctrl+A selects its text, the new text replaces it and Return saves
	// it. The observer gets the edit of that message.
	edited := "Ana, look at this picture"
	settle(t, b)
	xdo(t, b.display, "windowfocus", "--sync", strconv.Itoa(int(b.win)))
	xdo(t, b.display, "key", "Up")
	settle(t, b)
	xdo(t, b.display, "key", "ctrl+a")
	xdo(t, b.display, "type", "--delay", "30", edited)
	xdo(t, b.display, "key", "Return")
	obs.mustSee(t, "Beto's edit of his mention", func(f wire) bool {
		return f.Type == "edited" && f.From.Name == "Beto" && f.Target == mention.Seq && f.Text == edited
	})

	// Ana, the host, announces from her window: F6 twice takes her from
	// her composer to the rooms column, five Tabs to its announcement form
	// (past "open a room", "new room" and its checkbox), Enter sends. Beto,
	// a member of her host in his own window, in the background, gets a
	// desktop notification; the observer on her host gets the frame. Each
	// try is another announcement, as the focus change reaches Beto's page
	// on its own time.
	if err := unfocus(b.display); err != nil {
		t.Fatal(err)
	}
	settle(t, a)
	xdo(t, a.display, "windowfocus", "--sync", strconv.Itoa(int(a.win)))
	xdo(t, a.display, "key", "--delay", "80", "F6", "F6", "Tab", "Tab", "Tab", "Tab", "Tab")
	var note notification
	for deadline, n := time.Now().Add(wait), 0; note.App == ""; n++ {
		text := fmt.Sprintf("Prova na sexta (%d)", n)
		xdo(t, a.display, "type", "--delay", "30", text)
		xdo(t, a.display, "key", "Return")
		obs.mustSee(t, "Ana's announcement", func(f wire) bool { return f.Type == "announcement" && f.From.Name == "Ana" && f.Text == text })
		select {
		case note = <-b.notes.got:
		case <-time.After(time.Second):
			if time.Now().After(deadline) {
				t.Fatal("an announcement showed Beto no desktop notification")
			}
		}
	}
	if note.App != "lanchat" || !strings.Contains(note.Summary, "Announcement from Ana") || !strings.HasPrefix(note.Body, "Prova na sexta (") {
		t.Errorf("notification %+v, want lanchat's of Ana's announcement", note)
	}

	// Both windows show the conversation.
	for _, s := range []struct {
		d    *desktop
		file string
	}{{a, "desktop-a-chat.png"}, {b, "desktop-b-chat.png"}} {
		settle(t, s.d)
		shot := filepath.Join(outDir, s.file)
		waitRendered(t, s.d.display, s.d.win, shot)
		t.Logf("screenshot: %s", shot)
	}

	// 3. Both windows close; Ana's host says goodbye to its members and
	// both apps exit cleanly.
	for _, d := range []*desktop{b, a} {
		if err := closeWindow(d.display, d.win); err != nil {
			t.Fatal(err)
		}
	}
	if code := obs.closeCode(); code != websocket.CloseGoingAway {
		t.Errorf("the observer's connection to %s ended with close code %d, want 1001", a.host.Name, code)
	}
	for _, d := range []*desktop{a, b} {
		if err := d.app.Wait(wait); err != nil {
			t.Errorf("%s did not exit cleanly after its window closed: %v", d.host.Name, err)
		}
	}
}

// waitMutualListing waits until each desktop's host lists the other as
// found by mDNS, at its address, and records when (from the app's start).
func waitMutualListing(t *testing.T, a, b *desktop) {
	t.Helper()
	lists := func(d, peer *desktop) (bool, []discovery.Peer) {
		var list discovery.PeersJSON
		if err := d.host.GetJSON(d.host.URL("/api/peers"), &list); err != nil {
			t.Fatalf("%s: %v", d.host.Name, err)
		}
		want := fmt.Sprintf("%s:%d", peer.host.IP, nstest.Port)
		return slices.ContainsFunc(list.Peers, func(p discovery.Peer) bool {
			return p.ID == peer.id && !p.Self && p.MDNS && p.Addr == want && p.Name == peer.host.Name
		}), list.Peers
	}
	for deadline := time.Now().Add(wait); a.listed == 0 || b.listed == 0; {
		for _, pair := range [][2]*desktop{{a, b}, {b, a}} {
			d, peer := pair[0], pair[1]
			if d.listed != 0 {
				continue
			}
			ok, peers := lists(d, peer)
			if ok {
				d.listed = time.Since(d.app.Started)
			} else if time.Now().After(deadline) {
				t.Fatalf("%s never listed %s (%s at %s) as found by mDNS: %+v", d.host.Name, peer.host.Name, peer.id, peer.host.IP, peers)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitMembers waits until h's host has at least n members.
func waitMembers(t *testing.T, h *nstest.Host, n int) {
	t.Helper()
	var info struct {
		Members int `json:"members"`
	}
	for deadline := time.Now().Add(wait); ; {
		if err := h.GetJSON(h.URL("/api/info"), &info); err != nil {
			t.Fatal(err)
		}
		if info.Members >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s has %d members, want %d", h.Name, info.Members, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// firstRun answers the first-run screen: the prefilled name replaced by
// name, then Enter.
func firstRun(t *testing.T, d *desktop, name string) {
	t.Helper()
	xdo(t, d.display, "windowfocus", "--sync", strconv.Itoa(int(d.win)))
	xdo(t, d.display, "key", "ctrl+a")
	xdo(t, d.display, "type", "--delay", "30", name)
	xdo(t, d.display, "key", "Return")
}

// say types text into the focused composer and sends it with Enter.
func say(t *testing.T, d *desktop, text string) {
	t.Helper()
	settle(t, d)
	xdo(t, d.display, "windowfocus", "--sync", strconv.Itoa(int(d.win)))
	xdo(t, d.display, "type", "--delay", "30", text)
	xdo(t, d.display, "key", "Return")
}

// clickAt clicks at x, y inside the window.
func clickAt(t *testing.T, d *desktop, x, y int) {
	t.Helper()
	xdo(t, d.display, "mousemove", "--window", strconv.Itoa(int(d.win)), "--sync", strconv.Itoa(x), strconv.Itoa(y))
	xdo(t, d.display, "click", "1")
}

// settle waits until the window's picture stops changing (a blinking
// caret aside), so that what the page is doing has been drawn before the
// next key or screenshot. It does not fail: a screen that keeps changing
// only ends the wait at its deadline.
func settle(t *testing.T, d *desktop) {
	t.Helper()
	r := geometry(t, d.display, d.win)
	path := filepath.Join(t.TempDir(), "settle.png")
	var last []uint32
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		px := grab(t, d.display, path, r)
		if last != nil && differing(px, last) < 400 {
			return
		}
		last = px
		time.Sleep(250 * time.Millisecond)
	}
	t.Logf("%s: the window kept changing", d.host.Name)
}

// geometry is the window's rectangle on the screen.
func geometry(t *testing.T, display int, win uint32) image.Rectangle {
	t.Helper()
	geo := xdo(t, display, "getwindowgeometry", "--shell", strconv.Itoa(int(win)))
	v := map[string]int{}
	for _, line := range strings.Fields(geo) {
		k, s, _ := strings.Cut(line, "=")
		v[k], _ = strconv.Atoi(s)
	}
	return image.Rect(v["X"], v["Y"], v["X"]+v["WIDTH"], v["Y"]+v["HEIGHT"])
}

// grab screenshots the screen into path and returns the pixels in r.
func grab(t *testing.T, display int, path string, r image.Rectangle) []uint32 {
	t.Helper()
	cmd := exec.Command("import", "-window", "root", "png:"+path)
	cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(display))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("import: %v: %s", err, out)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r = r.Intersect(img.Bounds())
	px := make([]uint32, 0, r.Dx()*r.Dy())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			px = append(px, (cr>>8)<<16|(cg>>8)<<8|cb>>8)
		}
	}
	return px
}

func differing(p, q []uint32) int {
	if len(p) != len(q) {
		return max(len(p), len(q))
	}
	n := 0
	for i := range p {
		if p[i] != q[i] {
			n++
		}
	}
	return n
}

// wire is the part of a server frame the observer looks at.
type wire struct {
	Type   string `json:"type"`
	Room   string `json:"room"`
	Seq    int64  `json:"seq"`
	Target int64  `json:"target"` // what an event (an edit, a reaction) acts on
	Text   string `json:"text"`
	From   struct {
		Name string `json:"name"`
	} `json:"from"`
	Changes []struct {
		Event  string `json:"event"`
		Member struct {
			Name string `json:"name"`
		} `json:"member"`
	} `json:"changes"`
	Members []struct {
		Name string `json:"name"`
	} `json:"members"`
	Attachments []struct {
		ID    string `json:"id"`
		Type  string `json:"type"`
		Thumb string `json:"thumb"`
	} `json:"attachments"`
}

// observer is a member of a host that records every frame it gets.
type observer struct {
	ws     *websocket.Conn
	mu     sync.Mutex
	frames []wire
	change chan struct{} // closed and replaced on every new frame
	done   chan struct{} // closed when the connection has ended
	code   int           // its close code, -1 without one
}

// observe joins peer's host from h as "Observer" and records its frames
// until the connection ends; cleanup closes it and waits for the reader.
func observe(t *testing.T, h, peer *nstest.Host) *observer {
	t.Helper()
	o := &observer{ws: join(t, h, peer), change: make(chan struct{}), done: make(chan struct{}), code: -1}
	go o.read()
	t.Cleanup(func() {
		o.ws.Close()
		<-o.done
	})
	return o
}

func (o *observer) read() {
	defer close(o.done)
	for {
		_, b, err := o.ws.ReadMessage()
		if err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				o.code = ce.Code
			}
			return
		}
		// The host may put several frames in one message, one a line.
		for _, line := range bytes.Split(b, []byte("\n")) {
			var f wire
			if json.Unmarshal(line, &f) != nil {
				continue
			}
			o.mu.Lock()
			o.frames = append(o.frames, f)
			close(o.change)
			o.change = make(chan struct{})
			o.mu.Unlock()
		}
	}
}

// mustSee waits for a frame that match accepts and returns it.
func (o *observer) mustSee(t *testing.T, what string, match func(wire) bool) wire {
	t.Helper()
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for i := 0; ; {
		o.mu.Lock()
		for ; i < len(o.frames); i++ {
			if match(o.frames[i]) {
				f := o.frames[i]
				o.mu.Unlock()
				return f
			}
		}
		change := o.change
		o.mu.Unlock()
		select {
		case <-change:
		case <-o.done:
			t.Fatalf("the observer's connection ended before %s", what)
		case <-deadline.C:
			t.Fatalf("the observer never saw %s; it saw %+v", what, o.all())
		}
	}
}

func (o *observer) all() []wire {
	o.mu.Lock()
	defer o.mu.Unlock()
	return slices.Clone(o.frames)
}

// closeCode waits for the connection to end and returns its close code.
func (o *observer) closeCode() int {
	select {
	case <-o.done:
		return o.code
	case <-time.After(wait):
		return -1
	}
}

// inLobby matches name joining the lobby, or listed in it when the
// observer joined.
func inLobby(name string) func(wire) bool {
	return func(f wire) bool {
		if f.Room != lobby {
			return false
		}
		switch f.Type {
		case "presence":
			for _, c := range f.Changes {
				if c.Event == "joined" && c.Member.Name == name {
					return true
				}
			}
			return false
		case "joined":
			return slices.ContainsFunc(f.Members, func(m struct {
				Name string `json:"name"`
			}) bool {
				return m.Name == name
			})
		}
		return false
	}
}

// said matches a lobby message from name with text.
func said(name, text string) func(wire) bool {
	return func(f wire) bool {
		return f.Type == "message" && f.Room == lobby && f.From.Name == name && f.Text == text
	}
}

// lobby is the room every member is in.
const lobby = "lobby"

// checkPinnedRelay checks that d reached peer over TLS pinned to peer's key:
// d's host lists peer with the key peer serves, remembered in d's
// pins.json, and the connections from d's namespace to peer's port are the
// app's own (its relay), none the webview's.
func checkPinnedRelay(t *testing.T, d, peer *desktop) {
	t.Helper()
	var info struct {
		Fingerprint string `json:"fingerprint"`
	}
	if err := d.host.GetJSON(peer.host.URL("/api/info"), &info); err != nil || info.Fingerprint == "" {
		t.Fatalf("%s info: %+v %v", peer.host.Name, info, err)
	}
	var list discovery.PeersJSON
	if err := d.host.GetJSON(d.host.URL("/api/peers"), &list); err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(list.Peers, func(p discovery.Peer) bool {
		return p.ID == peer.id && p.Fingerprint == info.Fingerprint && p.Trust == "new"
	}) {
		t.Errorf("%s lists %s without its key: %+v", d.host.Name, peer.host.Name, list.Peers)
	}
	if b, err := os.ReadFile(filepath.Join(d.dataDir, "pins.json")); err != nil || !strings.Contains(string(b), info.Fingerprint) {
		t.Errorf("%s pins.json: %s %v", d.host.Name, b, err)
	}
	out, err := exec.Command("ip", "netns", "exec", d.host.NS, "ss", "-Htnp", "state", "established",
		"dst", fmt.Sprintf("%s:%d", peer.host.IP, nstest.Port)).CombinedOutput()
	if err != nil {
		t.Fatalf("ss: %v: %s", err, out)
	}
	// The test's own observer connects from d's namespace too; every other
	// connection must be the app's.
	app := 0
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		switch {
		case strings.Contains(l, `(("lanchat",`):
			app++
		case strings.Contains(l, `(("desktoptest`):
		default:
			t.Errorf("a connection to %s not made by the app's relay: %s", peer.host.Name, l)
		}
	}
	if app == 0 {
		t.Fatalf("no connection from %s's app to %s: %s", d.host.Name, peer.host.Name, out)
	}
	t.Logf("%s reaches %s through its relay, key %s: %d connection(s)", d.host.Name, peer.host.Name, info.Fingerprint[:16], app)
}

// testPicture is a small PNG with a pattern (so that its thumbnail shows
// something).
func testPicture(t *testing.T) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 120, 80))
	for y := range 80 {
		for x := range 120 {
			img.Set(x, y, color.NRGBA{uint8(x * 2), uint8(y * 3), 160, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// attachImage sends a picture the way a desktop user does: Tab from the
// composer to the attach button, Enter opens the file chooser, the path is
// typed into it, Enter picks the file; the composer has the focus again and
// Enter sends.
func attachImage(t *testing.T, d *desktop, png []byte) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "picture.png")
	if err := os.WriteFile(path, png, 0o600); err != nil {
		t.Fatal(err)
	}
	settle(t, d)
	xdo(t, d.display, "windowfocus", "--sync", strconv.Itoa(int(d.win)))
	xdo(t, d.display, "key", "Tab", "Return")
	chooser := waitOtherWindow(t, d)
	settle(t, d)
	xdo(t, d.display, "windowfocus", "--sync", chooser)
	// A "/" typed into GTK's file chooser opens its location entry.
	xdo(t, d.display, "type", "--delay", "60", path)
	settle(t, d)
	xdo(t, d.display, "key", "Return")
	waitNoOtherWindow(t, d)
	settle(t, d)
	xdo(t, d.display, "windowfocus", "--sync", strconv.Itoa(int(d.win)))
	xdo(t, d.display, "key", "Return")
}

// waitNoOtherWindow waits until the app's main window is the only one.
func waitNoOtherWindow(t *testing.T, d *desktop) {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(200 * time.Millisecond) {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", ".")
		cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(d.display))
		out, _ := cmd.Output()
		if slices.Equal(strings.Fields(string(out)), []string{strconv.Itoa(int(d.win))}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the file chooser stayed open: windows %q", out)
		}
	}
}

// waitOtherWindow waits for a visible window of d's screen other than the
// app's main window (a dialog) and returns its id.
func waitOtherWindow(t *testing.T, d *desktop) string {
	t.Helper()
	for deadline := time.Now().Add(wait); ; time.Sleep(200 * time.Millisecond) {
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", ".")
		cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(d.display))
		out, _ := cmd.Output()
		for _, w := range strings.Fields(string(out)) {
			if w != strconv.Itoa(int(d.win)) {
				return w
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no file chooser opened")
		}
	}
}
