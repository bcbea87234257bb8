//go:build linux || darwin

package server

import (
	"errors"
	"syscall"
)

// readReady reports whether a read on fd would not wait: a byte is there
// (peeked, not taken), or the socket is at its end or failed.
func readReady(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return !errors.Is(err, syscall.EAGAIN)
}
