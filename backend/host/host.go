// Package host assembles one running lanchat host from the backend parts: the
// chat hub, its store, the HTTP/WebSocket server and (when enabled) LAN
// discovery. Both `lanchat serve` and the desktop app run a Host.
package host

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"lanchat/backend/chat"
	"lanchat/backend/discovery"
	"lanchat/backend/files"
	"lanchat/backend/identity"
	"lanchat/backend/protocol"
	"lanchat/backend/relay"
	"lanchat/backend/server"
	"lanchat/backend/store"
)

// Config describes a host.
type Config struct {
	Addr    string   // listen address; default ":47800"
	Name    string   // display name; default the machine's hostname
	DataDir string   // where the host id (and history) live; default the user config dir
	Rooms   []string // rooms besides the lobby; default chat.DefaultRooms
	// Language is the host's language ("en", "pt-BR"): the names a new
	// host gives its default rooms, and the words of its transcripts. The
	// desktop app sets its UI language.
	Language    string
	AllowCreate bool
	History     int // messages a joiner gets
	MaxText     int
	FullList    int // largest room whose member list goes out in full
	Version     string
	Assets      fs.FS
	Logger      *slog.Logger

	// Discovery advertises and browses over mDNS (off by default, so a
	// host made in a test never multicasts); Ifaces chooses interfaces by
	// name. Hosts added by address work either way.
	Discovery       bool
	Ifaces          []string
	DiscoveryTiming discovery.Timing
	// HostToken is the per-run secret the desktop app's own UI sends in its
	// hello to act as the host; empty means no client can. Never logged.
	HostToken string

	// AllowHosts are host names the host answers to besides its own
	// addresses, loopback, localhost and its .local names (lanchat serve
	// --allow-host); a request naming any other host gets 421. Added to
	// Server.AllowedHosts.
	AllowHosts []string

	// TLSCert and TLSKey name an operator's certificate and key (PEM) to
	// serve HTTPS and WSS with; empty, the host serves its own key from
	// DataDir, which peers pin by fingerprint. Plain HTTP is served on the
	// same port either way.
	TLSCert, TLSKey string

	// Store tunes the history kept in DataDir (durability, retention).
	Store store.Options
	// Cluster, when set, makes this host one box of a cluster sharing
	// rooms, history and names with the others (see ClusterConfig).
	Cluster *ClusterConfig

	// Files sets how the host takes files members attach to messages.
	Files FilesConfig

	// Hub and Server tune the parts further; their Hub/Store/HostID fields are set here.
	Hub    chat.Config
	Server server.Config
}

// Host is a running host's parts.
type Host struct {
	cfg    Config
	ID     string
	Hub    *chat.Hub
	Server *server.Server
	// Discovery is the peer list (GET /api/peers) and mDNS.
	Discovery *discovery.Service
	ln        net.Listener
	log       *slog.Logger
	// Identity is the key and certificate the host serves TLS with.
	Identity *identity.Identity
	// Pins are the keys of the hosts met (DataDir/pins.json), which the
	// peer list checks and the relay dials only.
	Pins *identity.Pins
	// Relay carries the desktop app's connections to other hosts over
	// pinned TLS (GET /relay).
	Relay *relay.Relay
	// Files are the files members attach to messages (nil: none taken).
	Files   *files.Store
	history *store.Store  // nil when the hub was given its own store
	cluster *clusterParts // nil for a host on its own

	runSocketIO func(ctx context.Context) (wait func())
}

// DefaultDataDir is where a host keeps its files when none is given.
func DefaultDataDir() string {
	if d, err := os.UserConfigDir(); err == nil {
		return filepath.Join(d, "lanchat")
	}
	return filepath.Join(os.TempDir(), "lanchat")
}

