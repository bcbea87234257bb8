//go:build desktoptest

// Package desktoptest runs the built desktop binary for real: a window on
// Xvfb inside a network namespace of a LAN the test builds, watched by a
// headless `lanchat serve` on a second namespace. `make test-desktop`
// builds the binary and runs it (LANCHAT_BIN names the binary).
package desktoptest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/discovery"
	"lanchat/backend/discovery/nstest"
	"lanchat/backend/protocol"
)

// wait is the generous deadline for every condition.
const wait = 60 * time.Second

func TestDesktopWindow(t *testing.T) {
	bin := setup(t)
	outDir := outputDir(t)
	lan := nstest.NewLAN(t)
	desk := lan.AddHost("desk", 1)
	other := lan.AddHost("other", 2)

	// A headless host built with the desktop tags, with no display at all.
	serving := other.Serve(t, bin, "")
	otherID := serving.SelfID(t)

	busAddr, notes := startSessionBus(t, desk)
	display, app, dataDir := startDesktop(t, desk, bin, []string{"DBUS_SESSION_BUS_ADDRESS=" + busAddr})
	win := waitWindow(t, display, app)
	shot := filepath.Join(outDir, "desktop.png")
	st := waitRendered(t, display, win, shot)
	coldStart := time.Since(app.Started)
	fmt.Printf("desktop cold start, exec to a rendered window: %d ms (window mapped after %d ms)\n",
		coldStart.Milliseconds(), st.mapped.Sub(app.Started).Milliseconds())
	t.Logf("first frame: %s, %d colours, %.1f%% of the window not background", shot, st.colours, 100*st.ink)

	// The headless host on the other namespace lists the desktop host,
	// found over mDNS.
	id := hostID(t, dataDir)
	pl, ok := serving.WaitEvent(0, "added", id, wait)
	if !ok {
		t.Fatalf("the headless host never listed the desktop host %s; its output: %v", id, serving.Out.All())
	}
	if want := fmt.Sprintf("%s:%d", desk.IP, nstest.Port); pl.Addr != want || pl.Fields["mdns"] != "yes" {
		t.Errorf("desktop host listed as %s %+v, want at %s found by mDNS", pl.Addr, pl.Fields, want)
	}

	// The window is the app: Enter takes the prefilled name into the lobby,
	// the UI connects to its own host and the other host sees a member.
	xdo(t, display, "windowfocus", strconv.Itoa(int(win)))
	xdo(t, display, "key", "Return")
	if _, ok := serving.WaitEvent(pl.Index, "updated", id, wait); !ok {
		t.Fatalf("no update for the desktop host; output: %v", serving.Out.All())
	}
	var info struct {
		Members int `json:"members"`
		Rooms   []struct {
			Name    string `json:"name"`
			Members int    `json:"members"`
		} `json:"rooms"`
	}
	deadline := time.Now().Add(wait)
	for {
		if err := other.GetJSON(desk.URL("/api/info"), &info); err != nil {
			t.Fatal(err)
		}
		if info.Members >= 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the desktop UI never joined its own host")
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The first run also named this computer (the person's name, "… ’s room",
	// never just the login): the other host hears the new name over mDNS,
	// without a restart.
	if _, _, ok := serving.Out.Wait(pl.Index, wait, func(text string) bool {
		return strings.HasPrefix(text, "updated ") && strings.Contains(text, id) && strings.Contains(text, "’s room")
	}); !ok {
		t.Fatalf("the other host never heard the desktop host's chosen name; output: %v", serving.Out.All())
	}
	lobby := filepath.Join(outDir, "desktop-lobby.png")
	waitRendered(t, display, win, lobby)

	// And the desktop host lists the other one (its rail shows it).
	for deadline := time.Now().Add(wait); ; {
		var list discovery.PeersJSON
		if err := other.GetJSON(desk.URL("/api/peers"), &list); err != nil {
			t.Fatal(err)
		}
		if slices.ContainsFunc(list.Peers, func(p discovery.Peer) bool { return p.ID == otherID && !p.Self }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the desktop host never listed the other host: %+v", list.Peers)
		}
		time.Sleep(100 * time.Millisecond)
	}

	// A member on the other namespace.
	ws := join(t, other, desk)

	// A mention while the window is in the background becomes a desktop
	// notification. The message is repeated until one shows, as the focus
	// change reaches the page on its own time.
	if err := unfocus(display); err != nil {
		t.Fatal(err)
	}
	var note notification
	for deadline, n := time.Now().Add(wait), 0; note.App == ""; n++ {
		text := "hello root, lunch? (" + strconv.Itoa(n) + ")"
		if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Send{Room: "lobby", ClientID: "bia-" + strconv.Itoa(n), Text: text})); err != nil {
			t.Fatal(err)
		}
		select {
		case note = <-notes.got:
		case <-time.After(time.Second):
			if time.Now().After(deadline) {
				t.Fatal("a mention in the background showed no desktop notification")
			}
		}
	}
	if note.App != "lanchat" || !strings.Contains(note.Summary, "Bia") || !strings.Contains(note.Body, "hello root, lunch?") {
		t.Errorf("notification %+v, want lanchat's about Bia's message", note)
	}
	// The window's title counts what is unread.
	unreadTitle := regexp.MustCompile(`^\([1-9][0-9]*\) .+ — lanchat$`)
	for deadline := time.Now().Add(wait); ; time.Sleep(100 * time.Millisecond) {
		title := xdo(t, display, "getwindowname", strconv.FormatUint(uint64(win), 10))
		if unreadTitle.MatchString(title) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window title is %q, not an unread count", title)
		}
	}

	// Closing the window stops the host: clients get 1001, peers the goodbye.
	from := len(serving.Out.All())
	if err := closeWindow(display, win); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(ws); code != websocket.CloseGoingAway {
		t.Errorf("a member's connection ended with close code %d, want 1001", code)
	}
	if err := app.Wait(wait); err != nil {
		t.Errorf("the app did not exit cleanly after its window closed: %v", err)
	}
	if _, ok := serving.WaitEvent(from, "removed", id, wait); !ok {
		t.Errorf("the headless host still lists the desktop host; output: %v", serving.Out.All())
	}
}

