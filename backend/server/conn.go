package server

import (
	"bufio"
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/sendq"
)

// wsConn is one WebSocket connection: its own goroutine reads, and a writer
// goroutine runs only while there is something to write (see writer.go), so
// an idle member costs one goroutine. It is the chat.Sink of its member.
type wsConn struct {
	srv   *Server
	ws    *websocket.Conn
	br    *bufio.Reader // what ws reads through (nil: unknown; see upgrade)
	queue *sendq.Queue[*chat.Out]
	w     writer

	closeOnce sync.Once
	slow      chan struct{} // closed when the connection is cut off for not keeping up
	slowOnce  sync.Once
	admitted  atomic.Bool // the hub accepted its hello
	stopping  atomic.Bool
	evicted   atomic.Bool   // closed before its hello to make room (see Config.Pending)
	helloWait time.Duration // its hello deadline
	readBy    atomic.Int64  // the read deadline, in Unix nanoseconds
	parking   parking
}

// evict ends a connection still waiting for its hello, to make room for
// newer ones (see Config.Pending).
func (c *wsConn) evict() {
	c.evicted.Store(true)
	_ = c.ws.NetConn().SetReadDeadline(time.Now())
}

// stopBeforeHello ends a connection still waiting for its hello when the
// server shuts down; admitted ones hear from the hub.
func (c *wsConn) stopBeforeHello() {
	c.stopping.Store(true)
	if !c.admitted.Load() {
		_ = c.ws.NetConn().SetReadDeadline(time.Now())
	}
}

func newWSConn(s *Server, ws *websocket.Conn, br *bufio.Reader) *wsConn {
	return &wsConn{
		srv: s,
		ws:  ws,
		br:  br,
		queue: sendq.New(sendq.Config{
			Soft: s.cfg.QueueBytes, Hard: s.cfg.QueueHardBytes, Grace: s.cfg.QueueGrace,
		}, sendq.Frames),
		slow: make(chan struct{}),
	}
}

// Send queues o without blocking. A connection that does not keep up (see
// Config.QueueBytes) is cut off so that it never holds up a room.
func (c *wsConn) Send(o *chat.Out) {
	switch c.queue.Push(o) {
	case sendq.Overflow:
		c.cutOff()
	case sendq.Dropped:
	default:
		c.wake()
	}
}

// cutOff ends a slow connection: the reader stops at once, so the member
// leaves the hub now, and the write pump sends slow_consumer and the close
// frame as soon as the socket takes them (if within WriteWait).
func (c *wsConn) cutOff() {
	c.slowOnce.Do(func() {
		close(c.slow)
		_ = c.ws.NetConn().SetReadDeadline(time.Now())
		c.unpark(true)
		c.wake()
	})
}

// isSlow reports whether the connection was cut off.
func (c *wsConn) isSlow() bool {
	select {
	case <-c.slow:
		return true
	default:
		return false
	}
}

// errSlow ends the reader of a connection that was cut off.
var errSlow = errors.New("slow consumer")

// extendRead moves the read deadline PongWait ahead, unless the connection
// was cut off meanwhile (cutOff's deadline must win).
func (c *wsConn) extendRead() error {
	by := time.Now().Add(c.srv.cfg.PongWait)
	c.readBy.Store(by.UnixNano())
	_ = c.ws.SetReadDeadline(by)
	if c.isSlow() {
		return errSlow
	}
	return nil
}

func slowProblem() *protocol.Problem {
	return protocol.Errorf(protocol.CodeSlowConsumer, "this connection did not keep up with its frames and was closed; reconnect to catch up")
}

// Close asks the writer to flush, send p and close the socket.
func (c *wsConn) Close(p *protocol.Problem) {
	c.closeOnce.Do(func() {
		c.w.mu.Lock()
		c.w.closeReq = p
		c.w.mu.Unlock()
		c.wake()
	})
}

// closeCode is the WebSocket close code for a problem that ends a connection.
func closeCode(p *protocol.Problem) int {
	switch p.Code {
	case protocol.CodeShuttingDown:
		return websocket.CloseGoingAway
	case protocol.CodeServerFull:
		return websocket.CloseTryAgainLater
	case protocol.CodeReplaced:
		return CloseReplaced
	case protocol.CodeKicked:
		return CloseKicked
	case protocol.CodeBanned:
		return CloseBanned
	case protocol.CodeSlowConsumer:
		return CloseSlowConsumer
	case protocol.CodeInternal:
		return websocket.CloseInternalServerErr
	}
	return websocket.ClosePolicyViolation
}

