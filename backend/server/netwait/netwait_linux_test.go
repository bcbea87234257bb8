package netwait

import (
	"context"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// run starts a poller; stop ends its Run (once) and returns Run's error.
// The test's end stops it too.
func run(t *testing.T) (p *Poller, stop func() error) {
	t.Helper()
	p, err := New()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	stop = sync.OnceValue(func() error {
		cancel()
		return <-done
	})
	t.Cleanup(func() {
		if err := stop(); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return p, stop
}

// pairs returns n connected loopback TCP pairs: the server sides (parked in
// the tests) and the client sides (which write).
func pairs(t *testing.T, n int) (servers, clients []*net.TCPConn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	for range n {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		s, err := ln.Accept()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(); s.Close() })
		servers, clients = append(servers, s.(*net.TCPConn)), append(clients, c.(*net.TCPConn))
	}
	return servers, clients
}

func rawOf(t *testing.T, c *net.TCPConn) syscall.RawConn {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// waitClosed waits for a channel to close, failing after a generous time
// (a hang, not a timing claim).
func waitClosed(t *testing.T, ch <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-ch:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s never happened", what)
	}
}

// Many sockets parked at once: each one's function runs exactly once, when
// its peer writes, and a socket parked again (the registration modified,
// not added) wakes again.
func TestParkedSocketsWakeOnceEach(t *testing.T) {
	p, _ := run(t)
	const n = 500
	servers, clients := pairs(t, n)
	calls := make([]atomic.Int32, n)
	var wg sync.WaitGroup
	for round := range 2 {
		wg.Add(n)
		for i, s := range servers {
			if _, err := p.Park(rawOf(t, s), func(Ticket) { calls[i].Add(1); wg.Done() }); err != nil {
				t.Fatal(err)
			}
		}
		if got := p.Parked(); got != n {
			t.Fatalf("round %d: %d parked, want %d", round, got, n)
		}
		for _, c := range clients {
			if _, err := c.Write([]byte{byte(round)}); err != nil {
				t.Fatal(err)
			}
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		waitClosed(t, done, "every parked socket waking")
		for i, s := range servers { // read what woke it, as the reader would
			var b [1]byte
			if _, err := s.Read(b[:]); err != nil || b[0] != byte(round) {
				t.Fatalf("socket %d read %v %v", i, b, err)
			}
		}
	}
	for i := range calls {
		if got := calls[i].Load(); got != 2 {
			t.Fatalf("socket %d woke %d times in 2 rounds", i, got)
		}
	}
	if got := p.Parked(); got != 0 {
		t.Fatalf("%d still parked", got)
	}
}

// A socket with bytes already waiting, or whose peer has gone, wakes at once.
func TestReadyOrEndedSocketWakesAtOnce(t *testing.T) {
	p, _ := run(t)
	servers, clients := pairs(t, 2)
	if _, err := clients[0].Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	clients[1].Close()
	for i, s := range servers {
		raw := rawOf(t, s)
		// Wait (on Go's own poller) until the byte or the end has arrived.
		if err := raw.Read(func(fd uintptr) bool {
			var b [1]byte
			_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
			return err != syscall.EAGAIN
		}); err != nil {
			t.Fatal(err)
		}
		woke := make(chan struct{})
		if _, err := p.Park(raw, func(Ticket) { close(woke) }); err != nil {
			t.Fatal(err)
		}
		waitClosed(t, woke, fmt.Sprintf("socket %d waking", i))
	}
}

// An unparked wait never calls its function, even when its socket becomes
// readable later; the socket can be parked again and then wakes.
func TestUnparkedWaitStaysQuiet(t *testing.T) {
	p, _ := run(t)
	servers, clients := pairs(t, 1)
	var calls atomic.Int32
	tk, err := p.Park(rawOf(t, servers[0]), func(Ticket) { calls.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	if !p.Unpark(tk) {
		t.Fatal("Unpark: the wait was not parked")
	}
	if p.Unpark(tk) {
		t.Fatal("a second Unpark found it parked")
	}
	if _, err := clients[0].Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	// The stale event comes first, then this park's: the channel closes
	// only on this park's.
	woke := make(chan struct{})
	if _, err := p.Park(rawOf(t, servers[0]), func(Ticket) { close(woke) }); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, woke, "the socket parked again waking")
	if got := calls.Load(); got != 0 {
		t.Fatalf("the unparked wait's function ran %d times", got)
	}
}

// A socket closed while parked raises no event (the kernel drops it from
// the watch); its owner unparks it. A socket closed and its number reused
// by a new one does not confuse the two.
func TestClosedSocketIsUnparkedByItsOwner(t *testing.T) {
	p, _ := run(t)
	servers, clients := pairs(t, 1)
	var calls atomic.Int32
	tk, err := p.Park(rawOf(t, servers[0]), func(Ticket) { calls.Add(1) })
	if err != nil {
		t.Fatal(err)
	}
	servers[0].Close()
	if !p.Unpark(tk) {
		t.Fatal("the closed socket's wait was not parked")
	}
	more, moreClients := pairs(t, 1) // likely takes the closed socket's number
	woke := make(chan struct{})
	if _, err := p.Park(rawOf(t, more[0]), func(Ticket) { close(woke) }); err != nil {
		t.Fatal(err)
	}
	if _, err := moreClients[0].Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	waitClosed(t, woke, "the new socket waking")
	_, _ = clients[0].Write([]byte("x"))
	if got := calls.Load(); got != 0 {
		t.Fatalf("the closed socket's function ran %d times", got)
	}
}

// When Run ends, the waits still parked are called (their readers find out
// for themselves) and Park refuses new ones.
func TestRunEndCallsParkedWaits(t *testing.T) {
	p, stop := run(t)
	servers, _ := pairs(t, 3)
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		if _, err := p.Park(rawOf(t, s), func(Ticket) { wg.Done() }); err != nil {
			t.Fatal(err)
		}
	}
	if err := stop(); err != nil {
		t.Fatal(err)
	}
	wg.Wait() // hangs (and the test times out) if a wait was left parked
	if _, err := p.Park(rawOf(t, servers[0]), func(Ticket) {}); err != ErrClosed {
		t.Fatalf("Park after Run: %v, want ErrClosed", err)
	}
}
