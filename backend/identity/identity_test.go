package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base32"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
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

func TestFingerprint(t *testing.T) {
	id := mustLoadOrCreate(t, t.TempDir())
	fp := id.Fingerprint
	if len(fp) != 52 {
		t.Fatalf("len(%q) = %d, want 52", fp, len(fp))
	}
	if fp != strings.ToLower(fp) {
		t.Errorf("%q not lower case", fp)
	}
	if !ValidFingerprint(fp) {
		t.Errorf("ValidFingerprint(%q) = false", fp)
	}
	// Independently: base32 of SHA-256 of the SubjectPublicKeyInfo.
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ToUpper(fp))
	if err != nil {
		t.Fatalf("not base32: %v", err)
	}
	spki, err := x509.MarshalPKIXPublicKey(id.Cert.PrivateKey.(*ecdsa.PrivateKey).Public())
	if err != nil {
		t.Fatal(err)
	}
	if sum := sha256.Sum256(spki); !bytes.Equal(raw, sum[:]) {
		t.Error("fingerprint is not the SHA-256 of the public key")
	}
	if Fingerprint(nil) != "" {
		t.Error("Fingerprint(nil) != \"\"")
	}

	short := Short(fp)
	want := strings.ToUpper(fp[0:4] + "-" + fp[4:8] + "-" + fp[8:12] + "-" + fp[12:16])
	if short != want {
		t.Errorf("Short = %q, want %q", short, want)
	}

	// A full fingerprint typed in upper case, in groups, normalises back.
	var groups []string
	for i := 0; i < len(fp); i += 4 {
		groups = append(groups, strings.ToUpper(fp[i:min(i+4, len(fp))]))
	}
	for _, typed := range []string{strings.Join(groups, "-"), strings.Join(groups, " "), strings.ToUpper(fp), fp} {
		if got := Normalize(typed); got != fp {
			t.Errorf("Normalize(%q) = %q, want %q", typed, got, fp)
		}
	}
}

