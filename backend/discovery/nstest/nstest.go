// Package nstest builds a LAN of network namespaces for discovery tests and
// benchmarks: a bridge in a namespace of its own and hosts, each a
// namespace with a veth into the bridge. Nothing it starts can reach the
// machine's real interfaces. Every namespace is named after the test's
// process id and deleted, with every process left in it, at cleanup.
//
// It needs root and iproute2. Require fails the test when CI=true and they
// are missing, and skips it otherwise.
package nstest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Require fails (CI=true) or skips the test unless namespaces can be made
// and the named commands exist.
func Require(t testing.TB, cmds ...string) {
	t.Helper()
	miss := func(format string, a ...any) {
		t.Helper()
		if os.Getenv("CI") == "true" {
			t.Fatalf("namespace test cannot run: "+format, a...)
		}
		t.Skipf("namespace test skipped: "+format, a...)
	}
	if os.Geteuid() != 0 {
		miss("needs root")
	}
	for _, c := range append([]string{"ip", "unshare", "nsenter"}, cmds...) {
		if _, err := exec.LookPath(c); err != nil {
			miss("%s not found (make deps installs it)", c)
		}
	}
}

var seq atomic.Int64

// LAN is a bridge and the hosts on it.
type LAN struct {
	t      testing.TB
	prefix string
	Bridge string // the bridge's namespace
	Subnet string // "10.99.N"
	mu     sync.Mutex
	nss    []string
	veths  int
}

// NewLAN makes the bridge namespace; cleanup removes everything.
func NewLAN(t testing.TB) *LAN {
	t.Helper()
	n := seq.Add(1)
	l := &LAN{t: t, prefix: fmt.Sprintf("lct%d-%d", os.Getpid(), n), Subnet: fmt.Sprintf("10.99.%d", n%250)}
	l.Bridge = l.prefix + "-br"
	t.Cleanup(l.close)
	l.addNS(l.Bridge)
	l.ip("-n", l.Bridge, "link", "add", "br0", "type", "bridge")
	l.ip("-n", l.Bridge, "link", "set", "br0", "type", "bridge", "mcast_snooping", "0")
	l.ip("-n", l.Bridge, "link", "set", "br0", "up")
	return l
}

func (l *LAN) addNS(name string) {
	l.ip("netns", "add", name)
	l.mu.Lock()
	l.nss = append(l.nss, name)
	l.mu.Unlock()
}

func (l *LAN) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// close kills what runs in the namespaces (processes the test started)
// and deletes them.
func (l *LAN) close() {
	l.mu.Lock()
	nss := l.nss
	l.nss = nil
	l.mu.Unlock()
	for i := len(nss) - 1; i >= 0; i-- {
		ns := nss[i]
		if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
			for _, f := range strings.Fields(string(out)) {
				if pid, err := strconv.Atoi(f); err == nil && pid > 1 {
					syscall.Kill(pid, syscall.SIGKILL)
				}
			}
		}
		if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			l.t.Logf("ip netns del %s: %v: %s", ns, err, out)
		}
	}
}

// Host is a namespace on the LAN.
type Host struct {
	LAN  *LAN
	NS   string
	Name string
	IP   string // on eth0
}

// AddHost makes a host with eth0 at subnet.last/24.
func (l *LAN) AddHost(name string, last int) *Host {
	l.t.Helper()
	h := &Host{LAN: l, NS: l.prefix + "-" + name, Name: name, IP: fmt.Sprintf("%s.%d", l.Subnet, last)}
	l.addNS(h.NS)
	l.ip("-n", h.NS, "link", "set", "lo", "up")
	h.AddIface("eth0", h.IP+"/24")
	return h
}

// AddIface adds another veth into the bridge, named name inside the host,
// with the address cidr (for example a "docker0" with another subnet).
func (h *Host) AddIface(name, cidr string) {
	l := h.LAN
	l.t.Helper()
	l.mu.Lock()
	l.veths++
	peer := fmt.Sprintf("p%d", l.veths)
	l.mu.Unlock()
	l.ip("-n", h.NS, "link", "add", name, "type", "veth", "peer", "name", peer, "netns", l.Bridge)
	l.ip("-n", l.Bridge, "link", "set", peer, "master", "br0", "up")
	l.ip("-n", h.NS, "addr", "add", cidr, "dev", name)
	l.ip("-n", h.NS, "link", "set", name, "multicast", "on", "up")
}

// SetLink sets a host's interface up or down ("pulling the cable").
func (h *Host) SetLink(name string, up bool) {
	state := "down"
	if up {
		state = "up"
	}
	h.LAN.ip("-n", h.NS, "link", "set", name, state)
}

// BlockMulticast drops all mDNS multicast frames on the bridge with nft.
func (l *LAN) BlockMulticast() {
	l.t.Helper()
	rules := `table bridge lanchat_test {
  chain forward {
    type filter hook forward priority 0; policy accept;
    ether daddr 01:00:5e:00:00:fb drop
    ether daddr 33:33:00:00:00:fb drop
  }
}`
	cmd := exec.Command("ip", "netns", "exec", l.Bridge, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("nft: %v: %s", err, out)
	}
}

