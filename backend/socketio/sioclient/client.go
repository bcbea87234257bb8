// Package sioclient is a small Socket.IO v5 / Engine.IO v4 client for
// lanchat's tests and load generator: the default namespace (or one named,
// to see it refused), events with acknowledgements, and the three ways in:
// WebSocket, HTTP long-polling, and polling upgraded to WebSocket.
package sioclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Transports.
const (
	WebSocket = "websocket"
	Polling   = "polling"
	Upgrade   = "upgrade" // polling first, then the WebSocket probe and upgrade
)

// Options set up a client.
type Options struct {
	Transport string      // default WebSocket
	Namespace string      // default "/"
	Auth      any         // the CONNECT payload
	Header    http.Header // extra request headers (Origin, say)
	NoPong    bool        // do not answer pings (to test the heartbeat)
	NetDial   func(ctx context.Context, network, addr string) (net.Conn, error)
	OnEvent   func(name string, args []json.RawMessage) // called on the reading goroutine
	// OnPacket, when set, sees every Engine.IO packet first; returning true
	// consumes it (a load generator parses its own messages cheaply).
	OnPacket func(pkt []byte) bool
}

// Event is one event from the server; "connect" and "connect_error" are
// reported as events too.
type Event struct {
	Name string
	Args []json.RawMessage
}

// Client is one connection.
type Client struct {
	opts    Options
	base    *url.URL
	sid     string
	hs      Handshake
	httpc   *http.Client
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup
	onEvent func(string, []json.RawMessage)

	wmu sync.Mutex // one writer
	ws  *websocket.Conn

	mu      sync.Mutex
	nextAck uint64
	acks    map[uint64]chan []json.RawMessage
	err     error
	pings   int
}

// Handshake is the Engine.IO open packet.
type Handshake struct {
	SID          string   `json:"sid"`
	Upgrades     []string `json:"upgrades"`
	PingInterval int      `json:"pingInterval"`
	PingTimeout  int      `json:"pingTimeout"`
	MaxPayload   int      `json:"maxPayload"`
}

// ErrClosed is returned once the connection has ended.
var ErrClosed = errors.New("sioclient: closed")

// Dial connects to base (http://host:port) and sends CONNECT. Events,
// including the server's answer to CONNECT, go to opts.OnEvent.
func Dial(ctx context.Context, base string, opts Options) (*Client, error) {
	if opts.Transport == "" {
		opts.Transport = WebSocket
	}
	if opts.Namespace == "" {
		opts.Namespace = "/"
	}
	u, err := url.Parse(base)
	if err != nil {
		return nil, err
	}
	tr := &http.Transport{DialContext: opts.NetDial, MaxConnsPerHost: 4, MaxIdleConnsPerHost: 4}
	if opts.NetDial == nil {
		tr.DialContext = (&net.Dialer{}).DialContext
	}
	cctx, cancel := context.WithCancel(context.Background())
	c := &Client{opts: opts, base: u, httpc: &http.Client{Transport: tr}, ctx: cctx, cancel: cancel,
		acks: map[uint64]chan []json.RawMessage{}, onEvent: opts.OnEvent}
	if c.onEvent == nil {
		c.onEvent = func(string, []json.RawMessage) {}
	}
	var start error
	switch opts.Transport {
	case WebSocket:
		start = c.dialWS(ctx, "")
	case Polling, Upgrade:
		start = c.handshakePolling(ctx)
	default:
		start = fmt.Errorf("sioclient: unknown transport %q", opts.Transport)
	}
	if start != nil {
		cancel()
		return nil, start
	}
	if opts.Transport == Upgrade {
		if err := c.upgrade(ctx); err != nil {
			c.Close()
			return nil, err
		}
	}
	connect := "0"
	if opts.Namespace != "/" {
		connect += opts.Namespace + ","
	}
	if opts.Auth != nil {
		b, _ := json.Marshal(opts.Auth)
		connect += string(b)
	}
	if err := c.sendPacket("4" + connect); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Client) url(scheme, transport string) string {
	q := url.Values{"EIO": {"4"}, "transport": {transport}}
	if c.sid != "" {
		q.Set("sid", c.sid)
	}
	return scheme + "://" + c.base.Host + "/socket.io/?" + q.Encode()
}

