package app

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"go.uber.org/goleak"

	"lanchat/backend/discovery"
	"lanchat/backend/host"
	"lanchat/backend/protocol"
)

// tusd lets a request's context outlive it by a few seconds (so a store
// may save what an aborted upload sent); that goroutine ends on its own.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/tus/tusd/v2/pkg/handler.newDelayedContext.func1"))
}

// runningHost is a host on loopback with mDNS off, and its app bridge.
type runningHost struct {
	h   *host.Host
	app *App
}

func startHost(t *testing.T, name string) *runningHost {
	t.Helper()
	token, err := newToken()
	if err != nil {
		t.Fatal(err)
	}
	cfg := host.Config{
		Addr: "127.0.0.1:0", Name: name, DataDir: t.TempDir(), Version: "9.9.9",
		HostToken: token, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	h, err := host.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	st, err := loadSettings(cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- h.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("host %s: %v", name, err)
		}
	})
	return &runningHost{h: h, app: newApp(h, cfg, st)}
}

// hello connects to ws as the desktop webview would and returns the welcome.
// hello says hello as name (each caller its own: the host may not yet have
// seen an earlier connection with the same name close) and returns the welcome.
func hello(t *testing.T, wsURL, name, token string) protocol.Welcome {
	t.Helper()
	hdr := http.Header{"Origin": {"wails://wails"}}
	ws, _, err := (&websocket.Dialer{HandshakeTimeout: 5 * time.Second}).Dial(wsURL, hdr)
	if err != nil {
		t.Fatalf("dial %s: %v", wsURL, err)
	}
	defer ws.Close()
	if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: protocol.Version, Name: name, HostToken: token})); err != nil {
		t.Fatal(err)
	}
	ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("waiting for the welcome: %v", err)
		}
		// A message may carry several frames, one JSON value each.
		dec := json.NewDecoder(bytes.NewReader(b))
		for dec.More() {
			var w protocol.Welcome
			if err := dec.Decode(&w); err != nil {
				t.Fatalf("frame %s: %v", b, err)
			}
			if w.Type == "welcome" {
				return w
			}
		}
	}
}

func TestSelfDescribesTheRunningHost(t *testing.T) {
	rh := startHost(t, "Ana's laptop")
	s := rh.app.Self()
	if s.Name != "Ana's laptop" || s.ID != rh.h.ID || s.Version != "9.9.9" {
		t.Errorf("self %+v does not name the host (id %s)", s, rh.h.ID)
	}
	if s.Port != rh.h.Port() || s.Port == 0 {
		t.Errorf("port %d, host listens on %d", s.Port, rh.h.Port())
	}
	if want := "ws://127.0.0.1:" + strconv.Itoa(rh.h.Port()) + "/ws"; s.WSURL != want {
		t.Errorf("ws_url %q, want %q", s.WSURL, want)
	}
	if len(s.JoinURLs) == 0 {
		t.Error("no join URLs")
	}
	if s.Fingerprint == "" || s.Fingerprint != rh.h.Identity.Fingerprint {
		t.Errorf("fingerprint %q, host key %q", s.Fingerprint, rh.h.Identity.Fingerprint)
	}
	for _, u := range s.JoinURLs {
		if strings.Contains(u, s.HostToken) {
			t.Errorf("join URL %q carries the host token", u)
		}
	}
	if b, err := hex.DecodeString(s.HostToken); err != nil || len(b) != 32 {
		t.Errorf("host token %q is not 32 random bytes in hex", s.HostToken)
	}
}

func TestHostTokenGivesTheHostRole(t *testing.T) {
	rh := startHost(t, "Ana's laptop")
	s := rh.app.Self()
	if w := hello(t, s.WSURL, "Ana", s.HostToken); w.Member.Role != protocol.RoleHost {
		t.Errorf("with the host token the member's role is %q, want %q", w.Member.Role, protocol.RoleHost)
	}
	if w := hello(t, s.WSURL, "Bia", strings.Repeat("0", 64)); w.Member.Role == protocol.RoleHost {
		t.Error("a wrong token got the host role")
	}
	if w := hello(t, s.WSURL, "Caio", ""); w.Member.Role == protocol.RoleHost {
		t.Error("no token got the host role")
	}
}

