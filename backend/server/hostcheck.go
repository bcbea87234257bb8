package server

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// hostPolicy decides which Host header values the server answers. A page
// served from any other name — a DNS-rebinding page, for instance, whose
// name an attacker points at this host's address — gets 421 on every route,
// so it can neither read the host's API nor open a WebSocket as
// "same-origin". The host answers to:
//
//   - IP literals of its own interfaces (with or without port);
//   - loopback literals (127.0.0.0/8, ::1) and localhost;
//   - its mDNS names: <os hostname>.local and the lanchat-<id>.local its
//     own advertisement uses (case-insensitive, with or without a trailing dot);
//   - the desktop webview's host names (see WebviewOrigins);
//   - names given with Config.AllowedHosts (lanchat serve --allow-host).
type hostPolicy struct {
	names map[string]bool // lower case, no trailing dot

	// The interface addresses, read at start and again, at most once per
	// refreshEvery, when a Host is an IP literal not among them.
	addrs          atomic.Pointer[map[netip.Addr]bool]
	mu             sync.Mutex // serialises refreshes
	lastRefresh    time.Time
	refreshEvery   time.Duration
	interfaceAddrs func() ([]net.Addr, error)
	refreshes      atomic.Int64 // for tests
	now            func() time.Time
}

func newHostPolicy(hostID string, allowed []string) *hostPolicy {
	p := &hostPolicy{names: map[string]bool{"localhost": true}, refreshEvery: time.Second,
		interfaceAddrs: net.InterfaceAddrs, now: time.Now}
	for _, o := range WebviewOrigins {
		if u, err := url.Parse(o); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
			p.names[normalizeName(u.Hostname())] = true
		}
	}
	if hn, err := os.Hostname(); err == nil && hn != "" {
		hn = normalizeName(hn)
		p.names[hn+".local"] = true
		if first, _, ok := strings.Cut(hn, "."); ok && first != "" {
			p.names[first+".local"] = true
		}
	}
	if hostID != "" {
		p.names[normalizeName("lanchat-"+hostID)+".local"] = true
	}
	for _, a := range allowed {
		for _, n := range strings.Split(a, ",") {
			if n = strings.TrimSpace(n); n != "" {
				p.names[normalizeName(hostOnly(n))] = true
			}
		}
	}
	p.refresh()
	return p
}

func normalizeName(s string) string { return strings.TrimSuffix(strings.ToLower(s), ".") }

// hostOnly is the host part of a Host header value: without the port, and
// without the brackets of an IPv6 literal.
func hostOnly(h string) string {
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return h
		}
		if rest := h[end+1:]; rest == "" || rest[0] == ':' && validPort(rest[1:]) {
			return h[1:end]
		}
		return h // not a bracketed literal with an optional port
	}
	if i := strings.LastIndexByte(h, ':'); i >= 0 && strings.Count(h, ":") == 1 && validPort(h[i+1:]) {
		return h[:i]
	}
	return h
}

func validPort(p string) bool {
	if p == "" || len(p) > 5 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// allowed reports whether the server answers to the Host header value h.
func (p *hostPolicy) allowed(h string) bool {
	if h == "" {
		return false
	}
	name := normalizeName(hostOnly(h))
	if name == "" {
		return false
	}
	if ip, err := netip.ParseAddr(name); err == nil {
		return p.ownIP(ip.WithZone("").Unmap())
	}
	if strings.ContainsAny(name, ":[]") {
		return false // an unbracketed IPv6 literal or a malformed port
	}
	return p.names[name]
}

func (p *hostPolicy) ownIP(ip netip.Addr) bool {
	if ip.IsLoopback() {
		return true
	}
	if ip.IsUnspecified() {
		return false
	}
	if (*p.addrs.Load())[ip] {
		return true
	}
	// Perhaps an address that came up since the last look: look again,
	// but at most once per refreshEvery, so a flood of bad Hosts does not
	// enumerate the interfaces on every request.
	if !p.refreshDue() {
		return false
	}
	return (*p.addrs.Load())[ip]
}

// refreshDue refreshes the addresses if the last refresh is old enough and
// reports whether it did.
func (p *hostPolicy) refreshDue() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.now().Sub(p.lastRefresh) < p.refreshEvery {
		return false
	}
	p.refreshLocked()
	return true
}

func (p *hostPolicy) refresh() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.refreshLocked()
}

func (p *hostPolicy) refreshLocked() {
	p.lastRefresh = p.now()
	p.refreshes.Add(1)
	set := map[netip.Addr]bool{}
	addrs, _ := p.interfaceAddrs()
	for _, a := range addrs {
		var ip net.IP
		switch a := a.(type) {
		case *net.IPNet:
			ip = a.IP
		case *net.IPAddr:
			ip = a.IP
		}
		if addr, ok := netip.AddrFromSlice(ip); ok {
			set[addr.Unmap()] = true
		}
	}
	p.addrs.Store(&set)
}

// checkHost wraps next with the Host check: a request naming another host
// gets 421 Misdirected Request and a plain-text explanation.
func (s *Server) checkHost(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.hosts.allowed(r.Host) {
			next.ServeHTTP(w, r)
			return
		}
		s.cfg.Logger.Debug("request for another host name refused", "host", r.Host, "remote", r.RemoteAddr, "path", r.URL.Path)
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Cache-Control", "no-store")
		h.Set("Connection", "close")
		w.WriteHeader(http.StatusMisdirectedRequest)
		fmt.Fprintln(w, s.misdirected(r.Host))
	})
}

// misdirected is the body of a 421.
func (s *Server) misdirected(host string) string {
	where := "its address"
	if urls := s.cfg.JoinURLs(); len(urls) > 0 {
		where = "its address, such as " + urls[0]
	}
	if host == "" {
		return "this lanchat host answers only requests that name it in a Host header; use " + where
	}
	if len(host) > 100 {
		host = host[:100] + "…"
	}
	return fmt.Sprintf("this lanchat host does not answer to the name %q; use %s (to reach it by a name, start it with --allow-host NAME)", host, where)
}
