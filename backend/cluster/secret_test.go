package cluster

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "cluster-secret")
	s1, loose, err := SecretFile(path)
	if err != nil || loose || len(s1) < MinSecretLen {
		t.Fatalf("made: %q loose %v %v", s1, loose, err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v %v", fi.Mode(), err)
	}
	s2, _, err := SecretFile(path)
	if err != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("read again: %q %v, want %q", s2, err, s1)
	}
	for _, c := range []struct {
		name, content string
		mode          os.FileMode
		want          string // the secret; "" when refused
		loose         bool
	}{
		{"copied", "  0123456789abcdef0123  \n", 0o600, "0123456789abcdef0123", false},
		{"readable by all", "0123456789abcdef0123\n", 0o644, "0123456789abcdef0123", true},
		{"short", "0123456789\n", 0o600, "", false},
		{"empty", "\n", 0o600, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-"))
			if err := os.WriteFile(p, []byte(c.content), c.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(p, c.mode); err != nil { // past the umask
				t.Fatal(err)
			}
			got, loose, err := SecretFile(p)
			if c.want == "" {
				if err == nil {
					t.Fatalf("accepted %q", got)
				}
				return
			}
			if err != nil || string(got) != c.want || loose != c.loose {
				t.Fatalf("got %q loose %v %v; want %q loose %v", got, loose, err, c.want, c.loose)
			}
		})
	}
	if _, _, err := SecretFile(filepath.Join(dir, "no-such-dir", "secret")); err == nil {
		t.Fatal("made a secret where no file can be written")
	}
}

// logBuffer is a slog destination a test can wait on.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *logBuffer) logger() *slog.Logger { return slog.New(slog.NewTextHandler(l, nil)) }

// waitFor polls cond until it holds or ctx ends.
func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// TestRouteSecret: a box with another secret cannot join the cluster, and
// both sides log why; a process speaking plain NATS or TLS without the
// secret to the route port gets nothing; a box with the right secret, at
// the same address, joins.
func TestRouteSecret(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	addrs := make([]string, 3)
	for i := range addrs {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addrs[i] = l.Addr().String()
		l.Close()
	}
	start := func(i int, secret []byte, log *slog.Logger) *Node {
		t.Helper()
		var peers []string
		for j, a := range addrs {
			if j != i {
				peers = append(peers, a)
			}
		}
		n, err := Start(ctx, Config{Listen: addrs[i], Peers: peers, Secret: secret, DataDir: t.TempDir(),
			ServerName: fmt.Sprintf("box-%c", 'a'+i), Logger: log, ReadyTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("box %d: %v", i, err)
		}
		t.Cleanup(func() { _ = n.Close() })
		return n
	}
	var logA, logC logBuffer
	a := start(0, testSecret, logA.logger())
	b := start(1, testSecret, quiet)
	// Two of the three boxes are a majority: JetStream answers.
	for _, n := range []*Node{a, b} {
		if err := n.WaitJetStream(ctx); err != nil {
			t.Fatal(err)
		}
	}

	intruder := start(2, []byte("another cluster's secret, not ours"), logC.logger())
	refused := func(l *logBuffer) func() bool {
		return func() bool {
			s := l.String()
			return strings.Contains(s, "TLS route handshake error") && strings.Contains(s, "--cluster-secret-file")
		}
	}
	waitFor(ctx, t, "box a to log the refused route", refused(&logA))
	waitFor(ctx, t, "the intruder to log the refused route", refused(&logC))
	if r := intruder.srv.NumRoutes(); r != 0 {
		t.Fatalf("the intruder has %d routes", r)
	}
	// It is alone, with no majority: its JetStream cannot answer, and
	// WaitJetStream says why.
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Second)
	err := intruder.WaitJetStream(wctx)
	wcancel()
	if err == nil || !strings.Contains(err.Error(), "--cluster-secret-file") {
		t.Fatalf("intruder's WaitJetStream: %v", err)
	}
	for _, n := range []*Node{a, b} {
		if rz, err := n.srv.Routez(nil); err != nil {
			t.Fatal(err)
		} else {
			for _, r := range rz.Routes {
				if r.RemoteName == intruder.ServerName() {
					t.Fatalf("%s has a route to the intruder: %+v", n.ServerName(), r)
				}
			}
		}
	}

	// Plain NATS on the route port: the server wants a TLS handshake first
	// and hangs up on anything else, before saying a word of NATS.
	conn, err := net.Dial("tcp", addrs[0])
	if err != nil {
		t.Fatal(err)
	}
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second)) // against a hang only
	fmt.Fprintf(conn, "CONNECT {\"verbose\":false}\r\nSUB > 1\r\nPING\r\n")
	got, err := io.ReadAll(conn)
	conn.Close()
	if err != nil && !errors.Is(err, net.ErrClosed) && !isReset(err) {
		t.Fatalf("plain client: %v (read %q)", err, got)
	}
	for _, word := range []string{"INFO", "PONG", "MSG", a.ServerName(), "lanchat"} {
		if bytes.Contains(got, []byte(word)) {
			t.Fatalf("plain client read %q", got)
		}
	}
	// TLS without the cluster's certificate: the server asks for one and
	// refuses the connection; nothing is read.
	tc, err := tls.Dial("tcp", addrs[0], &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS13})
	if err == nil {
		_ = tc.SetDeadline(time.Now().Add(30 * time.Second))
		got, err = io.ReadAll(tc)
		tc.Close()
		if err == nil || len(got) > 0 {
			t.Fatalf("TLS client without a certificate read %q, %v", got, err)
		}
	}

	// The intruder goes; a box with the right secret at its address joins:
	// a stream with three replicas can be placed.
	if err := intruder.Close(); err != nil {
		t.Fatal(err)
	}
	c := start(2, testSecret, quiet)
	if err := c.WaitJetStream(ctx); err != nil {
		t.Fatal(err)
	}
	createR3(ctx, t, c)
	ack, err := a.JetStream().Publish(ctx, "r3.x", []byte("from a"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := c.JetStream().Stream(ctx, "R3")
	if err != nil {
		t.Fatal(err)
	}
	if m, err := s.GetMsg(ctx, ack.Sequence); err != nil || string(m.Data) != "from a" {
		t.Fatalf("read on c: %v %v", m, err)
	}
}

func isReset(err error) bool {
	return err != nil && strings.Contains(err.Error(), "connection reset")
}
