package host

import (
	"encoding/hex"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestTokenFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "host-token")

	made, err := TokenFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := hex.DecodeString(made); err != nil || len(b) != 32 {
		t.Errorf("new token %q is not 32 random bytes in hex", made)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if m := st.Mode().Perm(); m != 0o600 {
			t.Errorf("token file mode %v, want 0600", m)
		}
	}
	again, err := TokenFile(p)
	if err != nil || again != made {
		t.Errorf("second read gave %q, %v; want the same token %q", again, err, made)
	}
	other, err := TokenFile(filepath.Join(dir, "other"))
	if err != nil || other == made {
		t.Errorf("another file gave %q, %v: tokens must differ", other, err)
	}

	given := filepath.Join(dir, "given")
	if err := os.WriteFile(given, []byte("  s3cret-token \n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if tok, err := TokenFile(given); err != nil || tok != "s3cret-token" {
		t.Errorf("given token read as %q, %v", tok, err)
	}

	for name, content := range map[string]string{"empty": "", "blank": " \n\t\n", "two lines": "a\nb\n"} {
		f := filepath.Join(dir, strings.ReplaceAll(name, " ", "-"))
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if tok, err := TokenFile(f); err == nil {
			t.Errorf("%s file accepted as token %q", name, tok)
		} else if content != "" && strings.Contains(err.Error(), strings.TrimSpace(content)) && strings.TrimSpace(content) != "" {
			t.Errorf("%s: the error %q shows the file's content", name, err)
		}
	}
	if _, err := TokenFile(filepath.Join(dir, "no", "such", "dir", "tok")); err == nil {
		t.Error("a token file in a missing directory was accepted")
	}
}
