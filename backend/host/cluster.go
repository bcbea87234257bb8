package host

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/cluster"
	"lanchat/backend/identity"
	"lanchat/backend/roster"
	jsstore "lanchat/backend/store/jetstream"
)

// ClusterConfig makes the host one box of a cluster (lanchat serve
// --cluster-listen/--cluster-peers/--cluster-name): its history, names and
// members are shared with the other boxes through an embedded NATS server
// with JetStream, whose store lives in the data dir.
type ClusterConfig struct {
	Name   string
	Listen string
	Peers  []string
	// SecretFile holds the secret every box of the cluster shares
	// (--cluster-secret-file); required. A missing file is made,
	// owner-only, with a new secret, to be copied to the other boxes.
	SecretFile string
	SyncAlways bool
	// FormTimeout bounds the wait for a majority of the boxes at start;
	// default 2 minutes.
	FormTimeout time.Duration
}

// clusterParts are a box's cluster pieces, closed in reverse order.
type clusterParts struct {
	node   *cluster.Node
	store  *jsstore.Store
	roster *roster.Roster
	host   atomic.Pointer[Host] // set once the host is made
}

// boxURLs are the links the other boxes give for failover to this one:
// the listen address when it names one, else the join links.
func (h *Host) boxURLs() []string {
	if a, ok := h.ln.Addr().(*net.TCPAddr); ok && !a.IP.IsUnspecified() {
		return []string{"http://" + a.String() + "/"}
	}
	return h.JoinURLs()
}

// openCluster starts the embedded server, waits for the cluster to form and
// makes the shared store, feed and roster the hub's.
func openCluster(cfg Config, hc *chat.Config) (*clusterParts, error) {
	cc := cfg.Cluster
	if cc == nil {
		return nil, nil
	}
	wait := cc.FormTimeout
	if wait <= 0 {
		wait = 2 * time.Minute
	}
	if cc.SecretFile == "" {
		return nil, errors.New("a box of a cluster needs the cluster's secret (--cluster-secret-file)")
	}
	secret, loose, err := cluster.SecretFile(cc.SecretFile)
	if err != nil {
		return nil, err
	}
	if loose {
		cfg.Logger.Warn("cluster: the secret file can be read by other users than its owner; chmod 600 it", "file", cc.SecretFile)
	}
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	node, err := cluster.Start(ctx, cluster.Config{Name: cc.Name, Listen: cc.Listen, Peers: cc.Peers, Secret: secret,
		DataDir: cfg.DataDir, SyncAlways: cc.SyncAlways, Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	p := &clusterParts{node: node}
	cfg.Logger.Info("cluster: waiting for a majority of the boxes", "listen", cc.Listen, "peers", cc.Peers)
	if err := node.WaitJetStream(ctx); err != nil {
		return nil, p.close(err)
	}
	p.store, err = jsstore.New(ctx, node.JetStream(), jsstore.Options{Replicas: node.Replicas(),
		MaxAge: cfg.Store.MaxAge, MaxMsgs: int64(cfg.Store.KeepPerRoom)})
	if err != nil {
		return nil, p.close(err)
	}
	p.roster, err = roster.New(ctx, node.Conn(), node.JetStream(), roster.Config{
		Box: node.ServerName() + "-" + randomID(), Replicas: node.Replicas(), Logger: cfg.Logger,
		URLs: func() []string {
			if h := p.host.Load(); h != nil {
				return h.boxURLs()
			}
			return nil
		}})
	if err != nil {
		return nil, p.close(err)
	}
	hc.Store, hc.Feed, hc.RoomFeed, hc.Decisions, hc.Roster = p.store, p.store, p.store, p.store, p.roster
	cfg.Logger.Info("cluster: joined", "box", node.ServerName(), "replicas", node.Replicas())
	return p, nil
}

// run keeps the roster going until ctx ends; the returned wait blocks until
// it has said goodbye.
func (p *clusterParts) run(ctx context.Context) (wait func()) {
	if p == nil {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		p.roster.Run(ctx)
	}()
	return wg.Wait
}

// close closes what was opened, keeping err first.
func (p *clusterParts) close(err error) error {
	if p == nil {
		return err
	}
	if p.store != nil {
		err = errors.Join(err, p.store.Close())
	}
	if cerr := p.node.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("cluster: %w", cerr))
	}
	return err
}

func randomID() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// shareIdentity makes the boxes of a cluster one host on the LAN: the first
// box to get there shares its host id and key (in the cluster's meta
// bucket) and every box answers under them, so laptops list the cluster
// once, with every box's address, and remember one key. An operator's
// certificate (--tls-cert) stays each box's own.
func (p *clusterParts) shareIdentity(id string, ident *identity.Identity) (string, *identity.Identity, error) {
	sharedID, err := p.store.Shared("host_id", []byte(id))
	if err != nil {
		return "", nil, err
	}
	if !ident.Own {
		return string(sharedID), ident, nil
	}
	type keyPair struct{ Cert, Key []byte }
	var mine keyPair
	if mine.Cert, mine.Key, err = ident.PEM(); err != nil {
		return "", nil, err
	}
	b, _ := json.Marshal(mine)
	v, err := p.store.Shared("host_key", b)
	if err != nil {
		return "", nil, err
	}
	var theirs keyPair
	if err := json.Unmarshal(v, &theirs); err != nil {
		return "", nil, fmt.Errorf("the cluster's host key: %w", err)
	}
	sharedKey, err := identity.FromPEM(theirs.Cert, theirs.Key)
	if err != nil {
		return "", nil, fmt.Errorf("the cluster's host key: %w", err)
	}
	return string(sharedID), sharedKey, nil
}
