package app

import (
	"strings"
	"testing"
)

func TestLockDataDir(t *testing.T) {
	dir := t.TempDir()
	release, err := lockDataDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := lockDataDir(dir); err == nil || !strings.Contains(err.Error(), "already open") {
		t.Fatalf("second lock on a data dir in use: %v", err)
	}
	other, err := lockDataDir(t.TempDir())
	if err != nil {
		t.Fatalf("another data dir is free: %v", err)
	}
	other()
	release()
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	again()
}
