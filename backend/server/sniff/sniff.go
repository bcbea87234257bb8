// Package sniff serves plain HTTP/WebSocket and HTTPS/WSS on one TCP port.
//
// A Splitter accepts connections from a single net.Listener and routes each
// one, by the first byte the client sends, to one of two child listeners: a
// TLS ClientHello record starts with 0x16 (TLS handshake content type) and
// goes to TLS(); anything else goes to Plain(). The TLS child yields the raw,
// still encrypted connection, so callers wrap it with tls.NewListener.
package sniff

import (
	"context"
	"errors"
	"net"
	"sync"
	"time"
)

// Defaults used when the corresponding Splitter field is zero or negative.
const (
	DefaultTimeout    = 10 * time.Second
	DefaultMaxPending = 4096
)

// tlsHandshake is the TLS record content type of a handshake record; every
// TLS ClientHello starts with it.
const tlsHandshake = 0x16

// Splitter routes the connections accepted from one listener to two child
// listeners by their first byte.
//
// Peeking happens in one goroutine per connection, never in the accept loop,
// so a silent client cannot hold up others. At most MaxPending connections
// are peeked at once; while that many are pending the accept loop stops
// accepting (new clients wait in the kernel backlog) until one finishes. A
// connection that sends nothing within Timeout is closed.
//
// Each child listener queues at most MaxPending routed connections that its
// Accept has not taken yet; a connection arriving when the queue is full is
// closed, as is any connection routed to a child that has been closed or
// whose Splitter has stopped.
//
// Set the fields before the first call to Plain, TLS or Run.
type Splitter struct {
	Timeout    time.Duration // peek timeout; default DefaultTimeout
	MaxPending int           // concurrent peeks and per-child queue size; default DefaultMaxPending

	ln       net.Listener
	initOnce sync.Once
	plain    *child
	tls      *child

	mu       sync.Mutex
	running  bool                  // Run has been called
	stopped  bool                  // Run is shutting down; no new peeks tracked
	inflight map[net.Conn]struct{} // connections being peeked
}

// New returns a Splitter for ln with the given peek timeout (<= 0 means
// DefaultTimeout). Nothing is accepted until Run is called.
func New(ln net.Listener, timeout time.Duration) *Splitter {
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	return &Splitter{
		Timeout:    timeout,
		MaxPending: DefaultMaxPending,
		ln:         ln,
		inflight:   make(map[net.Conn]struct{}),
	}
}

func (s *Splitter) init() {
	s.initOnce.Do(func() {
		n := s.maxPending()
		s.plain = newChild(s.ln.Addr(), n)
		s.tls = newChild(s.ln.Addr(), n)
	})
}

func (s *Splitter) maxPending() int {
	if s.MaxPending <= 0 {
		return DefaultMaxPending
	}
	return s.MaxPending
}

func (s *Splitter) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// Plain returns the listener for connections whose first byte is not 0x16.
// Its Addr is the underlying listener's Addr.
func (s *Splitter) Plain() net.Listener { s.init(); return s.plain }

// TLS returns the listener for connections whose first byte is 0x16. The
// connections are still encrypted: wrap the listener with tls.NewListener.
// Its Addr is the underlying listener's Addr.
func (s *Splitter) TLS() net.Listener { s.init(); return s.tls }

// Run accepts and routes connections until ctx ends or the underlying
// listener fails with a non-temporary error. It then closes the underlying
// listener and both child listeners (their Accept returns net.ErrClosed),
// closes connections still being peeked or queued, and waits for every
// goroutine it started before returning. Temporary accept errors are retried
// with a backoff. Run returns nil when ctx ended, else the accept error; it
// may be called only once.
func (s *Splitter) Run(ctx context.Context) error {
	s.init()
	s.mu.Lock()
	if s.running {
		s.mu.Unlock()
		return errors.New("sniff: Run called twice")
	}
	s.running = true
	s.mu.Unlock()

	timeout := s.timeout()
	sem := make(chan struct{}, s.maxPending())
	var wg sync.WaitGroup

	// Close ln when ctx ends so a blocked Accept returns.
	loopDone := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
		case <-loopDone:
		}
		s.ln.Close()
	}()

	err := s.acceptLoop(ctx, sem, timeout, &wg)

	close(loopDone)
	s.ln.Close()
	s.plain.Close()
	s.tls.Close()
	// Abort peeks in progress; their goroutines close the connections.
	s.mu.Lock()
	s.stopped = true
	for c := range s.inflight {
		c.SetReadDeadline(time.Unix(1, 0))
	}
	s.mu.Unlock()
	wg.Wait()
	return err
}

