package discovery

import (
	"context"
	"net"
	"strconv"
	"strings"
	"time"
)

// ServiceType is the DNS-SD service type lanchat hosts advertise.
const ServiceType = "_lanchat._tcp"

// Peer is one lanchat host in the list. Its JSON shape is part of the HTTP
// API (GET /api/peers) and of the desktop app's events; docs/architecture.md
// describes it. Add fields, never rename or remove them.
type Peer struct {
	ID       string    `json:"id"`       // stable host id
	Name     string    `json:"name"`     // display name
	Addr     string    `json:"addr"`     // host:port that answers, IPv4 preferred
	URL      string    `json:"url"`      // http://addr/ (the join link)
	Addrs    []string  `json:"addrs"`    // every known host:port
	Self     bool      `json:"self"`     // this computer
	MDNS     bool      `json:"mdns"`     // found by mDNS
	Manual   bool      `json:"manual"`   // added by address (remembered)
	Version  string    `json:"version"`  // application version
	Protocol int       `json:"protocol"` // chat protocol version
	Members  int       `json:"members"`
	Rooms    int       `json:"rooms"`
	JoinCode bool      `json:"join_code"` // a join code is required
	LastSeen time.Time `json:"last_seen"` // last successful health probe
	// Fingerprint identifies the key the host proved over TLS ("" when it
	// answered over plain HTTP only); Trust is what this computer makes of
	// it: "new" (first met in this run, now remembered), "pinned" (the key
	// remembered from before) or "changed" (another key than the
	// remembered one: maybe an impostor, never to be joined).
	Fingerprint string `json:"fingerprint,omitempty"`
	Trust       string `json:"trust,omitempty"`
}

// same reports whether two views of a peer differ only in LastSeen. URL is
// not compared: it is always made from Addr.
func (p Peer) same(q Peer) bool {
	return p.ID == q.ID && p.Name == q.Name && p.Addr == q.Addr && strings.Join(p.Addrs, ",") == strings.Join(q.Addrs, ",") &&
		p.Self == q.Self && p.MDNS == q.MDNS && p.Manual == q.Manual && p.Version == q.Version &&
		p.Protocol == q.Protocol && p.Members == q.Members && p.Rooms == q.Rooms && p.JoinCode == q.JoinCode &&
		p.Fingerprint == q.Fingerprint && p.Trust == q.Trust
}

// EventType says what happened to a peer.
type EventType string

// Event types.
const (
	Added   EventType = "added"
	Updated EventType = "updated"
	Removed EventType = "removed"
)

// Event is a change in the peer list.
type Event struct {
	Type EventType `json:"type"`
	Peer Peer      `json:"peer"`
}

// Own is what this host tells others about itself.
type Own struct {
	Name     string
	Version  string
	Protocol int
	Members  int
	Rooms    int
	JoinCode bool
	// Fingerprint identifies the key this host serves TLS with.
	Fingerprint string
}

// TXT encodes own as DNS-SD TXT strings: txtvers, proto, id, name, members,
// rooms, code (1 when a join code is required), ver and, when the host
// serves TLS, fp (its key's fingerprint).
func (o Own) TXT(id string) []string {
	code := "0"
	if o.JoinCode {
		code = "1"
	}
	txt := []string{"txtvers=1", "proto=" + itoa(o.Protocol), "id=" + id, "name=" + o.Name,
		"members=" + itoa(o.Members), "rooms=" + itoa(o.Rooms), "code=" + code, "ver=" + o.Version}
	if o.Fingerprint != "" {
		txt = append(txt, "fp="+o.Fingerprint)
	}
	return txt
}

// ParseTXT reads TXT strings into a map (keys lower-cased; a key without
// "=" maps to "").
func ParseTXT(txt []string) map[string]string {
	m := make(map[string]string, len(txt))
	for _, s := range txt {
		k, v, _ := strings.Cut(s, "=")
		if k = strings.ToLower(k); k != "" {
			if _, dup := m[k]; !dup {
				m[k] = v
			}
		}
	}
	return m
}

// Info is what a peer's GET /api/info says, reduced to what the list needs.
type Info struct {
	ID       string
	Name     string
	Version  string
	Protocol int
	Port     int
	Members  int
	Rooms    int
	JoinCode bool
	// Fingerprint is the key the host proved over TLS ("" over plain HTTP).
	Fingerprint string
}

// Ad is what an Advertiser publishes.
type Ad struct {
	Instance string // DNS-SD instance name (the display name, made unique)
	Host     string // target host name, without ".local."
	Port     int
	Text     []string
	Ifaces   []Iface // announce on these, with their addresses only
}

// Advertiser publishes this host on the LAN.
type Advertiser interface {
	Advertise(ad Ad) (Registration, error)
}

// Registration is a published Ad.
type Registration interface {
	// Update replaces the published Ad and announces it.
	Update(ad Ad) error
	// Close withdraws the Ad, sending the goodbye.
	Close() error
}

// Found is a service instance seen by a Browser.
type Found struct {
	Instance string
	Host     string
	Port     int
	Text     []string
	Addrs    []net.IP
}

// Traffic is one mDNS packet seen on an interface.
type Traffic struct {
	From      net.IP
	Iface     string
	Goodbyes  []string // instance names of our service type withdrawn by this packet
	Announced []string // instance names of our service type announced by this packet
}

// BrowseHandler receives what a Browser sees. Calls may come from several
// goroutines.
type BrowseHandler interface {
	Found(Found)
	Traffic(Traffic)
}

// Browser looks for ServiceType instances on ifaces until ctx ends.
type Browser interface {
	Browse(ctx context.Context, ifaces []Iface, h BrowseHandler) error
}

// Prober asks a peer's server about itself.
type Prober interface {
	// Info fetches GET http://addr/api/info.
	Info(ctx context.Context, addr string) (Info, error)
	// Peers fetches GET http://addr/api/peers.
	Peers(ctx context.Context, addr string) ([]Peer, error)
}

func itoa(n int) string { return strconv.Itoa(n) }

func hostPort(ip net.IP, port int) string { return net.JoinHostPort(ip.String(), itoa(port)) }
