package main

import (
	"io/fs"

	"lanchat/frontend"
)

// webAssets is the built web UI, when the binary has one.
func webAssets() fs.FS { return frontend.Assets() }
