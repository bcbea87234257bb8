// Package frontend holds the built web UI (frontend/dist, made by `make
// frontend`), embedded so that every host serves it at "/" and the desktop
// app's webview loads it.
package frontend

import (
	"embed"
	"io/fs"
)

// dist always holds at least .gitkeep, so the package builds before the UI is.
//
//go:embed all:dist
var dist embed.FS

// Assets is the built UI rooted at its index.html, or nil when this binary
// was compiled before the UI was built.
func Assets() fs.FS {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil
	}
	if _, err := fs.Stat(sub, "index.html"); err != nil {
		return nil
	}
	return sub
}
