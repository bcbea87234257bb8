// Package sendq is the outbound queue of one connection, bounded in bytes.
//
// The hub hands frames to a connection without blocking; the connection's
// writer takes them from its queue when the socket lets it. A queue has a
// soft budget and a hard cap of queued bytes. A connection that stays over
// the budget for a grace period (it is really not keeping up), or that goes
// over the cap, overflows: the queue closes and drops what it holds, and the
// connection is cut off. Short bursts (a lecture hall joining at once) stay
// under that bar, all the more because an item can supersede a queued one:
// a newer rooms list replaces the queued one, presence frames of one room
// merge (see Frames).
//
// An idle queue holds no storage: the slice of items is allocated on the
// first push and released when the queue drains after it grew large.
package sendq

import (
	"slices"
	"sync"
	"time"
)

// Defaults of Config.
const (
	DefaultSoft  = 4 << 20
	DefaultHard  = 16 << 20
	DefaultGrace = 5 * time.Second
)

// Config bounds a queue. Zero fields take the defaults.
type Config struct {
	Soft  int           // bytes queued before the grace period starts; default 4 MiB
	Hard  int           // bytes queued that overflow at once; default 16 MiB (at least Soft)
	Grace time.Duration // how long the queue may stay over Soft; default 5 s
}

func (c *Config) defaults() {
	if c.Soft <= 0 {
		c.Soft = DefaultSoft
	}
	if c.Hard <= 0 {
		c.Hard = DefaultHard
	}
	if c.Hard < c.Soft {
		c.Hard = c.Soft
	}
	if c.Grace <= 0 {
		c.Grace = DefaultGrace
	}
}

// Mode says what a pushed item does to a queued item with the same key.
type Mode int

const (
	// Add queues the item after the others; it has no key.
	Add Mode = iota
	// Replace puts the item in the place of a queued one with its key (or
	// after the others when there is none).
	Replace
	// Merge removes a queued item with its key and queues, after the
	// others, what Policy.Merge makes of the two.
	Merge
)

// Policy describes the items of a queue.
type Policy[T any] struct {
	// Size is the number of bytes an item counts for.
	Size func(T) int
	// Key, when set, names what an item supersedes, and how.
	Key func(T) (string, Mode)
	// Merge combines a queued item and a newer one with the same key (Merge
	// mode); the result must stand for both, applied in order.
	Merge func(older, newer T) T
}

// Result is what Push did.
type Result int

const (
	// Queued: the item is in the queue (or has replaced or merged with a
	// queued one).
	Queued Result = iota
	// Dropped: the queue is closed (or overflowed before); the item is lost.
	Dropped
	// Overflow: this push found the connection too slow. The queue is now
	// closed and empty; the caller cuts the connection off. Push returns
	// Overflow once; later pushes are Dropped.
	Overflow
)

// keepCap is the capacity of items kept when the queue drains; a larger
// slice is released.
const keepCap = 16

// Queue is a byte-bounded FIFO for one writer. Push never blocks. Its zero
// value is not usable; see New.
type Queue[T any] struct {
	cfg   Config
	pol   Policy[T]
	ready chan struct{} // 1 slot: something was queued

	mu       sync.Mutex
	items    []slot[T] // items[head:] are queued; removed ones are holes
	head     int
	keys     []keyPos // where the keyed items are
	count    int      // queued items, holes not counted
	bytes    int
	peak     int       // the most bytes ever queued
	over     time.Time // when the queue went over Soft; zero when under
	closed   bool
	overflow bool
}

type slot[T any] struct {
	v T
	n int // bytes; -1 marks a hole left by a merge
}

type keyPos struct {
	key string
	i   int // index in items
}

// New returns an empty queue.
func New[T any](cfg Config, pol Policy[T]) *Queue[T] {
	cfg.defaults()
	return &Queue[T]{cfg: cfg, pol: pol, ready: make(chan struct{}, 1)}
}

// Ready receives a value after items were queued. The writer then calls
// Take; Ready fires again while items remain.
func (q *Queue[T]) Ready() <-chan struct{} { return q.ready }

// Len is the number of items queued.
func (q *Queue[T]) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.count
}

