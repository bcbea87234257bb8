package discovery

import (
	"context"
	"errors"
	"slices"
	"time"

	"lanchat/backend/identity"
)

// startWatchLocked starts e's health watcher if Run is running.
func (s *Service) startWatchLocked(e *entry) {
	if !s.running || e.cancel != nil || e.done {
		return
	}
	ctx, cancel := context.WithCancel(s.runCtx)
	e.cancel = cancel
	s.wg.Add(1)
	go s.watch(ctx, e)
}

// watch probes one peer until it is dropped (found by mDNS only) or Run
// ends. A peer is dropped after RefusedLimit consecutive refusals (its
// port is closed: it quit or was killed) or FailLimit consecutive failures
// of any kind (timeouts: it left the network); one lost probe never drops it.
func (s *Service) watch(ctx context.Context, e *entry) {
	defer s.wg.Done()
	fails, refusals, good := 0, 0, 0
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-e.poke:
		}
		cands := s.candidates(e)
		addr, info, err := s.probeAll(ctx, cands)
		if ctx.Err() != nil {
			return
		}
		next := s.t.ProbeEvery
		if err == nil {
			fails, refusals = 0, 0
			if !s.probeOK(e, addr, info) {
				return
			}
			if good%s.t.AskEvery == 2 {
				s.ask(ctx, e, addr)
			}
			good++
		} else {
			fails++
			if refused(err) {
				refusals++
			} else {
				refusals = 0
			}
			next = s.t.RetryAfter
			if refusals >= s.t.RefusedLimit || fails >= s.t.FailLimit {
				if !s.probeFailed(e, cands, err) {
					return
				}
				next = s.t.ManualRetry
			}
		}
		timer.Reset(next)
	}
}

func (s *Service) candidates(e *entry) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := slices.Clone(e.mdns)
	if e.manual != "" && !slices.Contains(c, e.manual) {
		c = append(c, e.manual)
	}
	// the address that answered last goes first among its family
	if e.peer.Addr != "" {
		if i := slices.Index(c, e.peer.Addr); i > 0 && isV4(c[i]) == isV4(c[0]) {
			c = append([]string{c[i]}, append(c[:i:i], c[i+1:]...)...)
		}
	}
	return c
}

func isV4(hostport string) bool {
	for i := 0; i < len(hostport); i++ {
		if hostport[i] == ':' {
			return !slices.Contains([]byte(hostport[i+1:]), ':')
		}
		if hostport[i] == '[' {
			return false
		}
	}
	return true
}

// trustLocked checks the key a peer proved against the one remembered for
// its id. A peer that answers over plain HTTP under an id whose key is
// remembered counts as changed: nobody can tell it is the same host.
func (s *Service) trustLocked(info Info, name string) string {
	if s.cfg.Pins == nil {
		return ""
	}
	if info.Fingerprint == "" {
		if s.cfg.Pins.Lookup(info.ID) != "" {
			return string(identity.TrustChanged)
		}
		return ""
	}
	t, err := s.cfg.Pins.Check(info.ID, name, info.Fingerprint)
	if err != nil {
		s.log.Warn("discovery: remembering a host's key", "id", info.ID, "err", err)
		return ""
	}
	if t == identity.TrustChanged {
		s.log.Warn("discovery: a host presents another key than the one remembered", "id", info.ID, "name", name,
			"remembered", identity.Short(s.cfg.Pins.Lookup(info.ID)), "presented", identity.Short(info.Fingerprint))
	}
	return string(t)
}

type probeResult struct {
	info Info
	err  error
}

// probeAll probes every candidate at once and returns the first one, in
// candidate order, that answered: the preferred address wins as soon as it
// answers, without waiting for slower ones.
func (s *Service) probeAll(ctx context.Context, cands []string) (string, Info, error) {
	if len(cands) == 0 {
		return "", Info{}, errors.New("no address")
	}
	ctx, cancel := context.WithTimeout(ctx, s.t.ProbeTimeout)
	defer cancel()
	res := make([]chan probeResult, len(cands))
	for i, a := range cands {
		res[i] = make(chan probeResult, 1)
		go func() {
			info, err := s.prober.Info(ctx, a)
			res[i] <- probeResult{info, err}
		}()
	}
	var firstErr error
	addr, info := "", Info{}
	for i, ch := range res {
		r := <-ch // every goroutine is waited for: none outlives the call
		if addr != "" {
			continue
		}
		if r.err == nil {
			addr, info = cands[i], r.info
			cancel()
			continue
		}
		if firstErr == nil || (refused(firstErr) && !refused(r.err)) {
			firstErr = r.err
		}
	}
	if addr != "" {
		return addr, info, nil
	}
	return "", Info{}, firstErr
}