func TestShort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst", "ABCD-EFGH-IJKL-MNOP"},
		{"abcdefghijklmnop", "ABCD-EFGH-IJKL-MNOP"},
		{"ABCDEFGHIJKLMNOPQ", "ABCD-EFGH-IJKL-MNOP"},
		{"abcdefghijklmno", "ABCDEFGHIJKLMNO"},
		{"ab-c", "AB-C"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Short(tt.in); got != tt.want {
			t.Errorf("Short(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidFingerprint(t *testing.T) {
	valid := "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst"
	tests := []struct {
		in   string
		want bool
	}{
		{valid, true},
		{strings.ToUpper(valid), true},
		{"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", true},
		{valid[:51], false},
		{valid + "a", false},
		{valid[:51] + "1", false},
		{valid[:51] + "8", false},
		{valid[:51] + "0", false},
		{valid[:51] + "=", false},
		{valid[:51] + "-", false},
		{valid[:51] + " ", false},
		{valid[:51] + "é", false},
		{"abcd-efgh-ijkl-mnop", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ValidFingerprint(tt.in); got != tt.want {
			t.Errorf("ValidFingerprint(%q) = %v, want %v", tt.in, got, tt.want)
		}
	}
}

func TestMismatchError(t *testing.T) {
	e := &MismatchError{
		Want: "abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnopqrst",
		Got:  "wxyz234567abcdefghijklmnopqrstuvwxyzabcdefghijklmnop",
	}
	want := "host identity changed: expected key ABCD-EFGH-IJKL-MNOP, got WXYZ-2345-67AB-CDEF"
	if got := e.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// handshake runs a TLS handshake over a loopback TCP connection and returns
// the client's connection state and both sides' errors.
func handshake(t *testing.T, server, client *tls.Config) (tls.ConnectionState, error, error) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	srvErr := make(chan error, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			srvErr <- err
			return
		}
		defer c.Close()
		s := tls.Server(c, server)
		err = s.HandshakeContext(ctx)
		if err == nil {
			// Read until the client closes, so its close_notify is consumed.
			_, _ = s.Read(make([]byte, 1))
		}
		srvErr <- err
	}()

	var d net.Dialer
	raw, err := d.DialContext(ctx, "tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c := tls.Client(raw, client)
	cliErr := c.HandshakeContext(ctx)
	cs := c.ConnectionState()
	c.Close()
	return cs, cliErr, <-srvErr
}

func TestHandshake(t *testing.T) {
	id := mustLoadOrCreate(t, t.TempDir())
	other := mustLoadOrCreate(t, t.TempDir())

	var groups []string
	for i := 0; i < len(id.Fingerprint); i += 4 {
		groups = append(groups, id.Fingerprint[i:min(i+4, len(id.Fingerprint))])
	}
	typed := strings.ToUpper(strings.Join(groups, "-"))

	tests := []struct {
		name     string
		want     string
		mismatch bool
	}{
		{"pinned", id.Fingerprint, false},
		{"pinned typed in groups", typed, false},
		{"first contact", "", false},
		{"other key", other.Fingerprint, true},
		{"invalid want", "nonsense", true},
	}
	versions := []struct {
		name string
		max  uint16
	}{
		{"TLS1.2", tls.VersionTLS12},
		{"TLS1.3", tls.VersionTLS13},
	}
	for _, v := range versions {
		for _, tt := range tests {
			t.Run(v.name+"/"+tt.name, func(t *testing.T) {
				cfg := ClientConfig(tt.want)
				cfg.MaxVersion = v.max
				cs, cliErr, srvErr := handshake(t, id.ServerConfig(), cfg)
				if tt.mismatch {
					var me *MismatchError
					if !errors.As(cliErr, &me) {
						t.Fatalf("client error = %v, want *MismatchError", cliErr)
					}
					if me.Got != id.Fingerprint || me.Want != Normalize(tt.want) {
						t.Errorf("MismatchError = %+v, want Want %q Got %q", me, Normalize(tt.want), id.Fingerprint)
					}
					if srvErr == nil {
						t.Error("server handshake succeeded after client rejected it")
					}
					return
				}
				if cliErr != nil {
					t.Fatalf("client handshake: %v", cliErr)
				}
				if srvErr != nil {
					t.Fatalf("server handshake: %v", srvErr)
				}
				if got := PeerFingerprint(cs); got != id.Fingerprint {
					t.Errorf("PeerFingerprint = %q, want %q", got, id.Fingerprint)
				}
				if cs.NegotiatedProtocol != "http/1.1" {
					t.Errorf("NegotiatedProtocol = %q", cs.NegotiatedProtocol)
				}
				if cs.Version != v.max {
					t.Errorf("Version = %x, want %x", cs.Version, v.max)
				}
			})
		}
	}
}

func TestConfigs(t *testing.T) {
	id := mustLoadOrCreate(t, t.TempDir())
	s := id.ServerConfig()
	if s.MinVersion != tls.VersionTLS12 || len(s.NextProtos) != 1 || s.NextProtos[0] != "http/1.1" || len(s.Certificates) != 1 {
		t.Errorf("ServerConfig = MinVersion %x NextProtos %v %d certs", s.MinVersion, s.NextProtos, len(s.Certificates))
	}
	c := ClientConfig("")
	if c.MinVersion != tls.VersionTLS12 || len(c.NextProtos) != 1 || c.NextProtos[0] != "http/1.1" || c.VerifyConnection == nil {
		t.Errorf("ClientConfig = MinVersion %x NextProtos %v", c.MinVersion, c.NextProtos)
	}
	if err := c.VerifyConnection(tls.ConnectionState{}); err == nil {
		t.Error("VerifyConnection accepted a state without certificates")
	}
	if PeerFingerprint(tls.ConnectionState{}) != "" {
		t.Error("PeerFingerprint of no certificates != \"\"")
	}

	// A server that refuses TLS 1.1 and below.
	cfg := ClientConfig(id.Fingerprint)
	cfg.MinVersion = tls.VersionTLS10
	cfg.MaxVersion = tls.VersionTLS11
	if _, cliErr, _ := handshake(t, id.ServerConfig(), cfg); cliErr == nil {
		t.Error("TLS 1.1 handshake succeeded")
	}
}

func TestLoadFiles(t *testing.T) {
	dir := t.TempDir()
	now := time.Now()

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, caKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}

	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "chat.example.lan"},
		DNSNames:     []string{"chat.example.lan"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, leafKey.Public(), caKey)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		t.Fatal(err)
	}

	certFile := filepath.Join(dir, "chain.pem")
	keyFile := filepath.Join(dir, "key.pem")
	chain := append(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}),
		pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER})...)
	writeFile(t, certFile, chain)
	ecDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}))

	id, err := LoadFiles(certFile, keyFile)
	if err != nil {
		t.Fatalf("LoadFiles: %v", err)
	}
	if id.Own {
		t.Error("Own = true for LoadFiles")
	}
	if id.Cert.Leaf == nil || !bytes.Equal(id.Cert.Leaf.Raw, leafDER) {
		t.Fatal("Cert.Leaf is not the leaf certificate")
	}
	if len(id.Cert.Certificate) != 2 {
		t.Errorf("chain has %d certificates, want 2", len(id.Cert.Certificate))
	}
	if id.Fingerprint != Fingerprint(leaf) {
		t.Errorf("Fingerprint = %q, want the leaf's %q", id.Fingerprint, Fingerprint(leaf))
	}
	if id.Fingerprint == Fingerprint(ca) {
		t.Error("Fingerprint is the CA's")
	}

	cs, cliErr, srvErr := handshake(t, id.ServerConfig(), ClientConfig(id.Fingerprint))
	if cliErr != nil || srvErr != nil {
		t.Fatalf("handshake: client %v, server %v", cliErr, srvErr)
	}
	if len(cs.PeerCertificates) != 2 || PeerFingerprint(cs) != id.Fingerprint {
		t.Errorf("peer sent %d certificates, fingerprint %q", len(cs.PeerCertificates), PeerFingerprint(cs))
	}

	// Errors: a missing file, and a key that is not the leaf's.
	if _, err := LoadFiles(filepath.Join(dir, "missing.pem"), keyFile); err == nil {
		t.Error("LoadFiles with a missing cert succeeded")
	}
	caKeyDER, err := x509.MarshalPKCS8PrivateKey(caKey)
	if err != nil {
		t.Fatal(err)
	}
	wrongKey := filepath.Join(dir, "ca-key.pem")
	writeFile(t, wrongKey, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: caKeyDER}))
	if _, err := LoadFiles(certFile, wrongKey); err == nil {
		t.Error("LoadFiles with another key succeeded")
	}
}
