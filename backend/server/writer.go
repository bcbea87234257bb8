package server

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

// writer is a connection's write side. A goroutine writes only while there
// is work (queued frames, a ping due, a close asked for, a cut-off) and ends
// when there is none, so an idle connection holds no writer goroutine and
// no write buffer. All writes to the socket come from that goroutine, or
// from the reader once the writer is stopped.
type writer struct {
	mu       sync.Mutex
	running  bool              // a writer goroutine is running (or about to)
	stopped  bool              // the reader is gone: no writer starts again
	done     bool              // the socket is closed
	pingDue  bool              // a ping is to be sent
	closeReq *protocol.Problem // the hub asked to close with this
	wg       sync.WaitGroup    // the running writer
	pings    *time.Timer
}

// wake makes sure a writer runs to do the work there is. Whoever adds work
// (a queued frame, a close, a ping) publishes it first, then wakes: a
// writer about to end re-checks under the same lock and stays.
func (c *wsConn) wake() {
	w := &c.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.running || w.stopped || w.done {
		return
	}
	w.running = true
	w.wg.Add(1)
	go c.write()
}

// hasWorkLocked reports whether a writer has something to do. w.mu is held.
func (c *wsConn) hasWorkLocked() bool {
	return c.w.pingDue || c.w.closeReq != nil || c.isSlow() || c.queue.Len() > 0
}

// write does the work there is, then ends. It coalesces queued frames into
// one WebSocket message separated by "\n" (up to MaxBatch bytes each).
func (c *wsConn) write() {
	w := &c.w
	defer w.wg.Done()
	for {
		w.mu.Lock()
		if w.stopped || !c.hasWorkLocked() {
			w.running = false
			w.mu.Unlock()
			return
		}
		closeReq, ping := w.closeReq, w.pingDue
		w.pingDue = false
		w.mu.Unlock()

		switch {
		case c.isSlow():
			c.writeFinal(slowProblem())
			c.closeSocket()
			return
		case closeReq != nil:
			c.flushAndClose(closeReq)
			c.closeSocket()
			return
		case ping:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.srv.cfg.WriteWait)); err != nil {
				c.closeSocket()
				return
			}
		}
		if _, _, err := c.writeBatch(nil); err != nil {
			c.closeSocket()
			return
		}
	}
}

// closeSocket closes the socket, once; the writer then never runs again.
// The reader sees the closed socket and ends the connection.
func (c *wsConn) closeSocket() {
	w := &c.w
	w.mu.Lock()
	already := w.done
	w.done, w.running = true, false
	w.mu.Unlock()
	if !already {
		_ = c.ws.Close()
		c.unpark(true) // a closed socket wakes no poller
	}
}

// startPings pings the client every PingInterval, through the writer.
func (c *wsConn) startPings() {
	w := &c.w
	interval := c.srv.cfg.PingInterval
	w.mu.Lock()
	defer w.mu.Unlock()
	w.pings = time.AfterFunc(interval, func() {
		w.mu.Lock()
		w.pingDue = true
		if !w.stopped && !w.done {
			w.pings.Reset(interval)
		}
		w.mu.Unlock()
		c.wake()
	})
}

// stopWriting is the reader's last word: it waits for a running writer,
// tells a cut-off client why (when the writer did not), and closes the
// socket.
func (c *wsConn) stopWriting() {
	w := &c.w
	w.mu.Lock()
	w.stopped = true
	if w.pings != nil {
		w.pings.Stop()
	}
	w.mu.Unlock()
	w.wg.Wait() // no writer starts once stopped, so none is added after this
	w.mu.Lock()
	done := w.done
	w.mu.Unlock()
	if !done {
		if c.isSlow() {
			c.writeFinal(slowProblem())
		}
		c.closeSocket()
	}
}
