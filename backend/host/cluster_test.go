package host

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"lanchat/backend/chat"
	"lanchat/backend/cluster"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Cluster tests run real boxes: this test binary, started again with
// LANCHAT_TEST_BOX set, runs one host with a cluster configuration until
// SIGTERM (or is killed with SIGKILL).

func TestMain(m *testing.M) {
	if spec := os.Getenv("LANCHAT_TEST_BOX"); spec != "" {
		os.Exit(runBox(spec))
	}
	os.Exit(m.Run())
}

type boxSpec struct {
	Addr, Data, Listen, Name string
	Peers                    []string
	Secret                   string // the cluster secret's file
}

// boxToken is the host token of every test box: a member that sends it
// holds the host role on its box.
const boxToken = "test-box-host-token"

func runBox(spec string) int {
	var s boxSpec
	if err := json.Unmarshal([]byte(spec), &s); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cfg := Config{Addr: s.Addr, DataDir: s.Data, Name: s.Name, Logger: log,
		// Members here send as fast as acks come (the benchmarks), not as people do.
		Hub: chat.Config{RatePerSecond: 2000, RateBurst: 4000}, HostToken: boxToken}
	if s.Listen != "" {
		cfg.Cluster = &ClusterConfig{Name: "test", Listen: s.Listen, Peers: s.Peers, SecretFile: s.Secret}
	}
	h, err := New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "box:", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if err := h.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "box:", err)
		return 1
	}
	return 0
}

// testBox is one box process of a test cluster.
type testBox struct {
	spec boxSpec
	cmd  *exec.Cmd
	log  *os.File
}

func (b *testBox) url() string { return "http://" + b.spec.Addr }
func (b *testBox) ws() string  { return "ws://" + b.spec.Addr + "/ws" }

// freeAddrs finds n free loopback addresses, with ports below the kernel's
// ephemeral range: a box's own listeners on port 0 (its NATS client port)
// are given ports from that range, and could otherwise take the route or
// web port the test chose for another box between the choice and its use.
func freeAddrs(t testing.TB, n int) []string {
	lo, hi := 10000, 32767
	if b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range"); err == nil {
		var first, last int
		if _, err := fmt.Sscan(string(b), &first, &last); err == nil && first > lo+1000 {
			hi = first - 1
		}
	}
	var out []string
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for tries := 0; len(out) < n; tries++ {
		if tries > 1000 {
			t.Fatalf("no free port in %d-%d", lo, hi)
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", lo+mrand.IntN(hi-lo+1)))
		if err != nil {
			continue // taken
		}
		ls = append(ls, l)
		out = append(out, l.Addr().String())
	}
	return out
}

// startCluster starts n boxes on loopback and waits until each answers.
func startCluster(t testing.TB, n int) []*testBox {
	t.Helper()
	all := freeAddrs(t, 2*n)
	addrs, routes := all[:n], all[n:]
	dir := t.TempDir()
	secret := filepath.Join(dir, "cluster-secret")
	if _, _, err := cluster.SecretFile(secret); err != nil {
		t.Fatal(err)
	}
	var boxes []*testBox
	for i := range n {
		var peers []string
		for j, r := range routes {
			if j != i {
				peers = append(peers, r)
			}
		}
		b := &testBox{spec: boxSpec{Addr: addrs[i], Data: filepath.Join(dir, fmt.Sprintf("box%d", i+1)),
			Listen: routes[i], Name: fmt.Sprintf("box%d", i+1), Peers: peers, Secret: secret}}
		b.start(t)
		boxes = append(boxes, b)
	}
	t.Cleanup(func() {
		for _, b := range boxes {
			b.stop()
			if t.Failed() {
				log, _ := os.ReadFile(b.spec.Data + ".log")
				t.Logf("%s's log:\n%s", b.spec.Name, tail(string(log), 3000))
			}
		}
	})
	for _, b := range boxes {
		b.waitUp(t)
	}
	return boxes
}

func (b *testBox) start(t testing.TB) {
	t.Helper()
	spec, _ := json.Marshal(b.spec)
	f, err := os.Create(b.spec.Data + ".log")
	if err != nil {
		if err := os.MkdirAll(filepath.Dir(b.spec.Data), 0o700); err != nil {
			t.Fatal(err)
		}
		if f, err = os.Create(b.spec.Data + ".log"); err != nil {
			t.Fatal(err)
		}
	}
	b.log = f
	b.cmd = exec.Command(os.Args[0], "-test.run=^$")
	b.cmd.Env = append(os.Environ(), "LANCHAT_TEST_BOX="+string(spec))
	b.cmd.Stdout, b.cmd.Stderr = f, f
	b.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := b.cmd.Start(); err != nil {
		t.Fatal(err)
	}
}

// waitUp waits until the box answers /api/info (it does once the cluster
// has a majority and its store is open).
func (b *testBox) waitUp(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(90 * time.Second)
	for {
		resp, err := http.Get(b.url() + "/api/info")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(b.spec.Data + ".log")
			t.Fatalf("%s did not come up: %v\n%s", b.spec.Name, err, tail(string(log), 2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (b *testBox) kill() {
	_ = b.cmd.Process.Kill()
	_ = b.cmd.Wait()
	b.cmd = nil
}

func (b *testBox) stop() {
	if b.cmd != nil {
		_ = b.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = b.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			_ = b.cmd.Process.Kill()
			<-done
		}
		b.cmd = nil
	}
	if b.log != nil {
		b.log.Close()
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

var _ = strings.Cut
