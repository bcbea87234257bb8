package server

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// wsConn is one WebSocket connection: the handler goroutine reads, a write
// pump writes. It is the chat.Sink of its member.
type wsConn struct {
	srv   *Server
	ws    *websocket.Conn
	queue chan *chat.Out

	closeOnce sync.Once
	closeReq  chan *protocol.Problem // buffered 1: the reason the hub asked to close
	killed    chan struct{}          // closed when the queue overflowed
	killOnce  sync.Once
	admitted  atomic.Bool // the hub accepted its hello
	stopping  atomic.Bool
}

// stopBeforeHello ends a connection still waiting for its hello when the
// server shuts down; admitted ones hear from the hub.
func (c *wsConn) stopBeforeHello() {
	c.stopping.Store(true)
	if !c.admitted.Load() {
		_ = c.ws.NetConn().SetReadDeadline(time.Now())
	}
}

func newWSConn(s *Server, ws *websocket.Conn) *wsConn {
	return &wsConn{
		srv:      s,
		ws:       ws,
		queue:    make(chan *chat.Out, s.cfg.SendQueue),
		closeReq: make(chan *protocol.Problem, 1),
		killed:   make(chan struct{}),
	}
}

// Send queues o without blocking. A connection whose queue is full is not
// reading: it is cut off at once so that it never holds up a room.
func (c *wsConn) Send(o *chat.Out) {
	select {
	case c.queue <- o:
	default:
		c.killOnce.Do(func() {
			close(c.killed)
			_ = c.ws.NetConn().Close()
		})
	}
}

// Close asks the write pump to flush, send p and close the socket.
func (c *wsConn) Close(p *protocol.Problem) {
	c.closeOnce.Do(func() { c.closeReq <- p })
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
		return websocket.ClosePolicyViolation
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
)

// writePump owns all writes to the socket. It coalesces queued frames into
// one WebSocket message separated by "\n", pings, and closes the socket when
// asked or when the reader is gone (done).
func (c *wsConn) writePump(done <-chan struct{}) {
	cfg := &c.srv.cfg
	ping := time.NewTicker(cfg.PingInterval)
	defer ping.Stop()
	defer c.ws.Close()
	for {
		select {
		case o := <-c.queue:
			if err := c.writeBatch(o); err != nil {
				return
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.WriteWait)); err != nil {
				return
			}
		case p := <-c.closeReq:
			c.flushAndClose(p)
			return
		case <-c.killed:
			return
		case <-done:
			return
		}
	}
}

func (c *wsConn) writeBatch(first *chat.Out) error {
	cfg := &c.srv.cfg
	_ = c.ws.SetWriteDeadline(time.Now().Add(cfg.WriteWait))
	w, err := c.ws.NextWriter(websocket.TextMessage)
	if err != nil {
		return err
	}
	size, _ := w.Write(first.Bytes())
	for n := len(c.queue); n > 0 && size < cfg.MaxBatch; n-- {
		o := <-c.queue
		b := o.Bytes()
		w.Write([]byte{'\n'})
		w.Write(b)
		size += len(b) + 1
	}
	return w.Close()
}

// flushAndClose writes what is queued, the error frame and a close frame.
func (c *wsConn) flushAndClose(p *protocol.Problem) {
	for len(c.queue) > 0 {
		if c.writeBatch(<-c.queue) != nil {
			return
		}
	}
	c.writeFinal(p)
}

// writeFinal sends an error frame and the matching close frame.
func (c *wsConn) writeFinal(p *protocol.Problem) {
	deadline := time.Now().Add(c.srv.cfg.WriteWait)
	_ = c.ws.SetWriteDeadline(deadline)
	_ = c.ws.WriteMessage(websocket.TextMessage, chat.NewOut(p.Frame()).Bytes())
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(closeCode(p), p.Message), deadline)
}

// serve runs the connection until it ends.
func (c *wsConn) serve() {
	s := c.srv
	cfg := &s.cfg
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(done)
		wg.Wait()
	}()

	c.ws.SetReadLimit(int64(cfg.MaxFrame))
	_ = c.ws.SetReadDeadline(time.Now().Add(cfg.HelloWait))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
	})

	// Before hello: one frame, read synchronously; replies go out directly.
	hello, p := c.readHello()
	if p != nil {
		if p.Code != "" {
			c.writeFinal(p)
		}
		c.ws.Close()
		return
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.writePump(done)
	}()
	c.admitted.Store(true)
	member, p := s.hub.ConnectFrom(hello, c.remoteHost(), c)
	if p != nil {
		c.Close(p)
		c.drainUntilClosed()
		return
	}
	defer member.Disconnect()
	_ = c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))

	for {
		data, err := c.readFrame()
		if err != nil {
			var pr *protocol.Problem
			if errors.As(err, &pr) {
				c.Send(chat.NewOut(pr.Frame()))
				continue
			}
			return
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(cfg.PongWait))
		f, err := protocol.Decode(data)
		if err != nil {
			c.Send(chat.NewOut(err.(*protocol.Problem).Frame()))
			continue
		}
		if p := member.Handle(f); p != nil {
			c.Send(chat.NewOut(p.Frame()))
		}
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
			return protocol.Hello{}, protocol.Errorf(protocol.CodeHelloRequired, "no hello within %s", c.srv.cfg.HelloWait)
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
