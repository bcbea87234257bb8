package server

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// pipeListener is an in-memory net.Listener whose connections are net.Pipe
// ends, so that a server runs inside a synctest bubble on fake time.
type pipeListener struct {
	conns  chan net.Conn
	closed chan struct{}
	once   sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), closed: make(chan struct{})}
}

func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.closed:
		return nil, net.ErrClosed
	}
}

func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 47800} }

func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	server, client := net.Pipe()
	select {
	case l.conns <- server:
		return client, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// TestHeartbeat checks the liveness timing on fake time: the server pings
// every PingInterval, a client that answers stays for as long as it likes,
// and a client that stops answering is dropped once PongWait has passed.
func TestHeartbeat(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hub, err := chat.NewHub(chat.Config{HostID: "h", HostName: "h"})
		if err != nil {
			t.Fatal(err)
		}
		srv := New(Config{Hub: hub, PingInterval: 20 * time.Second, PongWait: 45 * time.Second, WriteWait: 10 * time.Second})
		ln := newPipeListener()
		ctx, cancel := context.WithCancel(context.Background())
		served := make(chan error, 1)
		go func() { served <- srv.Serve(ctx, ln) }()

		d := websocket.Dialer{NetDialContext: ln.dial}
		connect := func(name string) *websocket.Conn {
			ws, _, err := d.Dial("ws://127.0.0.1:47800/ws", http.Header{})
			if err != nil {
				t.Fatal(err)
			}
			if err := ws.WriteMessage(websocket.TextMessage, protocol.MustEncode(protocol.Hello{Version: 1, Name: name})); err != nil {
				t.Fatal(err)
			}
			return ws
		}

		// Alive answers pings: gorilla's client replies pong while reading.
		var pings atomic.Int32
		alive := connect("Alive")
		alive.SetPingHandler(func(data string) error {
			pings.Add(1)
			return alive.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
		})
		aliveDone := make(chan error, 1)
		go func() {
			for {
				if _, _, err := alive.ReadMessage(); err != nil {
					aliveDone <- err
					return
				}
			}
		}()
		// Silent reads what arrives but never answers a ping and sends
		// nothing: a frozen peer whose network stack still takes bytes.
		silent := connect("Silent")
		silent.SetPingHandler(func(string) error { return nil })
		silentDone := make(chan struct{})
		go func() {
			defer close(silentDone)
			for {
				if _, _, err := silent.ReadMessage(); err != nil {
					return
				}
			}
		}()
		synctest.Wait()
		if n := hub.Stats().Members; n != 2 {
			t.Fatalf("%d members, want 2", n)
		}

		time.Sleep(19 * time.Second)
		synctest.Wait()
		if pings.Load() != 0 {
			t.Errorf("pinged before the interval")
		}
		time.Sleep(2 * time.Second) // t = 21 s
		synctest.Wait()
		if pings.Load() != 1 {
			t.Errorf("%d pings after 21 s, want 1", pings.Load())
		}
		// The silent client cannot be dropped before PongWait…
		time.Sleep(10 * time.Second) // t = 31 s
		synctest.Wait()
		if hub.Stats().Members != 2 {
			t.Errorf("silent client dropped before the pong wait (31 s)")
		}
		time.Sleep(13 * time.Second) // t = 44 s
		synctest.Wait()
		if hub.Stats().Members != 2 {
			t.Errorf("silent client dropped before the pong wait (44 s)")
		}
		// …and is gone once it has passed.
		time.Sleep(2 * time.Second) // t = 46 s
		synctest.Wait()
		if hub.Stats().Members != 1 {
			t.Errorf("silent client still there after 46 s")
		}
		// The live client stays for ten minutes and more.
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		if hub.Stats().Members != 1 || pings.Load() < 30 {
			t.Errorf("after 10 min: %d members, %d pings", hub.Stats().Members, pings.Load())
		}

		cancel()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
		err = <-aliveDone
		var ce *websocket.CloseError
		if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
			t.Errorf("live client ended with %v, want close 1001", err)
		}
		<-silentDone
		silent.Close()
		alive.Close()
	})
}
