package identity

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	fpA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	fpB = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
	fpC = "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
)

func mustCheck(t *testing.T, p *Pins, hostID, name, fp string, want Trust) {
	t.Helper()
	got, err := p.Check(hostID, name, fp)
	if err != nil {
		t.Fatalf("Check(%q, %q): %v", hostID, fp, err)
	}
	if got != want {
		t.Fatalf("Check(%q, %q) = %q, want %q", hostID, fp, got, want)
	}
}

func TestPinsSequence(t *testing.T) {
	stores := map[string]func(t *testing.T) *Pins{
		"memory": func(t *testing.T) *Pins { return NewMemoryPins() },
		"file": func(t *testing.T) *Pins {
			p, err := OpenPins(filepath.Join(t.TempDir(), "pins.json"))
			if err != nil {
				t.Fatal(err)
			}
			return p
		},
	}
	for name, open := range stores {
		t.Run(name, func(t *testing.T) {
			p := open(t)
			steps := []struct {
				host, fp string
				want     Trust
			}{
				{"h1", fpA, TrustNew},
				{"h1", fpA, TrustPinned},
				{"h1", strings.ToUpper(fpA), TrustPinned},
				{"h1", Short(fpA) + "-" + strings.ToUpper(fpA[16:]), TrustPinned},
				{"h1", fpB, TrustChanged},
				{"h1", fpA, TrustPinned}, // the change did not replace the pin
				{"h2", fpB, TrustNew},
				{"h2", fpA, TrustChanged},
			}
			for _, s := range steps {
				mustCheck(t, p, s.host, "Host "+s.host, s.fp, s.want)
			}
			if got := p.Lookup("h1"); got != fpA {
				t.Errorf("Lookup(h1) = %q, want %q", got, fpA)
			}
			if got := p.Lookup("nobody"); got != "" {
				t.Errorf("Lookup(nobody) = %q", got)
			}
		})
	}
}

func TestPinsErrors(t *testing.T) {
	p := NewMemoryPins()
	tests := []struct{ host, fp string }{
		{"", fpA},
		{"h", ""},
		{"h", "abc"},
		{"h", fpA + "a"},
		{"h", fpA[:51] + "1"},
	}
	for _, tt := range tests {
		if got, err := p.Check(tt.host, "n", tt.fp); err == nil {
			t.Errorf("Check(%q, %q) = %q, want error", tt.host, tt.fp, got)
		}
	}
	if p.Lookup("h") != "" || p.Lookup("") != "" {
		t.Error("a rejected Check was remembered")
	}
}

func TestPinsKnownAndForget(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	p, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, p, "h1", "one", fpA, TrustNew)
	mustCheck(t, p, "h2", "two", fpB, TrustNew)

	known := []struct {
		fp   string
		want bool
	}{
		{fpA, true},
		{strings.ToUpper(fpB), true},
		{fpC, false},
		{"", false},
	}
	for _, k := range known {
		if got := p.Known(k.fp); got != k.want {
			t.Errorf("Known(%q) = %v, want %v", k.fp, got, k.want)
		}
	}

	if err := p.Forget("h1"); err != nil {
		t.Fatalf("Forget: %v", err)
	}
	if p.Known(fpA) || p.Lookup("h1") != "" {
		t.Error("h1 still pinned after Forget")
	}
	if err := p.Forget("never-seen"); err != nil {
		t.Errorf("Forget of an unknown host: %v", err)
	}
	// After Forget the new identity is accepted as new.
	mustCheck(t, p, "h1", "one", fpC, TrustNew)

	// Forget is saved.
	if err := p.Forget("h2"); err != nil {
		t.Fatal(err)
	}
	q, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	if q.Lookup("h2") != "" {
		t.Error("forgotten pin came back after reopening")
	}
	if q.Lookup("h1") != fpC {
		t.Errorf("reopened Lookup(h1) = %q, want %q", q.Lookup("h1"), fpC)
	}
}

