// Package identity gives each lanchat host a long-lived TLS key and
// self-signed certificate, and lets peers pin it by public key fingerprint
// (trust on first use).
package identity

import (
	"crypto"
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
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// File names of a host's own identity inside its data dir.
const (
	keyFileName  = "tls-key.pem"
	certFileName = "tls-cert.pem"
)

// fingerprintLen is the length of a Fingerprint.
const fingerprintLen = 52

// certValidityYears is how long a generated host certificate is valid.
const certValidityYears = 30

// b32 is the RFC 4648 base32 alphabet without padding.
var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// Identity is the key and certificate a host serves TLS with.
type Identity struct {
	// Cert is the certificate chain and key; Cert.Leaf is set.
	Cert tls.Certificate
	// Fingerprint is Fingerprint(Cert.Leaf).
	Fingerprint string
	// Own is true for an identity kept in the host's data dir
	// (LoadOrCreate), false for one given by the operator (LoadFiles).
	Own bool
}

// LoadOrCreate reads dir/tls-key.pem and dir/tls-cert.pem, creating them
// when either is missing: an ECDSA P-256 key (PKCS#8 PEM, mode 0600) and a
// self-signed certificate valid from an hour ago for 30 years. An existing
// key is kept, so a missing certificate is re-issued for the same
// fingerprint. Files are written to a temp file in dir and renamed into
// place. A key file that does not parse, or a certificate that does not
// match the key, is an error; neither is ever replaced. dir is created
// (0700) if missing.
func LoadOrCreate(dir string) (*Identity, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("identity: create data dir: %w", err)
	}
	keyPath := filepath.Join(dir, keyFileName)
	certPath := filepath.Join(dir, certFileName)

	keyPEM, keyErr := readOptional(keyPath)
	if keyErr != nil {
		return nil, keyErr
	}
	certPEM, certErr := readOptional(certPath)
	if certErr != nil {
		return nil, certErr
	}

	var key crypto.Signer
	if keyPEM != nil {
		k, err := parseKey(keyPEM)
		if err != nil {
			return nil, fmt.Errorf("identity: %s: %w", keyPath, err)
		}
		key = k
	}

	if keyPEM != nil && certPEM != nil {
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, fmt.Errorf("identity: %s with %s: %w", certPath, keyPath, err)
		}
		return newIdentity(cert, true)
	}

	if key == nil {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("identity: generate key: %w", err)
		}
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			return nil, fmt.Errorf("identity: encode key: %w", err)
		}
		keyPEM = pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
		if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
			return nil, fmt.Errorf("identity: write key: %w", err)
		}
		key = k
	}

	certDER, err := selfSigned(key, time.Now())
	if err != nil {
		return nil, fmt.Errorf("identity: create certificate: %w", err)
	}
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: certDER})
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("identity: write certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return newIdentity(cert, true)
}

// LoadFiles loads a certificate chain and key given by the operator (PEM
// files, as tls.LoadX509KeyPair). The fingerprint is that of the first
// certificate in certFile.
func LoadFiles(certFile, keyFile string) (*Identity, error) {
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return newIdentity(cert, false)
}

func newIdentity(cert tls.Certificate, own bool) (*Identity, error) {
	if cert.Leaf == nil {
		if len(cert.Certificate) == 0 {
			return nil, errors.New("identity: no certificate")
		}
		leaf, err := x509.ParseCertificate(cert.Certificate[0])
		if err != nil {
			return nil, fmt.Errorf("identity: parse certificate: %w", err)
		}
		cert.Leaf = leaf
	}
	return &Identity{Cert: cert, Fingerprint: Fingerprint(cert.Leaf), Own: own}, nil
}

// selfSigned returns the DER of a host certificate for key, valid from an
// hour before now for 30 years.
func selfSigned(key crypto.Signer, now time.Time) ([]byte, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	var serial *big.Int
	for serial == nil || serial.Sign() == 0 {
		s, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, err
		}
		serial = s
	}
	notBefore := now.Add(-time.Hour)
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "lanchat host"},
		DNSNames:              []string{"lanchat"},
		NotBefore:             notBefore,
		NotAfter:              notBefore.AddDate(certValidityYears, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
}

// parseKey decodes the first PEM private key block of data (PKCS#8, SEC 1
// or PKCS#1).
func parseKey(data []byte) (crypto.Signer, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key")
		}
		if block.Type != "PRIVATE KEY" && !strings.HasSuffix(block.Type, " PRIVATE KEY") {
			continue
		}
		var k any
		var err error
		switch block.Type {
		case "EC PRIVATE KEY":
			k, err = x509.ParseECPrivateKey(block.Bytes)
		case "RSA PRIVATE KEY":
			k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		default:
			k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("parse private key: %w", err)
		}
		s, ok := k.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("unsupported private key type %T", k)
		}
		return s, nil
	}
}

