package main

import (
	"fmt"
	"io/fs"
	"os"
)

// desktop opens the desktop app. Until the app is built in, it explains.
func desktop(args []string) int {
	fmt.Fprintln(os.Stderr, "lanchat: the desktop app is not part of this build; use `lanchat serve`")
	return 2
}

// webAssets is the built web UI, when the binary has one.
func webAssets() fs.FS { return nil }
