// Package netwait parks readers that wait for a socket without a goroutine
// each. An idle chat member's connection waits minutes for its next frame;
// with a goroutine per waiting socket, ten thousand idle members hold ten
// thousand stacks. A Poller watches parked sockets in one place (epoll on
// Linux) and calls a function once when a socket becomes readable, at its
// end, or failed; the caller then reads on a goroutine it starts.
//
// New fails where the platform has no such watch (errors.ErrUnsupported);
// callers then wait on goroutines as usual.
package netwait

import (
	"errors"
	"sync"
)

// Ticket names one parked wait; 0 is none.
type Ticket uint64

// ErrClosed is returned by Park once Run has ended.
var ErrClosed = errors.New("netwait: poller closed")

// Poller runs the parked waits. Create it with New, run it with Run.
type Poller struct {
	sys sysPoller

	mu     sync.Mutex
	next   Ticket
	parked map[Ticket]func(Ticket)
	closed bool
}

// Parked is the number of waits parked now.
func (p *Poller) Parked() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

// add records ready under a new ticket, unless the poller is closed.
func (p *Poller) add(ready func(Ticket)) (Ticket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return 0, ErrClosed
	}
	p.next++
	p.parked[p.next] = ready
	return p.next, nil
}

// Unpark cancels a parked wait. It reports whether the wait was still
// parked: if so, its function will never be called; if not, it has been
// (or is being) called.
func (p *Poller) Unpark(t Ticket) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.parked[t]; !ok {
		return false
	}
	delete(p.parked, t)
	return true
}

// fire calls the function of a wait whose socket is ready, unless it was
// unparked (a stale event of a socket parked before).
func (p *Poller) fire(t Ticket) {
	p.mu.Lock()
	ready := p.parked[t]
	delete(p.parked, t)
	p.mu.Unlock()
	if ready != nil {
		ready(t)
	}
}

// close refuses new waits and calls the functions of the parked ones: with
// nobody watching, their readers must find out themselves.
func (p *Poller) close() {
	p.mu.Lock()
	p.closed = true
	left := p.parked
	p.parked = nil
	p.mu.Unlock()
	for t, ready := range left {
		ready(t)
	}
}