// readOptional returns the contents of path, or nil if it does not exist.
func readOptional(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return b, nil
}

// writeFileAtomic writes data to a temp file next to path, syncs it and
// renames it over path, so path holds either the old or the new contents.
func writeFileAtomic(path string, data []byte, perm fs.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	// Make the rename itself durable; not every platform can sync a dir.
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// Fingerprint is the lower-case base32 (RFC 4648 alphabet, no padding) of
// the SHA-256 of the DER SubjectPublicKeyInfo of cert: 52 characters. It
// is "" for a nil cert.
func Fingerprint(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return strings.ToLower(b32.EncodeToString(sum[:]))
}

// Short is the first 16 characters of a fingerprint in four groups of
// four, upper-case, joined by "-" (e.g. "ABCD-EFGH-IJKL-MNOP"): what two
// people read aloud to compare. A string shorter than 16 is returned
// upper-cased and otherwise unchanged.
func Short(fp string) string {
	fp = strings.ToUpper(fp)
	if len(fp) < 16 {
		return fp
	}
	return fp[0:4] + "-" + fp[4:8] + "-" + fp[8:12] + "-" + fp[12:16]
}

// ValidFingerprint reports whether s looks like a Fingerprint: 52
// characters of the base32 alphabet, in lower or upper case. Use
// Normalize to compare.
func ValidFingerprint(s string) bool {
	if len(s) != fingerprintLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '2' && c <= '7':
		default:
			return false
		}
	}
	return true
}

// Normalize lower-cases fp and drops "-" and spaces, so a fingerprint
// typed or pasted in groups compares equal to Fingerprint's output.
func Normalize(fp string) string {
	fp = strings.ReplaceAll(fp, "-", "")
	fp = strings.ReplaceAll(fp, " ", "")
	return strings.ToLower(fp)
}

// ServerConfig is a tls.Config serving id's certificate (MinVersion TLS
// 1.2, NextProtos ["http/1.1"]).
func (id *Identity) ServerConfig() *tls.Config {
	return &tls.Config{
		Certificates: []tls.Certificate{id.Cert},
		MinVersion:   tls.VersionTLS12,
		NextProtos:   []string{"http/1.1"},
	}
}

// ClientConfig is a tls.Config for dialing a host whose certificate must
// have public key fingerprint want (after Normalize). Chain and name
// checks are replaced by comparing the fingerprint of the peer's leaf
// certificate to want; a mismatch fails the handshake with a
// *MismatchError. If want is "", any certificate is accepted (first
// contact) and the caller reads it with PeerFingerprint. NextProtos
// ["http/1.1"], MinVersion TLS 1.2.
func ClientConfig(want string) *tls.Config {
	want = Normalize(want)
	return &tls.Config{
		// Trust comes from the pinned key, not from a CA or a name.
		InsecureSkipVerify: true,
		MinVersion:         tls.VersionTLS12,
		NextProtos:         []string{"http/1.1"},
		VerifyConnection: func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("identity: host presented no certificate")
			}
			got := Fingerprint(cs.PeerCertificates[0])
			if want != "" && got != want {
				return &MismatchError{Want: want, Got: got}
			}
			return nil
		},
	}
}

// MismatchError says a host presented another key than the one expected.
type MismatchError struct {
	Want, Got string // fingerprints
}

// Error names both keys by their Short form.
func (e *MismatchError) Error() string {
	return fmt.Sprintf("host identity changed: expected key %s, got %s", Short(e.Want), Short(e.Got))
}

// PeerFingerprint is the fingerprint of the leaf certificate of a TLS
// connection state ("" if none).
func PeerFingerprint(cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return Fingerprint(cs.PeerCertificates[0])
}

// PEM encodes id's certificate chain and private key (PKCS#8), as the data
// dir keeps them.
func (id *Identity) PEM() (certPEM, keyPEM []byte, err error) {
	for _, der := range id.Cert.Certificate {
		certPEM = append(certPEM, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})...)
	}
	der, err := x509.MarshalPKCS8PrivateKey(id.Cert.PrivateKey)
	if err != nil {
		return nil, nil, fmt.Errorf("identity: %w", err)
	}
	return certPEM, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// FromPEM makes an identity of a certificate and key in PEM, such as PEM
// gives: a key of the host's own (Own), shared by the boxes of a cluster.
func FromPEM(certPEM, keyPEM []byte) (*Identity, error) {
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	return newIdentity(cert, true)
}
