package nstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Port is the port every lanchat in the LAN listens on.
const Port = 47800

var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Lanchat builds the lanchat binary once per test process and returns its
// path. CleanupBuild removes it.
func Lanchat(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		out, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil {
			build.err = fmt.Errorf("go env GOMOD: %w", err)
			return
		}
		root := filepath.Dir(strings.TrimSpace(string(out)))
		build.dir, build.err = os.MkdirTemp("", "lanchat-nstest-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "lanchat")
		cmd := exec.Command("go", "build", "-o", build.path, ".")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("go build: %v: %s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// CleanupBuild removes the binary Lanchat built.
func CleanupBuild() {
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
}

// Serving is `lanchat serve --peers` running in a host.
type Serving struct {
	*Proc
	Host    *Host
	DataDir string
}

// Serve starts `lanchat serve --peers --name <host name>` in h with
// dataDir (a new temporary one when empty) and extra flags.
func (h *Host) Serve(t testing.TB, bin, dataDir string, extra ...string) *Serving {
	t.Helper()
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	args := append([]string{bin, "serve", "--peers", "--name", h.Name, "--data-dir", dataDir,
		"--addr", fmt.Sprintf(":%d", Port)}, extra...)
	return &Serving{Proc: h.Start(t, nil, args...), Host: h, DataDir: dataDir}
}

// PeerLine is one line of `lanchat serve --peers`.
type PeerLine struct {
	At     time.Time
	Index  int
	Type   string // added, updated, removed
	ID     string
	Addr   string
	Fields map[string]string // self, mdns, manual, members, rooms, code, name
}

// ParsePeerLine reads a line in discovery.FormatEvent's format.
func ParsePeerLine(s string) (PeerLine, bool) {
	f := strings.SplitN(s, " ", 3)
	if len(f) < 3 || (f[0] != "added" && f[0] != "updated" && f[0] != "removed") {
		return PeerLine{}, false
	}
	pl := PeerLine{Type: f[0], ID: f[1], Fields: map[string]string{}}
	rest := f[2]
	addr, rest, _ := strings.Cut(rest, " ")
	pl.Addr = addr
	for rest != "" {
		if strings.HasPrefix(rest, "name=") {
			pl.Fields["name"] = rest[len("name="):]
			break
		}
		var kv string
		kv, rest, _ = strings.Cut(rest, " ")
		k, v, _ := strings.Cut(kv, "=")
		pl.Fields[k] = v
	}
	return pl, true
}

// WaitEvent waits for an event of type typ about id (any id when empty)
// at output index from or later.
func (s *Serving) WaitEvent(from int, typ, id string, timeout time.Duration) (PeerLine, bool) {
	var pl PeerLine
	l, i, ok := s.Out.Wait(from, timeout, func(text string) bool {
		p, ok := ParsePeerLine(text)
		if ok && p.Type == typ && (id == "" || p.ID == id) {
			pl = p
			return true
		}
		return false
	})
	pl.At, pl.Index = l.At, i
	return pl, ok
}

// SelfID waits for this host's own line and returns its id.
func (s *Serving) SelfID(t testing.TB) string {
	t.Helper()
	var id string
	_, _, ok := s.Out.Wait(0, 20*time.Second, func(text string) bool {
		p, ok := ParsePeerLine(text)
		if ok && p.Fields["self"] == "yes" {
			id = p.ID
			return true
		}
		return false
	})
	if !ok {
		t.Fatalf("%s: no self line; output: %v", s.Host.Name, s.Out.All())
	}
	return id
}

// MustList waits until s lists peer (id at ip:Port) and returns the line.
func (s *Serving) MustList(t testing.TB, from int, id string, peer *Host) PeerLine {
	t.Helper()
	pl, ok := s.WaitEvent(from, "added", id, 20*time.Second)
	if !ok {
		t.Fatalf("%s never listed %s (%s); output: %v", s.Host.Name, peer.Name, id, s.Out.All())
	}
	if want := fmt.Sprintf("%s:%d", peer.IP, Port); pl.Addr != want {
		t.Errorf("%s lists %s at %s, want %s", s.Host.Name, peer.Name, pl.Addr, want)
	}
	if pl.Fields["name"] != peer.Name || pl.Fields["self"] != "no" {
		t.Errorf("%s lists %s as %+v", s.Host.Name, peer.Name, pl.Fields)
	}
	return pl
}

// URL is a path on the host's lanchat server.
func (h *Host) URL(path string) string { return fmt.Sprintf("http://%s:%d%s", h.IP, Port, path) }

// GetJSON fetches a URL from inside the host's namespace.
func (h *Host) GetJSON(url string, v any) error {
	resp, err := h.HTTPClient().Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}
