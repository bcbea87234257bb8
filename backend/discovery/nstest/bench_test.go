package nstest

import (
	"syscall"
	"testing"
	"time"
)

// BenchmarkDiscovery measures, in a namespace LAN of two hosts running the
// real binary: the time from a host's start until both list each other,
// and the time until the other drops it after a clean quit, after kill -9
// and after its link goes down. `make bench` reports these as
// list-ms, quit-drop-ms, kill-drop-ms and link-drop-ms.
func BenchmarkDiscovery(b *testing.B) {
	Require(b)
	bin := Lanchat(b)
	lan := NewLAN(b)
	a, h := lan.AddHost("hosta", 1), lan.AddHost("hostb", 2)
	la := a.Serve(b, bin, "")
	idA := la.SelfID(b)
	dir := b.TempDir()
	var list, quit, kill, link time.Duration

	start := func() (*Serving, string, PeerLine) {
		from := len(la.Out.All())
		lb := h.Serve(b, bin, dir)
		id := lb.SelfID(b)
		seen := la.MustList(b, from, id, h)
		back := lb.MustList(b, 0, idA, a)
		list += max(seen.At.Sub(lb.Started), back.At.Sub(lb.Started))
		return lb, id, seen
	}
	drop := func(id string, from int, t0 time.Time) time.Duration {
		pl, ok := la.WaitEvent(from, "removed", id, 20*time.Second)
		if !ok {
			b.Fatalf("%s not dropped", id)
		}
		return pl.At.Sub(t0)
	}
	b.ResetTimer()
	for range b.N {
		lb, id, seen := start()
		t0 := time.Now()
		lb.Signal(syscall.SIGINT)
		quit += drop(id, seen.Index, t0)
		lb.Wait(10 * time.Second)

		lb, id, seen = start()
		t0 = time.Now()
		lb.Signal(syscall.SIGKILL)
		kill += drop(id, seen.Index, t0)
		lb.Wait(10 * time.Second)

		lb, id, seen = start()
		t0 = time.Now()
		h.SetLink("eth0", false)
		link += drop(id, seen.Index, t0)
		h.SetLink("eth0", true)
		lb.Signal(syscall.SIGKILL)
		lb.Wait(10 * time.Second)
	}
	b.StopTimer()
	ms := func(d time.Duration, n int) float64 { return float64(d) / float64(n) / float64(time.Millisecond) }
	b.ReportMetric(ms(list, 3*b.N), "list-ms")
	b.ReportMetric(ms(quit, b.N), "quit-drop-ms")
	b.ReportMetric(ms(kill, b.N), "kill-drop-ms")
	b.ReportMetric(ms(link, b.N), "link-drop-ms")
	b.ReportMetric(0, "ns/op")
}
