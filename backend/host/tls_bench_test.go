package host

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"testing"

	"github.com/gorilla/websocket"

	"lanchat/backend/identity"
)

// BenchmarkJoin is one member's way in (dial, hello, welcome, close): over
// plain ws, over wss pinned to the host's key, and through another host's
// relay (the desktop app's path to a host on the LAN).
func BenchmarkJoin(b *testing.B) {
	start := func(name string) *Host {
		h, err := New(Config{Addr: "127.0.0.1:0", DataDir: b.TempDir(), Name: name, Logger: slog.New(slog.DiscardHandler)})
		if err != nil {
			b.Fatal(err)
		}
		done := make(chan struct{})
		ctx, cancel := context.WithCancel(context.Background())
		go func() { defer close(done); _ = h.Run(ctx) }()
		b.Cleanup(func() { cancel(); <-done })
		return h
	}
	far, mine := start("far"), start("mine")
	addr := "127.0.0.1:" + strconv.Itoa(far.Port())
	if _, err := mine.Pins.Check(far.ID, "far", far.Fingerprint()); err != nil {
		b.Fatal(err)
	}
	cases := []struct {
		name string
		d    *websocket.Dialer
		url  string
		h    http.Header
	}{
		{"ws", websocket.DefaultDialer, "ws://" + addr + "/ws", nil},
		{"wss-pinned", &websocket.Dialer{TLSClientConfig: identity.ClientConfig(far.Fingerprint())}, "wss://" + addr + "/ws", nil},
		{"relay", websocket.DefaultDialer, "ws://127.0.0.1:" + strconv.Itoa(mine.Port()) + "/relay?addr=" + addr + "&fp=" + far.Fingerprint(),
			http.Header{"Origin": {"wails://wails"}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for i := range b.N {
				ws, _, err := c.d.Dial(c.url, c.h)
				if err != nil {
					b.Fatal(err)
				}
				cl, _, err := sayHello(ws, fmt.Sprintf("m%d", i), hello(fmt.Sprintf("m%d", i)))
				if err != nil {
					b.Fatal(err)
				}
				cl.close()
			}
		})
	}
}
