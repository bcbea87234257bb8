package socketio

import (
	"embed"
	"io/fs"
	"net/http"
)

// course holds the course chat's page, unchanged but for the script tag,
// and the official client's browser bundle from the npm package
// socket.io-client (`make vendor-socketio` refreshes it from
// tests/socketio/node_modules; its MIT license travels with it).
//
//go:embed course/index.html course/socket.io.min.js course/socket.io-client.LICENSE
var course embed.FS

// CoursePath is where the course page is served.
const CoursePath = "/course/"

// CourseHandler serves the course page and its script under CoursePath.
func CourseHandler() http.Handler {
	sub, _ := fs.Sub(course, "course")
	files := http.StripPrefix(CoursePath, http.FileServerFS(sub))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Content-Type-Options", "nosniff")
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
}
