// Command loadgen measures a lanchat host's fan-out: N members in one room,
// over the native protocol (v1 on /ws) or Socket.IO (/socket.io/, WebSocket
// transport), on 127.0.0.1.
//
// It reports unloaded latency (one message in flight), then saturation: a
// closed loop keeps -window messages in flight (a message is done when all N
// members have it) and counts deliveries per second, their latency from
// send to receipt, and the bytes each member read per delivered message.
//
//	loadgen -addr 127.0.0.1:47800 -mode native -n 500 -size 100
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/bits"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/socketio/sioclient"
)

type config struct {
	addr, mode, room string
	n, size, window  int
	light            int
	duration, warmup time.Duration
	pid              int
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:47800", "host address (loopback only)")
	flag.StringVar(&c.mode, "mode", "native", "native or socketio")
	flag.StringVar(&c.room, "room", "general", "the room")
	flag.IntVar(&c.n, "n", 500, "members in the room")
	flag.IntVar(&c.size, "size", 100, "message text size in bytes")
	flag.IntVar(&c.window, "window", 32, "messages in flight at saturation")
	flag.IntVar(&c.light, "light", 100, "messages sent one at a time for the unloaded latency")
	flag.DurationVar(&c.duration, "duration", 5*time.Second, "saturation measurement time")
	flag.DurationVar(&c.warmup, "warmup", time.Second, "saturation warm-up before measuring")
	flag.IntVar(&c.pid, "pid", 0, "the host's process id, for its CPU use while measuring (0: not measured)")
	flag.Parse()
	if host, _, err := net.SplitHostPort(c.addr); err != nil || !net.ParseIP(host).IsLoopback() {
		fmt.Fprintln(os.Stderr, "loadgen: -addr must be a loopback address")
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "loadgen:", err)
		os.Exit(1)
	}
}

// member is one connection of either kind.
type member interface {
	send(k int, text string) error
	close()
}

// bench is the shared state of a run.
type bench struct {
	cfg     config
	ring    []atomic.Int32 // deliveries per in-flight message, by k % len
	sem     chan struct{}  // one token per message in flight
	measure atomic.Bool
	deliv   atomic.Int64
	read    atomic.Int64 // bytes read by all members
	errs    atomic.Int64
	lastErr atomic.Value

	hmu   sync.Mutex
	hists []*hist
}

// countingConn counts bytes read from the host.
type countingConn struct {
	net.Conn
	n *atomic.Int64
}

func (c countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (b *bench) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return countingConn{conn, &b.read}, nil
}

func (b *bench) newHist() *hist {
	h := &hist{}
	b.hmu.Lock()
	b.hists = append(b.hists, h)
	b.hmu.Unlock()
	return h
}

// deliverBytes records one received message: "k sendUnixNano padding".
func (b *bench) deliverBytes(h *hist, text []byte) {
	k, rest, ok := digits(text)
	if !ok {
		return
	}
	ts, _, ok := digits(rest)
	if !ok {
		return
	}
	if b.measure.Load() {
		b.deliv.Add(1)
		h.add(time.Duration(time.Now().UnixNano() - ts))
	}
	if b.ring[int(k)%len(b.ring)].Add(1) == int32(b.cfg.n) {
		<-b.sem
	}
}

// digits reads a decimal number followed by a space.
func digits(p []byte) (int64, []byte, bool) {
	var v int64
	for i, c := range p {
		if c == ' ' && i > 0 {
			return v, p[i+1:], true
		}
		if c < '0' || c > '9' {
			return 0, nil, false
		}
		v = v*10 + int64(c-'0')
	}
	return 0, nil, false
}

func (b *bench) fail(err error) {
	b.errs.Add(1)
	b.lastErr.Store(err.Error())
}

