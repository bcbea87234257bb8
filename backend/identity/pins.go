package identity

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// Trust is what a pin store says about a host's presented fingerprint.
type Trust string

// Trust values returned by Pins.Check.
const (
	TrustNew     Trust = "new"     // never seen: remembered now
	TrustPinned  Trust = "pinned"  // the remembered fingerprint
	TrustChanged Trust = "changed" // another fingerprint than the remembered one: not replaced
)

// pinsVersion is the version of the pins file format.
const pinsVersion = 1

type pinsFile struct {
	Version int                 `json:"version"`
	Pins    map[string]pinEntry `json:"pins"`
}

type pinEntry struct {
	Fingerprint string `json:"fingerprint"`
	Name        string `json:"name"`
	FirstSeen   string `json:"first_seen"` // RFC 3339
}

// Pins remembers host id -> fingerprint, in a JSON file such as
// dataDir/pins.json:
//
//	{"version":1,"pins":{"<host id>":{"fingerprint":"...","name":"...","first_seen":"<RFC 3339>"}}}
//
// It is safe for concurrent use.
type Pins struct {
	path string // "" for a memory-only store

	mu   sync.Mutex
	pins map[string]pinEntry
}

// OpenPins loads the store kept at path; a missing file is an empty store.
// A file that does not parse is an error.
func OpenPins(path string) (*Pins, error) {
	p := &Pins{path: path, pins: map[string]pinEntry{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return p, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity: pins: %w", err)
	}
	var f pinsFile
	if err := json.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("identity: pins %s: %w", path, err)
	}
	if f.Version != pinsVersion {
		return nil, fmt.Errorf("identity: pins %s: unsupported version %d", path, f.Version)
	}
	for id, e := range f.Pins {
		if id == "" || !ValidFingerprint(e.Fingerprint) {
			return nil, fmt.Errorf("identity: pins %s: invalid pin for host %q", path, id)
		}
		e.Fingerprint = Normalize(e.Fingerprint)
		p.pins[id] = e
	}
	return p, nil
}

// NewMemoryPins is a store that is never written to disk (for tests and
// hosts without a data dir).
func NewMemoryPins() *Pins {
	return &Pins{pins: map[string]pinEntry{}}
}

// Check compares fp with what is remembered for hostID. TrustNew: nothing
// was, and fp is now remembered under name (the file is written before
// Check returns). TrustPinned: fp is the remembered fingerprint.
// TrustChanged: another one is remembered, and kept. An empty hostID or an
// invalid fp is an error, as is failing to write the file (then nothing is
// remembered).
func (p *Pins) Check(hostID, name, fp string) (Trust, error) {
	if hostID == "" {
		return "", errors.New("identity: pins: empty host id")
	}
	fp = Normalize(fp)
	if !ValidFingerprint(fp) {
		return "", fmt.Errorf("identity: pins: invalid fingerprint %q", fp)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if e, ok := p.pins[hostID]; ok {
		if e.Fingerprint == fp {
			return TrustPinned, nil
		}
		return TrustChanged, nil
	}
	p.pins[hostID] = pinEntry{
		Fingerprint: fp,
		Name:        name,
		FirstSeen:   time.Now().UTC().Format(time.RFC3339),
	}
	if err := p.saveLocked(); err != nil {
		delete(p.pins, hostID)
		return "", err
	}
	return TrustNew, nil
}

// Lookup returns the remembered fingerprint for hostID ("" if none).
func (p *Pins) Lookup(hostID string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pins[hostID].Fingerprint
}

// Known reports whether fp is remembered for any host.
func (p *Pins) Known(fp string) bool {
	fp = Normalize(fp)
	if fp == "" {
		return false
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, e := range p.pins {
		if e.Fingerprint == fp {
			return true
		}
	}
	return false
}

// Forget drops hostID's pin (the user accepted a new identity) and saves
// the file; forgetting an unknown host does nothing. If the file cannot be
// written the pin is kept.
func (p *Pins) Forget(hostID string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	e, ok := p.pins[hostID]
	if !ok {
		return nil
	}
	delete(p.pins, hostID)
	if err := p.saveLocked(); err != nil {
		p.pins[hostID] = e
		return err
	}
	return nil
}

// saveLocked writes the store to its file (temp + rename, mode 0600). p.mu
// must be held.
func (p *Pins) saveLocked() error {
	if p.path == "" {
		return nil
	}
	data, err := json.MarshalIndent(pinsFile{Version: pinsVersion, Pins: p.pins}, "", "  ")
	if err != nil {
		return fmt.Errorf("identity: pins: %w", err)
	}
	data = append(data, '\n')
	if err := os.MkdirAll(filepath.Dir(p.path), 0o700); err != nil {
		return fmt.Errorf("identity: pins: %w", err)
	}
	if err := writeFileAtomic(p.path, data, 0o600); err != nil {
		return fmt.Errorf("identity: pins: %w", err)
	}
	return nil
}