func (c *Client) dialWS(ctx context.Context, sid string) error {
	d := websocket.Dialer{NetDialContext: c.opts.NetDial, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, c.url("ws", "websocket"), c.opts.Header)
	if err != nil {
		return err
	}
	if sid == "" {
		_, data, err := ws.ReadMessage()
		if err != nil || len(data) == 0 || data[0] != '0' || json.Unmarshal(data[1:], &c.hs) != nil {
			ws.Close()
			return fmt.Errorf("sioclient: bad open packet %q: %v", data, err)
		}
		c.sid = c.hs.SID
	}
	c.ws = ws
	if sid == "" {
		c.startWSReader()
	}
	return nil
}

func (c *Client) startWSReader() {
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.cancel()
		stop := context.AfterFunc(c.ctx, func() { c.ws.Close() })
		defer stop()
		for {
			_, data, err := c.ws.ReadMessage()
			if err != nil {
				c.fail(err)
				return
			}
			c.onPacket(data)
		}
	}()
}

func (c *Client) handshakePolling(ctx context.Context) error {
	body, err := c.get(ctx)
	if err != nil {
		return err
	}
	if len(body) == 0 || body[0] != '0' || json.Unmarshal(body[1:], &c.hs) != nil {
		return fmt.Errorf("sioclient: bad handshake %q", body)
	}
	c.sid = c.hs.SID
	c.wg.Add(1)
	go c.pollLoop()
	return nil
}

func (c *Client) get(ctx context.Context) ([]byte, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.url("http", "polling"), nil)
	for k, v := range c.opts.Header {
		req.Header[k] = v
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("sioclient: GET %d %s", resp.StatusCode, body)
	}
	return body, err
}

// pollLoop long-polls until the session ends or the client upgrades.
func (c *Client) pollLoop() {
	defer c.wg.Done()
	for {
		body, err := c.get(c.ctx)
		if err != nil {
			c.fail(err)
			c.cancel()
			return
		}
		upgraded := false
		for part := range bytes.SplitSeq(body, []byte{0x1e}) {
			if len(part) == 1 && part[0] == '6' {
				upgraded = true // the noop that ends polling during an upgrade
				continue
			}
			c.onPacket(part)
		}
		if upgraded || c.ctx.Err() != nil {
			return
		}
	}
}

// upgrade probes a WebSocket for the polling session and switches to it.
func (c *Client) upgrade(ctx context.Context) error {
	d := websocket.Dialer{NetDialContext: c.opts.NetDial, HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.DialContext(ctx, c.url("ws", "websocket"), c.opts.Header)
	if err != nil {
		return err
	}
	if err := ws.WriteMessage(websocket.TextMessage, []byte("2probe")); err != nil {
		ws.Close()
		return err
	}
	_, data, err := ws.ReadMessage()
	if err != nil || string(data) != "3probe" {
		ws.Close()
		return fmt.Errorf("sioclient: probe answered %q: %v", data, err)
	}
	// The server now answers the open GET with a noop; pollLoop stops.
	c.wg.Wait()
	c.wmu.Lock()
	err = ws.WriteMessage(websocket.TextMessage, []byte("5"))
	c.ws = ws
	c.wmu.Unlock()
	if err != nil {
		return err
	}
	c.startWSReader()
	return nil
}

func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	c.mu.Unlock()
}

// Err is why the connection ended, or nil.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Pings counts the server's pings.
func (c *Client) Pings() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pings
}

// Handshake is what the server announced.
func (c *Client) Handshake() Handshake { return c.hs }

// Done ends when the connection does.
func (c *Client) Done() <-chan struct{} { return c.ctx.Done() }

func (c *Client) onPacket(p []byte) {
	if len(p) == 0 || (c.opts.OnPacket != nil && c.opts.OnPacket(p)) {
		return
	}
	switch p[0] {
	case '2':
		c.mu.Lock()
		c.pings++
		c.mu.Unlock()
		if !c.opts.NoPong {
			_ = c.sendPacket("3")
		}
	case '1':
		c.cancel()
	case '4':
		c.onSIO(p[1:])
	}
}

