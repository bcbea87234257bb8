package host

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gorilla/websocket"

	"lanchat/backend/discovery"
	"lanchat/backend/protocol"
)

// runHost starts a host on 127.0.0.1 and stops it when the test ends.
func runHost(t *testing.T, cfg Config) *Host {
	t.Helper()
	cfg.Addr, cfg.DataDir, cfg.Logger = "127.0.0.1:0", t.TempDir(), slog.New(slog.DiscardHandler)
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := h.Run(ctx); err != nil {
			t.Error(err)
		}
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	return h
}

// route is one request the host answers.
type route struct {
	method, path, body string
	ws                 bool // a WebSocket upgrade
	want               int  // status when the Host is allowed
}

var routes = []route{
	{method: "GET", path: "/ws", ws: true, want: http.StatusSwitchingProtocols},
	{method: "GET", path: "/socket.io/?EIO=4&transport=websocket", ws: true, want: http.StatusSwitchingProtocols},
	{method: "GET", path: "/socket.io/?EIO=4&transport=polling", want: 200},
	{method: "OPTIONS", path: "/socket.io/?EIO=4&transport=polling", want: 204},
	{method: "POST", path: "/socket.io/?EIO=4&transport=polling&sid=nope", body: "40", want: 400},
	{method: "GET", path: "/api/info", want: 200},
	{method: "GET", path: "/api/peers", want: 200},
	{method: "POST", path: "/api/peers", body: `{"addr":"127.0.0.1:1"}`, want: 502},
	{method: "GET", path: "/api/discovery", want: 200},
	{method: "GET", path: "/", want: 200},
	{method: "GET", path: "/course/", want: 200},
	{method: "GET", path: "/course/socket.io.min.js", want: 200},
	{method: "OPTIONS", path: "/files/uploads/", want: 204},
	{method: "POST", path: "/files/uploads/", want: 403}, // no files key
	{method: "GET", path: "/files/" + strings.Repeat("ab", 32) + "?room=general&seq=1", want: 403},
}

// do sends r to the host at addr naming host in the Host header (and, when
// origin is set, the page origin http://host), returning the status and body.
func do(t *testing.T, addr, host string, r route, origin bool) (int, string) {
	t.Helper()
	hdr := http.Header{}
	if origin {
		hdr.Set("Origin", "http://"+host)
	}
	if r.ws {
		hdr.Set("Host", host)
		d := websocket.Dialer{}
		ws, resp, err := d.Dial("ws://"+addr+r.path, hdr)
		if err == nil {
			ws.Close()
			return resp.StatusCode, ""
		}
		if resp == nil {
			t.Fatalf("%s %s: %v", r.method, r.path, err)
		}
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	req, err := http.NewRequest(r.method, "http://"+addr+r.path, strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header = hdr
	req.Host = host
	if r.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", r.method, r.path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// DNS rebinding: a page at evil.example whose name resolves to this host
// sends requests with Host and Origin evil.example. Every route — native
// WebSocket, Socket.IO (both transports), the API, the UI and the course
// page — answers 421, while the host's own names and addresses pass.
func TestHostCheckEveryRoute(t *testing.T) {
	h := runHost(t, Config{Name: "Lab 3", AllowHosts: []string{"chat.school.lan"}})
	port := strconv.Itoa(h.Port())
	addr := "127.0.0.1:" + port

	for _, host := range []string{"evil.example:" + port, "evil.example", "127.0.0.1.nip.io:" + port} {
		for _, r := range routes {
			code, body := do(t, addr, host, r, true)
			if code != http.StatusMisdirectedRequest {
				t.Errorf("%s %s with Host %s: %d, want 421", r.method, r.path, host, code)
				continue
			}
			if !strings.Contains(body, `does not answer to the name "`+host+`"`) || !strings.Contains(body, "http://") {
				t.Errorf("%s %s with Host %s: 421 body %q", r.method, r.path, host, body)
			}
		}
	}

	hn, _ := os.Hostname()
	allowed := []string{
		addr, "127.0.0.1", "[::1]:" + port, "localhost:" + port, "LocalHost",
		strings.ToUpper(hn) + ".local:" + port, hn + ".local.", "lanchat-" + h.ID + ".local",
		"chat.school.lan:" + port, "wails.localhost",
	}
	for _, ip := range LANAddrs() {
		allowed = append(allowed, net.JoinHostPort(ip.String(), port), ip.String())
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() == nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				allowed = append(allowed, net.JoinHostPort(ipn.IP.String(), port)) // [fd00::2]:port
			}
		}
	}
	t.Logf("allowed forms tried: %q", allowed)
	for _, host := range allowed {
		for _, r := range routes {
			if code, body := do(t, addr, host, r, true); code != r.want {
				t.Errorf("%s %s with Host %s: %d %q, want %d", r.method, r.path, host, code, body, r.want)
			}
		}
	}
}

// A request with no Host at all (HTTP/1.0) is refused too.
func TestHostCheckNoHost(t *testing.T) {
	h := runHost(t, Config{})
	c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(h.Port()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET /api/info HTTP/1.0\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest || !strings.Contains(string(b), "Host header") {
		t.Errorf("no Host: %d %q", resp.StatusCode, b)
	}
}

// POST /api/peers does not tell why an address did not answer (refused,
// timed out…): that would make it a port scanner.
func TestAddPeerFailureSaysNoMore(t *testing.T) {
	h := runHost(t, Config{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	addr := "127.0.0.1:" + strconv.Itoa(h.Port())
	code, body := do(t, addr, addr, route{method: "POST", path: "/api/peers", body: `{"addr":"` + closed + `"}`}, false)
	if code != http.StatusBadGateway || strings.TrimSpace(body) != `{"error":"`+discovery.ErrNoAnswer+`"}` {
		t.Errorf("POST /api/peers to a closed port: %d %s", code, body)
	}
	// The host's own WebSocket still works with its address as Host.
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: 1, Name: "Ana"}))
	if _, msg, err := ws.ReadMessage(); err != nil || !strings.Contains(string(msg), `"type":"welcome"`) {
		t.Errorf("after hello: %q, %v", msg, err)
	}
}
