package server

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"lanchat/backend/chat"
)

func TestHostPolicy(t *testing.T) {
	p := newHostPolicy("3f2a9c0d1b2e4f5a", []string{"chat.school.lan", "Lab-PC, other.example."})
	p.interfaceAddrs = func() ([]net.Addr, error) {
		return []net.Addr{
			&net.IPNet{IP: net.ParseIP("10.99.0.1"), Mask: net.CIDRMask(24, 32)},
			&net.IPNet{IP: net.ParseIP("fe80::1"), Mask: net.CIDRMask(64, 128)},
			&net.IPAddr{IP: net.ParseIP("192.168.1.20")},
		}, nil
	}
	p.refresh()
	hn, _ := os.Hostname()
	cases := []struct {
		host string
		ok   bool
	}{
		{"10.99.0.1", true},
		{"10.99.0.1:47800", true},
		{"192.168.1.20:1", true},
		{"[fe80::1]:47800", true},
		{"[fe80::1%25eth0]:47800", true},
		{"127.0.0.1:47800", true},
		{"127.8.9.10", true},
		{"[::1]:47800", true},
		{"[::1]", true},
		{"[::ffff:127.0.0.1]:47800", true},
		{"localhost:47800", true},
		{"LOCALHOST.", true},
		{"wails.localhost", true},
		{"wails.localhost:34115", true},
		{strings.ToUpper(hn) + ".local:47800", true},
		{hn + ".local.", true},
		{"lanchat-3f2a9c0d1b2e4f5a.local:47800", true},
		{"chat.school.lan:47800", true},
		{"CHAT.SCHOOL.LAN.", true},
		{"lab-pc", true},
		{"other.example:8080", true},

		{"", false},
		{"evil.example", false},
		{"evil.example:47800", false},
		{"10.99.0.1.evil.example", false},
		{"localhost.evil.example", false},
		{"evil.localhost", false},
		{"wails", false},
		{hn + ".local.evil.example", false},
		{hn, false},
		{"10.99.0.2:47800", false},
		{"0.0.0.0:47800", false},
		{"[::]:47800", false},
		{"10.99.0.1:http", false},
		{"[::1]x", false},
		{"[::1]:80:80", false},
		{"school.lan", false},
		{"lanchat-ffffffffffffffff.local", false},
	}
	for _, c := range cases {
		if got := p.allowed(c.host); got != c.ok {
			t.Errorf("Host %q: allowed %v, want %v", c.host, got, c.ok)
		}
	}
}

// An IP not among the interface addresses makes the policy look again, at
// most once per refreshEvery: a flood of unknown addresses does not
// enumerate the interfaces per request, and a new address is picked up.
func TestHostPolicyRefresh(t *testing.T) {
	now := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	addrs := []net.Addr{&net.IPNet{IP: net.ParseIP("10.0.0.1"), Mask: net.CIDRMask(24, 32)}}
	p := newHostPolicy("", nil)
	p.now = func() time.Time { return now }
	p.interfaceAddrs = func() ([]net.Addr, error) { return addrs, nil }
	p.refresh()
	base := p.refreshes.Load()
	for range 1000 {
		if p.allowed("10.0.0.9:47800") || p.allowed("evil.example") {
			t.Fatal("an unknown host allowed")
		}
	}
	if n := p.refreshes.Load() - base; n != 0 {
		t.Errorf("%d refreshes within a second of the last", n)
	}
	addrs = append(addrs, &net.IPNet{IP: net.ParseIP("10.0.0.9"), Mask: net.CIDRMask(24, 32)})
	if p.allowed("10.0.0.9") {
		t.Error("new address seen before the refresh was due")
	}
	now = now.Add(time.Second)
	if !p.allowed("10.0.0.9:47800") {
		t.Error("a new interface address is refused after the refresh was due")
	}
	if n := p.refreshes.Load() - base; n != 1 {
		t.Errorf("%d refreshes, want 1", n)
	}
	for range 1000 {
		p.allowed("10.0.0.77")
		p.allowed("evil.example") // names never refresh
	}
	if n := p.refreshes.Load() - base; n != 1 {
		t.Errorf("%d refreshes after a flood, want 1", n)
	}
}

// The Host check wraps every route of the server, including those added
// later with Handle, and answers 421 with a plain-text explanation.
func TestMisdirectedRequest(t *testing.T) {
	hub, err := chat.NewHub(chat.Config{HostID: "host-test"})
	if err != nil {
		t.Fatal(err)
	}
	defer hub.Close()
	s := New(Config{Hub: hub, AllowedHosts: []string{"chat.school.lan"},
		JoinURLs: func() []string { return []string{"http://192.168.1.20:47800/"} }})
	s.Handle("GET /later", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "later") }))
	for _, path := range []string{"/ws", "/api/info", "/", "/later", "/no/such/page"} {
		for _, host := range []string{"evil.example:47800", "evil.example", ""} {
			r := httptest.NewRequest("GET", path, nil)
			r.Host = host
			r.Header.Set("Origin", "http://"+host)
			if path == "/ws" {
				r.Header.Set("Connection", "Upgrade")
				r.Header.Set("Upgrade", "websocket")
				r.Header.Set("Sec-WebSocket-Version", "13")
				r.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
			}
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			body := w.Body.String()
			if w.Code != http.StatusMisdirectedRequest {
				t.Errorf("GET %s, Host %q: %d, want 421", path, host, w.Code)
				continue
			}
			if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("421 Content-Type %q", ct)
			}
			if !strings.Contains(body, "http://192.168.1.20:47800/") || (host != "" && !strings.Contains(body, `does not answer to the name "`+host+`"`)) {
				t.Errorf("GET %s, Host %q: body %q", path, host, body)
			}
		}
		for _, host := range []string{"127.0.0.1:47800", "chat.school.lan:47800", "localhost"} {
			r := httptest.NewRequest("GET", path, nil)
			r.Host = host
			w := httptest.NewRecorder()
			s.ServeHTTP(w, r)
			if w.Code == http.StatusMisdirectedRequest {
				t.Errorf("GET %s, Host %q: 421", path, host)
			}
		}
	}
}