func (c *Client) onSIO(p []byte) {
	if len(p) == 0 {
		return
	}
	typ := p[0]
	rest := p[1:]
	if len(rest) > 0 && rest[0] == '/' {
		if i := bytes.IndexByte(rest, ','); i >= 0 {
			rest = rest[i+1:]
		} else {
			rest = nil
		}
	}
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	id, _ := strconv.ParseUint(string(rest[:i]), 10, 64)
	hasID := i > 0
	data := rest[i:]
	switch typ {
	case '0':
		c.onEvent("connect", []json.RawMessage{json.RawMessage(data)})
	case '4':
		c.onEvent("connect_error", []json.RawMessage{json.RawMessage(data)})
	case '1':
		c.onEvent("disconnect", nil)
	case '2':
		var parts []json.RawMessage
		if json.Unmarshal(data, &parts) != nil || len(parts) == 0 {
			return
		}
		var name string
		_ = json.Unmarshal(parts[0], &name)
		c.onEvent(name, parts[1:])
	case '3':
		var args []json.RawMessage
		_ = json.Unmarshal(data, &args)
		c.mu.Lock()
		ch := c.acks[id]
		delete(c.acks, id)
		c.mu.Unlock()
		if hasID && ch != nil {
			ch <- args
		}
	}
}

// sendPacket sends one Engine.IO packet on the current transport.
func (c *Client) sendPacket(p string) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if c.ctx.Err() != nil {
		return ErrClosed
	}
	if c.ws != nil {
		_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
		return c.ws.WriteMessage(websocket.TextMessage, []byte(p))
	}
	req, _ := http.NewRequestWithContext(c.ctx, http.MethodPost, c.url("http", "polling"), strings.NewReader(p))
	req.Header.Set("Content-Type", "text/plain;charset=UTF-8")
	for k, v := range c.opts.Header {
		req.Header[k] = v
	}
	resp, err := c.httpc.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("sioclient: POST %d", resp.StatusCode)
	}
	return nil
}

// SendRaw sends a raw Engine.IO packet (for tests of malformed input).
func (c *Client) SendRaw(p string) error { return c.sendPacket(p) }

func (c *Client) nsPrefix() string {
	if c.opts.Namespace == "/" {
		return ""
	}
	return c.opts.Namespace + ","
}

// Emit sends an event.
func (c *Client) Emit(name string, args ...any) error {
	b, err := json.Marshal(append([]any{name}, args...))
	if err != nil {
		return err
	}
	return c.sendPacket("42" + c.nsPrefix() + string(b))
}

// EmitAck sends an event and waits for its acknowledgement.
func (c *Client) EmitAck(ctx context.Context, name string, args ...any) ([]json.RawMessage, error) {
	b, err := json.Marshal(append([]any{name}, args...))
	if err != nil {
		return nil, err
	}
	ch := make(chan []json.RawMessage, 1)
	c.mu.Lock()
	c.nextAck++
	id := c.nextAck
	c.acks[id] = ch
	c.mu.Unlock()
	if err := c.sendPacket("42" + c.nsPrefix() + strconv.FormatUint(id, 10) + string(b)); err != nil {
		return nil, err
	}
	select {
	case a := <-ch:
		return a, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.ctx.Done():
		return nil, ErrClosed
	}
}

// Close sends DISCONNECT and the Engine.IO close, then ends the connection
// and waits for its goroutines.
func (c *Client) Close() {
	if c.ctx.Err() == nil {
		_ = c.sendPacket("41" + strings.TrimSuffix(c.nsPrefix(), ","))
		_ = c.sendPacket("1")
	}
	c.Abort()
}

// Abort ends the connection without telling the server (a vanished client).
func (c *Client) Abort() {
	c.cancel()
	c.wmu.Lock()
	if c.ws != nil {
		c.ws.Close()
	}
	c.wmu.Unlock()
	c.wg.Wait()
	c.httpc.CloseIdleConnections()
}
