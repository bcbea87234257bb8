package sniff

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// selfSigned returns a server config with a fresh self-signed certificate for
// 127.0.0.1 and a pool trusting it.
func selfSigned(t *testing.T) (*tls.Config, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sniff test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	cfg := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}}}
	return cfg, pool
}

// harness runs a Splitter on a loopback port until the test ends.
type harness struct {
	s      *Splitter
	addr   string
	cancel context.CancelFunc
	runErr chan error
}

func start(t *testing.T, timeout time.Duration, maxPending int) *harness {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(ln, timeout)
	if maxPending > 0 {
		s.MaxPending = maxPending
	}
	s.Plain() // fix the queue size before Run
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{s: s, addr: ln.Addr().String(), cancel: cancel, runErr: make(chan error, 1)}
	go func() { h.runErr <- s.Run(ctx) }()
	t.Cleanup(func() { h.stop(t) })
	return h
}

// stop cancels Run and checks that it returns nil promptly; idempotent.
func (h *harness) stop(t *testing.T) {
	t.Helper()
	h.cancel()
	if h.runErr == nil {
		return
	}
	select {
	case err := <-h.runErr:
		if err != nil {
			t.Errorf("Run returned %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	h.runErr = nil
}

// serve starts srv on ln and shuts it down at test end.
func serve(t *testing.T, srv *http.Server, ln net.Listener) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve: %v", err)
		}
	}()
	t.Cleanup(func() {
		srv.Close()
		<-done
	})
}

// servers starts a plain and a TLS http.Server on h's port and returns
// clients for them.
func servers(t *testing.T, h *harness) (plainSrv, tlsSrv *http.Server, plainC, tlsC *http.Client) {
	t.Helper()
	cfg, pool := selfSigned(t)
	plainSrv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS != nil {
			w.WriteHeader(500)
		}
		io.WriteString(w, "plain")
	})}
	tlsSrv = &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.TLS == nil {
			w.WriteHeader(500)
		}
		io.WriteString(w, "tls")
	})}
	serve(t, plainSrv, h.s.Plain())
	serve(t, tlsSrv, tls.NewListener(h.s.TLS(), cfg))

	plainTr := &http.Transport{DisableKeepAlives: true}
	tlsTr := &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}
	t.Cleanup(plainTr.CloseIdleConnections)
	t.Cleanup(tlsTr.CloseIdleConnections)
	plainC = &http.Client{Transport: plainTr, Timeout: 5 * time.Second}
	tlsC = &http.Client{Transport: tlsTr, Timeout: 5 * time.Second}
	return
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != 200 {
		return "", errors.New(resp.Status + ": " + string(b))
	}
	return string(b), nil
}

func mustGet(t *testing.T, c *http.Client, url, want string) {
	t.Helper()
	got, err := get(c, url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	if got != want {
		t.Fatalf("GET %s = %q, want %q", url, got, want)
	}
}

func TestPlainAndTLSOnOnePort(t *testing.T) {
	h := start(t, time.Second, 0)
	if h.s.Plain().Addr().String() != h.addr || h.s.TLS().Addr().String() != h.addr {
		t.Fatalf("child Addr = %v/%v, want %v", h.s.Plain().Addr(), h.s.TLS().Addr(), h.addr)
	}
	_, _, plainC, tlsC := servers(t, h)
	for i := 0; i < 3; i++ {
		mustGet(t, plainC, "http://"+h.addr+"/", "plain")
		mustGet(t, tlsC, "https://"+h.addr+"/", "tls")
	}
}

func TestConnReplaysByteAndKeepsAddrs(t *testing.T) {
	h := start(t, time.Second, 0)
	for _, tc := range []struct {
		name string
		ln   net.Listener
		msg  string
	}{
		{"plain", h.s.Plain(), "GET / HTTP/1.1\r\n"},
		{"tls", h.s.TLS(), "\x16\x03\x01rest-of-hello"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", h.addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, err := io.WriteString(c, tc.msg); err != nil {
				t.Fatal(err)
			}
			sc, err := acceptWithin(t, tc.ln)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Close()
			sc.SetReadDeadline(time.Now().Add(5 * time.Second))
			if sc.RemoteAddr().String() != c.LocalAddr().String() || sc.LocalAddr().String() != c.RemoteAddr().String() {
				t.Errorf("server conn addrs %v<-%v, client %v->%v", sc.LocalAddr(), sc.RemoteAddr(), c.LocalAddr(), c.RemoteAddr())
			}
			if _, ok := sc.(*Conn).NetConn().(*net.TCPConn); !ok {
				t.Errorf("NetConn is %T, want *net.TCPConn", sc.(*Conn).NetConn())
			}
			got := make([]byte, len(tc.msg))
			if _, err := io.ReadFull(sc, got); err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.msg {
				t.Errorf("read %q, want %q", got, tc.msg)
			}
			// The peek deadline must have been cleared: a read waits for data.
			go func() { time.Sleep(50 * time.Millisecond); io.WriteString(c, "x") }()
			var b [1]byte
			if _, err := sc.Read(b[:]); err != nil || b[0] != 'x' {
				t.Errorf("later read = %q, %v", b[:], err)
			}
		})
	}
}

