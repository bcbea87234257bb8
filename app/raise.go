package app

import (
	"bufio"
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// A second copy of the app on a data dir in use does not open a window of
// its own (both would host under one host id): it asks the copy that holds
// the data dir to bring its window to the front, and exits.
//
// The copy that holds the data dir listens on a loopback port and writes
// the port and a random token to desktop.raise in the data dir (owner-only,
// like the dir). The second copy reads it, connects and sends the token;
// the first answers "ok" and raises its window. This is per data dir, as
// the lock is. Wails' own SingleInstanceLock is not used: it acts inside
// wails.Run, after this app has started its host on the data dir, it is
// one lock per application rather than per data dir, and on Linux it needs
// a D-Bus session and ends the second copy with os.Exit(1).

const raiseFile = "desktop.raise"

// raiseWait bounds a second copy's wait for the first one's answer.
const raiseWait = 5 * time.Second

// raiseListener is the first copy's end.
type raiseListener struct {
	ln    net.Listener
	token string
	path  string
}

// listenRaise listens for second copies on loopback and tells them where in
// the data dir (held under its lock). close removes the file and stops.
func listenRaise(dataDir string) (*raiseListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("raise: %w", err)
	}
	token, err := newToken()
	if err != nil {
		ln.Close()
		return nil, err
	}
	r := &raiseListener{ln: ln, token: token, path: filepath.Join(dataDir, raiseFile)}
	if err := os.WriteFile(r.path, []byte(ln.Addr().String()+" "+token+"\n"), 0o600); err != nil {
		ln.Close()
		return nil, fmt.Errorf("raise: %w", err)
	}
	return r, nil
}

// serve answers second copies until ctx ends or the listener closes,
// calling raise for each that shows the token. It returns once every
// connection it took is done.
func (r *raiseListener) serve(ctx context.Context, raise func()) {
	var wg sync.WaitGroup
	defer wg.Wait()
	stop := context.AfterFunc(ctx, func() { r.ln.Close() })
	defer stop()
	for {
		c, err := r.ln.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			_ = c.SetDeadline(time.Now().Add(raiseWait))
			line, err := bufio.NewReader(io.LimitReader(c, 256)).ReadString('\n')
			if err != nil || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(line)), []byte("raise "+r.token)) != 1 {
				return
			}
			raise()
			_, _ = c.Write([]byte("ok\n"))
		}()
	}
}

// close stops listening and removes the file.
func (r *raiseListener) close() {
	r.ln.Close()
	os.Remove(r.path)
}

// askRaise asks the copy holding dataDir to bring its window to the front.
func askRaise(dataDir string) error {
	b, err := os.ReadFile(filepath.Join(dataDir, raiseFile))
	if err != nil {
		return err
	}
	addr, token, ok := strings.Cut(strings.TrimSpace(string(b)), " ")
	if !ok {
		return errors.New("raise: the file in the data dir is not understood")
	}
	c, err := net.DialTimeout("tcp", addr, raiseWait)
	if err != nil {
		return err
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(raiseWait))
	if _, err := c.Write([]byte("raise " + token + "\n")); err != nil {
		return err
	}
	answer, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return fmt.Errorf("raise: no answer: %w", err)
	}
	if strings.TrimSpace(answer) != "ok" {
		return fmt.Errorf("raise: answered %q", answer)
	}
	return nil
}
