package app

import (
	"errors"
	"os"
)

// errNoDisplay explains why there is no window, instead of GTK's panic.
var errNoDisplay = errors.New("no display to open the window on (DISPLAY and WAYLAND_DISPLAY are unset); `lanchat serve` hosts without a window")

// checkDisplay reports whether a window can be opened.
func checkDisplay() error {
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return errNoDisplay
	}
	return nil
}