// Close codes of lanchat's own.
const (
	CloseReplaced = 4000 // the same session connected again
	CloseKicked   = 4001 // the host removed the member
	CloseBanned   = 4003 // the host banned the member for this session
	// CloseSlowConsumer: the connection did not read its frames fast
	// enough (see Config.QueueBytes); reconnecting with resume catches up.
	CloseSlowConsumer = 4008
)

// writeBatch writes the frames at the front of the queue (up to MaxBatch
// bytes) as one message; n is how many. It returns batch, emptied, for reuse.
func (c *wsConn) writeBatch(batch []*chat.Out) (_ []*chat.Out, n int, err error) {
	batch = c.queue.Take(batch[:0], c.srv.cfg.MaxBatch)
	n = len(batch)
	if n > 0 {
		err = c.writeMessage(batch)
	}
	clear(batch)
	if cap(batch) > 64 {
		return nil, n, err // do not keep a large slice after a burst
	}
	return batch[:0], n, err
}

// writeMessage writes frames as one message separated by "\n".
func (c *wsConn) writeMessage(frames []*chat.Out) error {
	_ = c.ws.SetWriteDeadline(time.Now().Add(c.srv.cfg.WriteWait))
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	for i, o := range frames {
		if i > 0 {
			w.Write([]byte{'\n'})
		}
		w.Write(o.Bytes())
	}
	return w.Close()
}

// flushAndClose writes what is queued, the error frame and a close frame.
// It starts no new batch after WriteWait, so that a slow client with a long
// queue does not hold up a shutdown: the rest is dropped.
func (c *wsConn) flushAndClose(p *protocol.Problem) {
	var batch []*chat.Out
	for until := time.Now().Add(c.srv.cfg.WriteWait); time.Now().Before(until); {
		var n int
		var err error
		if batch, n, err = c.writeBatch(batch); err != nil {
			return
		}
		if n == 0 {
			break
		}
	}
	c.queue.Close()
	c.writeFinal(p)
}

// writeFinal sends an error frame and the matching close frame.
func (c *wsConn) writeFinal(p *protocol.Problem) {
	deadline := time.Now().Add(c.srv.cfg.WriteWait)
	_ = c.ws.SetWriteDeadline(deadline)
	_ = c.ws.WriteMessage(websocket.TextMessage, chat.NewOut(p.Frame()).Bytes())
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode(p), p.Message), deadline)
}

// serve runs the connection's hello, then hands the connection to a reader
// (see read); end runs once, when the connection is over.
func (c *wsConn) serve(end func()) {
	s := c.srv
	cfg := &s.cfg
	finish := func() {
		c.stopWriting()
		c.queue.Close() // frames sent from now on are dropped
		end()
	}

	c.ws.SetReadLimit(int64(cfg.MaxFrame))
	c.ws.SetPongHandler(func(string) error { return c.extendRead() })

	// Before hello: the connection waits among the pending ones (not yet a
	// member, so not under MaxConns), with a shorter deadline when many
	// wait. One frame, read synchronously; replies go out directly.
	entry, waiting := s.pending.Add(c.remoteHost(), c.evict, nil)
	c.helloWait = cfg.HelloWait
	if waiting > cfg.Pending.Total/2 {
		c.helloWait = min(cfg.HelloWait, cfg.HelloWaitBusy)
	}
	_ = c.ws.SetReadDeadline(time.Now().Add(c.helloWait))
	hello, p := c.readHello()
	s.pending.Remove(entry)
	if p == nil && !s.admitConn() {
		p = protocol.Errorf(protocol.CodeServerFull, "this host is full (%d members); try again later", cfg.MaxConns)
	}
	if p != nil {
		if p.Code != "" {
			c.writeFinal(p)
		}
		finish() // stopWriting closes the socket
		return
	}
	c.startPings()
	c.admitted.Store(true)
	member, p := s.hub.ConnectFrom(hello, c.remoteHost(), c)
	if p != nil {
		s.conns.Add(-1)
		c.Close(p)
		c.drainUntilClosed()
		finish()
		return
	}
	r := &reader{c: c, member: member, end: func() {
		member.Disconnect()
		s.conns.Add(-1)
		finish()
	}}
	r.resume = r.woken
	if c.extendRead() != nil {
		r.end()
		return
	}
	r.next()
}

