// Package cluster runs an embedded NATS server with JetStream inside the
// lanchat process, so that several `lanchat serve` boxes can share rooms.
//
// Each box runs one Node. The node's server listens for routes from the
// other boxes on Config.Listen and dials Config.Peers. The process talks to
// it through an in-process connection; a single box opens no client
// listener, a cluster box one on 127.0.0.1 (the server needs it before it
// starts routing) that only a per-run token opens. No leaf nodes, no
// websocket, no monitoring port. Its JetStream store lives under
// DataDir/nats.
//
// Routes are mutual TLS under a key derived from the cluster's shared secret
// (Config.Secret, see secret.go): only a box that holds the secret can open
// one, and the traffic between boxes is encrypted.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says how a box takes part in the cluster.
type Config struct {
	// Name is the cluster's name (--cluster-name); every box of one cluster
	// uses the same. Default "lanchat".
	Name string
	// Listen is this box's route address host:port (--cluster-listen).
	// Empty runs a single box without routes.
	Listen string
	// Peers are the other boxes' route addresses host:port
	// (--cluster-peers). Routes are retried until the peer answers.
	Peers []string
	// Secret is the cluster's shared secret (--cluster-secret-file), at
	// least MinSecretLen bytes, the same on every box; required with
	// Listen. Routes are mutual TLS under a key derived from it.
	Secret []byte
	// DataDir is the host's data dir; the JetStream store goes under
	// DataDir/nats. Required.
	DataDir string
	// ServerName names this box in the cluster and must be unique and
	// stable across restarts (JetStream's raft groups know peers by it).
	// Default: made once from the host name and a random suffix and kept
	// in DataDir/nats/server-name.
	ServerName string
	// ClientPort is the NATS client port, always on 127.0.0.1 only and
	// protected by a random per-run token (only this process knows it).
	// 0: a single box (no Listen) opens no client listener at all and is
	// reached only in-process; a cluster box picks a free port, because
	// the server starts its routes only once its client listener is up.
	// server.RANDOM_PORT (-1) picks a free port.
	ClientPort int
	// SyncAlways makes JetStream fsync every write before acking it.
	// Otherwise it syncs every two minutes and relies on the other
	// replicas for what a crash loses.
	SyncAlways bool
	// Logger receives the server's warnings and errors (notices at debug
	// level). Default slog.Default().
	Logger *slog.Logger
	// ReadyTimeout bounds how long Start waits for the server's listeners;
	// default 10 s.
	ReadyTimeout time.Duration
}

// Node is one running embedded server with its in-process client.
type Node struct {
	srv      *server.Server
	log      slogAdapter
	nc       *nats.Conn
	js       jetstream.JetStream
	replicas int
	closed   chan struct{} // closed by the client's ClosedHandler

	once sync.Once
	err  error
}

// Start starts the server, waits until it accepts connections (at most
// cfg.ReadyTimeout, and not past ctx) and connects the in-process client.
// It does not wait for the cluster to form: a box may start before its
// peers. Use WaitJetStream before creating streams.
func Start(ctx context.Context, cfg Config) (*Node, error) {
	opts, err := serverOptions(&cfg)
	if err != nil {
		return nil, err
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	logger := slogAdapter{l: cfg.Logger, refused: new(atomic.Pointer[string])}
	srv.SetLoggerV2(logger, false, false, false)
	srv.Start()
	fail := func(err error) (*Node, error) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, err
	}
	wait := cfg.ReadyTimeout
	if dl, ok := ctx.Deadline(); ok {
		wait = min(wait, time.Until(dl))
	}
	if !srv.ReadyForConnections(wait) {
		if err := ctx.Err(); err != nil {
			return fail(err)
		}
		return fail(fmt.Errorf("cluster: server %s not ready after %v (is the route or client port taken?)", opts.ServerName, wait))
	}
	n := &Node{srv: srv, log: logger, replicas: min(3, 1+len(cfg.Peers)), closed: make(chan struct{})}
	n.nc, err = nats.Connect("",
		nats.InProcessServer(srv),
		nats.Token(opts.Authorization),
		nats.Name("lanchat "+opts.ServerName),
		nats.MaxReconnects(-1),
		nats.DrainTimeout(5*time.Second),
		nats.ClosedHandler(func(*nats.Conn) { close(n.closed) }),
	)
	if err != nil {
		return fail(fmt.Errorf("cluster: connect in-process: %w", err))
	}
	n.js, err = jetstream.New(n.nc)
	if err != nil {
		n.nc.Close()
		<-n.closed
		return fail(fmt.Errorf("cluster: %w", err))
	}
	return n, nil
}

// serverOptions checks cfg, fills its defaults and turns it into the
// server's options.
func serverOptions(cfg *Config) (*server.Options, error) {
	if cfg.DataDir == "" {
		return nil, errors.New("cluster: no data dir")
	}
	if cfg.Name == "" {
		cfg.Name = "lanchat"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.ReadyTimeout <= 0 {
		cfg.ReadyTimeout = 10 * time.Second
	}
	if len(cfg.Peers) > 0 && cfg.Listen == "" {
		return nil, errors.New("cluster: peers need a listen address")
	}
	if cfg.Listen != "" && len(cfg.Secret) == 0 {
		return nil, errors.New("cluster: a box with routes needs the cluster secret")
	}
	dir := filepath.Join(cfg.DataDir, "nats")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if cfg.ServerName == "" {
		name, err := keptServerName(dir)
		if err != nil {
			return nil, err
		}
		cfg.ServerName = name
	}
	opts := &server.Options{
		ServerName: cfg.ServerName,
		Host:       "127.0.0.1",
		Port:       cfg.ClientPort,
		DontListen: cfg.ClientPort == 0 && cfg.Listen == "",
		NoSigs:     true,
		JetStream:  true,
		StoreDir:   dir,
		SyncAlways: cfg.SyncAlways,
	}
	if opts.Port == 0 && !opts.DontListen {
		opts.Port = server.RANDOM_PORT
	}
	token, err := randomHex(16)
	if err != nil {
		return nil, err
	}
	opts.Authorization = token
	if cfg.Listen != "" {
		host, port, err := splitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("cluster: listen address: %w", err)
		}
		tc, err := routeTLS(cfg.Secret)
		if err != nil {
			return nil, err
		}
		opts.Cluster = server.ClusterOpts{Name: cfg.Name, Host: host, Port: port, TLSConfig: tc}
		for _, p := range cfg.Peers {
			if _, _, err := splitHostPort(p); err != nil {
				return nil, fmt.Errorf("cluster: peer %q: %w", p, err)
			}
			opts.Routes = append(opts.Routes, &url.URL{Scheme: "nats-route", Host: p})
		}
	}
	return opts, nil
}

