package discovery

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"
)

// The run loop: interfaces, the advertisement and the browser, restarted as
// the machine's interfaces and this host's TXT change.

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
