package main

import "io/fs"

// webAssets is the built web UI, when the binary has one.
func webAssets() fs.FS { return nil }