// New prepares a host and opens its listener (so the port is known before Run).
func New(cfg Config) (*Host, error) {
	if cfg.Addr == "" {
		cfg.Addr = ":47800"
	}
	if cfg.Name == "" {
		cfg.Name, _ = os.Hostname()
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	id, err := LoadID(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	hc := cfg.Hub
	hc.HostID, hc.HostName = id, cfg.Name
	hc.HostToken = cfg.HostToken
	if hc.Language == "" {
		hc.Language = cfg.Language
	}
	if cfg.Rooms != nil {
		hc.Rooms = cfg.Rooms
	}
	hc.AllowCreate = hc.AllowCreate || cfg.AllowCreate
	if cfg.History > 0 {
		hc.HistoryOnJoin = cfg.History
	}
	if cfg.MaxText > 0 {
		hc.MaxText = cfg.MaxText
	}
	if cfg.FullList > 0 {
		hc.FullList = cfg.FullList
	}
	if hc.Logger == nil {
		hc.Logger = cfg.Logger
	}
	ident, err := loadIdentity(cfg)
	if err != nil {
		return nil, err
	}
	parts, err := openCluster(cfg, &hc)
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	if parts != nil {
		if id, ident, err = parts.shareIdentity(id, ident); err != nil {
			return nil, fmt.Errorf("cluster: %w", parts.close(err))
		}
		hc.HostID = id
	}
	history, err := openHistory(cfg, &hc)
	if err != nil {
		return nil, fmt.Errorf("history: %w", parts.close(err))
	}
	fail := func(err error) (*Host, error) {
		if history != nil {
			_ = history.Close()
		}
		return nil, parts.close(err)
	}
	fileStore, err := openFiles(cfg, &hc, parts)
	if err != nil {
		return fail(err)
	}
	hub, err := chat.NewHub(hc)
	if err != nil {
		return fail(err)
	}
	if parts != nil {
		parts.roster.Attach(hub)
	}
	ln, err := server.Listen(cfg.Addr)
	if err != nil {
		return fail(fmt.Errorf("listen on %s: %w", cfg.Addr, err))
	}
	h := &Host{cfg: cfg, ID: id, Hub: hub, Identity: ident, ln: ln, log: cfg.Logger, history: history, cluster: parts, Files: fileStore}
	sc := cfg.Server
	sc.Hub, sc.Version, sc.Assets, sc.Logger = hub, cfg.Version, cfg.Assets, cfg.Logger
	sc.JoinURLs = h.JoinURLs
	if sc.JoinCodeRequired == nil {
		sc.JoinCodeRequired = hub.JoinCodeRequired
	}
	sc.AllowedHosts = append(slices.Clip(sc.AllowedHosts), cfg.AllowHosts...)
	sc.AllowedHosts = append(sc.AllowedHosts, certNames(ident)...)
	sc.TLS, sc.Fingerprint = ident.ServerConfig(), ident.Fingerprint
	if parts != nil {
		sc.MoreOrigins = parts.roster.KnownOrigin
		parts.host.Store(h)
	}
	h.Server = server.New(sc)
	h.Pins = openPins(cfg.DataDir, cfg.Logger)
	h.Relay = relay.New(relay.Config{Pins: h.Pins, OriginAllowed: h.Server.OriginAllowed, Logger: cfg.Logger})
	h.Server.Handle("GET /relay", h.Relay)
	for _, method := range []string{"GET", "POST", "PATCH", "DELETE", "OPTIONS"} {
		h.Server.Handle(method+" "+relay.FilesPath, h.Relay.Files())
	}
	if fileStore != nil {
		fh, err := fileStore.Handler(hub, h.Server.OriginAllowed)
		if err != nil {
			_ = ln.Close()
			return fail(err)
		}
		for _, method := range []string{"GET", "POST", "PATCH", "DELETE", "OPTIONS"} {
			h.Server.Handle(method+" "+protocol.FilePath, fh)
		}
	}
	h.Discovery = h.newDiscovery()
	h.runSocketIO = h.mountSocketIO()
	return h, nil
}

// Fingerprint identifies the key the host serves TLS with.
func (h *Host) Fingerprint() string { return h.Identity.Fingerprint }

// Port is the TCP port the host listens on.
func (h *Host) Port() int { return h.ln.Addr().(*net.TCPAddr).Port }

// JoinURLs are the links people on the LAN use to reach this host. Each
// carries the host's key fingerprint (#fp=…), so a desktop app that opens
// it checks the host is the one the link was made for. With an operator's
// certificate, links by the names it was issued for come first, over https.
func (h *Host) JoinURLs() []string {
	return joinURLs(h.boundIP(), h.Port(), certNames(h.Identity), LANAddrs(), h.Identity.Fingerprint)
}

// joinURLs are the links to a host listening on bound:port: https under the
// operator certificate's names, then http to each LAN address (or to the one
// address it listens on), each carrying the key's fingerprint. A host that
// listens on loopback gets its loopback link only: a LAN address or a name
// would be a dead link on any other device.
func joinURLs(bound net.IP, port int, names []string, lan []net.IP, fp string) []string {
	p := strconv.Itoa(port)
	frag := "#fp=" + fp
	if bound.IsLoopback() {
		return []string{"http://" + net.JoinHostPort(bound.String(), p) + "/" + frag}
	}
	var urls []string
	for _, n := range names {
		urls = append(urls, "https://"+net.JoinHostPort(n, p)+"/"+frag)
	}
	if !bound.IsUnspecified() {
		lan = []net.IP{bound}
	}
	for _, ip := range lan {
		urls = append(urls, "http://"+net.JoinHostPort(ip.String(), p)+"/"+frag)
	}
	if len(urls) == 0 {
		urls = append(urls, "http://"+net.JoinHostPort("127.0.0.1", p)+"/"+frag)
	}
	return urls
}

// boundIP is the address the host listens on (unspecified: every address).
func (h *Host) boundIP() net.IP { return h.ln.Addr().(*net.TCPAddr).IP }

// LoopbackOnly reports whether the host listens on a loopback address, so
// that no other device can join it.
func (h *Host) LoopbackOnly() bool { return h.boundIP().IsLoopback() }

// loadIdentity loads the operator's certificate when one is given, else
// the host's own key from the data dir (made on first run).
func loadIdentity(cfg Config) (*identity.Identity, error) {
	if cfg.TLSCert != "" || cfg.TLSKey != "" {
		if cfg.TLSCert == "" || cfg.TLSKey == "" {
			return nil, errors.New("tls: give both a certificate and a key")
		}
		id, err := identity.LoadFiles(cfg.TLSCert, cfg.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("tls: %w", err)
		}
		return id, nil
	}
	id, err := identity.LoadOrCreate(cfg.DataDir)
	if err != nil {
		return nil, fmt.Errorf("host key: %w", err)
	}
	return id, nil
}

// certNames are the DNS names an operator's certificate was issued for
// (none for the host's own key), without wildcards.
func certNames(id *identity.Identity) []string {
	if id.Own || id.Cert.Leaf == nil {
		return nil
	}
	var names []string
	for _, n := range id.Cert.Leaf.DNSNames {
		if !strings.Contains(n, "*") {
			names = append(names, n)
		}
	}
	return names
}

// Run serves until ctx ends, then shuts everything down cleanly; the
// history closes last.
func (h *Host) Run(ctx context.Context) (err error) {
	defer h.closeHistory(&err)
	wanted := h.cfg.Addr
	if _, p, err := net.SplitHostPort(wanted); err == nil && p != "0" && p != strconv.Itoa(h.Port()) {
		h.log.Warn("port taken; using another", "wanted", wanted, "port", h.Port())
	}
	h.log.Info("lanchat host running", "name", h.cfg.Name, "id", h.ID, "port", h.Port())
	for _, u := range h.JoinURLs() {
		h.log.Info("join link", "url", u)
	}
	if h.LoopbackOnly() {
		h.log.Warn("only this computer can join: the host listens on a loopback address; start it with --addr :PORT to let other devices join",
			"addr", h.ln.Addr().String())
	}
	defer h.runSocketIO(ctx)()
	rosterCtx, stopRoster := context.WithCancel(context.Background())
	defer h.cluster.run(rosterCtx)()
	defer stopRoster() // after the server stopped: members' goodbyes go out first
	return h.serve(ctx)
}
