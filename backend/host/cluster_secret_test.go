package host

import (
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestClusterSecret: the three boxes of startCluster share one secret file
// and form the cluster; a fourth box with a secret of its own, naming them
// as peers, is refused by them and refuses them, both saying why, and never
// answers; a box without a secret file does not start.
func TestClusterSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("starts four boxes")
	}
	boxes := startCluster(t, 3)
	dir := t.TempDir()
	if _, err := New(Config{Addr: "127.0.0.1:0", DataDir: filepath.Join(dir, "nosecret"), Logger: slog.New(slog.DiscardHandler),
		Cluster: &ClusterConfig{Listen: "127.0.0.1:0", Peers: []string{boxes[0].spec.Listen}}}); err == nil ||
		!strings.Contains(err.Error(), "--cluster-secret-file") {
		t.Fatalf("a box without a secret: %v", err)
	}

	addrs := freeAddrs(t, 2)
	var peers []string
	for _, b := range boxes {
		peers = append(peers, b.spec.Listen)
	}
	intruder := &testBox{spec: boxSpec{Addr: addrs[0], Data: filepath.Join(dir, "intruder"), Listen: addrs[1],
		Name: "intruder", Peers: peers, Secret: filepath.Join(dir, "its-own-secret")}}
	intruder.start(t)
	defer intruder.stop()
	said := func(b *testBox) bool {
		log, _ := os.ReadFile(b.spec.Data + ".log")
		return strings.Contains(string(log), "TLS route handshake error") && strings.Contains(string(log), "--cluster-secret-file")
	}
	deadline := time.Now().Add(60 * time.Second)
	for !said(intruder) || !said(boxes[0]) {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(intruder.spec.Data + ".log")
			t.Fatalf("no refusal logged on both sides; the intruder's log:\n%s", tail(string(log), 3000))
		}
		time.Sleep(50 * time.Millisecond)
	}
	// It made its own secret file, owner-only, and waits for a majority
	// it cannot reach: its web port is not serving.
	if fi, err := os.Stat(intruder.spec.Secret); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the intruder's secret file: %v %v", fi, err)
	}
	if resp, err := http.Get(intruder.url() + "/api/info"); err == nil {
		resp.Body.Close()
		t.Fatalf("the intruder answers: %s", resp.Status)
	}
	// The cluster goes on: a member on box 3 joins a room.
	c, _, err := dialBox(boxes[2].ws(), "Ana", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	joinRoom(t, c, "general")
}
