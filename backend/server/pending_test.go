package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/server/pending"
)

// loopbackDialer dials from the loopback source address 127.0.0.x.
func loopbackDialer(x int) *websocket.Dialer {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(x))}}
	return &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: time.Minute}
}

// 1,000 connections that upgrade and never say hello, from 249 loopback
// addresses, kept up by redialing whatever the host closes. Before, they
// filled MaxConns and every real client got server_full. Now they wait
// among the pending connections, which count against no member limit, and
// a real client that connects while they are open gets its welcome.
func TestHelloFloodDoesNotLockOut(t *testing.T) {
	const flood = 1000
	h := startHost(t, chat.Config{}, Config{MaxConns: flood})
	ctx, stop := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		open    atomic.Int64
		dials   atomic.Int64
		up      sync.WaitGroup // each slot's first connection
		mu      sync.Mutex
		conns   = map[*websocket.Conn]bool{}
		refused atomic.Int64
	)
	up.Add(flood)
	for i := range flood {
		wg.Go(func() {
			d := loopbackDialer(2 + i%249)
			first := true
			for ctx.Err() == nil {
				ws, _, err := d.DialContext(ctx, h.url, nil)
				dials.Add(1)
				if err != nil {
					if ctx.Err() == nil {
						refused.Add(1)
						time.Sleep(10 * time.Millisecond)
					}
				} else {
					mu.Lock()
					conns[ws] = true
					mu.Unlock()
					open.Add(1)
				}
				if first {
					first = false
					up.Done()
				}
				if err != nil {
					continue
				}
				for {
					if _, _, err := ws.ReadMessage(); err != nil {
						break // closed by the host (or by us at the end)
					}
				}
				open.Add(-1)
				mu.Lock()
				delete(conns, ws)
				mu.Unlock()
				ws.Close()
			}
		})
	}
	defer func() {
		stop()
		mu.Lock()
		for ws := range conns {
			ws.Close()
		}
		mu.Unlock()
		wg.Wait()
	}()
	up.Wait()
	t.Logf("flood up: %d connections open, %d dials, %d refused; pending %+v", open.Load(), dials.Load(), refused.Load(), h.srv.Pending())

	start := time.Now()
	c := dial(t, h)
	c.send(protocol.Hello{Version: protocol.Version, Name: "Real"})
	typ, raw, err := c.next()
	if err != nil {
		t.Fatalf("the real client got no answer: %v", err)
	}
	if typ != protocol.TypeWelcome {
		t.Fatalf("the real client got %s, not welcome", raw)
	}
	t.Logf("the real client was welcomed in %v with %d flood connections open; pending %+v",
		time.Since(start).Round(time.Millisecond), open.Load(), h.srv.Pending())
	expect[protocol.Joined](c)

	// The flood goes on: its connections reach the busy hello deadline
	// (2 s) or are pushed out by newer ones, and are dialed again. A real
	// client still gets in.
	time.Sleep(3 * time.Second)
	start = time.Now()
	c2 := dial(t, h)
	c2.send(protocol.Hello{Version: protocol.Version, Name: "Later"})
	if typ, raw, err := c2.next(); err != nil || typ != protocol.TypeWelcome {
		t.Fatalf("the second real client got %s, %v; want welcome", raw, err)
	}
	t.Logf("after 3 s of flood (%d dials): welcomed in %v with %d flood connections open; pending %+v",
		dials.Load(), time.Since(start).Round(time.Millisecond), open.Load(), h.srv.Pending())
	if refused.Load() > 0 {
		t.Errorf("%d flood dials were refused: a new connection is never refused", refused.Load())
	}
}