func run(c config) error {
	b := &bench{cfg: c, ring: make([]atomic.Int32, 8*c.window+8), sem: make(chan struct{}, c.window)}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	members := make([]member, 0, c.n)
	defer func() {
		for _, m := range members {
			m.close()
		}
	}()
	for i := range c.n {
		var m member
		var err error
		name := fmt.Sprintf("lg-%s-%d", c.mode, i)
		switch c.mode {
		case "native":
			m, err = dialNative(ctx, b, name)
		case "socketio":
			m, err = dialSocketIO(ctx, b, name)
		default:
			return fmt.Errorf("unknown mode %q", c.mode)
		}
		if err != nil {
			return fmt.Errorf("member %d: %w", i, err)
		}
		members = append(members, m)
	}

	pad := strings.Repeat("x", c.size)
	k := 0
	sendOne := func() error {
		select {
		case b.sem <- struct{}{}:
		case <-time.After(10 * time.Second):
			return fmt.Errorf("stalled: a message did not reach every member (errors: %d, last: %v)", b.errs.Load(), b.lastErr.Load())
		}
		k++
		b.ring[k%len(b.ring)].Store(0)
		// "k sendUnixNano " padded to -size bytes.
		text := fmt.Sprintf("%d %d ", k, time.Now().UnixNano())
		text += pad[:max(1, c.size-len(text))]
		return members[k%len(members)].send(k, text)
	}
	drain := func() error {
		for range c.window {
			select {
			case b.sem <- struct{}{}:
			case <-time.After(10 * time.Second):
				return errors.New("stalled while draining")
			}
		}
		for range c.window {
			<-b.sem
		}
		return nil
	}

	// Unloaded latency: one message at a time.
	b.measure.Store(true)
	for range c.light {
		if err := sendOne(); err != nil {
			return err
		}
		if err := drain(); err != nil {
			return err
		}
	}
	b.measure.Store(false)
	light := b.collect()

	// Saturation.
	done := make(chan error, 1)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				done <- nil
				return
			default:
			}
			if err := sendOne(); err != nil {
				done <- err
				return
			}
		}
	}()
	time.Sleep(c.warmup)
	b.deliv.Store(0)
	read0 := b.read.Load()
	cpu0 := cpuTime()
	host0 := procCPU(c.pid)
	b.measure.Store(true)
	start := time.Now()
	time.Sleep(c.duration)
	b.measure.Store(false)
	elapsed := time.Since(start)
	cpuUse := (cpuTime() - cpu0).Seconds() / elapsed.Seconds()
	hostUse := (procCPU(c.pid) - host0).Seconds() / elapsed.Seconds()
	deliveries := b.deliv.Load()
	bytesRead := b.read.Load() - read0
	close(stop)
	if err := <-done; err != nil {
		return err
	}
	sat := b.collect()
	_ = drain()

	rate := float64(deliveries) / elapsed.Seconds()
	perDelivery := float64(bytesRead) / math.Max(1, float64(deliveries))
	fmt.Printf("mode=%s members=%d size=%d window=%d\n", c.mode, c.n, c.size, c.window)
	fmt.Printf("  unloaded latency (%d msgs x %d members): p50 %v  p90 %v  p99 %v  max %v\n", c.light, c.n,
		light.q(0.5), light.q(0.9), light.q(0.99), light.max)
	fmt.Printf("  saturation: %.0f deliveries/s (%.0f messages/s), bytes read per delivery %.1f\n", rate, rate/float64(c.n), perDelivery)
	fmt.Printf("  saturation latency: p50 %v  p90 %v  p99 %v  max %v\n", sat.q(0.5), sat.q(0.9), sat.q(0.99), sat.max)
	fmt.Printf("  load generator CPU while measuring: %.0f%% of one core\n", 100*cpuUse)
	if n := b.errs.Load(); n > 0 {
		fmt.Printf("  errors: %d (last: %v)\n", n, b.lastErr.Load())
	}
	if c.pid != 0 {
		fmt.Printf("  host CPU while measuring: %.0f%% of one core\n", 100*hostUse)
	}
	fmt.Printf("RESULT host_cpu=%.0f loadgen_cpu=%.0f mode=%s deliveries_per_s=%.0f bytes_per_delivery=%.1f light_p50_us=%d light_p99_us=%d sat_p50_us=%d sat_p90_us=%d sat_p99_us=%d\n",
		100*hostUse, 100*cpuUse, c.mode, rate, perDelivery, light.q(0.5).Microseconds(), light.q(0.99).Microseconds(),
		sat.q(0.5).Microseconds(), sat.q(0.9).Microseconds(), sat.q(0.99).Microseconds())
	return nil
}

// collect merges and resets the members' histograms.
func (b *bench) collect() *hist {
	b.hmu.Lock()
	defer b.hmu.Unlock()
	out := &hist{}
	for _, h := range b.hists {
		h.mu.Lock()
		out.merge(h)
		h.counts, h.n, h.max = [len(h.counts)]int64{}, 0, 0
		h.mu.Unlock()
	}
	return out
}

// hist is a log-linear latency histogram (microsecond resolution, ~3%).
type hist struct {
	mu     sync.Mutex
	counts [64 * 32]int64
	n      int64
	max    time.Duration
}

func bucket(d time.Duration) int {
	us := max(int64(d/time.Microsecond), 0)
	if us < 32 {
		return int(us)
	}
	e := 63 - bits.LeadingZeros64(uint64(us)) // us in [2^e, 2^(e+1))
	sub := int((us >> (e - 5)) & 31)
	return min((e-4)*32+sub, len(hist{}.counts)-1)
}

func bucketValue(i int) time.Duration {
	if i < 32 {
		return time.Duration(i) * time.Microsecond
	}
	e := i/32 + 4
	sub := i % 32
	return time.Duration((int64(32+sub))<<(e-5)) * time.Microsecond
}

