package discovery

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"

	"lanchat/backend/identity"
)

// HTTPProber probes peers with a client of its own: over TLS first, which
// tells it the key the peer holds (any key: the service decides whether it
// is the one remembered), and over plain HTTP when the peer does not speak
// TLS.
type HTTPProber struct {
	client *http.Client
	tr     *http.Transport
}

// NewHTTPProber makes a prober. Close releases its idle connections.
func NewHTTPProber() *HTTPProber {
	tr := &http.Transport{
		Proxy:                 nil, // peers are on the LAN: never via a proxy
		DialContext:           (&net.Dialer{Timeout: 2 * time.Second, KeepAlive: -1}).DialContext,
		TLSClientConfig:       identity.ClientConfig(""),
		TLSHandshakeTimeout:   3 * time.Second,
		MaxIdleConnsPerHost:   1,
		IdleConnTimeout:       30 * time.Second,
		ResponseHeaderTimeout: 5 * time.Second,
		DisableCompression:    true,
	}
	return &HTTPProber{tr: tr, client: &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

// Close closes idle connections.
func (p *HTTPProber) Close() { p.tr.CloseIdleConnections() }

// get fetches path from addr into v and returns the fingerprint of the key
// the peer proved ("" when it answered over plain HTTP).
func (p *HTTPProber) get(ctx context.Context, addr, path string, v any) (string, error) {
	fp, err := p.getOver(ctx, "https", addr, path, v)
	if err == nil || ctx.Err() != nil || refused(err) || isTimeout(err) {
		return fp, err
	}
	var mismatch *identity.MismatchError
	if errors.As(err, &mismatch) {
		return "", err
	}
	return p.getOver(ctx, "http", addr, path, v) // a host that does not speak TLS
}

func (p *HTTPProber) getOver(ctx context.Context, scheme, addr, path string, v any) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, scheme+"://"+addr+path, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := p.client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return "", fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	fp := ""
	if resp.TLS != nil {
		fp = identity.PeerFingerprint(*resp.TLS)
	}
	return fp, json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(v)
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// Info implements Prober.
func (p *HTTPProber) Info(ctx context.Context, addr string) (Info, error) {
	var raw struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Version  string            `json:"version"`
		Protocol int               `json:"protocol"`
		Port     int               `json:"port"`
		Members  int               `json:"members"`
		Rooms    []json.RawMessage `json:"rooms"`
		JoinCode bool              `json:"join_code"`
	}
	fp, err := p.get(ctx, addr, "/api/info", &raw)
	if err != nil {
		return Info{}, err
	}
	if raw.ID == "" {
		return Info{}, fmt.Errorf("%s: not a lanchat host (no id in /api/info)", addr)
	}
	return Info{ID: raw.ID, Name: raw.Name, Version: raw.Version, Protocol: raw.Protocol, Port: raw.Port,
		Members: raw.Members, Rooms: len(raw.Rooms), JoinCode: raw.JoinCode, Fingerprint: fp}, nil
}

// Peers implements Prober.
func (p *HTTPProber) Peers(ctx context.Context, addr string) ([]Peer, error) {
	var body PeersJSON
	if _, err := p.get(ctx, addr, "/api/peers", &body); err != nil {
		return nil, err
	}
	return body.Peers, nil
}

// refused reports whether err says nothing listens there any more: a
// definite answer, unlike a timeout.
func refused(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