// The desktop app quits like a closed window on SIGTERM (a logout, a
// shutdown); here on a port chosen with --port, and with a second copy on
// the same data dir turned away.
func TestDesktopQuitsOnSignal(t *testing.T) {
	bin := setup(t)
	lan := nstest.NewLAN(t)
	desk := lan.AddHost("desk", 1)
	other := lan.AddHost("other", 2)
	display, app, dataDir := startDesktop(t, desk, bin, nil, "--port", "47900")
	win := waitWindow(t, display, app)
	waitRendered(t, display, win, filepath.Join(t.TempDir(), "shot.png"))

	// A second copy on the same data dir (the same host id) opens no window
	// of its own: it brings the open one to the front and exits 0. The
	// window is hidden first (unmapped: Xvfb has no window manager to
	// minimise it), and the first copy shows it again.
	xdo(t, display, "windowunmap", "--sync", strconv.Itoa(int(win)))
	if visibleWindow(display, win) {
		t.Fatal("the window is still visible after unmapping it")
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	second := desk.Command(ctx, bin, "--data-dir", dataDir)
	second.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(display), "NO_AT_BRIDGE=1")
	if out, err := second.CombinedOutput(); err != nil || !strings.Contains(string(out), "brought to the front") {
		t.Errorf("a second app on the same data dir: %v: %s", err, out)
	}
	if !strings.Contains(app.Stderr(), "a second copy of lanchat was started with this data dir") {
		t.Errorf("the first app did not hear of the second; its stderr:\n%s", app.Stderr())
	}
	for deadline := time.Now().Add(wait); !visibleWindow(display, win); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first window was not brought back to the front")
		}
	}
	if w := waitWindow(t, display, app); w != win {
		t.Errorf("the visible window is %d, not the first one (%d)", w, win)
	}
	waitRendered(t, display, win, filepath.Join(t.TempDir(), "raised.png"))

	d := websocket.Dialer{NetDialContext: other.DialContext, HandshakeTimeout: 10 * time.Second}
	ws := joinURL(t, d, fmt.Sprintf("ws://%s:47900/ws", desk.IP))
	app.Signal(syscall.SIGTERM)
	if code := closeCode(ws); code != websocket.CloseGoingAway {
		t.Errorf("a member's connection ended with close code %d, want 1001", code)
	}
	if err := app.Wait(wait); err != nil {
		t.Errorf("the app did not exit cleanly on SIGTERM: %v", err)
	}
}

// setup checks what the tests need and clears the display variables:
// nothing may find a display by accident (the headless host must not need
// one; the window gets Xvfb's). It returns the binary under test.
func setup(t *testing.T) string {
	t.Helper()
	nstest.Require(t, "Xvfb", "xdotool", "import")
	for _, v := range []string{"DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS"} {
		if old, ok := os.LookupEnv(v); ok {
			os.Unsetenv(v)
			t.Cleanup(func() { os.Setenv(v, old) })
		}
	}
	return desktopBinary(t)
}

