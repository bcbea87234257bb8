package discovery

import (
	"slices"
	"strings"
	"time"
)

// What the browser reports: hosts found and multicast traffic seen.

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