func TestPinsPersist(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "pins.json")
	p, err := OpenPins(path)
	if err != nil {
		t.Fatalf("OpenPins on a missing file: %v", err)
	}
	if p.Lookup("h1") != "" {
		t.Fatal("empty store knows h1")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("OpenPins created the file: %v", err)
	}
	before := time.Now().UTC().Add(-time.Second)
	mustCheck(t, p, "h1", "Alice's laptop", strings.ToUpper(fpA), TrustNew)

	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("pins file mode = %v, want 0600", st.Mode().Perm())
	}

	// The file format.
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Version int `json:"version"`
		Pins    map[string]struct {
			Fingerprint string `json:"fingerprint"`
			Name        string `json:"name"`
			FirstSeen   string `json:"first_seen"`
		} `json:"pins"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("pins file: %v\n%s", err, data)
	}
	e := f.Pins["h1"]
	if f.Version != 1 || e.Fingerprint != fpA || e.Name != "Alice's laptop" {
		t.Errorf("pins file = %s", data)
	}
	seen, err := time.Parse(time.RFC3339, e.FirstSeen)
	if err != nil {
		t.Errorf("first_seen %q: %v", e.FirstSeen, err)
	} else if seen.Before(before) || seen.After(time.Now().Add(time.Second)) {
		t.Errorf("first_seen %v not now", seen)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("%d files next to pins.json, want none (temp files left?)", len(entries)-1)
	}

	q, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	mustCheck(t, q, "h1", "x", fpA, TrustPinned)
	mustCheck(t, q, "h1", "x", fpB, TrustChanged)
	if !q.Known(fpA) {
		t.Error("reopened store does not know fpA")
	}
	// A changed result does not touch the file.
	after, _ := os.ReadFile(path)
	if string(after) != string(data) {
		t.Error("pins file rewritten by pinned/changed checks")
	}
}

func TestPinsMemoryWritesNothing(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	p := NewMemoryPins()
	mustCheck(t, p, "h1", "n", fpA, TrustNew)
	if err := p.Forget("h1"); err != nil {
		t.Fatal(err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("memory store wrote %d files", len(entries))
	}
}

func TestPinsCorruptFile(t *testing.T) {
	tests := []struct{ name, data string }{
		{"not json", "{not json"},
		{"empty", ""},
		{"trailing garbage", `{"version":1,"pins":{}} x`},
		{"wrong version", `{"version":2,"pins":{}}`},
		{"no version", `{"pins":{}}`},
		{"bad fingerprint", `{"version":1,"pins":{"h1":{"fingerprint":"nope","name":"","first_seen":""}}}`},
		{"empty host id", `{"version":1,"pins":{"":{"fingerprint":"` + fpA + `"}}}`},
		{"pins not an object", `{"version":1,"pins":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "pins.json")
			writeFile(t, path, []byte(tt.data))
			if p, err := OpenPins(path); err == nil {
				t.Errorf("OpenPins succeeded (%v), want error", p)
			}
			if b, _ := os.ReadFile(path); string(b) != tt.data {
				t.Error("corrupt file was modified")
			}
		})
	}

	// A valid file with upper-case fingerprints loads normalised.
	path := filepath.Join(t.TempDir(), "pins.json")
	writeFile(t, path, []byte(`{"version":1,"pins":{"h1":{"fingerprint":"`+strings.ToUpper(fpA)+`","name":"a","first_seen":"2024-01-02T03:04:05Z"}}}`))
	p, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	if p.Lookup("h1") != fpA {
		t.Errorf("Lookup = %q, want %q", p.Lookup("h1"), fpA)
	}
}

func TestPinsConcurrentCheck(t *testing.T) {
	for _, store := range []string{"memory", "file"} {
		t.Run(store, func(t *testing.T) {
			p := NewMemoryPins()
			path := filepath.Join(t.TempDir(), "pins.json")
			if store == "file" {
				var err error
				if p, err = OpenPins(path); err != nil {
					t.Fatal(err)
				}
			}
			const n = 50
			fps := make([]string, n)
			results := make([]Trust, n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i := range n {
				fps[i] = fpA
				if i%2 == 1 {
					fps[i] = fpB
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = p.Check("host", "name", fps[i])
				}()
			}
			close(start)
			wg.Wait()

			winner := ""
			for i := range n {
				if errs[i] != nil {
					t.Fatalf("Check %d: %v", i, errs[i])
				}
				if results[i] == TrustNew {
					if winner != "" {
						t.Fatalf("two winners: %q and %q", winner, fps[i])
					}
					winner = fps[i]
				}
			}
			if winner == "" {
				t.Fatal("no Check returned new")
			}
			for i := range n {
				if results[i] == TrustNew {
					continue // the one winner, checked above
				}
				want := TrustPinned
				if fps[i] != winner {
					want = TrustChanged
				}
				if results[i] != want {
					t.Errorf("Check %d (%s) = %q, want %q (winner %s)", i, fps[i][:1], results[i], want, winner[:1])
				}
			}
			if got := p.Lookup("host"); got != winner {
				t.Errorf("Lookup = %q, want winner %q", got, winner)
			}
			if store == "file" {
				q, err := OpenPins(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := q.Lookup("host"); got != winner {
					t.Errorf("file pin = %q, want winner %q", got, winner)
				}
			}
		})
	}
}

func TestPinsConcurrentHosts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "pins.json")
	p, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			host := string(rune('a'+i%26)) + string(rune('a'+i/26))
			if _, err := p.Check(host, host, fpC); err != nil {
				t.Error(err)
			}
			p.Known(fpC)
			p.Lookup(host)
		}()
	}
	wg.Wait()
	q, err := OpenPins(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		host := string(rune('a'+i%26)) + string(rune('a'+i/26))
		if q.Lookup(host) != fpC {
			t.Errorf("host %s lost from the file", host)
		}
	}
}
