package cluster

import (
	"context"
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

	"github.com/nats-io/nats.go/jetstream"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var testSecret = []byte("the secret of the test cluster")

// startCluster starts n nodes in this process, each dialling all the
// others, and waits until JetStream answers on every one.
func startCluster(t *testing.T, n int) []*Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	var err error
	for range 3 {
		var nodes []*Node
		if nodes, err = tryCluster(ctx, t, n); err == nil {
			for _, nd := range nodes {
				t.Cleanup(func() { _ = nd.Close() })
			}
			return nodes
		}
		// The route ports are picked free and then let go; a server
		// starting meanwhile may have taken one. Try other ports.
		t.Logf("starting %d nodes: %v; again", n, err)
	}
	t.Fatal(err)
	return nil
}

func tryCluster(ctx context.Context, t *testing.T, n int) ([]*Node, error) {
	var addrs []string
	var ls []net.Listener
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		addrs = append(addrs, l.Addr().String())
	}
	for _, l := range ls {
		_ = l.Close()
	}
	nodes := make([]*Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			var peers []string
			for j, a := range addrs {
				if j != i {
					peers = append(peers, a)
				}
			}
			nodes[i], errs[i] = Start(ctx, Config{
				Listen: addrs[i], Peers: peers, DataDir: t.TempDir(), Secret: testSecret,
				ServerName: fmt.Sprintf("box-%c", 'a'+i), Logger: quiet, ReadyTimeout: 5 * time.Second,
			})
		})
	}
	wg.Wait()
	err := errors.Join(errs...)
	if err == nil {
		for _, nd := range nodes {
			if err = nd.WaitJetStream(ctx); err != nil {
				break
			}
		}
	}
	if err != nil {
		for _, nd := range nodes {
			if nd != nil {
				_ = nd.Close()
			}
		}
		return nil, err
	}
	return nodes, nil
}

// createR3 creates stream R3 (subjects r3.>) with three replicas through
// n, retrying while the meta leader cannot place them yet.
func createR3(ctx context.Context, t *testing.T, n *Node) jetstream.Stream {
	t.Helper()
	for {
		// One attempt may go unanswered while the cluster elects its meta
		// leader (slow on a loaded machine): ask again until ctx ends.
		actx, cancel := context.WithTimeout(ctx, 5*time.Second)
		s, err := n.JetStream().CreateStream(actx, jetstream.StreamConfig{
			Name: "R3", Subjects: []string{"r3.>"}, Storage: jetstream.FileStorage, Replicas: 3,
		})
		cancel()
		if err == nil {
			return s
		}
		var je jetstream.JetStreamError
		noPeers := errors.As(err, &je) && je.APIError() != nil && je.APIError().ErrorCode == 10005
		if !(noPeers || errors.Is(err, context.DeadlineExceeded)) || ctx.Err() != nil {
			t.Fatalf("create R3: %v", err)
		}
		time.Sleep(50 * time.Millisecond) // no suitable peers yet, or no answer yet
	}
}

