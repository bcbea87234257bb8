package discovery

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"lanchat/backend/identity"
)

// Timing tunes discovery. Zero fields take the defaults noted; they are
// chosen so a new peer is listed well within 0.5 s, a peer that quit
// cleanly (or was killed: its port then refuses connections) is dropped
// within about 1.3 s, one that vanished from the network (no answer at all)
// within about 4.5 s, and a slow but alive peer is never dropped.
type Timing struct {
	ProbeEvery   time.Duration // health probe of a listed peer; default 1 s
	ProbeTimeout time.Duration // one probe; default 1 s
	RetryAfter   time.Duration // next probe after a failure; default 250 ms
	RefusedLimit int           // consecutive refused probes that drop a peer; default 2
	FailLimit    int           // consecutive failed probes (any kind) that drop a peer; default 3
	ManualRetry  time.Duration // re-probe of an unreachable remembered host; default 5 s
	Rebrowse     time.Duration // fresh mDNS browse; default 5 s
	IfacePoll    time.Duration // interface table check; default 3 s
	InfoPoll     time.Duration // own TXT check; default 500 ms
	AnnounceMin  time.Duration // least time between two TXT re-announcements; default 2 s
	Quiet        time.Duration // silence from other machines worth a hint; default 10 s
	AskEvery     int           // every Nth good probe asks the peer whether it lists us; default 5
}

func (t *Timing) defaults() {
	d := func(v *time.Duration, x time.Duration) {
		if *v <= 0 {
			*v = x
		}
	}
	d(&t.ProbeEvery, time.Second)
	d(&t.ProbeTimeout, time.Second)
	d(&t.RetryAfter, 250*time.Millisecond)
	d(&t.ManualRetry, 5*time.Second)
	d(&t.Rebrowse, 5*time.Second)
	d(&t.IfacePoll, 3*time.Second)
	d(&t.InfoPoll, 500*time.Millisecond)
	d(&t.AnnounceMin, 2*time.Second)
	d(&t.Quiet, 10*time.Second)
	if t.RefusedLimit <= 0 {
		t.RefusedLimit = 2
	}
	if t.FailLimit <= 0 {
		t.FailLimit = 3
	}
	if t.AskEvery <= 0 {
		t.AskEvery = 5
	}
}

// Config sets up a Service.
type Config struct {
	ID      string // this host's id
	Port    int    // this host's HTTP port
	DataDir string // where hosts added by address are remembered ("" keeps them in memory)

	// MDNS turns advertising and browsing on; it needs Advertiser and
	// Browser. Without it only hosts added by address are listed.
	MDNS       bool
	Advertiser Advertiser
	Browser    Browser
	Ifaces     []string // interfaces chosen by name; default: every LAN interface

	Prober     Prober                  // default an HTTPProber
	ListIfaces func() ([]Iface, error) // default ListIfaces
	Own        func() Own              // what this host says about itself
	// Pins remembers the keys of the hosts met (trust on first use); nil
	// lists peers without a Trust.
	Pins   *identity.Pins
	Timing Timing
	Logger *slog.Logger
}

// Service is the discovery of one host.
type Service struct {
	cfg    Config
	t      Timing
	log    *slog.Logger
	prober Prober
	store  *manualStore
	// originAllowed is the host's origin policy for POST /api/peers (see Register).
	originAllowed func(*http.Request) bool

	mu       sync.Mutex
	running  bool
	stopped  bool
	runCtx   context.Context
	started  time.Time
	entries  map[string]*entry
	self     Peer
	own      Own
	instance string // the advertised instance name
	rename   bool   // the instance name clashes: pick another
	subs     map[*subscriber]struct{}
	diag     diagState
	ownAddrs map[string]bool
	rebrowse chan struct{}  // an unknown instance was announced
	wg       sync.WaitGroup // watchers and browse rounds
}

// entry is one peer, listed or not yet.
type entry struct {
	key      string   // host id, or a provisional key until a probe tells the id
	peer     Peer     // the public view
	listed   bool     // in the list (answered its last probes)
	mdns     []string // host:port candidates from the last mDNS answer, IPv4 first
	manual   string   // host:port added by address
	instance string
	cancel   context.CancelFunc
	poke     chan struct{}
	done     bool // the watcher stopped or must stop
}

// New creates a Service; Run starts it.
func New(cfg Config) *Service {
	cfg.Timing.defaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Prober == nil {
		cfg.Prober = NewHTTPProber()
	}
	if cfg.ListIfaces == nil {
		cfg.ListIfaces = ListIfaces
	}
	if cfg.Own == nil {
		cfg.Own = func() Own { return Own{Name: "lanchat"} }
	}
	if cfg.MDNS && (cfg.Advertiser == nil || cfg.Browser == nil) {
		cfg.MDNS = false
	}
	s := &Service{
		cfg: cfg, t: cfg.Timing, log: cfg.Logger, prober: cfg.Prober,
		store:    newManualStore(cfg.DataDir),
		entries:  map[string]*entry{},
		subs:     map[*subscriber]struct{}{},
		rebrowse: make(chan struct{}, 1),
	}
	s.own = cfg.Own()
	s.self = Peer{ID: cfg.ID, Self: true, Addrs: []string{}}
	all, _ := cfg.ListIfaces()
	use, _ := SelectIfaces(all, cfg.Ifaces)
	s.fillSelfLocked(use)
	s.diag.unanswered = map[string]Unanswered{}
	s.diag.reachable = map[string]reach{}
	return s
}

// Peers is the current list: this computer first, then by name.
func (s *Service) Peers() []Peer {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.peersLocked()
}

func (s *Service) peersLocked() []Peer {
	out := []Peer{s.self}
	for _, e := range s.entries {
		if e.listed {
			out = append(out, e.peer)
		}
	}
	slices.SortFunc(out[1:], func(a, b Peer) int {
		if c := strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out
}

// fillSelfLocked refreshes this computer's entry.
func (s *Service) fillSelfLocked(ifs []Iface) {
	p := s.self
	p.Name, p.Version, p.Protocol = s.own.Name, s.own.Version, s.own.Protocol
	p.Members, p.Rooms, p.JoinCode = s.own.Members, s.own.Rooms, s.own.JoinCode
	p.MDNS = s.cfg.MDNS && len(ifs) > 0
	p.Addrs = []string{}
	var v4, v6 []string
	for _, i := range ifs {
		for _, a := range i.Addrs {
			if a.To4() != nil {
				v4 = append(v4, hostPort(a, s.cfg.Port))
			} else {
				v6 = append(v6, hostPort(a, s.cfg.Port))
			}
		}
	}
	p.Addrs = append(append(p.Addrs, v4...), v6...)
	if len(p.Addrs) > 0 {
		p.Addr = p.Addrs[0]
	} else {
		p.Addr = hostPort(net.IPv4(127, 0, 0, 1), s.cfg.Port)
	}
	p.URL = "http://" + p.Addr + "/"
	p.LastSeen = time.Now()
	old := s.self
	s.self = p
	if old.Name != "" && !old.same(p) {
		s.emitLocked(Updated, p)
	}
}