// Over the per-address limit, the connection from that address that has
// waited longest for its hello is closed (hello_required, 1008); the new
// one, and other addresses, are served.
func TestPendingPerAddressEvicts(t *testing.T) {
	// A long hello deadline: the second connection must still be waiting
	// at the end however slowly the machine runs the test.
	h := startHost(t, chat.Config{}, Config{HelloWait: time.Minute, Pending: pending.Limits{PerAddr: 2, EvictAfter: 50 * time.Millisecond}})
	d := loopbackDialer(7)
	var olds []*websocket.Conn
	for i := range 2 {
		ws, _, err := d.Dial(h.url, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		olds = append(olds, ws)
		// One at a time: the server takes each in hand on a goroutine of
		// its own, so two dials at once may be recorded in either order.
		waitFor(t, "pending", func() bool { return h.srv.Pending().Waiting == i+1 })
	}
	time.Sleep(100 * time.Millisecond) // past EvictAfter
	ws, _, err := d.Dial(h.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, ws: ws}
	t.Cleanup(func() { ws.Close() })
	first := &client{t: t, ws: olds[0]}
	expectError(first, protocol.CodeHelloRequired)
	if code := expectClose(first); code != websocket.ClosePolicyViolation {
		t.Errorf("evicted: close code %d, want 1008", code)
	}
	c.send(protocol.Hello{Version: protocol.Version, Name: "Newest"})
	expect[protocol.Welcome](c)
	other := loopbackDialer(8)
	ws2, _, err := other.Dial(h.url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws2.Close()
	c2 := &client{t: t, ws: ws2}
	c2.send(protocol.Hello{Version: protocol.Version, Name: "Other"})
	expect[protocol.Welcome](c2)
	if st := h.srv.Pending(); st.Evicted != 1 || st.Waiting != 1 {
		t.Errorf("pending %+v, want 1 evicted and the second one still waiting", st)
	}
}

// When more than half of Pending.Total wait, a new connection has the
// shorter hello deadline.
func TestBusyHelloDeadline(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{HelloWait: time.Minute, HelloWaitBusy: 200 * time.Millisecond,
		Pending: pending.Limits{Total: 4, EvictAfter: time.Minute}})
	for range 2 {
		dial(t, h) // 2 of 4: not yet busy
	}
	waitFor(t, "two pending", func() bool { return h.srv.Pending().Waiting == 2 })
	c := dial(t, h) // the third: busy
	e := expectError(c, protocol.CodeHelloRequired)
	if !strings.Contains(e.Message, "200ms") {
		t.Errorf("message %q does not give the busy deadline", e.Message)
	}
}

// slowly writes s one byte at a time and reports how far it got before the
// host closed the connection (a read of the reply ends with EOF or a
// reset), and what the host answered, if anything.
func slowly(t *testing.T, addr, s string, gap time.Duration) (sent int, reply string, took time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(conn)
		closed <- string(b)
	}()
	start := time.Now()
	for i := range len(s) {
		select {
		case reply = <-closed:
			return i, reply, time.Since(start)
		case <-time.After(gap):
		}
		if _, err := conn.Write([]byte{s[i]}); err != nil {
			return i, <-closed, time.Since(start)
		}
	}
	select {
	case reply = <-closed:
	case <-time.After(20 * time.Second):
		t.Fatal("the host kept the connection open")
	}
	return len(s), reply, time.Since(start)
}

// A slowloris client sending its request headers one byte at a time is
// disconnected by the header timeout; one sending its body as slowly, by
// the read timeout.
func TestSlowloris(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{ReadHeaderTimeout: 300 * time.Millisecond, ReadTimeout: 600 * time.Millisecond})
	addr := strings.TrimPrefix(h.base, "http://")

	headers := "GET /api/info HTTP/1.1\r\nHost: " + addr + "\r\n" + strings.Repeat("X-Padding: slow\r\n", 40) + "\r\n"
	sent, reply, took := slowly(t, addr, headers, 10*time.Millisecond)
	t.Logf("headers: cut off after %d of %d bytes, %v", sent, len(headers), took.Round(time.Millisecond))
	if sent == len(headers) || strings.Contains(reply, "200 OK") {
		t.Errorf("slow headers were served: sent %d of %d bytes, reply %q", sent, len(headers), reply)
	}

	h.srv.Handle("POST /upload", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if b, err := io.ReadAll(r.Body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
		} else {
			fmt.Fprintf(w, "read %d bytes", len(b))
		}
	}))
	body := strings.Repeat("1", 200)
	post := fmt.Sprintf("POST /upload HTTP/1.1\r\nHost: %s\r\nContent-Length: %d\r\n\r\n", addr, len(body))
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, post)
	start := time.Now()
	done := make(chan error, 1)
	go func() {
		for i := range len(body) {
			if _, err := conn.Write([]byte{body[i]}); err != nil {
				done <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		done <- nil
	}()
	status := "no answer"
	if resp, err := http.ReadResponse(bufio.NewReader(conn), nil); err == nil {
		status = resp.Status
		resp.Body.Close()
	}
	if werr := <-done; werr == nil {
		t.Errorf("the host read a body sent one byte at a time to its end (%s)", status)
	} else {
		t.Logf("body: answered %s and cut off after %v", status, time.Since(start).Round(time.Millisecond))
	}
}

// ReadTimeout bounds reading a request, not answering it: a handler that
// holds a GET longer (a long-poll does, up to Socket.IO's ping interval) and
// a WebSocket member idle longer are not cut off.
func TestReadTimeoutSparesLongPollsAndWebSockets(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{ReadHeaderTimeout: 200 * time.Millisecond, ReadTimeout: 300 * time.Millisecond,
		IdleTimeout: 300 * time.Millisecond})
	h.srv.Handle("GET /hold", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(time.Second):
			io.WriteString(w, "held")
		case <-r.Context().Done():
		}
	}))
	a := join(t, h, "Ana")
	resp, err := http.Get(h.base + "/hold")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "held" {
		t.Errorf("a GET held past ReadTimeout got %q", b)
	}
	sendText(a, "lobby", "c1", "still here after idling past every HTTP timeout")
}

// An idle keep-alive connection is closed after IdleTimeout.
func TestIdleKeepAliveClosed(t *testing.T) {
	h := startHost(t, chat.Config{}, Config{IdleTimeout: 300 * time.Millisecond})
	addr := strings.TrimPrefix(h.base, "http://")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, "GET /api/info HTTP/1.1\r\nHost: "+addr+"\r\n\r\n")
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Close {
		t.Fatalf("first request: %d, close %v", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	_ = conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	_, err = br.ReadByte()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatal("the idle connection was not closed")
	}
	t.Logf("idle keep-alive closed after %v (%v)", time.Since(start).Round(time.Millisecond), err)
}
