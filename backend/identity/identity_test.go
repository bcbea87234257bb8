package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func mustLoadOrCreate(t *testing.T, dir string) *Identity {
	t.Helper()
	id, err := LoadOrCreate(dir)
	if err != nil {
		t.Fatalf("LoadOrCreate(%s): %v", dir, err)
	}
	return id
}

func TestLoadOrCreateCreatesAndReloads(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data", "host")
	before := time.Now()
	id := mustLoadOrCreate(t, dir)

	if !id.Own {
		t.Error("Own = false for LoadOrCreate")
	}
	if id.Cert.Leaf == nil {
		t.Fatal("Cert.Leaf not set")
	}
	if id.Fingerprint != Fingerprint(id.Cert.Leaf) {
		t.Errorf("Fingerprint = %q, want %q", id.Fingerprint, Fingerprint(id.Cert.Leaf))
	}

	st, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o700 {
		t.Errorf("dir mode = %v, want 0700", st.Mode().Perm())
	}
	keyPath := filepath.Join(dir, "tls-key.pem")
	st, err = os.Stat(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("key mode = %v, want 0600", st.Mode().Perm())
	}
	if _, err := os.Stat(filepath.Join(dir, "tls-cert.pem")); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("dir holds %v, want only the key and cert", names)
	}

	// The key is an ECDSA P-256 key in PKCS#8 PEM.
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(keyPEM)
	if block == nil || block.Type != "PRIVATE KEY" {
		t.Fatalf("key PEM block = %+v, want PRIVATE KEY", block)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		t.Fatalf("key is not PKCS#8: %v", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		t.Fatalf("key is %T, want ECDSA P-256", k)
	}

	// The certificate.
	leaf := id.Cert.Leaf
	if leaf.Subject.CommonName != "lanchat host" {
		t.Errorf("CommonName = %q", leaf.Subject.CommonName)
	}
	if len(leaf.DNSNames) != 1 || leaf.DNSNames[0] != "lanchat" {
		t.Errorf("DNSNames = %v", leaf.DNSNames)
	}
	if leaf.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Errorf("KeyUsage = %v", leaf.KeyUsage)
	}
	if len(leaf.ExtKeyUsage) != 2 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth || leaf.ExtKeyUsage[1] != x509.ExtKeyUsageClientAuth {
		t.Errorf("ExtKeyUsage = %v", leaf.ExtKeyUsage)
	}
	if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if nb := leaf.NotBefore; nb.After(before.Add(-59*time.Minute)) || nb.Before(before.Add(-62*time.Minute)) {
		t.Errorf("NotBefore = %v, want about an hour before %v", nb, before)
	}
	if got, want := leaf.NotAfter, leaf.NotBefore.AddDate(30, 0, 0); !got.Equal(want) {
		t.Errorf("NotAfter = %v, want %v", got, want)
	}
	if leaf.SerialNumber.Sign() <= 0 || leaf.SerialNumber.BitLen() > 128 {
		t.Errorf("serial %v not a positive 128-bit number", leaf.SerialNumber)
	}

	// A second call loads the same identity.
	again := mustLoadOrCreate(t, dir)
	if again.Fingerprint != id.Fingerprint {
		t.Errorf("second LoadOrCreate fingerprint = %q, want %q", again.Fingerprint, id.Fingerprint)
	}
	if !again.Own {
		t.Error("Own = false on reload")
	}
	if !bytes.Equal(again.Cert.Certificate[0], id.Cert.Certificate[0]) {
		t.Error("reload returned another certificate")
	}

	// Another dir gets another key.
	other := mustLoadOrCreate(t, t.TempDir())
	if other.Fingerprint == id.Fingerprint {
		t.Error("two data dirs share a fingerprint")
	}
}

func TestLoadOrCreateMissingFile(t *testing.T) {
	t.Run("cert missing keeps key", func(t *testing.T) {
		dir := t.TempDir()
		id := mustLoadOrCreate(t, dir)
		keyBefore, _ := os.ReadFile(filepath.Join(dir, "tls-key.pem"))
		if err := os.Remove(filepath.Join(dir, "tls-cert.pem")); err != nil {
			t.Fatal(err)
		}
		again := mustLoadOrCreate(t, dir)
		if again.Fingerprint != id.Fingerprint {
			t.Errorf("fingerprint changed after re-issuing the cert: %q -> %q", id.Fingerprint, again.Fingerprint)
		}
		if again.Cert.Leaf.SerialNumber.Cmp(id.Cert.Leaf.SerialNumber) == 0 {
			t.Error("re-issued cert has the old serial")
		}
		keyAfter, _ := os.ReadFile(filepath.Join(dir, "tls-key.pem"))
		if !bytes.Equal(keyBefore, keyAfter) {
			t.Error("key file rewritten")
		}
	})
	t.Run("key missing makes new identity", func(t *testing.T) {
		dir := t.TempDir()
		id := mustLoadOrCreate(t, dir)
		if err := os.Remove(filepath.Join(dir, "tls-key.pem")); err != nil {
			t.Fatal(err)
		}
		again := mustLoadOrCreate(t, dir)
		if again.Fingerprint == id.Fingerprint {
			t.Error("new key has the old fingerprint")
		}
		if third := mustLoadOrCreate(t, dir); third.Fingerprint != again.Fingerprint {
			t.Error("new identity not persisted")
		}
	})
}

func TestLoadOrCreateRefusesBadFiles(t *testing.T) {
	garbage := []byte("-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n")
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		check string // file that must stay byte for byte as set up
	}{
		{
			name: "corrupt key with cert",
			setup: func(t *testing.T, dir string) {
				mustLoadOrCreate(t, dir)
				writeFile(t, filepath.Join(dir, "tls-key.pem"), garbage)
			},
			check: "tls-key.pem",
		},
		{
			name: "corrupt key without cert",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "tls-key.pem"), garbage)
			},
			check: "tls-key.pem",
		},
		{
			name: "key not PEM",
			setup: func(t *testing.T, dir string) {
				writeFile(t, filepath.Join(dir, "tls-key.pem"), []byte("hello"))
			},
			check: "tls-key.pem",
		},
		{
			name: "cert of another key",
			setup: func(t *testing.T, dir string) {
				mustLoadOrCreate(t, dir)
				otherDir := t.TempDir()
				mustLoadOrCreate(t, otherDir)
				cert, err := os.ReadFile(filepath.Join(otherDir, "tls-cert.pem"))
				if err != nil {
					t.Fatal(err)
				}
				writeFile(t, filepath.Join(dir, "tls-cert.pem"), cert)
			},
			check: "tls-cert.pem",
		},
		{
			name: "corrupt cert",
			setup: func(t *testing.T, dir string) {
				mustLoadOrCreate(t, dir)
				writeFile(t, filepath.Join(dir, "tls-cert.pem"), []byte("not a cert"))
			},
			check: "tls-cert.pem",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			snap := snapshot(t, dir)
			id, err := LoadOrCreate(dir)
			if err == nil {
				t.Fatalf("LoadOrCreate succeeded (fingerprint %s), want error", id.Fingerprint)
			}
			if id != nil {
				t.Error("non-nil identity with error")
			}
			after := snapshot(t, dir)
			if len(after) != len(snap) {
				t.Errorf("dir changed: %d files before, %d after", len(snap), len(after))
			}
			for name, b := range snap {
				if !bytes.Equal(after[name], b) {
					t.Errorf("%s changed", name)
				}
			}
			if _, ok := snap[tt.check]; !ok {
				t.Fatalf("setup did not write %s", tt.check)
			}
		})
	}
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}

func snapshot(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		m[e.Name()] = b
	}
	return m
}
