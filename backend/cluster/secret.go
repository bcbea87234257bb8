package cluster

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"strings"
	"time"
)

// The boxes of one cluster share a secret (lanchat serve
// --cluster-secret-file). Routes between boxes are mutual TLS under a key
// that every box derives from the secret: a box proves in each handshake
// that it holds the key, so a process without the secret (or with another)
// cannot open a route, and what crosses the route port is encrypted. The
// secret itself never crosses the network.

// MinSecretLen is the shortest secret accepted, in bytes after trimming.
const MinSecretLen = 16

// routeServerName is the name every box's route certificate carries and
// every box asks for: the boxes are told apart by their server names
// inside the cluster, not by the certificate.
const routeServerName = "lanchat-cluster"

// SecretFile returns the cluster secret kept in the file at path. A missing
// file is created, readable by its owner only, with a new random secret
// (the first box makes it; the operator copies it to the others). An
// existing file must hold at least MinSecretLen bytes (surrounding white
// space is ignored). loose is true when the file can be read by others
// than its owner, which the caller should warn about.
func SecretFile(path string) (secret []byte, loose bool, err error) {
	b, err := os.ReadFile(path)
	if err == nil {
		s := strings.TrimSpace(string(b))
		if len(s) < MinSecretLen {
			return nil, false, fmt.Errorf("cluster secret file %s holds %d bytes, fewer than %d: delete it to have a new one made, or copy the first box's", path, len(s), MinSecretLen)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
			loose = true
		}
		return []byte(s), loose, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, fmt.Errorf("cluster secret file: %w", err)
	}
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return nil, false, fmt.Errorf("cluster secret: %w", err)
	}
	s := hex.EncodeToString(raw)
	// O_EXCL: never overwrite a file that appeared meanwhile.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("cluster secret file: %w", err)
	}
	if _, err := f.WriteString(s + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("cluster secret file: %w", err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, false, fmt.Errorf("cluster secret file: %w", err)
	}
	return []byte(s), false, nil
}

// routeTLS is the TLS configuration of the route port for secret: every
// box presents the same certificate, made from a key derived from the
// secret, and accepts only a peer that presents a certificate signed by
// that key, in both directions.
func routeTLS(secret []byte) (*tls.Config, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("cluster: the cluster secret is shorter than %d bytes", MinSecretLen)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("lanchat cluster route key v1"))
	key := ed25519.NewKeyFromSeed(mac.Sum(nil))
	// Everything in the certificate is fixed, and Ed25519 signatures are
	// deterministic, so every box makes the same certificate; it is a CA
	// too, so that a box whose encoder differs (another Go version) still
	// verifies under it. The validity spans any clock a box may have.
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "lanchat cluster"},
		DNSNames:              []string{routeServerName},
		NotBefore:             time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, fmt.Errorf("cluster: route certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("cluster: route certificate: %w", err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}},
		RootCAs:      pool,
		ClientCAs:    pool,
		ClientAuth:   tls.RequireAndVerifyClientCert,
		// The route's dialler asks for this name whatever address it
		// dials (nats-server keeps a ServerName that is set).
		ServerName: routeServerName,
		MinVersion: tls.VersionTLS13,
	}, nil
}

// routeRefusalHint is logged with a failed route handshake.
const routeRefusalHint = "the other end is not a box of this cluster or holds another cluster secret: every box needs a copy of the same --cluster-secret-file"
