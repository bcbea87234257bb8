package server

import (
	"io"
	"net/http"
	"testing"
	"testing/fstest"

	"lanchat/backend/chat"
)

// TestUIIcons: the favicon and the web app manifest a browser asks for are
// served with their own content types (the manifest's even where the
// system's MIME table does not know it).
func TestUIIcons(t *testing.T) {
	assets := fstest.MapFS{
		"index.html":           {Data: []byte("<!doctype html><title>lanchat</title>")},
		"icon-32.png":          {Data: []byte("\x89PNG\r\n\x1a\n")},
		"manifest.webmanifest": {Data: []byte(`{"name":"lanchat"}`)},
	}
	h := startHost(t, chat.Config{}, Config{Assets: assets})
	for path, want := range map[string]string{
		"/icon-32.png":          "image/png",
		"/manifest.webmanifest": "application/manifest+json",
		"/":                     "text/html; charset=utf-8",
	} {
		r, err := http.Get(h.base + path)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, r.Body)
		r.Body.Close()
		if r.StatusCode != http.StatusOK || r.Header.Get("Content-Type") != want {
			t.Errorf("GET %s: %d %q, want 200 %q", path, r.StatusCode, r.Header.Get("Content-Type"), want)
		}
	}
}
