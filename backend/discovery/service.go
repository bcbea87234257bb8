// Package discovery keeps the list of lanchat hosts on the LAN: it
// advertises this host and browses for others over mDNS (through the small
// Advertiser and Browser interfaces; backend/discovery/mdns adapts
// zeroconf), checks that every listed peer still answers (mDNS itself never
// reliably reports departures), remembers hosts added by address, and
// explains what it sees in a diagnosis. It serves GET /api/peers,
// POST /api/peers and GET /api/discovery.
package discovery

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
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
	Timing     Timing
	Logger     *slog.Logger
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

// Run advertises, browses and watches peers until ctx ends, then sends the
// goodbye and waits for everything it started.
func (s *Service) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.running || s.stopped {
		s.mu.Unlock()
		return errors.New("discovery: Run called twice")
	}
	s.running, s.runCtx, s.started = true, ctx, time.Now()
	for _, m := range s.store.list() {
		key := m.ID
		if key == "" || key == s.cfg.ID {
			key = "addr:" + m.Addr
		}
		e := s.entries[key]
		if e == nil {
			e = &entry{key: key, poke: make(chan struct{}, 1), peer: Peer{ID: m.ID, Name: m.Name}}
			s.entries[key] = e
		}
		e.manual = m.Addr
	}
	for _, e := range s.entries {
		s.startWatchLocked(e)
	}
	s.mu.Unlock()

	r := &runner{s: s, ctx: ctx, ifKey: "\x00"}
	r.refreshIfaces()
	ifTick := time.NewTicker(s.t.IfacePoll)
	infoTick := time.NewTicker(s.t.InfoPoll)
	browseTick := time.NewTicker(s.t.Rebrowse)
	defer ifTick.Stop()
	defer infoTick.Stop()
	defer browseTick.Stop()
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-ifTick.C:
			r.refreshIfaces()
		case <-infoTick.C:
			r.refreshOwn()
		case <-browseTick.C:
			if r.reg != nil {
				r.startBrowse()
			}
		case <-s.rebrowse:
			// zeroconf reports an instance once per browse: a host that
			// left without a goodbye and came back needs a fresh round.
			if r.reg != nil && time.Since(r.lastBrowse) >= 200*time.Millisecond {
				r.startBrowse()
			}
		}
	}
	r.stopMDNS() // the goodbye goes out first
	s.mu.Lock()
	for _, e := range s.entries {
		if e.cancel != nil {
			e.cancel()
		}
	}
	s.mu.Unlock()
	s.wg.Wait()
	if c, ok := s.prober.(interface{ Close() }); ok {
		c.Close()
	}
	s.mu.Lock()
	s.running, s.stopped = false, true
	for sub := range s.subs {
		sub.closed = true
		sub.wakeUp()
	}
	s.mu.Unlock()
	return nil
}

// runner is Run's own state: only Run's goroutine touches it.
type runner struct {
	s          *Service
	ctx        context.Context
	ifKey      string
	ifs        []Iface
	reg        Registration
	ad         Ad
	lastAnnoun time.Time
	lastBrowse time.Time
	cur, prev  context.CancelFunc
}

func (r *runner) refreshIfaces() {
	s := r.s
	all, err := s.cfg.ListIfaces()
	if err != nil {
		s.log.Warn("discovery: reading interfaces", "err", err)
	}
	use, skipped := SelectIfaces(all, s.cfg.Ifaces)
	key := ifaceKey(use)
	s.mu.Lock()
	s.diag.ifaces, s.diag.skipped = ifaceInfos(use), skipped
	if s.diag.skipped == nil {
		s.diag.skipped = []Skipped{}
	}
	s.mu.Unlock()
	if key == r.ifKey {
		return
	}
	r.ifKey, r.ifs = key, use
	s.mu.Lock()
	s.ownAddrs = map[string]bool{}
	for _, i := range all {
		for _, a := range i.Addrs {
			s.ownAddrs[a.String()] = true
		}
	}
	s.fillSelfLocked(use)
	s.mu.Unlock()
	if !s.cfg.MDNS {
		s.setReason("discovery is turned off (--no-discovery)")
		return
	}
	if len(use) == 0 {
		r.stopMDNS()
		s.setReason(noIfaceReason(skipped))
		s.log.Warn("discovery: off", "reason", noIfaceReason(skipped))
		return
	}
	s.setReason("")
	r.advertise(r.makeAd(false))
	r.startBrowse()
	names := make([]string, 0, len(use))
	for _, i := range use {
		names = append(names, i.Name)
	}
	s.log.Info("discovery: on", "ifaces", strings.Join(names, ","))
}