// reader reads a member's frames. An idle member's connection waits for
// minutes, so waiting should cost little. After each frame it has handled,
// reading goes on in a fresh goroutine (a hello, a join or a send grows a
// stack to several KiB, and an idle goroutine's stack is never shrunk below
// four times what it uses), which waits on the socket itself for up to
// Config.ParkAfter (see waitReadable), as a member who is writing sends its
// next frame soon; a quiet member's wait is then parked with the server's
// poller (see parking.go) and the goroutine ends, and a fresh one reads when
// the socket is ready. Where nothing can be parked, the goroutine goes on
// waiting on the socket, with a stack of a few hundred bytes.
type reader struct {
	c      *wsConn
	member *chat.Conn
	end    func() // runs once, when reading is over
	resume func() // r.woken, made once
}

// next waits for the next frame on a fresh goroutine, which parks the wait
// when no frame comes for a while.
func (r *reader) next() { r.start(false) }

// woken resumes a parked reader.
func (r *reader) woken() { r.start(true) }

// start continues reading on a fresh goroutine, owned (like the
// connection's first one) by the server's wait group. woken says the wait
// for the socket is over.
func (r *reader) start(woken bool) {
	r.c.srv.wg.Add(1)
	go func() {
		defer r.c.srv.wg.Done()
		switch r.c.waitReadable(woken, r.resume) {
		case waitParked:
			return
		case waitEnd:
			r.end()
			return
		}
		r.read()
	}()
}

// read reads the next frame and handles it.
func (r *reader) read() {
	c := r.c
	for {
		data, err := c.readFrame()
		if err != nil {
			var pr *protocol.Problem
			if errors.As(err, &pr) {
				c.Send(chat.NewOut(pr.Frame()))
				continue
			}
			r.end()
			return
		}
		if c.extendRead() != nil {
			r.end()
			return
		}
		f, err := protocol.Decode(data)
		if err != nil {
			c.Send(chat.NewOut(err.(*protocol.Problem).Frame()))
			continue
		}
		if p := r.member.Handle(f); p != nil {
			c.Send(chat.NewOut(p.Frame()))
		}
		r.next()
		return
	}
}

// drainUntilClosed reads (and drops) frames until the peer or the write pump
// closes the socket, so that close frames are exchanged properly.
func (c *wsConn) drainUntilClosed() {
	_ = c.ws.SetReadDeadline(time.Now().Add(c.srv.cfg.WriteWait))
	for {
		if _, _, err := c.ws.NextReader(); err != nil {
			return
		}
	}
}

// readFrame returns the next text frame. A binary frame is a Problem.
func (c *wsConn) readFrame() ([]byte, error) {
	mt, data, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	if mt != websocket.TextMessage {
		return nil, protocol.Errorf(protocol.CodeBadFrame, "frames are JSON text, not binary")
	}
	return data, nil
}

// readHello reads the first frame, which must be a hello. A Problem with an
// empty code means the socket failed and nothing can be sent.
func (c *wsConn) readHello() (protocol.Hello, *protocol.Problem) {
	data, err := c.readFrame()
	if err != nil {
		var pr *protocol.Problem
		if errors.As(err, &pr) {
			return protocol.Hello{}, pr
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			if c.stopping.Load() {
				return protocol.Hello{}, protocol.Errorf(protocol.CodeShuttingDown, "the host is shutting down")
			}
			if c.evicted.Load() {
				return protocol.Hello{}, protocol.Errorf(protocol.CodeHelloRequired, "no hello yet, and too many connections are waiting to say theirs: this one, having waited longest, was closed")
			}
			return protocol.Hello{}, protocol.Errorf(protocol.CodeHelloRequired, "no hello within %s", c.helloWait)
		}
		return protocol.Hello{}, &protocol.Problem{}
	}
	f, err := protocol.Decode(bytes.TrimSpace(data))
	if err != nil {
		return protocol.Hello{}, err.(*protocol.Problem)
	}
	h, ok := f.(protocol.Hello)
	if !ok {
		return protocol.Hello{}, protocol.Errorf(protocol.CodeHelloRequired, "the first frame must be hello, not %s", f.FrameType())
	}
	return h, nil
}

// remoteHost is the peer's address without the port.
func (c *wsConn) remoteHost() string {
	host, _, err := net.SplitHostPort(c.ws.RemoteAddr().String())
	if err != nil {
		return c.ws.RemoteAddr().String()
	}
	return host
}