func (h *hist) add(d time.Duration) {
	h.mu.Lock()
	h.counts[bucket(d)]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

func (h *hist) merge(o *hist) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

func (h *hist) q(p float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	target := int64(math.Ceil(p * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= target {
			return bucketValue(i)
		}
	}
	return h.max
}

// native member: protocol v1 over /ws.
type nativeMember struct {
	ws   *websocket.Conn
	room string
	wg   sync.WaitGroup
}

func dialNative(ctx context.Context, b *bench, name string) (*nativeMember, error) {
	d := websocket.Dialer{NetDialContext: b.dial, ReadBufferSize: 64 << 10}
	ws, _, err := d.DialContext(ctx, "ws://"+b.cfg.addr+"/ws", nil)
	if err != nil {
		return nil, err
	}
	m := &nativeMember{ws: ws, room: b.cfg.room}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "version": 1, "name": name})
	join, _ := json.Marshal(map[string]any{"type": "join", "room": b.cfg.room})
	if ws.WriteMessage(websocket.TextMessage, hello) != nil || ws.WriteMessage(websocket.TextMessage, join) != nil {
		ws.Close()
		return nil, errors.New("hello failed")
	}
	joined := make(chan struct{})
	h := b.newHist()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		var once sync.Once
		var f struct {
			Type string `json:"type"`
			Room string `json:"room"`
			Text string `json:"text"`
			Code string `json:"code"`
		}
		for {
			_, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			for line := range bytes.SplitSeq(data, []byte{'\n'}) {
				// Chat messages are parsed by hand: the load generator must
				// not be the bottleneck. Their text has no escapes.
				if bytes.HasPrefix(line, []byte(`{"type":"message"`)) {
					if i := bytes.Index(line, []byte(`"text":"`)); i >= 0 {
						b.deliverBytes(h, line[i+8:])
						continue
					}
				}
				f.Type, f.Text, f.Code = "", "", ""
				if json.Unmarshal(line, &f) != nil {
					continue
				}
				switch f.Type {
				case "message":
					b.deliverBytes(h, []byte(f.Text))
				case "joined":
					if f.Room == b.cfg.room {
						once.Do(func() { close(joined) })
					}
				case "error":
					b.fail(errors.New(f.Code))
				}
			}
		}
	}()
	return awaitJoined(m, joined, m.close, "no joined")
}

// awaitJoined returns m once joined is closed, or stops it and fails with
// missing when it has not joined within 10 s.
func awaitJoined[M any](m M, joined <-chan struct{}, stop func(), missing string) (M, error) {
	select {
	case <-joined:
		return m, nil
	case <-time.After(10 * time.Second):
		stop()
		var none M
		return none, errors.New(missing)
	}
}

func (m *nativeMember) send(k int, text string) error {
	f, _ := json.Marshal(map[string]any{"type": "send", "room": m.room, "client_id": "c" + strconv.Itoa(k), "text": text})
	return m.ws.WriteMessage(websocket.TextMessage, f)
}

func (m *nativeMember) close() {
	m.ws.Close()
	m.wg.Wait()
}

// socketioMember: the course's events over Socket.IO's WebSocket transport.
type socketioMember struct {
	c          *sioclient.Client
	name, room string
}

func dialSocketIO(ctx context.Context, b *bench, name string) (*socketioMember, error) {
	h := b.newHist()
	joined := make(chan struct{})
	var once sync.Once
	notice := name + " entrou na sala "
	onEvent := func(ev string, args []json.RawMessage) {
		switch ev {
		case "message":
			var s string
			if len(args) == 0 || json.Unmarshal(args[0], &s) != nil {
				return
			}
			if strings.HasPrefix(s, notice) {
				once.Do(func() { close(joined) })
				return
			}
			if i := strings.Index(s, ": "); i >= 0 {
				b.deliverBytes(h, []byte(s[i+2:]))
			}
		case "error_message":
			b.fail(fmt.Errorf("error_message %s", args[0]))
		}
	}
	// 42["message","Sender: k ts pad"], parsed by hand.
	prefix := []byte(`42["message","`)
	onPacket := func(p []byte) bool {
		if !bytes.HasPrefix(p, prefix) {
			return false
		}
		rest := p[len(prefix):]
		i := bytes.Index(rest, []byte(": "))
		if i < 0 || rest[i+2] < '0' || rest[i+2] > '9' {
			return false // a notice
		}
		b.deliverBytes(h, rest[i+2:])
		return true
	}
	c, err := sioclient.Dial(ctx, "http://"+b.cfg.addr, sioclient.Options{Transport: sioclient.WebSocket, NetDial: b.dial, OnEvent: onEvent, OnPacket: onPacket})
	if err != nil {
		return nil, err
	}
	m := &socketioMember{c: c, name: name, room: b.cfg.room}
	if err := c.Emit("join_room", map[string]string{"username": name, "room": b.cfg.room}); err != nil {
		c.Close()
		return nil, err
	}
	return awaitJoined(m, joined, c.Close, "no join notice")
}

func (m *socketioMember) send(_ int, text string) error {
	return m.c.Emit("send_message", map[string]string{"username": m.name, "room": m.room, "message": text})
}

func (m *socketioMember) close() { m.c.Abort() }

// procCPU is process pid's user+system CPU time (0 for pid 0 or when unreadable).
func procCPU(pid int) time.Duration {
	if pid == 0 {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// after the command name in parentheses: state is field 3, utime 14, stime 15
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // clock ticks (USER_HZ = 100 on Linux)
}

// cpuTime is the process's user+system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