func TestSelfShowsTheJoinCode(t *testing.T) {
	rh := startHost(t, "Ana's laptop")
	if c := rh.app.Self().JoinCode; c != "" {
		t.Errorf("join code %q before one was set", c)
	}
	if p := rh.h.Hub.SetJoinCode("turma42"); p != nil {
		t.Fatal(p)
	}
	if c := rh.app.Self().JoinCode; c != "turma42" {
		t.Errorf("join code %q, want turma42", c)
	}
}

func TestTokensDiffer(t *testing.T) {
	a, err1 := newToken()
	b, err2 := newToken()
	if err1 != nil || err2 != nil || a == b {
		t.Errorf("tokens %q and %q (%v, %v)", a, b, err1, err2)
	}
}

func TestSettingsOverTheBridge(t *testing.T) {
	rh := startHost(t, "Ana's laptop")
	if err := rh.app.SaveSettings(Settings{Name: "Ana", Language: "pt-BR"}); err != nil {
		t.Fatal(err)
	}
	if got := rh.app.Settings(); got.Name != "Ana" || got.Language != "pt-BR" || got.DataDir == "" {
		t.Errorf("settings %+v after saving", got)
	}
	if err := rh.app.SaveSettings(Settings{Name: ""}); err == nil {
		t.Error("an empty name was saved")
	}
}

// recorder keeps what the feed emits.
type recorder struct {
	mu    sync.Mutex
	lists [][]Peer
	more  chan struct{}
}

func newRecorder() *recorder { return &recorder{more: make(chan struct{}, 1)} }

func (r *recorder) emit(l []Peer) {
	r.mu.Lock()
	r.lists = append(r.lists, l)
	r.mu.Unlock()
	select {
	case r.more <- struct{}{}:
	default:
	}
}

// waitFor waits until an emitted list satisfies ok.
func (r *recorder) waitFor(t *testing.T, what string, ok func([]Peer) bool) []Peer {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		r.mu.Lock()
		for _, l := range r.lists {
			if ok(l) {
				r.mu.Unlock()
				return l
			}
		}
		r.mu.Unlock()
		select {
		case <-r.more:
		case <-deadline:
			t.Fatalf("no peer list with %s; emitted: %+v", what, r.lists)
		}
	}
}

func has(l []Peer, id string, self bool) bool {
	for _, p := range l {
		if p.ID == id && p.Self == self {
			return true
		}
	}
	return false
}

func TestPeersAddAndLiveEvents(t *testing.T) {
	a := startHost(t, "Ana")
	b := startHost(t, "Bia")

	rec := newRecorder()
	a.app.peers.emit = rec.emit
	ctx, cancel := context.WithCancel(context.Background())
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		a.app.peers.Watch(ctx)
	}()
	defer func() { cancel(); <-watched }()

	rec.waitFor(t, "this computer", func(l []Peer) bool { return has(l, a.h.ID, true) })
	if l := a.app.Peers(); len(l) != 1 || !l[0].Self {
		t.Fatalf("before adding, peers are %+v", l)
	}

	p, err := a.app.AddPeer("127.0.0.1:" + strconv.Itoa(b.h.Port()))
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != b.h.ID || p.Name != "Bia" || !p.Manual {
		t.Errorf("AddPeer returned %+v, want Bia (%s), manual", p, b.h.ID)
	}
	rec.waitFor(t, "Bia", func(l []Peer) bool { return has(l, b.h.ID, false) && has(l, a.h.ID, true) })
	if !has(a.app.Peers(), b.h.ID, false) {
		t.Errorf("Peers() lacks Bia: %+v", a.app.Peers())
	}

	if _, err := a.app.AddPeer("not an address::"); err == nil {
		t.Error("a malformed address was added")
	}
	if d := a.app.Diagnosis(); d.Enabled || d.Reason == "" {
		t.Errorf("with mDNS off the diagnosis says enabled=%v reason=%q", d.Enabled, d.Reason)
	}
}