// dialSilent opens n connections that never send anything.
func dialSilent(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns[i] = c
	}
	return conns
}

// expectClosed checks that the server closed c: a read ends with EOF or a
// reset, not with the (generous) client deadline.
func expectClosed(t *testing.T, c net.Conn) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	var b [1]byte
	n, err := c.Read(b[:])
	if err == nil {
		t.Fatalf("read %d bytes from a conn that should be closed", n)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("conn still open: %v", err)
	}
}

func TestSilentClientsDoNotBlock(t *testing.T) {
	// A long peek timeout: if peeking blocked the accept loop, the GET
	// below would hang.
	h := start(t, time.Minute, 0)
	_, _, plainC, tlsC := servers(t, h)
	silent := dialSilent(t, h.addr, 50)
	mustGet(t, plainC, "http://"+h.addr+"/", "plain")
	mustGet(t, tlsC, "https://"+h.addr+"/", "tls")
	// Stopping aborts the pending peeks well before the timeout.
	h.stop(t)
	for _, c := range silent {
		expectClosed(t, c)
	}
}

func TestSilentClientsClosedAfterTimeout(t *testing.T) {
	h := start(t, 200*time.Millisecond, 0)
	_, _, plainC, _ := servers(t, h)
	silent := dialSilent(t, h.addr, 50)
	mustGet(t, plainC, "http://"+h.addr+"/", "plain")
	for _, c := range silent {
		expectClosed(t, c)
	}
	// The Splitter is still running.
	mustGet(t, plainC, "http://"+h.addr+"/", "plain")
}

func TestMaxPendingStopsAccepting(t *testing.T) {
	h := start(t, 300*time.Millisecond, 2)
	_, _, plainC, _ := servers(t, h)
	silent := dialSilent(t, h.addr, 2)
	// Both peek slots are taken, so this client is only accepted once the
	// silent ones time out; it still succeeds.
	mustGet(t, plainC, "http://"+h.addr+"/", "plain")
	for _, c := range silent {
		expectClosed(t, c)
	}
}

func TestPlainShutdownLeavesTLSServing(t *testing.T) {
	h := start(t, time.Second, 0)
	plainSrv, _, plainC, tlsC := servers(t, h)
	mustGet(t, plainC, "http://"+h.addr+"/", "plain")

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := plainSrv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := acceptWithin(t, h.s.Plain()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Plain().Accept after Shutdown: %v, want net.ErrClosed", err)
	}
	for i := 0; i < 3; i++ {
		mustGet(t, tlsC, "https://"+h.addr+"/", "tls")
	}
	if got, err := get(plainC, "http://"+h.addr+"/"); err == nil {
		t.Fatalf("plain GET after Shutdown succeeded: %q", got)
	}
	// Raw check: a plain conn routed to the closed child gets closed.
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "GET / HTTP/1.0\r\n\r\n")
	expectClosed(t, c)
	mustGet(t, tlsC, "https://"+h.addr+"/", "tls")
}

