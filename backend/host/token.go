package host

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// TokenFile returns the host token kept in the file at path, for a host
// with no desktop app of its own (`lanchat serve --host-token-file`): the
// machine's own user reads the file and hands the token to a local UI, so
// the token never crosses the network. A missing file is created, readable
// by its owner only, with a new random token; an existing one must hold a
// token (surrounding white space is ignored).
func TokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("host token file %s is empty", path)
		}
		if strings.ContainsAny(tok, "\r\n") {
			return "", fmt.Errorf("host token file %s holds more than one line", path)
		}
		return tok, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("host token file: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("host token: %w", err)
	}
	tok := hex.EncodeToString(raw)
	// O_EXCL: never overwrite a file that appeared meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("host token file: %w", err)
	}
	if _, err := f.WriteString(tok + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return "", fmt.Errorf("host token file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return "", fmt.Errorf("host token file: %w", err)
	}
	return tok, nil
}
