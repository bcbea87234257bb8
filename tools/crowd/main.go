// Command crowd measures a lanchat host under a lecture hall's load, on
// 127.0.0.1: a burst of N joins into one room, a reconnect storm of N
// members, and N idle members (the host's memory per member, and how fast
// new members still get in while they sit there).
//
//	crowd -addr 127.0.0.1:47800 -mode burst -n 100,500,1000
//	crowd -addr 127.0.0.1:47800 -mode storm -n 1000
//	crowd -addr 127.0.0.1:47800 -mode idle -n 10000 -pid $(pidof lanchat)
//
// It prints one RESULT line per measurement.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"lanchat/backend/server/crowd"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:47800", "host address (loopback only)")
	mode := flag.String("mode", "burst", "burst, storm or idle")
	sizes := flag.String("n", "1000", "members (comma-separated for burst)")
	pid := flag.Int("pid", 0, "the host's process id, for its memory (idle)")
	joins := flag.Int("joins", 200, "new members timed while the crowd is idle")
	sit := flag.Duration("sit", 0, "idle: also measure the host's memory after the members have sat this long (the runtime collects garbage every two minutes when nothing else makes it)")
	flag.Parse()
	if host, _, err := net.SplitHostPort(*addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "crowd: -addr must be a loopback address")
		os.Exit(2)
	}
	url := "ws://" + *addr + "/ws"
	var err error
	for _, s := range strings.Split(*sizes, ",") {
		n, perr := strconv.Atoi(s)
		if perr != nil || n < 1 {
			fmt.Fprintln(os.Stderr, "crowd: bad -n", s)
			os.Exit(2)
		}
		switch *mode {
		case "burst":
			err = burst(url, n)
		case "storm":
			err = storm(url, n)
		case "idle":
			err = idle(url, n, *pid, *joins, *sit)
		default:
			err = fmt.Errorf("unknown mode %q", *mode)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "crowd:", err)
			os.Exit(1)
		}
	}
}

// burst: n members dial, hello and join one room at the same moment; the
// time until every one has the complete member list.
func burst(url string, n int) error {
	room := fmt.Sprintf("burst%d", n)
	c := crowd.New(url, room, n)
	defer c.Close()
	start := time.Now()
	c.Connect(false)
	complete := c.WaitComplete(n, 5*time.Minute)
	took := time.Since(start)
	fmt.Printf("RESULT mode=burst n=%d complete=%d disconnected=%d seconds=%.2f\n", n, complete, len(c.Disconnected()), took.Seconds())
	return nil
}

// storm: n members in a room where messages are being sent lose their
// connections at once and resume together.
func storm(url string, n int) error {
	room := fmt.Sprintf("storm%d", n)
	c := crowd.New(url, room, n)
	defer c.Close()
	c.Connect(false)
	if got := c.WaitComplete(n, 5*time.Minute); got != n {
		return fmt.Errorf("storm: only %d of %d in before the storm", got, n)
	}
	const batch = 100
	for _, phase := range []string{"before", "away"} {
		if err := crowd.Send(url, room, batch); err != nil {
			return err
		}
		if phase == "before" {
			c.Drop()
		}
	}
	start := time.Now()
	c.Connect(true)
	if err := crowd.Send(url, room, batch); err != nil {
		return err
	}
	complete := c.WaitComplete(n, 5*time.Minute)
	behind := c.WaitSeqs(3*batch, 5*time.Minute)
	took := time.Since(start)
	t := c.Check(3 * batch)
	fmt.Printf("RESULT mode=storm n=%d complete=%d behind=%d lost=%d duplicated=%d disorder=%d disconnected=%d seconds=%.2f\n",
		n, complete, behind, t.Lost, t.Duplicated, t.Disorder, len(c.Disconnected()), took.Seconds())
	return nil
}

// idle: n members join and sit; the host's resident memory per member, then
// the time new members take to join while they sit there.
func idle(url string, n, pid, joins int, sit time.Duration) error {
	before := rss(pid)
	c := crowd.New(url, "general", n)
	c.Dialing = 64
	c.Quiet = true // the members read only their own joined: the host does the work
	defer c.Close()
	start := time.Now()
	c.Connect(false)
	deadline := time.Now().Add(10 * time.Minute)
	for c.Joined() < n && len(c.Disconnected()) == 0 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	if d := c.Disconnected(); len(d) > 0 {
		return fmt.Errorf("idle: %d disconnected, first %s", len(d), d[0])
	}
	fmt.Fprintf(os.Stderr, "crowd: %d members in after %v\n", c.Joined(), time.Since(start).Round(time.Millisecond))
	in := time.Now()
	time.Sleep(10 * time.Second) // the host's garbage collector settles and returns memory
	after := rss(pid)
	var lat []time.Duration
	for i := range joins {
		d, err := crowd.JoinTime(url, "general", fmt.Sprintf("Novo %04d", i))
		if err != nil {
			return err
		}
		lat = append(lat, d)
	}
	slices.Sort(lat)
	q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / float64(time.Millisecond) }
	perKiB := float64(after-before) / float64(n) / 1024
	sat := ""
	if sit > 0 {
		time.Sleep(time.Until(in.Add(sit)))
		later := rss(pid)
		sat = fmt.Sprintf(" sat_s=%.0f rss_sat_mib=%.1f kib_per_member_sat=%.1f", sit.Seconds(), float64(later)/(1<<20), float64(later-before)/float64(n)/1024)
	}
	fmt.Printf("RESULT mode=idle n=%d rss_before_mib=%.1f rss_after_mib=%.1f kib_per_member=%.1f join_p50_ms=%.2f join_p99_ms=%.2f disconnected=%d%s\n",
		n, float64(before)/(1<<20), float64(after)/(1<<20), perKiB, q(0.5), q(0.99), len(c.Disconnected()), sat)
	return nil
}

// rss is the resident memory of process pid in bytes (0 without a pid).
func rss(pid int) int64 {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.Fields(rest)[0], 10, 64)
			return kb * 1024
		}
	}
	return 0
}
