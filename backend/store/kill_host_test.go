//go:build linux

package store_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// buildLanchat builds the lanchat binary (with -race when the test has it,
// so the build reuses the test's compiled packages).
func buildLanchat(t *testing.T) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "lanchat")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build lanchat: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// hostProc is a running `lanchat serve`.
type hostProc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (h *hostProc) log() string {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	return h.out.b.String()
}

// startHost starts `lanchat serve` on 127.0.0.1:port (no mDNS) and waits
// until it serves there.
func startHost(t *testing.T, bin, dataDir string, port int) *hostProc {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--data-dir", dataDir,
		"--no-discovery", "--name", "kill-test", "--polls", "everyone")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &hostProc{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			_ = cmd.Process.Kill()
			<-h.done
		}
	})
	deadline := time.Now().Add(killDeadline)
	for {
		select {
		case err := <-h.done:
			h.done <- err
			t.Fatalf("lanchat serve exited: %v\n%s", err, h.log())
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/info", port))
		if err == nil {
			var info struct {
				Port int `json:"port"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if info.Port == port {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("lanchat serve did not come up on port %d\n%s", port, h.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *hostProc) kill9(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-h.done
	h.done <- err
	if ws, ok := h.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("host ended with %v, not by SIGKILL", err)
	}
}

func (h *hostProc) stop(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		h.done <- err
		if err != nil {
			t.Fatalf("host stopped with %v\n%s", err, h.log())
		}
	case <-time.After(killDeadline):
		t.Fatalf("host did not stop on SIGTERM\n%s", h.log())
	}
}
