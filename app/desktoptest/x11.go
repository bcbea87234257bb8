//go:build desktoptest

package desktoptest

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// xconn speaks just enough of the X11 protocol to do what a window manager
// does to a window, over the display's Unix socket, with no authorisation
// (the test's Xvfb has none). Requests are little-endian.
type xconn struct {
	c net.Conn
}

var le = binary.LittleEndian

func dialX(display int) (*xconn, error) {
	c, err := net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", display), 5*time.Second)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// Connection setup: byte order 'l', protocol 11.0, no authorisation.
	setup := make([]byte, 12)
	setup[0] = 'l'
	le.PutUint16(setup[2:], 11)
	if _, err := c.Write(setup); err != nil {
		c.Close()
		return nil, err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		c.Close()
		return nil, fmt.Errorf("x11 setup: %w", err)
	}
	if _, err := io.ReadFull(c, make([]byte, int(le.Uint16(head[6:]))*4)); err != nil {
		c.Close()
		return nil, fmt.Errorf("x11 setup: %w", err)
	}
	if head[0] != 1 {
		c.Close()
		return nil, errors.New("x11 setup refused")
	}
	return &xconn{c: c}, nil
}

func (x *xconn) Close() error { return x.c.Close() }

// reply reads one 32-byte reply, failing on an X error.
func (x *xconn) reply(what string) ([]byte, error) {
	r := make([]byte, 32)
	if _, err := io.ReadFull(x.c, r); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	if r[0] == 0 {
		return nil, fmt.Errorf("%s: X error %d", what, r[1])
	}
	return r, nil
}

// sync makes a round trip (GetInputFocus), so that the requests before it
// have been processed, or their error is reported.
func (x *xconn) sync(what string) error {
	if _, err := x.c.Write([]byte{43, 0, 1, 0}); err != nil {
		return err
	}
	_, err := x.reply(what)
	return err
}

func (x *xconn) internAtom(name string) (uint32, error) {
	pad := (4 - len(name)%4) % 4
	req := make([]byte, 8+len(name)+pad)
	req[0] = 16 // InternAtom, only-if-exists false
	le.PutUint16(req[2:], uint16(len(req)/4))
	le.PutUint16(req[4:], uint16(len(name)))
	copy(req[8:], name)
	if _, err := x.c.Write(req); err != nil {
		return 0, err
	}
	r, err := x.reply("InternAtom " + name)
	if err != nil {
		return 0, err
	}
	return le.Uint32(r[8:]), nil
}

// closeWindow asks the X client owning window to close it, as a window
// manager's close button does: a WM_DELETE_WINDOW client message (ICCCM
// 4.2.8.1).
func closeWindow(display int, window uint32) error {
	x, err := dialX(display)
	if err != nil {
		return err
	}
	defer x.Close()
	protocols, err := x.internAtom("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := x.internAtom("WM_DELETE_WINDOW")
	if err != nil {
		return err
	}
	// SendEvent of a ClientMessage (format 32) to the window's owner.
	req := make([]byte, 44)
	req[0] = 25 // SendEvent, propagate false
	le.PutUint16(req[2:], 11)
	le.PutUint32(req[4:], window)
	le.PutUint32(req[8:], 0) // event mask: the client that created the window
	ev := req[12:]
	ev[0] = 33 // ClientMessage
	ev[1] = 32 // format
	le.PutUint32(ev[4:], window)
	le.PutUint32(ev[8:], protocols)
	le.PutUint32(ev[12:], del)
	le.PutUint32(ev[16:], 0) // CurrentTime
	if _, err := x.c.Write(req); err != nil {
		return err
	}
	return x.sync("SendEvent")
}

// unfocus takes the keyboard focus away from every window, as switching to
// another application does.
func unfocus(display int) error {
	x, err := dialX(display)
	if err != nil {
		return err
	}
	defer x.Close()
	// SetInputFocus: revert-to None, focus None, time CurrentTime.
	req := []byte{42, 0, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if _, err := x.c.Write(req); err != nil {
		return err
	}
	return x.sync("SetInputFocus")
}
