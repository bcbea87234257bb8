// Package pending bounds the connections a host has accepted but not yet
// admitted: a WebSocket before its hello, a Socket.IO session before it
// gives a name. They cost a socket and a goroutine each and prove nothing,
// so they count against no member limit; instead a Set caps them per remote
// address and in total, and makes room by closing the connection that has
// been waiting longest. A new connection is never refused: a flood only
// ever pushes out its own oldest connections, and a real client, which
// says hello within a round trip, gets in.
package pending

import (
	"container/list"
	"sync"
	"time"
)

// Limits of a Set. Zero fields take the defaults noted.
type Limits struct {
	// PerAddr is how many connections one remote address may have waiting
	// (default 32); Total is how many may wait in all (default 256). Over
	// either, a new connection closes the oldest waiting one (of that
	// address, or of all) if it has waited at least EvictAfter (default
	// 10 s, the hello deadline: a busy host may take seconds to read the
	// hellos of a class that arrives at once, which already sit in its
	// sockets). A burst of fresh connections is left alone up to Hard
	// (default 8 × Total); beyond that the oldest is closed whatever its
	// age. (1,000 clients reconnecting at once on one machine with the
	// host had up to 1,000 connections waiting; 2,000 joining 64 at a time
	// on a loaded machine had some wait over 2 s.)
	PerAddr    int
	Total      int
	Hard       int
	EvictAfter time.Duration
}

func (l *Limits) defaults() {
	if l.PerAddr <= 0 {
		l.PerAddr = 32
	}
	if l.Total <= 0 {
		l.Total = 256
	}
	if l.Hard < l.Total {
		l.Hard = 8 * l.Total
	}
	if l.EvictAfter <= 0 {
		l.EvictAfter = 10 * time.Second
	}
}

// Set is the connections waiting to be admitted.
type Set struct {
	lim Limits
	now func() time.Time

	mu      sync.Mutex
	all     list.List // *Entry, oldest first
	byAddr  map[string]*list.List
	lazy    int // entries with an active func
	evicted int64
	peak    int
	longest time.Duration
}

// Entry is one waiting connection.
type Entry struct {
	addr   string
	since  time.Time
	evict  func()
	active func() bool
	inAll  *list.Element
	inAddr *list.Element
	out    bool
}

// New makes a Set with limits l.
func New(l Limits) *Set {
	l.defaults()
	return &Set{lim: l, now: time.Now, byAddr: map[string]*list.List{}}
}

// Limits returns the effective limits.
func (s *Set) Limits() Limits { return s.lim }

// Add records a new waiting connection from addr (an IP without port) and
// returns its entry and how many connections wait now, itself included.
// evict closes the connection; Add calls it, with no lock held, for the
// connections it pushes out, which are then no longer in the set. active,
// if not nil, tells whether the connection is still waiting: one that was
// admitted meanwhile is dropped from the set when met, for transports that
// cannot call Remove at the moment of admission.
func (s *Set) Add(addr string, evict func(), active func() bool) (*Entry, int) {
	e := &Entry{addr: addr, evict: evict, active: active}
	var victims []*Entry
	s.mu.Lock()
	now := s.now()
	e.since = now
	s.pruneLocked()
	if l := s.byAddr[addr]; l != nil && l.Len() >= s.lim.PerAddr {
		if v := l.Front().Value.(*Entry); now.Sub(v.since) >= s.lim.EvictAfter {
			s.removeLocked(v)
			victims = append(victims, v)
		}
	}
	if s.all.Len() >= s.lim.Total {
		if v := s.all.Front().Value.(*Entry); now.Sub(v.since) >= s.lim.EvictAfter {
			s.removeLocked(v)
			victims = append(victims, v)
		}
	}
	for s.all.Len() >= s.lim.Hard {
		v := s.all.Front().Value.(*Entry)
		s.removeLocked(v)
		victims = append(victims, v)
	}
	e.inAll = s.all.PushBack(e)
	l := s.byAddr[addr]
	if l == nil {
		l = list.New()
		s.byAddr[addr] = l
	}
	e.inAddr = l.PushBack(e)
	if active != nil {
		s.lazy++
	}
	n := s.all.Len()
	s.peak = max(s.peak, n)
	s.evicted += int64(len(victims))
	s.mu.Unlock()
	for _, v := range victims {
		v.evict()
	}
	return e, n
}

// Remove takes e out of the set: its connection was admitted or has ended.
// Removing an entry twice, or one that was evicted, does nothing.
func (s *Set) Remove(e *Entry) {
	if e == nil {
		return
	}
	s.mu.Lock()
	if !e.out {
		s.longest = max(s.longest, s.now().Sub(e.since))
	}
	s.removeLocked(e)
	s.mu.Unlock()
}

func (s *Set) removeLocked(e *Entry) {
	if e.out {
		return
	}
	e.out = true
	s.all.Remove(e.inAll)
	if l := s.byAddr[e.addr]; l != nil {
		l.Remove(e.inAddr)
		if l.Len() == 0 {
			delete(s.byAddr, e.addr)
		}
	}
	if e.active != nil {
		s.lazy--
	}
}

// pruneLocked drops the entries whose active func says they were admitted.
func (s *Set) pruneLocked() {
	if s.lazy == 0 {
		return
	}
	for el := s.all.Front(); el != nil; {
		next := el.Next()
		if e := el.Value.(*Entry); e.active != nil && !e.active() {
			s.removeLocked(e)
		}
		el = next
	}
}

// Len is how many connections wait now.
func (s *Set) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	return s.all.Len()
}

// Stats are counters for logs and tests.
type Stats struct {
	Waiting int   // waiting now
	Peak    int   // most waiting at once
	Evicted int64 // closed to make room
	// Longest is the longest wait of a connection that left the set by
	// Remove (admitted, or ended by itself).
	Longest time.Duration
}

// Stats returns the counters.
func (s *Set) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pruneLocked()
	return Stats{Waiting: s.all.Len(), Peak: s.peak, Evicted: s.evicted, Longest: s.longest}
}
