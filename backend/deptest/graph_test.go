package deptest

import (
	"encoding/json"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// A rule says what a package may not import, directly or through any of its
// dependencies, and why.
type rule struct {
	// pkg is an import path, or a path ending in "/..." for it and every
	// package under it. A rule whose pkg matches nothing fails, so a rename
	// cannot quietly switch a rule off.
	pkg string
	// tests extends the rule to the package's own tests: its _test.go files,
	// in the package and in package x_test, and all they import. The test
	// binary's generated main is not checked: it links testing/internal/testdeps,
	// which pulls os/exec (through internal/fuzz) into every Go test binary.
	tests bool
	// forbid lists import paths; one ending in "/..." stands for that path
	// and every path under it ("net" is net alone, not net/url).
	forbid []string
	reason string
}

// A pkg is one entry of `go list -deps -test -json`. With -test a package
// compiled for a test is listed as "path [path.test]", and ForTest names the
// package under test.
type pkg struct {
	ImportPath string
	ForTest    string
	Imports    []string
	Deps       []string
}

// graph is the listing of the backend and everything it depends on,
// tests included, keyed by ImportPath.
type graph map[string]*pkg

func load(t *testing.T) graph {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", "-test", "-json=ImportPath,ForTest,Imports,Deps", "lanchat/backend/...").Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list: %v\n%s", err, ee.Stderr)
		}
		t.Fatalf("go list: %v", err)
	}
	g := graph{}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for dec.More() {
		p := new(pkg)
		if err := dec.Decode(p); err != nil {
			t.Fatal(err)
		}
		g[p.ImportPath] = p
	}
	return g
}

// plain strips the " [x.test]" that -test adds to packages compiled for a test.
func plain(path string) string {
	if i := strings.Index(path, " ["); i >= 0 {
		return path[:i]
	}
	return path
}

// match reports whether path is pattern, or under it when pattern ends in "/...".
func match(pattern, path string) bool {
	if base, ok := strings.CutSuffix(pattern, "/..."); ok {
		return path == base || strings.HasPrefix(path, base+"/")
	}
	return path == pattern
}

// roots returns the listed packages a rule applies to: each matching package
// and, when the rule covers tests, the package as compiled for its tests and
// its x_test package.
func (g graph) roots(r rule) []string {
	var roots []string
	for path, p := range g {
		switch {
		case strings.HasSuffix(path, ".test"):
			// A generated test main: see rule.tests.
		case p.ForTest == "":
			if match(r.pkg, path) {
				roots = append(roots, path)
			}
		case r.tests && match(r.pkg, p.ForTest):
			// Only the package under test and its x_test package; other
			// packages recompiled for the test are reached through them.
			if name := plain(path); name == p.ForTest || name == p.ForTest+"_test" {
				roots = append(roots, path)
			}
		}
	}
	slices.Sort(roots)
	return roots
}

// chain returns the import path from one listed package to another, as a
// shortest list of plain import paths.
func (g graph) chain(from, to string) []string {
	prev := map[string]string{from: ""}
	queue := []string{from}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if cur == to {
			var path []string
			for p := cur; p != ""; p = prev[p] {
				path = append(path, plain(p))
			}
			slices.Reverse(path)
			return path
		}
		if p := g[cur]; p != nil {
			for _, imp := range p.Imports {
				if _, seen := prev[imp]; !seen {
					prev[imp] = cur
					queue = append(queue, imp)
				}
			}
		}
	}
	return []string{plain(from), "…", plain(to)}
}

// violations checks one rule against the listing. Each violation names the
// package, the forbidden import, how it is reached, and the rule's reason.
// Only where the rule is first broken is reported: not a forbidden package
// reached through another forbidden one, nor a package that breaks the rule
// only through another package the rule covers (that one is reported).
func (g graph) violations(r rule) []string {
	roots := g.roots(r)
	if len(roots) == 0 {
		return []string{fmt.Sprintf("rule for %s: go list lists no such package (renamed? update the rule)", r.pkg)}
	}
	forbidden := func(path string) bool {
		return slices.ContainsFunc(r.forbid, func(f string) bool { return match(f, path) })
	}
	covered := map[string]bool{}
	for _, root := range roots {
		covered[plain(root)] = true
	}
	var out []string
	seen := map[string]bool{} // "package forbidden-import", once each
	for _, root := range roots {
		name := plain(root)
		if g[root].ForTest != "" {
			name = g[root].ForTest
		}
		for _, dep := range g[root].Deps {
			d := plain(dep)
			if d == name || d == name+"_test" || !forbidden(d) || seen[name+" "+d] {
				continue
			}
			chain := g.chain(root, dep)
			if slices.ContainsFunc(chain[1:len(chain)-1], func(p string) bool { return forbidden(p) || covered[p] }) {
				continue
			}
			seen[name+" "+d] = true
			via := strings.Join(chain, " → ")
			if g[root].ForTest != "" {
				via += " (in its tests)"
			}
			out = append(out, fmt.Sprintf("%s must not import %s, directly or indirectly: %s\n\tfound: %s", name, d, r.reason, via))
		}
	}
	return out
}

// Each rule can fail: a made-up listing in which the rule's package (or its
// tests, for a rule that covers them) reaches each forbidden import through
// another package produces a violation naming the package, the import and
// the reason; the same listing without the bad edge produces none.
func TestRulesCanFail(t *testing.T) {
	for _, r := range rules {
		name := strings.TrimSuffix(r.pkg, "/...")
		for _, f := range r.forbid {
			bad := strings.TrimSuffix(f, "/...")
			for _, inTests := range []bool{false, true} {
				if inTests && !r.tests {
					continue
				}
				g := graph{}
				root := &pkg{ImportPath: name, Imports: []string{"example.com/mid"}, Deps: []string{"example.com/mid", bad}}
				if inTests {
					root.ImportPath, root.ForTest = name+" ["+name+".test]", name
					g[name] = &pkg{ImportPath: name}
					g[name+".test"] = &pkg{ImportPath: name + ".test", Imports: []string{root.ImportPath}, Deps: []string{root.ImportPath, "example.com/mid", bad}}
				}
				g[root.ImportPath] = root
				g["example.com/mid"] = &pkg{ImportPath: "example.com/mid", Imports: []string{bad}, Deps: []string{bad}}
				g[bad] = &pkg{ImportPath: bad}
				v := g.violations(r)
				if len(v) != 1 || !strings.Contains(v[0], name+" must not import "+bad) || !strings.Contains(v[0], r.reason) ||
					!strings.Contains(v[0], "example.com/mid → "+bad) {
					t.Errorf("rule %s, %s reached (tests %v): got %q", r.pkg, bad, inTests, v)
				}
				// Without the bad edge, nothing to report.
				root.Deps, g["example.com/mid"].Imports, g["example.com/mid"].Deps = []string{"example.com/mid"}, nil, nil
				if v := g.violations(r); len(v) != 0 {
					t.Errorf("rule %s, clean listing: got %q", r.pkg, v)
				}
			}
		}
	}
}

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, path string
		want          bool
	}{
		{"net", "net", true},
		{"net", "net/url", false},
		{"net/http/...", "net/http", true},
		{"net/http/...", "net/http/httptest", true},
		{"net/http/...", "net/httpx", false},
		{"lanchat/...", "lanchat/backend/chat", true},
		{"lanchat/backend/discovery", "lanchat/backend/discovery/mdns", false},
	} {
		if got := match(c.pattern, c.path); got != c.want {
			t.Errorf("match(%q, %q) = %v, want %v", c.pattern, c.path, got, c.want)
		}
	}
}
