// Package app is the desktop shell's side of the Wails bridge: the services
// the web UI calls as window.go.app.App.<Method> (the own host's info,
// settings, the peer list and notifications) and Run, which starts the host
// and opens the window. It is the only package that imports Wails.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"sync/atomic"

	"lanchat/backend/protocol"
)

// SelfInfo describes the host this app runs, for the UI's "This computer".
// HostToken proves the host role to the own hub; it never leaves the
// process except over the bridge and is never logged.
type SelfInfo struct {
	Name      string   `json:"name"`
	ID        string   `json:"id"`
	Port      int      `json:"port"`
	WSURL     string   `json:"ws_url"`
	JoinURLs  []string `json:"join_urls"`
	HostToken string   `json:"host_token"`
	Version   string   `json:"version"`
	// JoinCode is the code guests need, when the host has set one, for the
	// session card.
	JoinCode string `json:"join_code,omitempty"`
	// Fingerprint identifies this host's key, for the session card.
	Fingerprint string `json:"fingerprint"`
}

// hostInfo is what the app needs from the running host.
type hostInfo interface {
	Port() int
	JoinURLs() []string
	Fingerprint() string
}

// hubInfo is what the app asks the host's hub: its join code and its name.
type hubInfo interface {
	JoinCode() string
	HostName() string
	SetHostName(name string) (string, *protocol.Problem)
}

// App is bound to the webview. Its exported methods are the bridge.
type App struct {
	id, version, token string
	host               hostInfo
	hub                hubInfo
	hostNamed          atomic.Bool // the computer\'s chat name was chosen (see Run)
	settings           *settingsStore
	peers              *peerFeed
	log                *slog.Logger

	mu      sync.Mutex
	wailsCx context.Context // set once the window has started
	notify  notifier
}

// newToken makes the per-run host token.
func newToken() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("host token: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// Self returns the own host's info.
func (a *App) Self() SelfInfo {
	port := a.host.Port()
	urls := a.host.JoinURLs()
	if urls == nil {
		urls = []string{}
	}
	return SelfInfo{
		Name:      a.hub.HostName(),
		ID:        a.id,
		Port:      port,
		WSURL:     "ws://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) + "/ws",
		JoinURLs:  urls,
		HostToken: a.token,
		Version:   a.version,
		JoinCode:  a.hub.JoinCode(),

		Fingerprint: a.host.Fingerprint(),
	}
}

// Settings returns the saved settings, with OS defaults for what is unset.
// HostName is the host's name once it was chosen (on the command line or on
// the first run), and empty while the first run should ask for it.
func (a *App) Settings() Settings {
	s := a.settings.Get()
	s.HostName = ""
	if a.hostNamed.Load() {
		s.HostName = a.hub.HostName()
	}
	return s
}

// SaveSettings stores the name and language. The data dir cannot be changed
// from here; the value passed is ignored.
func (a *App) SaveSettings(s Settings) error {
	cur := a.settings.Get()
	s.MaxFileMB, s.MaxFilesMB = cur.MaxFileMB, cur.MaxFilesMB // SetFileLimits' own
	_, err := a.settings.Save(s)
	if err != nil {
		a.log.Warn("settings not saved", "err", err)
	}
	return err
}

// SetHostName renames this computer's host for everyone at once (members,
// /api/info, the LAN announcement) and keeps the name for the next start.
// It returns the name as cleaned.
func (a *App) SetHostName(name string) (string, error) {
	n, p := a.hub.SetHostName(name)
	if p != nil {
		return "", errors.New(p.Message)
	}
	a.hostNamed.Store(true)
	s := a.settings.Get()
	s.HostName = n
	if _, err := a.settings.Save(s); err != nil {
		a.log.Warn("the computer's chat name was not saved", "err", err)
		return n, err
	}
	return n, nil
}

// Peers returns the other hosts currently seen on the LAN.
func (a *App) Peers() []Peer { return a.peers.List() }

// AddPeer adds a host by address ("192.168.1.20:47800", or an IP or name
// with the default port); it must answer. The host is remembered and
// returned as the peer list shows it.
func (a *App) AddPeer(addr string) (Peer, error) {
	return a.peers.disc.AddManual(a.context(), addr)
}

// ForgetKey drops the key this computer remembers for host id, once the
// person has checked the host's new key with its owner: the key it proves
// next is remembered instead.
func (a *App) ForgetKey(id string) error { return a.peers.disc.ForgetKey(id) }

// Diagnosis explains what discovery sees, for the "nobody shows up" case.
func (a *App) Diagnosis() Diagnosis { return a.peers.disc.Diagnosis() }

// Notify shows a desktop notification. It fails soft: without a
// notification service nothing is shown and nothing is reported.
func (a *App) Notify(title, body string) {
	a.mu.Lock()
	n := a.notify
	a.mu.Unlock()
	if n == nil {
		return
	}
	if err := n.Notify(truncate(title, 120), truncate(body, 400)); err != nil {
		a.log.Debug("notification not shown", "err", err)
	}
}

// context is the window's context once it has started, else Background.
func (a *App) context() context.Context {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.wailsCx != nil {
		return a.wailsCx
	}
	return context.Background()
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// ReportUIError writes an uncaught error of the page to the app's log: a
// webview has no console anyone sees.
func (a *App) ReportUIError(text string) {
	if len(text) > 4000 {
		text = text[:4000]
	}
	a.log.Error("ui", "error", text)
}
