package server

import (
	"sync"
	"syscall"
	"time"

	"lanchat/backend/server/netwait"
)

// An idle member's reader is parked with the server's poller (see netwait)
// while it waits for the next frame: no goroutine waits for it. It resumes,
// on a fresh goroutine, when its socket is readable, when its read deadline
// passes, or when the connection is interrupted or closed; reading then
// says which.

// parking is a connection's parked wait.
type parking struct {
	mu     sync.Mutex
	ticket netwait.Ticket // 0: not parked
	resume func()
	timer  *time.Timer // the read deadline, while parked
	ended  bool        // the connection is ending: no more parking
}

// park parks the wait for the next frame; resume runs once when it ends. It
// reports false when the wait cannot be parked (no poller, or the
// connection is ending): the caller waits on a goroutine.
func (c *wsConn) park(raw syscall.RawConn, resume func()) bool {
	p := c.srv.parker()
	if p == nil {
		return false
	}
	k := &c.parking
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.ended {
		return false
	}
	t, err := p.Park(raw, c.wakeParked)
	if err != nil {
		return false
	}
	k.ticket, k.resume = t, resume
	d := time.Until(time.Unix(0, c.readBy.Load()))
	if k.timer == nil {
		k.timer = time.AfterFunc(d, c.parkedDeadline)
	} else {
		k.timer.Reset(d)
	}
	return true
}

// takeParked ends the parked wait t (any parked wait when t is 0) and
// returns what resumes it, or nil when that wait is not parked. With end,
// the connection parks no more.
func (c *wsConn) takeParked(t netwait.Ticket, end bool) (func(), netwait.Ticket) {
	k := &c.parking
	k.mu.Lock()
	defer k.mu.Unlock()
	k.ended = k.ended || end
	if k.ticket == 0 || (t != 0 && k.ticket != t) {
		return nil, 0
	}
	resume, parked := k.resume, k.ticket
	k.ticket, k.resume = 0, nil
	k.timer.Stop()
	return resume, parked
}

// wakeParked is the poller's call: the socket of wait t is ready.
func (c *wsConn) wakeParked(t netwait.Ticket) {
	if resume, _ := c.takeParked(t, false); resume != nil {
		resume()
	}
}

// parkedDeadline is the timer's call: the read deadline has passed, unless
// this is a late call for an earlier, longer one.
func (c *wsConn) parkedDeadline() {
	if time.Now().UnixNano() >= c.readBy.Load() {
		c.unpark(false)
	}
}

// unpark resumes a parked reader now, to find out by reading why (its
// deadline, an interruption, a closed socket). With end, the connection
// parks no more: it is ending.
func (c *wsConn) unpark(end bool) {
	resume, t := c.takeParked(0, end)
	if resume == nil {
		return
	}
	c.srv.poller.Load().Unpark(t) // started: something was parked
	resume()
}
