package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"strings"
	"testing"
)

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