// startDesktop starts Xvfb and the desktop app in h, with a fresh home and
// data dir and env added, and returns the display, the app and its data dir.
func startDesktop(t *testing.T, h *nstest.Host, bin string, env []string, args ...string) (int, *nstest.Proc, string) {
	t.Helper()
	display := startXvfb(t, h)
	home := t.TempDir()
	dataDir := filepath.Join(home, "data")
	env = append(env,
		"DISPLAY=:"+strconv.Itoa(display), "HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"),
		"XDG_CACHE_HOME="+filepath.Join(home, ".cache"), "XDG_DATA_HOME="+filepath.Join(home, ".local/share"),
		"LANG=C.UTF-8", "LANGUAGE=", "LC_ALL=", "LC_MESSAGES=", "NO_AT_BRIDGE=1",
	)
	// GTK has once failed to open a display that had just accepted a
	// connection (a loaded machine): the app panics with "failed to init
	// GTK" at once. That start is logged and made again, at most twice more.
	for attempt := 1; ; attempt++ {
		app := h.Start(t, env, append([]string{bin, "--data-dir", dataDir}, args...)...)
		err := app.Wait(2 * time.Second)
		if attempt == 3 || err == nil || strings.Contains(err.Error(), "still running") || !strings.Contains(app.Stderr(), "failed to init GTK") {
			return display, app, dataDir
		}
		t.Logf("%s: the app could not open display :%d (attempt %d), starting it again; its stderr:\n%s", h.Name, display, attempt, app.Stderr())
	}
}

// desktopBinary is the desktop build under test.
func desktopBinary(t *testing.T) string {
	t.Helper()
	bin := os.Getenv("LANCHAT_BIN")
	if bin == "" {
		bin = "../../build/bin/lanchat"
	}
	bin, err := filepath.Abs(bin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("no desktop binary (make build makes it): %v", err)
	}
	return bin
}

// outputDir is test-output at the repository's root.
func outputDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../../test-output")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startXvfb starts a virtual screen in h and returns its display number.
//
// The number is chosen here, not with -displayfd: Xvfb then takes no lock
// file and finds a number free when its abstract socket binds, which
// always succeeds in a fresh network namespace, so two screens in two
// namespaces would both take :0 and share the socket file. With an
// explicit number Xvfb locks /tmp/.X<n>-lock and exits if it is taken.
func startXvfb(t *testing.T, h *nstest.Host) int {
	t.Helper()
	for n := 20; n < 200; n++ {
		if exists(fmt.Sprintf("/tmp/.X%d-lock", n)) || exists(fmt.Sprintf("/tmp/.X11-unix/X%d", n)) {
			continue
		}
		x := h.Start(t, nil, "Xvfb", ":"+strconv.Itoa(n), "-screen", "0", "1280x800x24", "-nolisten", "tcp", "-nocursor")
		if waitX(n, x) {
			t.Cleanup(func() { x.Signal(syscall.SIGTERM); x.Wait(10 * time.Second) }) // let it remove its lock file
			return n
		}
		x.Signal(syscall.SIGKILL)
		x.Wait(10 * time.Second)
	}
	t.Fatal("no free display for Xvfb")
	return 0
}

// waitX waits until display n accepts X clients while x runs; false when x
// ended first (the display was taken).
func waitX(n int, x *nstest.Proc) bool {
	for deadline := time.Now().Add(wait); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if err := x.Wait(0); err == nil || !strings.Contains(err.Error(), "still running") {
			return false
		}
		if c, err := dialX(n); err == nil {
			c.Close()
			return true
		}
	}
	return false
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

func xdo(t *testing.T, display int, args ...string) string {
	t.Helper()
	cmd := exec.Command("xdotool", args...)
	cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(display))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("xdotool %s: %v", strings.Join(args, " "), err)
	}
	return strings.TrimSpace(string(out))
}