func TestSingleNode(t *testing.T) {
	dir := t.TempDir()
	n, err := Start(t.Context(), Config{DataDir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Replicas() != 1 || n.ClientURL() != "" || n.ClusterAddr() != nil {
		t.Fatalf("replicas %d, client url %q, cluster addr %v", n.Replicas(), n.ClientURL(), n.ClusterAddr())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := n.WaitJetStream(ctx); err != nil {
		t.Fatal(err)
	}
	js := n.JetStream()
	s, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: "T", Subjects: []string{"t.>"}, Storage: jetstream.FileStorage})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i <= 3; i++ {
		ack, err := js.Publish(ctx, "t.x", fmt.Appendf(nil, "m%d", i))
		if err != nil || ack.Sequence != uint64(i) {
			t.Fatalf("publish %d: %+v %v", i, ack, err)
		}
	}
	for i := uint64(1); i <= 3; i++ {
		m, err := s.GetMsg(ctx, i)
		if err != nil || string(m.Data) != fmt.Sprintf("m%d", i) {
			t.Fatalf("get %d: %v %v", i, m, err)
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "nats", "jetstream")); err != nil {
		t.Fatalf("the store is not under the data dir: %v", err)
	}
	// The server name is kept: the same data dir gives the same name.
	n2, err := Start(t.Context(), Config{DataDir: dir, Logger: quiet, ClientPort: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer n2.Close()
	if !strings.HasPrefix(n2.ClientURL(), "nats://127.0.0.1:") {
		t.Fatalf("client url %q", n2.ClientURL())
	}
	if err := n2.WaitJetStream(ctx); err != nil {
		t.Fatal(err)
	}
	s, err = n2.JetStream().Stream(ctx, "T")
	if err != nil {
		t.Fatal(err)
	}
	if info, err := s.Info(ctx); err != nil || info.State.Msgs != 3 {
		t.Fatalf("after restart: %+v %v", info, err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, c := range []Config{
		{},
		{DataDir: t.TempDir(), Peers: []string{"127.0.0.1:1"}},
		{DataDir: t.TempDir(), Listen: "nonsense", Secret: testSecret},
		{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Peers: []string{"no-port"}, Secret: testSecret},
		{DataDir: t.TempDir(), Listen: "127.0.0.1:0"},                                 // routes without a secret
		{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Secret: []byte("short")},        // too short a secret
		{DataDir: t.TempDir(), Listen: "127.0.0.1:0", Peers: []string{"127.0.0.1:1"}}, // peers without a secret
	} {
		if n, err := Start(t.Context(), c); err == nil {
			n.Close()
			t.Errorf("%+v: started", c)
		}
	}
	// A route port in use fails Start within ReadyTimeout, leaving nothing
	// running.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	begin := time.Now()
	n, err := Start(t.Context(), Config{DataDir: t.TempDir(), Listen: l.Addr().String(), Secret: testSecret, Logger: quiet, ReadyTimeout: time.Second})
	if err == nil {
		n.Close()
		t.Fatal("started on a taken route port")
	}
	if d := time.Since(begin); d > 5*time.Second {
		t.Fatalf("failing took %v", d)
	}
}

// TestThreeNodes: a stream with three replicas created on one box is
// readable and writable from another.
func TestThreeNodes(t *testing.T) {
	nodes := startCluster(t, 3)
	a, c := nodes[0], nodes[2]
	if a.Replicas() != 3 {
		t.Fatalf("replicas %d", a.Replicas())
	}
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	createR3(ctx, t, a)
	if _, err := a.JetStream().Publish(ctx, "r3.a", []byte("from a")); err != nil {
		t.Fatal(err)
	}
	ack, err := c.JetStream().Publish(ctx, "r3.c", []byte("from c"))
	if err != nil || ack.Sequence != 2 {
		t.Fatalf("publish from c: %+v %v", ack, err)
	}
	s, err := c.JetStream().Stream(ctx, "R3")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil || len(info.Cluster.Replicas) != 2 || info.State.Msgs != 2 {
		t.Fatalf("stream info %+v %v", info, err)
	}
	for seq, want := range map[uint64]string{1: "from a", 2: "from c"} {
		if m, err := s.GetMsg(ctx, seq); err != nil || string(m.Data) != want {
			t.Fatalf("get %d from c: %v %v", seq, m, err)
		}
	}
}

// TestLosingOneOfThree: with one box gone (the stream's leader, the worst
// case) the other two elect a new leader and an R3 stream takes writes.
func TestLosingOneOfThree(t *testing.T) {
	nodes := startCluster(t, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	s := createR3(ctx, t, nodes[0])
	for i := range 5 {
		if _, err := nodes[i%3].JetStream().Publish(ctx, "r3.x", []byte("before")); err != nil {
			t.Fatal(err)
		}
	}
	info, err := s.Info(ctx)
	if err != nil || info.Cluster == nil {
		t.Fatalf("info %+v %v", info, err)
	}
	var gone *Node
	var left []*Node
	for _, n := range nodes {
		if n.ServerName() == info.Cluster.Leader {
			gone = n
		} else {
			left = append(left, n)
		}
	}
	if gone == nil {
		t.Fatalf("leader %q is none of the nodes", info.Cluster.Leader)
	}
	if err := gone.Close(); err != nil {
		t.Fatal(err)
	}
	// Publish until a new leader acks; the deadline bounds the wait.
	var ack *jetstream.PubAck
	for {
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		ack, err = left[1].JetStream().Publish(pctx, "r3.x", []byte("after"))
		pcancel()
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("no ack after losing the leader: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if ack.Sequence != 6 || ack.Duplicate {
		t.Fatalf("ack %+v", ack)
	}
	s0, err := left[0].JetStream().Stream(ctx, "R3")
	if err != nil {
		t.Fatal(err)
	}
	info, err = s0.Info(ctx)
	if err != nil || info.State.Msgs != 6 || info.Cluster.Leader == gone.ServerName() {
		t.Fatalf("after failover: %+v %v", info, err)
	}
	if m, err := s0.GetMsg(ctx, 6); err != nil || string(m.Data) != "after" {
		t.Fatalf("get 6: %v %v", m, err)
	}
}
