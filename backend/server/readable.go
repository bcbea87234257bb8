package server

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"os"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

// An idle member's reader waits for its next frame (see reader). Waiting
// inside the WebSocket library's read holds a stack of several KiB per
// member; waiting for the socket to become readable, with nothing buffered
// above it, holds a few hundred bytes, and the runtime shrinks the stack to
// its smallest size at the next collection. The reader then reads the frame
// as before.

// readBufferSize is the WebSocket read buffer: clients send small frames,
// and a larger one is read past the buffer.
const readBufferSize = 512

// upgrade upgrades the request like u.Upgrade, with the connection reading
// through a buffered reader of readBufferSize that the caller holds: when it
// is empty, nothing of the next frame has been read off the socket yet. u's
// ReadBufferSize must be 0, so that the library reads through that reader
// (the one the hijack returns) rather than a buffer of its own.
func upgrade(u *websocket.Upgrader, w http.ResponseWriter, r *http.Request) (*websocket.Conn, *bufio.Reader, error) {
	hw := &hijackWatch{ResponseWriter: w}
	ws, err := u.Upgrade(hw, r, nil)
	if err != nil {
		return nil, nil, err
	}
	return ws, hw.br, nil
}

type hijackWatch struct {
	http.ResponseWriter
	br *bufio.Reader
}

func (h *hijackWatch) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil || brw.Reader.Buffered() > 0 {
		return conn, brw, err // the library refuses a client that sent early
	}
	h.br = bufio.NewReaderSize(conn, readBufferSize)
	return conn, bufio.NewReadWriter(h.br, brw.Writer), nil
}

// waitResult is how a wait for the next frame ended.
type waitResult int

const (
	waitRead   waitResult = iota // read the frame now
	waitParked                   // parked again; resume runs when it ends
	waitEnd                      // the connection is to end
)

// waitReadable waits until the next frame can be read without waiting: the
// read buffer holds part of it, or the socket is readable (or failed, or
// its read deadline passed: the read that follows says so). With woken, the
// socket is known to be ready (the wait was parked). A wait that follows a
// frame waits on the socket for up to Config.ParkAfter first; a quiet
// member's wait is then parked, with resume to run when it ends. The
// answers to the host's pings arrive while a member is idle: a complete
// pong frame is taken here, with the same effect as the library's pong
// handler, and the wait is parked again at once, so that the reader does
// not go on waiting inside the library after one. It returns waitRead at
// once where the socket cannot be watched (TLS, or no raw access), and
// waitEnd when the connection is to end (cut off, or the pong handler's
// verdict).
func (c *wsConn) waitReadable(woken bool, resume func()) waitResult {
	if c.br == nil {
		return waitRead
	}
	raw := c.rawConn()
	quietFirst := !woken
	for {
		if c.br.Buffered() == 0 && !woken {
			if raw == nil {
				return waitRead
			}
			ready := false
			if quietFirst {
				switch c.waitQuiet(raw) {
				case quietReady:
					ready = true
				case quietFailed:
					return waitRead // the read reports it
				case quietCut:
					return waitEnd
				}
			}
			if !ready {
				if c.park(raw, resume) {
					return waitParked
				}
				if raw.Read(readReady) != nil {
					return waitRead
				}
			}
		}
		woken, quietFirst = false, false
		took, err := c.takePong()
		if !took {
			return waitRead
		}
		if err != nil {
			return waitEnd
		}
	}
}

// How a wait for a quiet spell ended.
type quietResult int

const (
	quietReady  quietResult = iota // the socket is readable
	quietQuiet                     // nothing came for ParkAfter
	quietFailed                    // the socket failed, or its read deadline passed
	quietCut                       // the connection was cut off meanwhile
)

// waitQuiet waits on the socket for up to Config.ParkAfter, within the
// read deadline, which it then puts back (unless a cut-off moved it).
func (c *wsConn) waitQuiet(raw syscall.RawConn) quietResult {
	by := time.Unix(0, c.readBy.Load())
	quiet := time.Now().Add(c.srv.cfg.ParkAfter)
	if !quiet.Before(by) {
		return quietQuiet // the read deadline comes first: parked, its timer tells
	}
	conn := c.ws.NetConn()
	_ = conn.SetReadDeadline(quiet)
	err := raw.Read(readReady)
	_ = conn.SetReadDeadline(by)
	switch {
	case c.isSlow():
		return quietCut // cutOff's deadline must win: the reader ends
	case err == nil:
		return quietReady
	case errors.Is(err, os.ErrDeadlineExceeded) && time.Now().Before(by):
		return quietQuiet
	default:
		return quietFailed
	}
}

// rawConn is the socket under the connection, when nothing is buffered
// between them; nil otherwise.
func (c *wsConn) rawConn() syscall.RawConn {
	conn := c.ws.NetConn()
	if b, ok := conn.(interface {
		Buffered() int
		NetConn() net.Conn
	}); ok {
		if b.Buffered() > 0 {
			return nil
		}
		conn = b.NetConn()
	}
	sc, ok := conn.(syscall.Conn)
	if !ok {
		return nil
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return raw
}

// takePong takes the next frame off the read buffer if it is a complete,
// well-formed pong from a client (final, masked, at most 125 bytes of
// payload) and extends the read deadline as the pong handler does. Anything
// else stays for the library to read.
func (c *wsConn) takePong() (took bool, err error) {
	h, err := c.br.Peek(2)
	if err != nil {
		return false, nil
	}
	const finPong, masked = 0x80 | websocket.PongMessage, 0x80
	if h[0] != finPong || h[1]&masked == 0 || h[1]&0x7f > 125 {
		return false, nil
	}
	size := 2 + 4 + int(h[1]&0x7f)
	if _, err := c.br.Peek(size); err != nil {
		return false, nil
	}
	_, _ = c.br.Discard(size)
	return true, c.extendRead()
}