// fakeDiscovery sends events on demand, for the feed's coalescing.
type fakeDiscovery struct {
	mu     sync.Mutex
	peers  []Peer
	events chan discovery.Event
}

func (f *fakeDiscovery) Peers() []Peer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Peer(nil), f.peers...)
}
func (f *fakeDiscovery) AddManual(context.Context, string) (Peer, error)  { return Peer{}, nil }
func (f *fakeDiscovery) Subscribe(context.Context) <-chan discovery.Event { return f.events }
func (f *fakeDiscovery) Diagnosis() Diagnosis                             { return Diagnosis{} }
func (f *fakeDiscovery) ForgetKey(string) error                           { return nil }

func TestWatchSendsWholeListsAndEndsWithDiscovery(t *testing.T) {
	fd := &fakeDiscovery{events: make(chan discovery.Event, 8)}
	rec := newRecorder()
	feed := &peerFeed{disc: fd, emit: rec.emit}
	fd.peers = []Peer{{ID: "self", Self: true}, {ID: "p1"}, {ID: "p2"}}
	for _, p := range fd.peers {
		fd.events <- discovery.Event{Type: discovery.Added, Peer: p}
	}
	done := make(chan struct{})
	go func() { defer close(done); feed.Watch(context.Background()) }()
	rec.waitFor(t, "all three", func(l []Peer) bool { return len(l) == 3 })
	fd.mu.Lock()
	fd.peers = fd.peers[:2]
	fd.mu.Unlock()
	fd.events <- discovery.Event{Type: discovery.Removed, Peer: Peer{ID: "p2"}}
	rec.waitFor(t, "p2 gone", func(l []Peer) bool { return len(l) == 2 && !has(l, "p2", false) })
	close(fd.events)
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Watch did not end when discovery's channel closed")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for _, l := range rec.lists {
		if l == nil {
			t.Error("emitted a nil list")
		}
	}
}

func TestAwaitAdvertisingReturnsWhenDiscoveryIsOff(t *testing.T) {
	rh := startHost(t, "Ana")
	done := make(chan bool, 1)
	go func() { done <- awaitAdvertising(context.Background(), rh.h.Discovery, time.Hour) }()
	select {
	case adv := <-done:
		if adv {
			t.Error("reported advertising with mDNS off")
		}
	case <-time.After(15 * time.Second):
		t.Fatal("kept waiting although discovery said it is off")
	}
}

func TestTruncate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"hello", 5, "hello"},
		{"hello!", 5, "hell…"},
		{"ããããã", 3, "ãã…"},
	} {
		if got := truncate(tc.in, tc.n); got != tc.want {
			t.Errorf("truncate(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
}

// SetHostName renames the running host for everyone, is what Self says from
// then on, and is kept for the next start; a name the protocol refuses
// changes nothing.
func TestSetHostName(t *testing.T) {
	rh := startHost(t, "root")
	if n := rh.app.Settings().HostName; n != "" {
		t.Fatalf("before a name was chosen, Settings().HostName %q (the first run would not ask)", n)
	}
	got, err := rh.app.SetHostName("  Sala da Prof. Ana ")
	if err != nil || got != "Sala da Prof. Ana" {
		t.Fatalf("SetHostName: %q, %v", got, err)
	}
	if n := rh.app.Self().Name; n != "Sala da Prof. Ana" {
		t.Errorf("Self().Name %q", n)
	}
	if n := rh.h.Server.Info().Name; n != "Sala da Prof. Ana" {
		t.Errorf("/api/info name %q", n)
	}
	if n := rh.app.Settings().HostName; n != "Sala da Prof. Ana" {
		t.Errorf("Settings().HostName %q", n)
	}
	again, err := loadSettings(rh.app.settings.dataDir)
	if err != nil || again.Get().HostName != "Sala da Prof. Ana" {
		t.Fatalf("saved host name %q, %v", again.Get().HostName, err)
	}
	if _, err := rh.app.SetHostName("\u0007"); err == nil {
		t.Error("a bad name was taken")
	}
	if n := rh.app.Self().Name; n != "Sala da Prof. Ana" {
		t.Errorf("after a refused name, Self().Name %q", n)
	}
}
