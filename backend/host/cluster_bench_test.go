package host

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// startSingle starts one box without a cluster (SQLite history), for
// comparison with the cluster figures.
func startSingle(b *testing.B) []*testBox {
	addr := freeAddrs(b, 1)[0]
	box := &testBox{spec: boxSpec{Addr: addr, Data: filepath.Join(b.TempDir(), "single"), Name: "single"}}
	box.start(b)
	b.Cleanup(box.stop)
	box.waitUp(b)
	return []*testBox{box}
}

// sendAll has each of senders members (spread over the boxes, all in
// general) send n messages as fast as acks come back, up to window in
// flight each; it returns the time until every message was acked and
// every member had received all of them.
func sendAll(b *testing.B, boxes []*testBox, senders, n, window int) time.Duration {
	var cs []*wsClient
	for i := range senders {
		c, _, err := dialBox(boxes[i%len(boxes)].ws(), fmt.Sprintf("Bench%d-%d", i, time.Now().UnixNano()%100000), "", nil)
		if err != nil {
			b.Fatal(err)
		}
		defer c.close()
		joinRoom(b, c, "general")
		cs = append(cs, c)
	}
	// The room's last seq before: joined's history ends there (or with
	// earlier runs' messages, which every member got live).
	var before uint64
	for _, c := range cs {
		if s := c.seqs("general"); len(s) > 0 {
			before = max(before, s[len(s)-1])
		}
	}
	start := time.Now()
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			acked := 0
			for k := range n {
				id := fmt.Sprintf("b-%d-%d-%d", i, k, start.UnixNano())
				_ = c.send(map[string]any{"type": "send", "room": "general", "client_id": id, "text": "0123456789012345678901234567890123456789012345678901234567890123456789012345678901234567890123456789"})
				for k+1-acked > window {
					acked = c.count("ack")
					time.Sleep(200 * time.Microsecond)
				}
			}
			for c.count("ack") < n {
				time.Sleep(time.Millisecond)
			}
		}()
	}
	wg.Wait()
	target := before + uint64(senders*n)
	for _, c := range cs {
		for deadline := time.Now().Add(time.Minute); ; time.Sleep(time.Millisecond) {
			if s := c.seqs("general"); len(s) > 0 && s[len(s)-1] >= target {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("%s did not receive up to seq %d", c.name, target)
			}
		}
	}
	return time.Since(start)
}

// count is the number of frames of type typ received.
func (c *wsClient) count(typ string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, f := range c.frames {
		if f.Type == typ {
			n++
		}
	}
	return n
}

// Acknowledged messages/s and deliveries/s: 6 members spread over 3 boxes
// sending to one room (R3), against the same on one box without a cluster.
func BenchmarkClusterSend(b *testing.B) {
	for _, setup := range []struct {
		name  string
		start func(b *testing.B) []*testBox
	}{
		{"single-box", startSingle},
		{"three-boxes", func(b *testing.B) []*testBox { return startCluster(b, 3) }},
	} {
		b.Run(setup.name, func(b *testing.B) {
			boxes := setup.start(b)
			const senders, n, window = 6, 300, 16
			b.ResetTimer()
			var took time.Duration
			for range b.N {
				took += sendAll(b, boxes, senders, n, window)
			}
			msgs := float64(b.N * senders * n)
			b.ReportMetric(msgs/took.Seconds(), "acked/s")
			b.ReportMetric(msgs*senders/took.Seconds(), "deliveries/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}

// The pause in a member's acknowledgements when a box is killed with
// SIGKILL: the longest wait for an ack, across members on the two boxes that
// live, while the room's stream elects a new leader when it was there.
func BenchmarkClusterFailoverGap(b *testing.B) {
	for range b.N {
		boxes := startCluster(b, 3)
		var cs []*wsClient
		for i := range 4 {
			c, _, err := dialBox(boxes[1+i%2].ws(), fmt.Sprintf("Gap%d", i), "", nil)
			if err != nil {
				b.Fatal(err)
			}
			joinRoom(b, c, "general")
			cs = append(cs, c)
		}
		var mu sync.Mutex
		var worst time.Duration
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for i, c := range cs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for k := 0; ; k++ {
					select {
					case <-stop:
						return
					default:
					}
					id := fmt.Sprintf("g-%d-%d", i, k)
					t0 := time.Now()
					for {
						_ = c.send(map[string]any{"type": "send", "room": "general", "client_id": id, "text": "x"})
						f, ok := c.waitFor(30*time.Second, func(f frame) bool { return (f.Type == "ack" && f.ClientID == id) || (f.Type == "error" && f.Ref == id) })
						if ok && f.Type == "ack" {
							break
						}
						c.mu.Lock()
						for j := range c.frames {
							if c.frames[j].Ref == id {
								c.frames[j].Ref = ""
							}
						}
						c.mu.Unlock()
						time.Sleep(50 * time.Millisecond)
					}
					mu.Lock()
					worst = max(worst, time.Since(t0))
					mu.Unlock()
				}
			}()
		}
		time.Sleep(2 * time.Second)
		mu.Lock()
		worst = 0
		mu.Unlock()
		boxes[0].kill()
		time.Sleep(15 * time.Second)
		close(stop)
		wg.Wait()
		for _, c := range cs {
			c.close()
		}
		b.ReportMetric(float64(worst.Milliseconds()), "gap-ms")
		b.ReportMetric(0, "ns/op")
	}
}