// acceptWithin calls l.Accept but gives up after 5s, so a broken router
// fails the test instead of hanging it (the blocked Accept is released when
// the Splitter stops).
func acceptWithin(t *testing.T, l net.Listener) (net.Conn, error) {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := l.Accept()
		ch <- res{c, err}
	}()
	select {
	case r := <-ch:
		return r.c, r.err
	case <-time.After(5 * time.Second):
		t.Fatal("Accept did not return")
		return nil, nil
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestRunStopsAndCleansUp(t *testing.T) {
	before := runtime.NumGoroutine()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(ln, time.Minute)
	s.Plain() // initialise children before the test inspects them
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	// Nobody accepts from either child: routed conns stay queued.
	var clients []net.Conn
	for _, msg := range []string{"GET / HTTP/1.0\r\n\r\n", "\x16\x03\x01", "P", "\x16"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		io.WriteString(c, msg)
		clients = append(clients, c)
	}
	waitFor(t, "queued conns", func() bool { return len(s.plain.queue) == 2 && len(s.tls.queue) == 2 })
	clients = append(clients, dialSilent(t, ln.Addr().String(), 5)...) // being peeked
	waitFor(t, "peeks in flight", func() bool {
		s.mu.Lock()
		defer s.mu.Unlock()
		return len(s.inflight) == 5
	})

	// Children blocked in Accept must be released too.
	var wg sync.WaitGroup
	acceptErrs := make(chan error, 2)
	for _, l := range []net.Listener{s.Plain(), s.TLS()} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Drain whatever is queued, then block until stopped.
			for {
				c, err := l.Accept()
				if err != nil {
					acceptErrs <- err
					return
				}
				c.Close()
			}
		}()
	}

	cancel()
	select {
	case err := <-runErr:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	waitFor(t, "child Accepts to return", func() bool { return len(acceptErrs) == 2 })
	wg.Wait()
	close(acceptErrs)
	for err := range acceptErrs {
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("child Accept after stop: %v, want net.ErrClosed", err)
		}
	}
	for _, c := range clients {
		expectClosed(t, c)
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("underlying listener still accepting after Run returned")
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("second Run succeeded")
	}
	waitFor(t, "goroutines to exit", func() bool { return runtime.NumGoroutine() <= before })
}

func TestRunStopsWithQueuedConnsClosed(t *testing.T) {
	// Conns queued for a child nobody accepts from are closed on stop.
	h := start(t, time.Minute, 0)
	c := dialSilent(t, h.addr, 1)[0]
	io.WriteString(c, "hello")
	waitFor(t, "queued conn", func() bool { return len(h.s.plain.queue) == 1 })
	h.stop(t)
	expectClosed(t, c)
	if _, err := acceptWithin(t, h.s.Plain()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after stop: %v", err)
	}
}

// flakyListener fails Accept with temporary errors a few times, then with a
// fatal one once fatal is set.
type flakyListener struct {
	net.Listener
	mu        sync.Mutex
	temporary int
	fatal     error
}

type tempErr struct{}

func (tempErr) Error() string   { return "accept: too many open files" }
func (tempErr) Timeout() bool   { return false }
func (tempErr) Temporary() bool { return true }

func (l *flakyListener) Accept() (net.Conn, error) {
	l.mu.Lock()
	if l.temporary > 0 {
		l.temporary--
		l.mu.Unlock()
		return nil, tempErr{}
	}
	fatal := l.fatal
	l.mu.Unlock()
	if fatal != nil {
		return nil, fatal
	}
	return l.Listener.Accept()
}

func TestTemporaryAcceptErrorsRetried(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: inner, temporary: 5}
	s := New(fl, time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	runErr := make(chan error, 1)
	go func() { runErr <- s.Run(ctx) }()

	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	io.WriteString(c, "ok")
	sc, err := acceptWithin(t, s.Plain())
	if err != nil {
		t.Fatalf("Accept after temporary errors: %v", err)
	}
	sc.Close()
	fl.mu.Lock()
	left := fl.temporary
	fl.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d temporary errors not consumed", left)
	}

	// A fatal error ends Run with that error and closes the children.
	boom := errors.New("boom")
	fl.mu.Lock()
	fl.fatal = boom
	fl.mu.Unlock()
	// Wake the blocked Accept with one more connection.
	c2, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	select {
	case err := <-runErr:
		if !errors.Is(err, boom) {
			t.Fatalf("Run = %v, want %v", err, boom)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after fatal accept error")
	}
	if _, err := acceptWithin(t, s.TLS()); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("TLS().Accept after Run failed: %v", err)
	}
}

func TestConnReadEmptyAndSmallBuffers(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	a.SetDeadline(time.Now().Add(5 * time.Second))
	c := &Conn{Conn: a, peeked: []byte("ab")}
	if n, err := c.Read(nil); n != 0 || err != nil {
		t.Fatalf("Read(nil) = %d, %v", n, err)
	}
	go io.WriteString(b, "cd")
	var sb strings.Builder
	buf := make([]byte, 1)
	for sb.Len() < 4 {
		n, err := c.Read(buf)
		if err != nil {
			t.Fatal(err)
		}
		sb.Write(buf[:n])
	}
	if sb.String() != "abcd" {
		t.Fatalf("read %q, want abcd", sb.String())
	}
}