// probeOK records a good probe; false means the watcher must stop.
func (s *Service) probeOK(e *entry, addr string, info Info) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.applyOKLocked(e, addr, info)
}

func (s *Service) applyOKLocked(e *entry, addr string, info Info) bool {
	if e.done {
		return false
	}
	if info.ID == s.cfg.ID {
		s.dropLocked(e) // our own address (an alias or a manual add of ourselves)
		return false
	}
	if e.key != info.ID {
		if other := s.entries[info.ID]; other != nil && other != e {
			for _, a := range e.mdns {
				if !slices.Contains(other.mdns, a) {
					other.mdns = append(other.mdns, a)
				}
			}
			if e.manual != "" {
				other.manual = e.manual
			}
			if other.instance == "" {
				other.instance = e.instance
			}
			other.pokeWatcher()
			s.dropLocked(e)
			return false
		}
		delete(s.entries, e.key)
		e.key = info.ID
		s.entries[e.key] = e
	}
	p := Peer{ID: info.ID, Name: info.Name, Addr: addr, URL: "http://" + addr + "/",
		Addrs: s.addrsLocked(e), MDNS: len(e.mdns) > 0, Manual: e.manual != "",
		Version: info.Version, Protocol: info.Protocol, Members: info.Members, Rooms: info.Rooms,
		JoinCode: info.JoinCode, LastSeen: time.Now(), Fingerprint: info.Fingerprint}
	if p.Name == "" {
		p.Name = e.peer.Name
	}
	p.Trust = s.trustLocked(info, p.Name)
	if p.Trust == string(identity.TrustPinned) && e.peer.Trust == string(identity.TrustNew) {
		p.Trust = e.peer.Trust // first met in this run: still said so
	}
	old := e.peer
	e.peer = p
	delete(s.diag.unanswered, e.key)
	if !e.listed {
		e.listed = true
		s.emitLocked(Added, p)
		if e.manual != "" {
			s.store.learn(e.manual, p.ID, p.Name)
		}
	} else if !old.same(p) {
		s.emitLocked(Updated, p)
	}
	return true
}

func (s *Service) addrsLocked(e *entry) []string {
	out := slices.Clone(e.mdns)
	if e.manual != "" && !slices.Contains(out, e.manual) {
		out = append(out, e.manual)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// probeFailed drops e from the list; false means the watcher must stop
// (a peer found by mDNS comes back when a later browse finds it again).
func (s *Service) probeFailed(e *entry, cands []string, err error) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.done {
		return false
	}
	if e.listed {
		e.listed = false
		s.emitLocked(Removed, e.peer)
	} else if len(e.mdns) > 0 {
		s.diag.unanswered[e.key] = Unanswered{Name: e.peer.Name, Addrs: cands, Error: err.Error(), At: time.Now()}
	}
	if e.manual != "" {
		return true
	}
	s.dropLocked(e)
	return false
}

func (s *Service) dropLocked(e *entry) {
	if e.listed {
		e.listed = false
		s.emitLocked(Removed, e.peer)
	}
	e.done = true
	if s.entries[e.key] == e {
		delete(s.entries, e.key)
	}
	if e.cancel != nil {
		e.cancel()
	}
}

// ask fetches the peer's own list: if this host is in it, our port is
// reachable from there.
func (s *Service) ask(ctx context.Context, e *entry, addr string) {
	ctx, cancel := context.WithTimeout(ctx, 2*s.t.ProbeTimeout)
	defer cancel()
	peers, err := s.prober.Peers(ctx, addr)
	if err != nil {
		return
	}
	found := slices.ContainsFunc(peers, func(p Peer) bool { return p.ID == s.cfg.ID && !p.Self })
	s.mu.Lock()
	defer s.mu.Unlock()
	s.diag.asked = true
	if found {
		s.diag.reachable[e.key] = reach{name: e.peer.Name, at: time.Now()}
	} else {
		delete(s.diag.reachable, e.key)
	}
}