func noIfaceReason(skipped []Skipped) string {
	var parts []string
	for _, k := range skipped {
		parts = append(parts, k.Name+": "+k.Reason)
	}
	if len(parts) == 0 {
		return "no usable network interface"
	}
	return "no usable network interface (" + strings.Join(parts, "; ") + ")"
}

func (s *Service) setReason(reason string) {
	s.mu.Lock()
	s.diag.reason = reason
	s.diag.enabled = reason == ""
	s.mu.Unlock()
}

// refreshOwn re-announces when what this host says about itself changed,
// at most once per AnnounceMin.
func (r *runner) refreshOwn() {
	s := r.s
	own := s.cfg.Own()
	s.mu.Lock()
	if own != s.own {
		s.own = own
		s.fillSelfLocked(r.ifs)
	}
	rename := s.rename
	s.mu.Unlock()
	if r.reg == nil {
		return
	}
	ad := r.makeAd(rename)
	if ad.Instance == r.ad.Instance && slices.Equal(ad.Text, r.ad.Text) {
		return
	}
	if ad.Instance == r.ad.Instance && time.Since(r.lastAnnoun) < s.t.AnnounceMin {
		return // throttled: the next tick tries again
	}
	r.advertise(ad)
}

func (r *runner) makeAd(rename bool) Ad {
	s := r.s
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.instance == "" || rename || s.instanceBase() != baseOf(s.instance) {
		taken := func(name string) bool {
			for _, e := range s.entries {
				if strings.EqualFold(e.instance, name) {
					return true
				}
			}
			return false
		}
		if rename {
			taken = func(name string) bool {
				if strings.EqualFold(name, s.instance) {
					return true
				}
				for _, e := range s.entries {
					if strings.EqualFold(e.instance, name) {
						return true
					}
				}
				return false
			}
		}
		s.instance = uniqueName(s.instanceBase(), taken)
		s.rename = false
	}
	return Ad{Instance: s.instance, Host: "lanchat-" + s.cfg.ID, Port: s.cfg.Port, Text: s.own.TXT(s.cfg.ID), Ifaces: r.ifs}
}

func (s *Service) instanceBase() string { return InstanceName(s.own.Name) }

// baseOf strips a " (n)" suffix added by uniqueName.
func baseOf(name string) string {
	if i := strings.LastIndex(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		if _, err := parseUint(name[i+2 : len(name)-1]); err == nil {
			return name[:i]
		}
	}
	return name
}

func (r *runner) advertise(ad Ad) {
	s := r.s
	var err error
	if r.reg == nil {
		r.reg, err = s.cfg.Advertiser.Advertise(ad)
	} else {
		err = r.reg.Update(ad)
	}
	r.ad, r.lastAnnoun = ad, time.Now()
	if err != nil {
		s.log.Warn("discovery: advertising", "err", err)
		s.mu.Lock()
		s.diag.advertErr = err.Error()
		s.mu.Unlock()
		if r.reg != nil {
			r.reg.Close()
			r.reg = nil
		}
		return
	}
	s.mu.Lock()
	s.diag.advertErr = ""
	s.diag.advertising = true
	s.mu.Unlock()
}

// startBrowse starts a fresh browse round; the previous one keeps running
// until the next, so there is no gap in which an announcement is missed.
func (r *runner) startBrowse() {
	s := r.s
	if r.prev != nil {
		r.prev()
	}
	r.prev = r.cur
	r.lastBrowse = time.Now()
	ctx, cancel := context.WithCancel(r.ctx)
	r.cur = cancel
	ifs := slices.Clone(r.ifs)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := s.cfg.Browser.Browse(ctx, ifs, handler{s})
		s.mu.Lock()
		defer s.mu.Unlock()
		if err != nil && ctx.Err() == nil {
			s.diag.browseErr = err.Error()
			s.log.Warn("discovery: browsing", "err", err)
		} else if err == nil {
			s.diag.browseErr = ""
		}
	}()
}