func (q *Queue[T]) notify() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// Push queues v. See Result.
func (q *Queue[T]) Push(v T) Result {
	n := q.pol.Size(v)
	key, mode := "", Add
	if q.pol.Key != nil {
		key, mode = q.pol.Key(v)
		if key == "" {
			mode = Add
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return Dropped
	}
	if mode != Add {
		if k := q.findKey(key); k >= 0 {
			s := &q.items[q.keys[k].i]
			if mode == Replace {
				q.bytes += n - s.n
				s.v, s.n = v, n
				return q.check()
			}
			v = q.pol.Merge(s.v, v)
			n = q.pol.Size(v)
			q.bytes -= s.n
			q.count--
			*s = slot[T]{n: -1}
			q.keys = slices.Delete(q.keys, k, k+1)
		}
	}
	if q.bytes > 0 && q.bytes+n > q.cfg.Hard {
		return q.overflowLocked()
	}
	q.compact()
	q.items = append(q.items, slot[T]{v: v, n: n})
	if mode != Add {
		q.keys = append(q.keys, keyPos{key, len(q.items) - 1})
	}
	q.bytes += n
	q.count++
	q.notify()
	return q.check()
}

// check applies the budget after a push. An item alone in the queue is
// never too much: only a backlog makes a connection slow.
func (q *Queue[T]) check() Result {
	q.peak = max(q.peak, q.bytes)
	if q.bytes <= q.cfg.Soft || q.count == 1 {
		q.over = time.Time{}
		return Queued
	}
	if q.bytes > q.cfg.Hard {
		return q.overflowLocked()
	}
	now := time.Now()
	if q.over.IsZero() {
		q.over = now
		return Queued
	}
	if now.Sub(q.over) >= q.cfg.Grace {
		return q.overflowLocked()
	}
	return Queued
}

func (q *Queue[T]) overflowLocked() Result {
	q.overflow = true
	q.closeLocked()
	return Overflow
}

func (q *Queue[T]) closeLocked() {
	q.closed = true
	q.items, q.keys, q.head, q.count, q.bytes = nil, nil, 0, 0, 0
	q.over = time.Time{}
}

func (q *Queue[T]) findKey(key string) int {
	for k := range q.keys {
		if q.keys[k].key == key {
			return k
		}
	}
	return -1
}

// compact moves the queued items to the front of the slice when it is full
// and at least half of it has been taken, instead of growing it.
func (q *Queue[T]) compact() {
	if len(q.items) < cap(q.items) || q.head == 0 || q.head < len(q.items)/2 {
		return
	}
	n := copy(q.items, q.items[q.head:])
	clear(q.items[n:])
	q.items = q.items[:n]
	for k := range q.keys {
		q.keys[k].i -= q.head
	}
	q.head = 0
}

// Take appends to dst the items at the front of the queue, in order, up to
// limit bytes (at least one item when any is queued), and removes them.
func (q *Queue[T]) Take(dst []T, limit int) []T {
	q.mu.Lock()
	defer q.mu.Unlock()
	taken, size := 0, 0
	for q.head < len(q.items) && (taken == 0 || size < limit) {
		i := q.head
		s := q.items[i]
		q.items[i] = slot[T]{}
		q.head++
		if s.n < 0 {
			continue // a hole
		}
		for k := range q.keys {
			if q.keys[k].i == i {
				q.keys = slices.Delete(q.keys, k, k+1)
				break
			}
		}
		dst = append(dst, s.v)
		q.count--
		taken++
		size += s.n
		q.bytes -= s.n
	}
	if q.head == len(q.items) {
		q.head = 0
		if cap(q.items) > keepCap {
			q.items, q.keys = nil, nil
		} else {
			q.items = q.items[:0]
		}
	} else {
		q.notify()
	}
	if q.bytes <= q.cfg.Soft {
		q.over = time.Time{}
	}
	return dst
}

// Close drops what is queued; later pushes are Dropped.
func (q *Queue[T]) Close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closeLocked()
}

// Overflowed reports whether the queue closed because its connection was
// too slow.
func (q *Queue[T]) Overflowed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.overflow
}

// Stats are a queue's numbers, for tests and diagnostics.
type Stats struct {
	Items    int  // queued items
	Bytes    int  // their bytes
	Cap      int  // the capacity of the slice holding them
	OverSoft bool // the grace period is running
	Peak     int  // the most bytes ever queued
}

// Stats returns the queue's numbers.
func (q *Queue[T]) Stats() Stats {
	q.mu.Lock()
	defer q.mu.Unlock()
	return Stats{Items: q.count, Bytes: q.bytes, Cap: cap(q.items), OverSoft: !q.over.IsZero(), Peak: q.peak}
}
