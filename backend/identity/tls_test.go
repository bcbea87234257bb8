package identity

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

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