func splitHostPort(addr string) (string, int, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 0 || port > 65535 {
		return "", 0, fmt.Errorf("bad port %q", p)
	}
	if port == 0 {
		port = server.RANDOM_PORT
	}
	if host == "" {
		host = "0.0.0.0"
	}
	return host, port, nil
}

// keptServerName reads the server name kept in dir, making one on first
// use: the host name with a random suffix, so that boxes cloned from one
// image, or sharing a host name, still differ.
func keptServerName(dir string) (string, error) {
	path := filepath.Join(dir, "server-name")
	if b, err := os.ReadFile(path); err == nil {
		if name := strings.TrimSpace(string(b)); name != "" {
			return name, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("cluster: %w", err)
	}
	host, _ := os.Hostname()
	host = strings.Map(func(r rune) rune {
		if r < 0x80 && (r == '-' || r == '_' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, host)
	if host == "" {
		host = "lanchat"
	}
	suffix, err := randomHex(4)
	if err != nil {
		return "", err
	}
	name := host + "-" + suffix
	if err := os.WriteFile(path, []byte(name+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("cluster: %w", err)
	}
	return name, nil
}

func randomHex(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// Conn is the node's in-process client connection.
func (n *Node) Conn() *nats.Conn { return n.nc }

// JetStream is the JetStream API over Conn.
func (n *Node) JetStream() jetstream.JetStream { return n.js }

// Replicas is how many copies streams should keep: one per box, at most 3.
func (n *Node) Replicas() int { return n.replicas }

// ServerName is the name this box has in the cluster.
func (n *Node) ServerName() string { return n.srv.Name() }

// ClusterAddr is the address the route listener is bound to, nil without
// routes.
func (n *Node) ClusterAddr() net.Addr {
	if a := n.srv.ClusterAddr(); a != nil {
		return a
	}
	return nil
}

// ClientURL is the loopback client URL, "" when the node has no client
// listener.
func (n *Node) ClientURL() string {
	a := n.srv.Addr()
	if a == nil {
		return ""
	}
	return "nats://" + a.String()
}

// WaitJetStream waits until JetStream answers on this node: at once for a
// single box; in a cluster, once the boxes have elected a meta leader, which
// needs a majority of them. Creating a stream with several replicas may
// still be refused for a moment after that ("no suitable peers for
// placement", until the leader has heard from enough boxes): callers retry
// it, as backend/store/jetstream does.
func (n *Node) WaitJetStream(ctx context.Context) error {
	for {
		actx, cancel := context.WithTimeout(ctx, time.Second)
		_, err := n.js.AccountInfo(actx)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			if r := n.log.refused.Load(); r != nil {
				return fmt.Errorf("cluster: no majority of the boxes: %w; a route was refused (%s): %s", ctx.Err(), *r, routeRefusalHint)
			}
			return fmt.Errorf("cluster: jetstream not ready: %w (last: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Close drains the client, shuts the server down and waits for it. It is
// safe to call more than once.
func (n *Node) Close() error {
	n.once.Do(func() {
		if err := n.nc.Drain(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) {
			n.err = err
			n.nc.Close()
		}
		select {
		case <-n.closed:
		case <-time.After(10 * time.Second):
			n.nc.Close()
			<-n.closed
		}
		n.srv.Shutdown()
		n.srv.WaitForShutdown()
	})
	return n.err
}

// slogAdapter hands the server's log lines to slog. Notices (the start-up
// banner, routes coming and going) go to debug; debug and trace are off.
// A refused route handshake is logged with a hint at the cluster secret,
// and kept for WaitJetStream's error.
type slogAdapter struct {
	l       *slog.Logger
	refused *atomic.Pointer[string]
}

func (a slogAdapter) Noticef(format string, v ...any) {
	a.l.Debug(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Warnf(format string, v ...any) {
	a.l.Warn(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Fatalf(format string, v ...any) {
	a.l.Error(fmt.Sprintf(format, v...), "component", "nats", "fatal", true)
}
func (a slogAdapter) Errorf(format string, v ...any) {
	msg := fmt.Sprintf(format, v...)
	if strings.Contains(msg, "TLS route handshake error") {
		a.refused.Store(&msg)
		a.l.Error(msg, "component", "nats", "hint", routeRefusalHint)
		return
	}
	a.l.Error(msg, "component", "nats")
}
func (a slogAdapter) Debugf(format string, v ...any) {
	a.l.Debug(fmt.Sprintf(format, v...), "component", "nats")
}
func (a slogAdapter) Tracef(format string, v ...any) {
	a.l.Debug(fmt.Sprintf(format, v...), "component", "nats")
}