func (s *Splitter) acceptLoop(ctx context.Context, sem chan struct{}, timeout time.Duration, wg *sync.WaitGroup) error {
	var delay time.Duration
	for {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil
		}
		conn, err := s.ln.Accept()
		if err != nil {
			<-sem
			if ctx.Err() != nil {
				return nil
			}
			if te, ok := err.(interface{ Temporary() bool }); ok && te.Temporary() {
				if delay == 0 {
					delay = 5 * time.Millisecond
				} else {
					delay *= 2
				}
				if delay > time.Second {
					delay = time.Second
				}
				t := time.NewTimer(delay)
				select {
				case <-t.C:
				case <-ctx.Done():
					t.Stop()
					return nil
				}
				continue
			}
			return err
		}
		delay = 0
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			s.route(conn, timeout)
		}()
	}
}

// route peeks at conn's first byte and hands it to the matching child, or
// closes it.
func (s *Splitter) route(conn net.Conn, timeout time.Duration) {
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		conn.Close()
		return
	}
	s.inflight[conn] = struct{}{}
	// Set under mu so Run's abort deadline cannot be overwritten.
	err := conn.SetReadDeadline(time.Now().Add(timeout))
	s.mu.Unlock()

	var b [1]byte
	n := 0
	if err == nil {
		n, _ = conn.Read(b[:])
	}

	s.mu.Lock()
	delete(s.inflight, conn)
	stopped := s.stopped
	s.mu.Unlock()

	if n == 0 || stopped {
		conn.Close()
		return
	}
	if err := conn.SetReadDeadline(time.Time{}); err != nil {
		conn.Close()
		return
	}
	pc := &Conn{Conn: conn, peeked: b[:n]}
	if b[0] == tlsHandshake {
		s.tls.deliver(pc)
	} else {
		s.plain.deliver(pc)
	}
}

// Conn is a connection returned by a child listener's Accept. Reads first
// replay the peeked byte, then read the underlying connection; every other
// method, including LocalAddr and RemoteAddr, is the underlying
// connection's.
type Conn struct {
	net.Conn
	peeked []byte
}

// Read replays the peeked byte(s) before reading the underlying connection.
func (c *Conn) Read(p []byte) (int, error) {
	if len(c.peeked) > 0 {
		if len(p) == 0 {
			return 0, nil
		}
		n := copy(p, c.peeked)
		c.peeked = c.peeked[n:]
		return n, nil
	}
	return c.Conn.Read(p)
}

// Buffered is the number of peeked bytes not yet replayed by Read.
func (c *Conn) Buffered() int { return len(c.peeked) }

// CloseWrite shuts down the writing side of the underlying connection if it
// supports that (as *net.TCPConn does).
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.New("sniff: underlying connection does not support CloseWrite")
}

// NetConn returns the underlying connection (e.g. the *net.TCPConn). Reading
// from it directly skips any peeked byte not yet replayed.
func (c *Conn) NetConn() net.Conn { return c.Conn }

// child is one of the two listeners a Splitter routes to.
type child struct {
	addr  net.Addr
	queue chan net.Conn
	done  chan struct{}

	mu     sync.Mutex
	closed bool
}

func newChild(addr net.Addr, size int) *child {
	return &child{
		addr:  addr,
		queue: make(chan net.Conn, size),
		done:  make(chan struct{}),
	}
}

// deliver queues c for Accept, or closes it if the child is closed or its
// queue is full.
func (l *child) deliver(c net.Conn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return
	}
	select {
	case l.queue <- c:
	default:
		c.Close()
	}
}

// Accept returns the next routed connection, or net.ErrClosed once the
// child is closed or its Splitter has stopped.
func (l *child) Accept() (net.Conn, error) {
	select {
	case c := <-l.queue:
		select {
		case <-l.done:
			// Closed meanwhile: nobody is meant to get c.
			c.Close()
			return nil, net.ErrClosed
		default:
			return c, nil
		}
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close makes Accept return net.ErrClosed and closes queued connections and
// those routed here later. It does not affect the other child or the
// Splitter. It is safe to call more than once.
func (l *child) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	close(l.done)
	for {
		select {
		case c := <-l.queue:
			c.Close()
		default:
			return nil
		}
	}
}

// Addr returns the underlying listener's address.
func (l *child) Addr() net.Addr { return l.addr }
