package jsstore

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestOpenFilesTogether: three boxes starting at once each open the files
// bucket (one creates it, the others find it), and a file put through one
// box is read through another.
func TestOpenFilesTogether(t *testing.T) {
	nodes := startNodes(t, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	fs := make([]*Files, len(nodes))
	errs := make([]error, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Go(func() { fs[i], errs[i] = OpenFiles(ctx, n.JetStream(), 3) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("box %d: %v", i, err)
		}
	}
	// The bucket's stream may not take writes for a moment after it is
	// made (no responders yet).
	if err := retry(ctx, func() error { return fs[0].Put(ctx, "f1", strings.NewReader("hello")) }); err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := fs[2].Get(ctx, "f1", &got); err != nil || got.String() != "hello" {
		t.Fatalf("get on another box: %q %v", got.String(), err)
	}
}
