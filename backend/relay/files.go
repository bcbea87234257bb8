package relay

import (
	"context"
	"errors"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path"
	"strings"
	"sync"
	"time"

	"lanchat/backend/files"
	"lanchat/backend/identity"
)

// FilesPath prefixes the desktop app's requests for another host's files:
// FilesPath + fingerprint + "/" + escaped addr + "/files/…" goes to
// https://addr/files/… over TLS pinned to that fingerprint. Only the files
// routes are relayed.
const FilesPath = "/relay/files/"

// FilesURL is the base the webview puts file paths after for the host at
// addr with key fp, given the own host's ws URL.
func FilesURL(ownWS, addr, fp string) string {
	u, err := url.Parse(ownWS)
	if err != nil {
		return ""
	}
	u.Scheme = strings.Replace(u.Scheme, "ws", "http", 1)
	u.Path, u.RawPath = "", ""
	return u.String() + FilesPath + url.PathEscape(fp) + "/" + url.PathEscape(addr)
}

// transports keeps one pinned HTTPS transport per fingerprint.
type transports struct {
	mu sync.Mutex
	by map[string]*http.Transport
}

func (r *Relay) transport(fp string) *http.Transport {
	r.files.mu.Lock()
	defer r.files.mu.Unlock()
	if r.files.by == nil {
		r.files.by = map[string]*http.Transport{}
	}
	t, ok := r.files.by[fp]
	if !ok {
		t = &http.Transport{
			DialContext:           r.cfg.Dial,
			TLSClientConfig:       identity.ClientConfig(fp),
			TLSHandshakeTimeout:   10 * time.Second,
			ResponseHeaderTimeout: 60 * time.Second, // a big upload's last PATCH is hashed before its answer
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       60 * time.Second,
		}
		r.files.by[fp] = t
	}
	return t
}

func (r *Relay) closeTransports() {
	r.files.mu.Lock()
	defer r.files.mu.Unlock()
	for _, t := range r.files.by {
		t.CloseIdleConnections()
	}
}

// Files serves FilesPath: the webview's uploads to and downloads from
// another host, under the same rules as the WebSocket relay (this
// computer only, an allowed page, a remembered key).
func (r *Relay) Files() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if !r.admit(w, req) {
			return
		}
		parts := strings.SplitN(strings.TrimPrefix(req.URL.EscapedPath(), FilesPath), "/", 3)
		if len(parts) != 3 {
			http.NotFound(w, req)
			return
		}
		fp, err1 := url.PathUnescape(parts[0])
		addr, err2 := url.PathUnescape(parts[1])
		rest := "/" + parts[2]
		plain, err3 := url.PathUnescape(rest)
		if err1 != nil || err2 != nil || err3 != nil || !strings.HasPrefix(plain, "/files/") || path.Clean(plain) != strings.TrimSuffix(plain, "/") {
			http.NotFound(w, req)
			return
		}
		fp = identity.Normalize(fp)
		if !r.known(w, addr, fp) {
			return
		}
		if files.AllowCORS(w, req) {
			return
		}
		base := FilesPath + url.PathEscape(fp) + "/" + url.PathEscape(addr)
		proxy := &httputil.ReverseProxy{
			Transport: r.transport(fp),
			Rewrite: func(pr *httputil.ProxyRequest) {
				pr.Out.URL = &url.URL{Scheme: "https", Host: addr, Path: plain, RawPath: rest, RawQuery: pr.In.URL.RawQuery}
				pr.Out.Host = addr
				// The far host sees the relay as a client without a page, as
				// the WebSocket relay is.
				pr.Out.Header.Del("Origin")
				pr.Out.Header.Del("Referer")
				pr.Out.Header.Del("Cookie")
			},
			ModifyResponse: func(res *http.Response) error {
				// tusd names new uploads by absolute URL on the far host;
				// the webview must come back through the relay.
				if loc := res.Header.Get("Location"); loc != "" {
					if u, err := url.Parse(loc); err == nil && strings.HasPrefix(u.Path, "/files/") {
						res.Header.Set("Location", base+u.EscapedPath())
					}
				}
				for _, k := range []string{"Access-Control-Allow-Origin", "Access-Control-Expose-Headers"} {
					res.Header.Del(k) // ours, set above, stand
				}
				return nil
			},
			ErrorHandler: func(w http.ResponseWriter, req *http.Request, err error) {
				if errors.Is(err, context.Canceled) {
					return
				}
				r.cfg.Logger.Info("relay: files request failed", "addr", addr, "err", err)
				badGateway(w, err)
			},
		}
		proxy.ServeHTTP(w, req)
	})
}
