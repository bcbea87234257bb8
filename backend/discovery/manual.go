package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"lanchat/backend/identity"
)

// DefaultPort is lanchat's port when an address names none.
const DefaultPort = 47800

// ErrSelf is AddManual's answer when the address is this host's own.
var ErrSelf = errors.New("that address is this computer")

// ParseAddr accepts "host", "host:port", "[v6]:port" or an http:// URL and
// returns host:port.
func ParseAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty address")
	}
	host, port := "", ""
	if strings.Contains(s, "://") {
		u, err := url.Parse(s)
		if err != nil {
			return "", fmt.Errorf("bad URL: %w", err)
		}
		if u.Scheme != "http" && u.Scheme != "https" {
			return "", fmt.Errorf("unsupported scheme %q: lanchat hosts speak http and https", u.Scheme)
		}
		host, port = u.Hostname(), u.Port()
	} else if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else {
		host = strings.Trim(s, "[]")
	}
	if host == "" || strings.ContainsAny(host, "/?#@ ") {
		return "", fmt.Errorf("bad address %q", s)
	}
	if port == "" {
		port = strconv.Itoa(DefaultPort)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n <= 0 || n > 65535 {
		return "", fmt.Errorf("bad port %q", port)
	}
	return net.JoinHostPort(host, strconv.Itoa(n)), nil
}

// LinkFingerprint is the key fingerprint a join link carries in its
// fragment ("http://10.0.0.5:47800/#fp=…"), or "".
func LinkFingerprint(link string) string {
	_, frag, ok := strings.Cut(link, "#")
	if !ok {
		return ""
	}
	v, err := url.ParseQuery(frag)
	if err != nil {
		return ""
	}
	return identity.Normalize(v.Get("fp"))
}

// ForgetKey drops the key remembered for host id, when the person at this
// computer has checked that the host's new key is right (the host was
// reinstalled, say). The host is probed again at once, and the key it then
// proves is remembered as on first contact.
func (s *Service) ForgetKey(id string) error {
	if s.cfg.Pins == nil {
		return errors.New("this host remembers no keys")
	}
	if err := s.cfg.Pins.Forget(id); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.entries[id]; e != nil {
		e.pokeWatcher()
	}
	return nil
}

// AddManual adds a host by address: it must answer GET /api/info. The host
// is remembered in the data dir and probed again on every start. When addr
// is a join link that carries a fingerprint, the host must present that key
// before anything of it is remembered.
func (s *Service) AddManual(ctx context.Context, addr string) (Peer, error) {
	hp, err := ParseAddr(addr)
	if err != nil {
		return Peer{}, err
	}
	pctx, cancel := context.WithTimeout(ctx, 3*s.t.ProbeTimeout)
	info, err := s.prober.Info(pctx, hp)
	cancel()
	if err != nil {
		return Peer{}, fmt.Errorf("%s did not answer as a lanchat host: %w", hp, err)
	}
	if info.ID == s.cfg.ID {
		return Peer{}, ErrSelf
	}
	if want := LinkFingerprint(addr); want != "" && info.Fingerprint != want {
		return Peer{}, &identity.MismatchError{Want: want, Got: info.Fingerprint}
	}
	if err := s.store.add(hp, info.ID, info.Name); err != nil {
		s.log.Warn("discovery: remembering host", "addr", hp, "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.entries[info.ID]
	if e == nil {
		e = &entry{key: info.ID, poke: make(chan struct{}, 1)}
		s.entries[info.ID] = e
	}
	e.manual = hp
	s.applyOKLocked(e, hp, info)
	s.startWatchLocked(e)
	return e.peer, nil
}

// manualHost is a host added by address, as remembered on disk.
type manualHost struct {
	Addr  string    `json:"addr"`
	ID    string    `json:"id,omitempty"`
	Name  string    `json:"name,omitempty"`
	Added time.Time `json:"added"`
}

// manualStore keeps manual hosts in dataDir/peers.json.
type manualStore struct {
	path  string
	mu    sync.Mutex
	hosts []manualHost
}

func newManualStore(dataDir string) *manualStore {
	m := &manualStore{}
	if dataDir == "" {
		return m
	}
	m.path = filepath.Join(dataDir, "peers.json")
	if b, err := os.ReadFile(m.path); err == nil {
		var f struct {
			Hosts []manualHost `json:"hosts"`
		}
		if json.Unmarshal(b, &f) == nil {
			for _, h := range f.Hosts {
				if hp, err := ParseAddr(h.Addr); err == nil {
					h.Addr = hp
					m.hosts = append(m.hosts, h)
				}
			}
		}
	}
	return m
}

func (m *manualStore) list() []manualHost {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.hosts)
}

func (m *manualStore) add(addr, id, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	// one address per host id: the newest wins
	m.hosts = slices.DeleteFunc(m.hosts, func(h manualHost) bool { return h.Addr == addr || (id != "" && h.ID == id) })
	m.hosts = append(m.hosts, manualHost{Addr: addr, ID: id, Name: name, Added: time.Now().UTC()})
	return m.saveLocked()
}

// learn records the id and name a remembered address answered with.
func (m *manualStore) learn(addr, id, name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, h := range m.hosts {
		if h.Addr == addr && (h.ID != id || h.Name != name) {
			m.hosts[i].ID, m.hosts[i].Name = id, name
			_ = m.saveLocked()
		}
	}
}

func (m *manualStore) saveLocked() error {
	if m.path == "" {
		return nil
	}
	b, err := json.MarshalIndent(struct {
		Hosts []manualHost `json:"hosts"`
	}{m.hosts}, "", "  ")
	if err != nil {
		return err
	}
	tmp := m.path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, m.path)
}
