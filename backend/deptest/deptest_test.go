// Package deptest checks the backend's import rules.
package deptest

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestBackendDoesNotImportWails: every backend package runs headless, so
// nothing under backend/ may import Wails, directly or through a dependency.
func TestBackendDoesNotImportWails(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-test", "-json=ImportPath,Deps", "lanchat/backend/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	checked := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(p.ImportPath, "lanchat/backend/") {
			continue
		}
		checked++
		for _, d := range p.Deps {
			if strings.HasPrefix(d, "github.com/wailsapp/") {
				t.Errorf("%s depends on %s", p.ImportPath, d)
			}
		}
	}
	if checked < 4 {
		t.Fatalf("only %d backend packages listed", checked)
	}
}
