package app

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// errLocked: another lanchat window runs on the same data dir.
var errLocked = errors.New("locked")

// lockDataDir keeps a second desktop app off a data dir in use: both would
// host with the same host id. The returned function releases the lock.
func lockDataDir(dataDir string) (release func(), err error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dataDir, "desktop.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, fmt.Errorf("lanchat is already open with the data dir %s: %w", dataDir, errLocked)
		}
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	return func() { f.Close() }, nil
}