// Command runs args in the host's namespace with its own hostname. The
// process is killed if the test process dies.
func (h *Host) Command(ctx context.Context, args ...string) *exec.Cmd {
	full := append([]string{"netns", "exec", h.NS, "unshare", "-u", "sh", "-c", `hostname "$0"; exec "$@"`, h.Name}, args...)
	cmd := exec.CommandContext(ctx, "ip", full...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// HTTPClient makes requests from inside the host's namespace: each
// connection's socket is created there.
func (h *Host) HTTPClient() *http.Client {
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true, DialContext: h.DialContext}
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

// DialContext dials from inside the host's namespace.
func (h *Host) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	type result struct {
		c   net.Conn
		err error
	}
	ch := make(chan result, 1)
	go func() {
		// A locked thread switches namespace; it goes back before unlocking
		// (if it cannot, it stays locked and dies with the goroutine).
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer orig.Close()
		target, err := os.Open(filepath.Join("/run/netns", h.NS))
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		defer target.Close()
		if err := setns(target); err != nil {
			runtime.UnlockOSThread()
			ch <- result{nil, err}
			return
		}
		// The socket is created in this thread's namespace, synchronously.
		c, derr := (&net.Dialer{Timeout: 5 * time.Second}).DialContext(ctx, network, addr)
		if err := setns(orig); err == nil {
			runtime.UnlockOSThread()
		}
		ch <- result{c, derr}
	}()
	r := <-ch
	return r.c, r.err
}

func setns(f *os.File) error {
	return unix.Setns(int(f.Fd()), unix.CLONE_NEWNET)
}

// Lines reads a command's output line by line, each with its arrival time.
type Lines struct {
	mu    sync.Mutex
	lines []Line
	cond  chan struct{}
	done  chan struct{}
}

// Line is one line of output.
type Line struct {
	At   time.Time
	Text string
}

func newLines() *Lines { return &Lines{cond: make(chan struct{}), done: make(chan struct{})} }

func (ls *Lines) read(sc *bufio.Scanner) {
	defer close(ls.done)
	for sc.Scan() {
		ls.mu.Lock()
		ls.lines = append(ls.lines, Line{time.Now(), sc.Text()})
		close(ls.cond)
		ls.cond = make(chan struct{})
		ls.mu.Unlock()
	}
}

// Wait returns the first line from index from on that match accepts, or
// false at the deadline or the end of output.
func (ls *Lines) Wait(from int, timeout time.Duration, match func(string) bool) (Line, int, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for i := from; ; {
		ls.mu.Lock()
		for ; i < len(ls.lines); i++ {
			if match(ls.lines[i].Text) {
				l := ls.lines[i]
				ls.mu.Unlock()
				return l, i, true
			}
		}
		cond := ls.cond
		ls.mu.Unlock()
		select {
		case <-cond:
		case <-ls.done:
			ls.mu.Lock()
			n := len(ls.lines)
			ls.mu.Unlock()
			if i >= n {
				return Line{}, i, false
			}
		case <-deadline.C:
			return Line{}, i, false
		}
	}
}

// All returns every line so far.
func (ls *Lines) All() []Line {
	ls.mu.Lock()
	defer ls.mu.Unlock()
	return append([]Line(nil), ls.lines...)
}

// Proc is a command running in a host, with its stdout as Lines.
type Proc struct {
	Cmd     *exec.Cmd
	Out     *Lines
	Started time.Time
	stderr  *syncBuilder
	waited  chan struct{}
	err     error
}

// Stderr is what the process wrote to its standard error so far.
func (p *Proc) Stderr() string {
	p.stderr.mu.Lock()
	defer p.stderr.mu.Unlock()
	return p.stderr.b.String()
}

type syncBuilder struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (s *syncBuilder) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// Start runs args in the host with env added to the environment; cleanup
// kills it if still running.
func (h *Host) Start(t testing.TB, env []string, args ...string) *Proc {
	t.Helper()
	cmd := h.Command(context.Background(), args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	sb := &syncBuilder{b: &strings.Builder{}}
	p := &Proc{Cmd: cmd, Out: newLines(), stderr: sb, waited: make(chan struct{})}
	cmd.Stderr = sb
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", args, err)
	}
	p.Started = time.Now()
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	go func() {
		p.Out.read(sc)
		p.err = cmd.Wait()
		close(p.waited)
	}()
	t.Cleanup(func() {
		p.Signal(syscall.SIGKILL)
		<-p.waited
		if t.Failed() {
			t.Logf("%s stderr:\n%s", h.Name, p.Stderr())
		}
	})
	return p
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig syscall.Signal) {
	select {
	case <-p.waited:
	default:
		p.Cmd.Process.Signal(sig)
	}
}

// Wait waits for the process to end.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.waited:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("still running after %v", timeout)
	}
}