// waitWindow waits for the app's visible top-level window.
func waitWindow(t *testing.T, display int, app *nstest.Proc) uint32 {
	t.Helper()
	deadline := time.Now().Add(wait)
	for {
		// "lanchat" at first, "(3) Sala 20 — lanchat" once there is something unread
		cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "lanchat$")
		cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(display))
		out, _ := cmd.Output()
		if f := strings.Fields(string(out)); len(f) > 0 {
			w, err := strconv.ParseUint(f[0], 10, 32)
			if err == nil {
				return uint32(w)
			}
		}
		if err := app.Wait(0); err == nil || !strings.Contains(err.Error(), "still running") {
			t.Fatalf("the app exited before showing a window: %v", err)
		}
		if time.Now().After(deadline) {
			t.Fatal("no lanchat window appeared")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// visibleWindow reports whether win is a visible lanchat window on display.
func visibleWindow(display int, win uint32) bool {
	cmd := exec.Command("xdotool", "search", "--onlyvisible", "--name", "lanchat$")
	cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(display))
	out, _ := cmd.Output()
	return slices.Contains(strings.Fields(string(out)), strconv.Itoa(int(win)))
}

// frame is what a screenshot of the window shows.
type frame struct {
	colours int     // distinct colours inside the window
	ink     float64 // share of the window's pixels not in its most common colour
	mapped  time.Time
}

// rendered reports whether a frame shows a page rather than a blank
// window: text and controls give many colours (anti-aliasing) and a
// noticeable share of non-background pixels.
func (f frame) rendered() bool { return f.colours >= 24 && f.ink >= 0.005 }

// waitRendered screenshots the screen into path until the window shows a
// rendered page.
func waitRendered(t *testing.T, display int, win uint32, path string) frame {
	t.Helper()
	mapped := time.Now()
	geo := xdo(t, display, "getwindowgeometry", "--shell", strconv.Itoa(int(win)))
	var x, y, w, h int
	for _, line := range strings.Fields(geo) {
		k, v, _ := strings.Cut(line, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "X":
			x = n
		case "Y":
			y = n
		case "WIDTH":
			w = n
		case "HEIGHT":
			h = n
		}
	}
	if w < 100 || h < 100 {
		t.Fatalf("window geometry %q", geo)
	}
	deadline := time.Now().Add(wait)
	var last frame
	for {
		cmd := exec.Command("import", "-window", "root", "png:"+path)
		cmd.Env = append(os.Environ(), "DISPLAY=:"+strconv.Itoa(display))
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("import: %v: %s", err, out)
		}
		last = analyse(t, path, image.Rect(x, y, x+w, y+h))
		last.mapped = mapped
		if last.rendered() {
			return last
		}
		if time.Now().After(deadline) {
			t.Fatalf("the window stayed blank: %d colours, %.2f%% ink (screenshot %s)", last.colours, 100*last.ink, path)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func analyse(t *testing.T, path string, r image.Rectangle) frame {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	r = r.Intersect(img.Bounds())
	counts := map[uint32]int{}
	for py := r.Min.Y; py < r.Max.Y; py++ {
		for px := r.Min.X; px < r.Max.X; px++ {
			cr, cg, cb, _ := img.At(px, py).RGBA()
			counts[(cr>>8)<<16|(cg>>8)<<8|cb>>8]++
		}
	}
	top, total := 0, r.Dx()*r.Dy()
	for _, n := range counts {
		top = max(top, n)
	}
	if total == 0 {
		return frame{}
	}
	return frame{colours: len(counts), ink: float64(total-top) / float64(total)}
}

// hostID reads the desktop host's id from its data dir.
func hostID(t *testing.T, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "host-id"))
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// closeCode reads until the connection ends and returns its close code
// (-1 when it ended without one).
func closeCode(ws *websocket.Conn) int {
	ws.SetReadDeadline(time.Now().Add(wait))
	for {
		if _, _, err := ws.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			return -1
		}
	}
}

// join connects from h to peer's host as a member and returns after the
// welcome.
func join(t *testing.T, h, peer *nstest.Host) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{NetDialContext: h.DialContext, HandshakeTimeout: 10 * time.Second}
	return joinURL(t, d, fmt.Sprintf("ws://%s:%d/ws", peer.IP, nstest.Port))
}

// joinURL connects to url with d as a member and returns after the welcome.
func joinURL(t *testing.T, d websocket.Dialer, url string) *websocket.Conn {
	t.Helper()
	ws, resp, err := d.Dial(url, http.Header{})
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", url, err, resp)
	}
	t.Cleanup(func() { ws.Close() })
	if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: protocol.Version, Name: "Bia"})); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for the welcome: %v", err)
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var f struct {
				Type string `json:"type"`
			}
			if err := dec.Decode(&f); err != nil {
				t.Fatal(err)
			}
			if f.Type == "welcome" {
				ws.SetReadDeadline(time.Time{})
				return ws
			}
		}
	}
}
