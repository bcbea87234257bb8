package discovery

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Diagnosis explains what discovery sees, for GET /api/discovery and the
// app's "devices not found?" help.
type Diagnosis struct {
	Enabled     bool        `json:"enabled"`          // advertising and browsing over mDNS
	Reason      string      `json:"reason,omitempty"` // why not, when not
	Advertising bool        `json:"advertising"`
	Instance    string      `json:"instance,omitempty"` // our DNS-SD instance name
	Port        int         `json:"port"`
	Interfaces  []IfaceInfo `json:"interfaces"` // in use, with the addresses advertised
	Skipped     []Skipped   `json:"skipped"`    // not used, and why
	// MDNSSeen: any mDNS packet arrived, our own echo included.
	MDNSSeen bool       `json:"mdns_seen"`
	LastMDNS *time.Time `json:"last_mdns,omitempty"`
	// OwnEcho: our own announcement came back through the browser.
	OwnEcho bool `json:"own_echo"`
	// OthersSeen: an mDNS packet from another machine arrived.
	OthersSeen     bool       `json:"others_seen"`
	LastFromOthers *time.Time `json:"last_from_others,omitempty"`
	Peers          int        `json:"peers"` // listed, this computer excluded
	// ReachableFrom names the peers whose own list has this host: our port
	// answers them.
	ReachableFrom []string     `json:"reachable_from"`
	Unanswered    []Unanswered `json:"unanswered"` // found by mDNS, but /api/info did not answer
	Errors        []string     `json:"errors"`
	Hints         []string     `json:"hints"`
	Since         time.Time    `json:"since"` // discovery started
}

// Unanswered is a host found by mDNS whose server did not answer.
type Unanswered struct {
	Name  string    `json:"name"`
	Addrs []string  `json:"addrs"`
	Error string    `json:"error"`
	At    time.Time `json:"at"`
}

type reach struct {
	name string
	at   time.Time
}

type diagState struct {
	enabled, advertising bool
	reason               string
	ifaces               []IfaceInfo
	skipped              []Skipped
	lastTraffic          time.Time
	lastOthers           time.Time
	othersFrom           string
	lastFound            time.Time
	ownEcho              time.Time
	unanswered           map[string]Unanswered
	reachable            map[string]reach
	asked                bool
	advertErr, browseErr string
}

// Diagnosis reports the state of discovery with hints for people.
func (s *Service) Diagnosis() Diagnosis {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	d := s.diag
	out := Diagnosis{
		Enabled: d.enabled && s.running, Reason: d.reason, Advertising: d.advertising, Port: s.cfg.Port,
		Interfaces: slices.Clone(d.ifaces), Skipped: slices.Clone(d.skipped),
		MDNSSeen: !d.lastTraffic.IsZero() || !d.lastFound.IsZero(), OwnEcho: !d.ownEcho.IsZero(),
		OthersSeen: !d.lastOthers.IsZero(), ReachableFrom: []string{}, Unanswered: []Unanswered{},
		Errors: []string{}, Hints: []string{}, Since: s.started,
	}
	if !s.running && out.Reason == "" {
		out.Reason = "not running"
	}
	if out.Interfaces == nil {
		out.Interfaces = []IfaceInfo{}
	}
	if out.Skipped == nil {
		out.Skipped = []Skipped{}
	}
	if d.advertising {
		out.Instance = s.instance
	}
	last := d.lastTraffic
	if d.lastFound.After(last) {
		last = d.lastFound
	}
	if !last.IsZero() {
		out.LastMDNS = &last
	}
	if !d.lastOthers.IsZero() {
		lo := d.lastOthers
		out.LastFromOthers = &lo
	}
	for _, e := range s.entries {
		if e.listed {
			out.Peers++
		}
	}
	for _, r := range d.reachable {
		out.ReachableFrom = append(out.ReachableFrom, r.name)
	}
	slices.Sort(out.ReachableFrom)
	for k, u := range d.unanswered {
		if now.Sub(u.At) > time.Minute {
			delete(d.unanswered, k)
			continue
		}
		out.Unanswered = append(out.Unanswered, u)
	}
	slices.SortFunc(out.Unanswered, func(a, b Unanswered) int { return strings.Compare(a.Name, b.Name) })
	if d.advertErr != "" {
		out.Errors = append(out.Errors, "advertising: "+d.advertErr)
	}
	if d.browseErr != "" {
		out.Errors = append(out.Errors, "browsing: "+d.browseErr)
	}

	hint := func(f string, a ...any) { out.Hints = append(out.Hints, fmt.Sprintf(f, a...)) }
	quiet := s.t.Quiet
	running := s.running && now.Sub(s.started) >= quiet
	switch {
	case !s.cfg.MDNS:
		hint("discovery is off: other hosts are not found automatically; add them by address, or share your join link")
	case !d.enabled:
		hint("discovery is off: %s. Connect to a network or choose an interface with --iface; people can still join with your link", out.Reason)
	case running && (d.lastOthers.IsZero() || now.Sub(d.lastOthers) > quiet):
		hint("no multicast seen from other machines in %d s — the network may block it; share your join link, or add a host by its address", int(quiet/time.Second))
	}
	if s.cfg.MDNS && d.enabled && running && d.ownEcho.IsZero() && d.advertising {
		hint("our own announcement never came back: multicast may be off on %s", ifaceNames(d.ifaces))
	}
	for _, u := range out.Unanswered {
		hint("%s was found but did not answer at %s: a firewall may block its port", u.Name, strings.Join(u.Addrs, ", "))
	}
	if d.asked && out.Peers > 0 && len(d.reachable) == 0 {
		hint("other hosts answer, but none of them reaches this one: a firewall here may block port %d", s.cfg.Port)
	}
	return out
}

func ifaceNames(ifs []IfaceInfo) string {
	var n []string
	for _, i := range ifs {
		n = append(n, i.Name)
	}
	return strings.Join(n, ", ")
}