func (r *runner) stopMDNS() {
	if r.reg != nil {
		if err := r.reg.Close(); err != nil {
			r.s.log.Debug("discovery: goodbye", "err", err)
		}
		r.reg = nil
		r.ad = Ad{}
	}
	for _, c := range []context.CancelFunc{r.cur, r.prev} {
		if c != nil {
			c()
		}
	}
	r.cur, r.prev = nil, nil
	r.s.mu.Lock()
	r.s.diag.advertising = false
	r.s.mu.Unlock()
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

// handler receives what the Browser sees.
type handler struct{ s *Service }

func (h handler) Found(f Found) { h.s.found(f) }

func (h handler) Traffic(t Traffic) { h.s.traffic(t) }

func (s *Service) found(f Found) {
	txt := ParseTXT(f.Text)
	id := txt["id"]
	var v4, v6 []string
	for _, a := range f.Addrs {
		if a.To4() != nil {
			v4 = append(v4, hostPort(a, f.Port))
		} else if !a.IsLinkLocalUnicast() {
			v6 = append(v6, hostPort(a, f.Port))
		}
	}
	cands := append(v4, v6...)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	s.diag.lastFound = now
	if id == s.cfg.ID {
		s.diag.ownEcho = now
		return
	}
	if strings.EqualFold(f.Instance, s.instance) && (id == "" || id < s.cfg.ID) {
		s.rename = true // the other keeps the name
	}
	key := id
	if key == "" {
		key = "mdns:" + f.Instance
	}
	if len(cands) == 0 || f.Port <= 0 {
		return
	}
	e := s.entries[key]
	if e == nil {
		name := txt["name"]
		if name == "" {
			name = f.Instance
		}
		e = &entry{key: key, poke: make(chan struct{}, 1), peer: Peer{ID: id, Name: name}}
		s.entries[key] = e
		e.mdns, e.instance = cands, f.Instance
		s.startWatchLocked(e)
		return
	}
	e.instance = f.Instance
	if !slices.Equal(e.mdns, cands) {
		e.mdns = cands
		e.pokeWatcher()
	}
}

func (s *Service) traffic(t Traffic) {
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.diag.lastTraffic = now
	if t.From != nil && !s.ownAddrs[t.From.String()] {
		s.diag.lastOthers = now
		s.diag.othersFrom = t.From.String()
	}
	for _, name := range t.Announced {
		if strings.EqualFold(name, s.instance) || slices.ContainsFunc(mapValues(s.entries), func(e *entry) bool {
			return strings.EqualFold(e.instance, name)
		}) {
			continue
		}
		select {
		case s.rebrowse <- struct{}{}:
		default:
		}
		break
	}
	for _, name := range t.Goodbyes {
		for _, e := range s.entries {
			if e.instance != "" && strings.EqualFold(e.instance, name) {
				e.pokeWatcher() // check it at once rather than at the next probe
			}
		}
	}
}

func (e *entry) pokeWatcher() {
	select {
	case e.poke <- struct{}{}:
	default:
	}
}

// InstanceName turns a display name into a DNS-SD instance name: no dots or
// control characters, at most 63 bytes.
func InstanceName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r == '.' || r == '\\':
			return '-'
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	for len(name) > 63 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name = strings.TrimSpace(name); name == "" {
		name = "lanchat"
	}
	return name
}

// uniqueName returns base, or "base (n)" with the smallest n ≥ 2 not taken.
func uniqueName(base string, taken func(string) bool) string {
	if !taken(base) {
		return base
	}
	for n := 2; ; n++ {
		suffix := " (" + itoa(n) + ")"
		b := base
		for len(b)+len(suffix) > 63 {
			_, size := utf8.DecodeLastRuneInString(b)
			b = b[:len(b)-size]
		}
		if c := b + suffix; !taken(c) {
			return c
		}
	}
}

func parseUint(s string) (int, error) {
	if s == "" || len(s) > 6 {
		return 0, errors.New("not a number")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
