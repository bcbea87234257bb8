//go:build !linux

package app

// checkDisplay reports whether a window can be opened: outside Linux there
// is always a desktop to open it on.
func checkDisplay() error { return nil }
