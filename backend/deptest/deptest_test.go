// Package deptest checks the backend's import rules.
package deptest

import (
	"strings"
	"testing"
)

// noIO is what pure logic may not reach. Go's standard library pulls none of
// it in behind encoding/json, log/slog, crypto/rand or golang.org/x/text, so
// the rules below hold transitively with no exceptions.
var noIO = []string{
	"net", "net/http/...", "database/sql/...", "os/exec",
	"github.com/gorilla/websocket/...", "modernc.org/sqlite/...",
}

// rules says, per package, what it may not import, directly or through any
// dependency, and why. TestImportRules checks them against `go list`.
var rules = []rule{
	{pkg: "lanchat/backend/...", tests: true, forbid: []string{"github.com/wailsapp/..."},
		reason: "every backend package runs headless; only the desktop shell (app/) links Wails"},
	{pkg: "lanchat/backend/chat", tests: true, forbid: noIO,
		reason: "pure logic, no I/O: the hub is tested without sockets or disks"},
	{pkg: "lanchat/backend/protocol", tests: true, forbid: noIO,
		reason: "pure logic, no I/O: the wire format is encoded, decoded and validated without sockets or disks"},
	{pkg: "lanchat/backend/protocol", forbid: []string{"lanchat/..."},
		reason: "it is the wire format everyone shares: it depends on no other lanchat package"},
	{pkg: "lanchat/backend/store", forbid: []string{"lanchat/backend/server/...", "net/http/..."},
		reason: "the store keeps history for the hub and knows nothing of how it is served (its tests may drive a server)"},
	{pkg: "lanchat/backend/discovery", tests: true, forbid: []string{"github.com/grandcat/zeroconf/..."},
		reason: "only discovery/mdns adapts zeroconf; discovery itself sees mDNS through its Browser and Advertiser interfaces"},
}

func TestImportRules(t *testing.T) {
	g := load(t)
	if n := len(g.roots(rule{pkg: "lanchat/backend/..."})); n < 10 {
		t.Fatalf("go list listed only %d backend packages", n)
	}
	for _, r := range rules {
		name := strings.TrimPrefix(r.pkg, "lanchat/") + "_" + strings.TrimSuffix(r.forbid[0], "/...")
		t.Run(name, func(t *testing.T) {
			for _, v := range g.violations(r) {
				t.Error(v)
			}
		})
	}
}
