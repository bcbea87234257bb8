package app

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// A second copy on the same data dir reaches the first and has its window
// raised; a wrong token raises nothing; once the first has closed, asking
// fails (and the file is gone).
func TestRaiseSecondCopy(t *testing.T) {
	dir := t.TempDir()
	if err := askRaise(dir); err == nil {
		t.Fatal("asking with nobody listening succeeded")
	}
	r, err := listenRaise(dir)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(filepath.Join(dir, raiseFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the raise file: %v %v", fi, err)
	}
	var raised atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		r.serve(ctx, func() { raised.Add(1) })
	}()

	if err := askRaise(dir); err != nil {
		t.Fatalf("asking the first copy: %v", err)
	}
	if n := raised.Load(); n != 1 {
		t.Fatalf("raised %d times, want 1", n)
	}
	// Someone without the token gets no answer and raises nothing.
	c, err := net.Dial("tcp", r.ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("raise wrong\n")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 8)
	if n, _ := c.Read(buf); n != 0 {
		t.Errorf("a wrong token was answered %q", buf[:n])
	}
	c.Close()
	if n := raised.Load(); n != 1 {
		t.Fatalf("a wrong token raised the window (%d)", n)
	}

	cancel()
	wg.Wait()
	r.close()
	if _, err := os.Stat(filepath.Join(dir, raiseFile)); !os.IsNotExist(err) {
		t.Errorf("the raise file is still there: %v", err)
	}
	if err := askRaise(dir); err == nil {
		t.Fatal("asking a copy that closed succeeded")
	}
}

// The lock's refusal says so in words and is errLocked underneath.
func TestLockedIsErrLocked(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = lockDataDir(dir)
	if err == nil || !strings.Contains(err.Error(), "already open") || !isLocked(err) {
		t.Fatalf("second lock: %v", err)
	}
}

func isLocked(err error) bool { return errors.Is(err, errLocked) }
