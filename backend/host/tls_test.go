package host

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/identity"
)

// infoOver fetches /api/info from the host at addr with client c.
func infoOver(t *testing.T, c *http.Client, url string) (map[string]any, *http.Response) {
	t.Helper()
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return v, resp
}

func hello(name string) map[string]any {
	return map[string]any{"type": "hello", "version": 1, "name": name, "device": "d-" + name}
}

func TestHostServesTLSAndPlainOnOnePort(t *testing.T) {
	dir := t.TempDir()
	h := runHost(t, Config{Name: "Teacher"})
	fp := h.Fingerprint()
	if !identity.ValidFingerprint(fp) {
		t.Fatalf("fingerprint %q", fp)
	}
	addr := "127.0.0.1:" + strconv.Itoa(h.Port())

	plain, resp := infoOver(t, http.DefaultClient, "http://"+addr+"/api/info")
	if resp.TLS != nil || plain["fingerprint"] != fp || plain["tls"] != true {
		t.Errorf("over http: %v", plain)
	}
	pinned := &http.Client{Transport: &http.Transport{TLSClientConfig: identity.ClientConfig(fp)}}
	secure, resp := infoOver(t, pinned, "https://"+addr+"/api/info")
	if resp.TLS == nil || secure["id"] != h.ID || identity.PeerFingerprint(*resp.TLS) != fp {
		t.Errorf("over https: %v", secure)
	}
	for _, u := range h.JoinURLs() {
		if !strings.HasSuffix(u, "/#fp="+fp) {
			t.Errorf("join link %q does not carry the key", u)
		}
	}

	// WSS to the same port, pinned, and plain WS beside it.
	d := websocket.Dialer{TLSClientConfig: identity.ClientConfig(fp)}
	ws, _, err := d.Dial("wss://"+addr+"/ws", nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := sayHello(ws, "Ana", hello("Ana"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	plainC, _, err := dialBox("ws://"+addr+"/ws", "Bia", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer plainC.close()
	if n := h.Hub.Stats().Members; n != 2 {
		t.Errorf("members %d", n)
	}

	// Another key is refused by a pinned client.
	other, err := identity.LoadOrCreate(dir)
	if err != nil {
		t.Fatal(err)
	}
	d.TLSClientConfig = identity.ClientConfig(other.Fingerprint)
	var mismatch *identity.MismatchError
	if _, _, err := d.Dial("wss://"+addr+"/ws", nil); !errors.As(err, &mismatch) {
		t.Errorf("a client pinned to another key: %v", err)
	}
}

func TestHostKeyOutlivesRestarts(t *testing.T) {
	dir := t.TempDir()
	var fps []string
	for range 2 {
		h, err := New(Config{Addr: "127.0.0.1:0", DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		fps = append(fps, h.Fingerprint())
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_ = h.Run(ctx)
	}
	if fps[0] != fps[1] {
		t.Errorf("the key changed across a restart: %v", fps)
	}
	if fi, err := os.Stat(filepath.Join(dir, "tls-key.pem")); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v %v", fi, err)
	}
}

// TestDesktopJoinsAnotherHostThroughItsRelay is the desktop app's path to
// another host: the link's key checked when it is added, then its webview
// dials its own host's relay, which dials the other host over pinned TLS.
func TestDesktopJoinsAnotherHostThroughItsRelay(t *testing.T) {
	mine := runHost(t, Config{Name: "Ana's laptop"})
	teacher := runHost(t, Config{Name: "Teacher"})
	impostor := runHost(t, Config{Name: "Teacher"})
	teacherAddr := "127.0.0.1:" + strconv.Itoa(teacher.Port())
	impostorAddr := "127.0.0.1:" + strconv.Itoa(impostor.Port())
	ctx := context.Background()

	// A link naming the teacher's key, pasted with the impostor's address.
	var mismatch *identity.MismatchError
	if _, err := mine.Discovery.AddManual(ctx, "http://"+impostorAddr+"/#fp="+teacher.Fingerprint()); !errors.As(err, &mismatch) {
		t.Fatalf("impostor behind the teacher's link: %v", err)
	}
	p, err := mine.Discovery.AddManual(ctx, "http://"+teacherAddr+"/#fp="+teacher.Fingerprint())
	if err != nil || p.ID != teacher.ID || p.Trust != "new" || p.Fingerprint != teacher.Fingerprint() {
		t.Fatalf("teacher by link: %+v %v", p, err)
	}

	relay := "ws://127.0.0.1:" + strconv.Itoa(mine.Port()) + "/relay?addr=" + teacherAddr + "&fp=" + teacher.Fingerprint()
	webview := http.Header{"Origin": {"wails://wails"}}
	ws, _, err := websocket.DefaultDialer.Dial(relay, webview)
	if err != nil {
		t.Fatal(err)
	}
	ana, _, err := sayHello(ws, "Ana", hello("Ana"))
	if err != nil {
		t.Fatal(err)
	}
	defer ana.close()
	joinRoom(t, ana, "general")
	bia, _, err := dialBox("ws://"+teacherAddr+"/ws", "Bia", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bia.close()
	joinRoom(t, bia, "general")
	if err := ana.send(map[string]any{"type": "send", "room": "general", "client_id": "c1", "text": "over pinned TLS"}); err != nil {
		t.Fatal(err)
	}
	if _, ok := bia.waitFor(10*time.Second, func(f frame) bool { return f.Type == "message" && f.Text == "over pinned TLS" }); !ok {
		t.Fatal("the teacher's room did not get the relayed message")
	}
	if n := teacher.Hub.Stats().Members; n != 2 {
		t.Errorf("the teacher's host has %d members", n)
	}

	// The relay takes no key it has not met: not the impostor's.
	bad := "ws://127.0.0.1:" + strconv.Itoa(mine.Port()) + "/relay?addr=" + impostorAddr + "&fp=" + impostor.Fingerprint()
	if _, resp, err := websocket.DefaultDialer.Dial(bad, webview); err == nil || resp == nil || resp.StatusCode != http.StatusForbidden {
		t.Errorf("relay to a key never met: %v", err)
	}
	// Nor a remembered key at an address that holds another.
	bad = "ws://127.0.0.1:" + strconv.Itoa(mine.Port()) + "/relay?addr=" + impostorAddr + "&fp=" + teacher.Fingerprint()
	if _, resp, err := websocket.DefaultDialer.Dial(bad, webview); err == nil || resp == nil || resp.StatusCode != http.StatusBadGateway {
		t.Errorf("relay to the impostor under the teacher's key: %v", err)
	}
}

// schoolCert writes a CA-signed certificate for chat.school.test and
// returns the files and the CA pool.
func schoolCert(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "School CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "chat.school.test"},
		DNSNames: []string{"chat.school.test"}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, leaf, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	kb, _ := x509.MarshalPKCS8PrivateKey(key)
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	roots = x509.NewCertPool()
	roots.AddCert(caCert)
	return certFile, keyFile, roots
}

// TestOperatorCertificate is `serve --tls-cert/--tls-key`: a browser that
// trusts the school's CA gets https and wss under the certificate's name,
// and plain http still works on the same port.
func TestOperatorCertificate(t *testing.T) {
	certFile, keyFile, roots := schoolCert(t)
	h := runHost(t, Config{Name: "Sala 12", TLSCert: certFile, TLSKey: keyFile})
	port := strconv.Itoa(h.Port())
	// Listening on every address, the certificate's name comes first (this
	// test host listens on loopback, where the loopback link is the only one).
	if urls := joinURLs(net.IPv4zero, h.Port(), certNames(h.Identity), nil, h.Fingerprint()); !strings.HasPrefix(urls[0], "https://chat.school.test:"+port+"/#fp=") {
		t.Errorf("join links %v", urls)
	}
	// The browser resolves chat.school.test to this host.
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
	}
	browser := &http.Client{Transport: &http.Transport{DialContext: dial, TLSClientConfig: &tls.Config{RootCAs: roots}}}
	info, resp := infoOver(t, browser, "https://chat.school.test:"+port+"/api/info")
	if resp.StatusCode != 200 || info["id"] != h.ID || info["fingerprint"] != h.Fingerprint() {
		t.Errorf("https info %d %v", resp.StatusCode, info)
	}
	d := websocket.Dialer{NetDialContext: dial, TLSClientConfig: &tls.Config{RootCAs: roots}}
	ws, _, err := d.Dial("wss://chat.school.test:"+port+"/ws", http.Header{"Origin": {"https://chat.school.test:" + port}})
	if err != nil {
		t.Fatal(err)
	}
	c, _, err := sayHello(ws, "Ana", hello("Ana"))
	if err != nil {
		t.Fatal(err)
	}
	c.close()
	if _, resp := infoOver(t, http.DefaultClient, "http://127.0.0.1:"+port+"/api/info"); resp.StatusCode != 200 {
		t.Errorf("plain http beside it: %d", resp.StatusCode)
	}
	if _, err := New(Config{Addr: "127.0.0.1:0", DataDir: t.TempDir(), TLSCert: certFile}); err == nil {
		t.Error("a certificate without its key was accepted")
	}
}
