package jsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"lanchat/backend/cluster"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// startNodes starts n embedded servers on loopback, each with all the
// others as peers (none for n = 1), waits until JetStream answers on every
// one, and closes them when the test ends.
func startNodes(t testing.TB, n int) []*cluster.Node {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var err error
	for range 3 {
		var nodes []*cluster.Node
		if nodes, err = tryStart(ctx, t, n); err == nil {
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

func tryStart(ctx context.Context, t testing.TB, n int) ([]*cluster.Node, error) {
	var addrs []string
	if n > 1 {
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
	}
	nodes := make([]*cluster.Node, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cfg := cluster.Config{
				DataDir: t.TempDir(), ServerName: fmt.Sprintf("box-%c", 'a'+i), Logger: quiet,
				ReadyTimeout: 5 * time.Second,
			}
			if n > 1 {
				cfg.Listen, cfg.Secret = addrs[i], []byte("the secret of the test cluster")
				for j, a := range addrs {
					if j != i {
						cfg.Peers = append(cfg.Peers, a)
					}
				}
			}
			nodes[i], errs[i] = cluster.Start(ctx, cfg)
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

// open makes a store on node with the node's replicas.
func open(t testing.TB, node *cluster.Node, opts Options) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if opts.Replicas == 0 {
		opts.Replicas = node.Replicas()
	}
	s, err := New(ctx, node.JetStream(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
