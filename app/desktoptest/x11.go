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

// closeWindow asks the X client owning window to close it, as a window
// manager's close button does: a WM_DELETE_WINDOW client message (ICCCM
// 4.2.8.1). It speaks just enough of the X11 protocol to do so, over the
// display's Unix socket, with no authorisation (the test's Xvfb has none).
func closeWindow(display int, window uint32) error {
	c, err := net.DialTimeout("unix", fmt.Sprintf("/tmp/.X11-unix/X%d", display), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	le := binary.LittleEndian

	// Connection setup: byte order 'l', protocol 11.0, no authorisation.
	setup := make([]byte, 12)
	setup[0] = 'l'
	le.PutUint16(setup[2:], 11)
	if _, err := c.Write(setup); err != nil {
		return err
	}
	head := make([]byte, 8)
	if _, err := io.ReadFull(c, head); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	rest := make([]byte, int(le.Uint16(head[6:]))*4)
	if _, err := io.ReadFull(c, rest); err != nil {
		return fmt.Errorf("x11 setup: %w", err)
	}
	if head[0] != 1 {
		return errors.New("x11 setup refused")
	}

	intern := func(name string) (uint32, error) {
		pad := (4 - len(name)%4) % 4
		req := make([]byte, 8+len(name)+pad)
		req[0] = 16 // InternAtom, only-if-exists false
		le.PutUint16(req[2:], uint16(len(req)/4))
		le.PutUint16(req[4:], uint16(len(name)))
		copy(req[8:], name)
		if _, err := c.Write(req); err != nil {
			return 0, err
		}
		reply := make([]byte, 32)
		if _, err := io.ReadFull(c, reply); err != nil {
			return 0, err
		}
		if reply[0] != 1 {
			return 0, fmt.Errorf("InternAtom %s: X error %d", name, reply[1])
		}
		return le.Uint32(reply[8:]), nil
	}
	protocols, err := intern("WM_PROTOCOLS")
	if err != nil {
		return err
	}
	del, err := intern("WM_DELETE_WINDOW")
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
	if _, err := c.Write(req); err != nil {
		return err
	}
	// GetInputFocus as a round trip: its reply (or an error for SendEvent)
	// tells the request was processed.
	if _, err := c.Write([]byte{43, 0, 1, 0}); err != nil {
		return err
	}
	reply := make([]byte, 32)
	if _, err := io.ReadFull(c, reply); err != nil {
		return err
	}
	if reply[0] == 0 {
		return fmt.Errorf("SendEvent: X error %d", reply[1])
	}
	return nil
}
