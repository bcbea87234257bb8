package frontend

import (
	"io/fs"
	"os"
	"testing"
)

// The embedded UI is what the build produced: when dist has an index.html,
// Assets serves it along with the files it references.
func TestAssets(t *testing.T) {
	_, err := os.Stat("dist/index.html")
	built := err == nil
	a := Assets()
	if !built {
		if a != nil {
			t.Fatal("Assets is not nil although the UI is not built")
		}
		if os.Getenv("CI") == "true" {
			t.Fatal("frontend/dist is not built; `make frontend` must run before the Go tests")
		}
		t.Skip("frontend/dist not built")
	}
	if a == nil {
		t.Fatal("Assets is nil although frontend/dist/index.html exists")
	}
	idx, err := fs.ReadFile(a, "index.html")
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) == 0 {
		t.Fatal("index.html is empty")
	}
	assets, err := fs.ReadDir(a, "assets")
	if err != nil || len(assets) == 0 {
		t.Fatalf("no assets next to index.html: %v", err)
	}
}
