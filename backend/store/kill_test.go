//go:build linux

package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

// The kill -9 test runs the real `lanchat serve` binary, sends to it from
// several WebSocket clients without pause, kills it with SIGKILL mid-stream
// (twice), restarts it on the same port and data dir, and lets the clients
// resume as they would after a network drop: hello.resume with the last seq
// they saw, then resending every unacknowledged message with its client_id.
// Afterwards every acknowledged message must be stored exactly once, at the
// seq its ack named, in send order, with no gap or reused seq: in what each
// client received and in what the restarted host serves on join.

const (
	killClients  = 6
	killWindow   = 3                      // sends in flight per client
	killBurst    = 8                      // sends each client fires at once right before a kill
	killPace     = 120 * time.Millisecond // per client, under the host's 10/s rate limit
	killDeadline = 90 * time.Second       // generous: conditions, not timings, are tested
)

var killRooms = []string{"general", "projects", "random"}

func TestKill9MidStream(t *testing.T) {
	bin := buildLanchat(t)
	dataDir := t.TempDir()
	port := freePort(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*killDeadline)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()

	srv := startHost(t, bin, dataDir, port)
	stopSending, quit := make(chan struct{}), make(chan struct{})
	bursts := []chan struct{}{make(chan struct{}), make(chan struct{})}
	start := make(chan struct{})
	var ready sync.WaitGroup
	clients := make([]*killClient, killClients)
	for i := range clients {
		c := &killClient{
			t: t, url: fmt.Sprintf("ws://127.0.0.1:%d/ws", port),
			name: fmt.Sprintf("sender-%d", i), room: killRooms[i%len(killRooms)],
			seen: map[uint64]string{}, acked: map[string]ackRec{},
		}
		clients[i] = c
		ready.Add(1)
		c.bursts = bursts
		wg.Go(func() { c.run(ctx, &ready, start, stopSending, quit) })
	}
	ready.Wait() // everyone has joined before anyone sends: all see seq 1 on
	close(start)

	totalAcks := func() int64 {
		var n int64
		for _, c := range clients {
			n += c.nAcked.Load()
		}
		return n
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(killDeadline)
		for !cond() {
			for _, c := range clients {
				if msg := c.failMsg.Load(); msg != nil {
					t.Fatalf("while waiting for %s, %s failed: %s\nhost log:\n%s", what, c.name, *msg, srv.log())
				}
			}
			if time.Now().After(deadline) || ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s (acks %d)\nhost log:\n%s", what, totalAcks(), srv.log())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	resumed := func(gen int32) func() bool {
		return func() bool {
			for _, c := range clients {
				if c.connects.Load() < gen {
					return false
				}
			}
			return true
		}
	}

	for round := range 2 {
		before := totalAcks()
		waitFor("acks before the kill", func() bool { return totalAcks() >= before+60 })
		// Every client fires a burst; the kill lands while the host is
		// storing it, with messages in flight.
		close(bursts[round])
		waitFor("the burst to be written", func() bool {
			for _, c := range clients {
				if c.burstsSent.Load() <= int32(round) {
					return false
				}
			}
			return true
		})
		if round == 1 {
			// The second time, let the host store part of the burst first.
			acked := totalAcks()
			waitFor("part of the burst to be stored", func() bool { return totalAcks() > acked })
		}
		srv.kill9(t)
		t.Logf("round %d: killed the host with SIGKILL after %d acks", round+1, totalAcks())
		srv = startHost(t, bin, dataDir, port)
		waitFor("clients to resume", resumed(int32(round+2)))
	}
	before := totalAcks()
	waitFor("acks after the last restart", func() bool { return totalAcks() >= before+40 })
	// Stop sending; once every message is acknowledged and every client
	// has received all of its room, hang up.
	close(stopSending)
	waitFor("every message to be acknowledged", func() bool {
		for _, c := range clients {
			if !c.drained.Load() {
				return false
			}
		}
		return true
	})
	// What the restarted host serves on join, room by room.
	served := fetchHistory(t, port)
	waitFor("every client to receive its room's history", func() bool {
		for _, c := range clients {
			if c.lastSeen.Load() < uint64(len(served[c.room])) {
				return false
			}
		}
		return true
	})
	close(quit)
	wg.Wait()
	for _, c := range clients {
		if c.failed != "" {
			t.Errorf("%s: %s", c.name, c.failed)
		}
	}
	if t.Failed() {
		t.Fatalf("host log:\n%s", srv.log())
	}
	var sent, lost int
	for _, room := range killRooms {
		hist := served[room]
		byClientID := map[string]protocol.Message{}
		for i, m := range hist {
			if m.Seq != uint64(i+1) {
				t.Fatalf("room %s: history position %d holds seq %d: gap or reuse", room, i, m.Seq)
			}
			if _, dup := byClientID[m.ClientID]; dup {
				t.Fatalf("room %s: client_id %s stored twice", room, m.ClientID)
			}
			byClientID[m.ClientID] = m
		}
		for _, c := range clients {
			if c.room != room {
				continue
			}
			sent += c.next
			// Every message the client sent was acknowledged in the end.
			if len(c.acked) != c.next || len(c.pending) != 0 {
				t.Errorf("%s: sent %d, acked %d, pending %d", c.name, c.next, len(c.acked), len(c.pending))
			}
			var prev uint64
			for n := range c.next {
				cid := c.clientID(n)
				a, ok := c.acked[cid]
				if !ok {
					continue
				}
				m, stored := byClientID[cid]
				if !stored {
					lost++
					t.Errorf("%s: acknowledged %s (seq %d) is not in the history", c.name, cid, a.seq)
					continue
				}
				if m.Seq != a.seq || m.ID != a.id || m.Text != c.text(n) || m.From.Name != c.name {
					t.Errorf("%s: %s acked as seq %d id %s, stored as seq %d id %s %q", c.name, cid, a.seq, a.id, m.Seq, m.ID, m.Text)
				}
				if a.seq <= prev {
					t.Errorf("%s: message %d acked at seq %d, not after seq %d: out of send order", c.name, n, a.seq, prev)
				}
				prev = a.seq
				delete(byClientID, cid)
			}
			// What the client received equals the stored history.
			if len(c.seen) != len(hist) {
				t.Errorf("%s: received %d messages of %s, the host has %d", c.name, len(c.seen), room, len(hist))
			}
			for _, m := range hist {
				if id, ok := c.seen[m.Seq]; !ok || id != m.ID {
					t.Errorf("%s: seq %d received as %q, stored as %q", c.name, m.Seq, id, m.ID)
					break
				}
			}
		}
		for cid := range byClientID {
			t.Errorf("room %s: stored message %s was never sent", room, cid)
		}
		t.Logf("room %s: %d messages, seq 1..%d", room, len(hist), len(hist))
	}
	if sent < 150 {
		t.Errorf("only %d messages were sent", sent)
	}
	var resent, storedUnacked int
	for _, c := range clients {
		resent, storedUnacked = resent+c.resent, storedUnacked+c.storedUnacked
	}
	t.Logf("%d messages sent and acknowledged across 2 kills, %d lost; %d resent after a kill, %d of them already stored",
		sent, lost, resent, storedUnacked)

	// A clean stop, then the export reads the same history from the data dir.
	srv.stop(t)
	out, err := exec.Command(bin, "export", "--data-dir", dataDir, "--format", "json").Output()
	if err != nil {
		t.Fatalf("lanchat export: %v", err)
	}
	var doc struct {
		Rooms []struct {
			Name     string             `json:"name"`
			Messages []protocol.Message `json:"messages"`
		} `json:"rooms"`
	}
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatal(err)
	}
	for _, r := range doc.Rooms {
		if want, ok := served[r.Name]; ok && len(r.Messages) != len(want) {
			t.Errorf("export of %s has %d messages, the host served %d", r.Name, len(r.Messages), len(want))
		}
	}
}

type ackRec struct {
	seq uint64
	id  string
}

type outgoing struct {
	n    int
	sent bool // on the current connection
}

// killClient is one member sending to its room. Its fields belong to its run
// goroutine; the test reads them after run returns (and the atomics before).
type killClient struct {
	t          *testing.T
	url        string
	name, room string

	session string
	lastSeq uint64            // newest seq seen in room
	seen    map[uint64]string // seq -> message id, everything received in room
	acked   map[string]ackRec
	pending []outgoing // not yet acknowledged, in send order
	next    int        // messages created so far
	failed  string

	nAcked      atomic.Int64
	connects    atomic.Int32
	drained     atomic.Bool // stopped sending and nothing is unacknowledged
	bursts      []chan struct{}
	burstsTaken int
	burstsSent  atomic.Int32           // bursts written to the host
	failMsg     atomic.Pointer[string] // failed, for the test to watch
	lastSeen    atomic.Uint64          // lastSeq, for the test to watch
	// After reconnects: messages resent, and those of them the host had
	// stored although their ack was lost (found in the resumed history).
	resent, storedUnacked int
}

// nextBurst is the channel of the next burst (nil after the last).
func (c *killClient) nextBurst() <-chan struct{} {
	if c.burstsTaken < len(c.bursts) {
		return c.bursts[c.burstsTaken]
	}
	return nil
}

func (c *killClient) clientID(n int) string { return fmt.Sprintf("%s-%d", c.name, n) }
func (c *killClient) text(n int) string     { return fmt.Sprintf("%s says %d", c.name, n) }

func (c *killClient) fail(format string, args ...any) {
	if c.failed == "" {
		c.failed = fmt.Sprintf(format, args...)
		c.failMsg.Store(&c.failed)
	}
}

// run connects, sends until stop, and reconnects whenever the connection
// drops. It returns once stop is closed and every message is acknowledged.
func (c *killClient) run(ctx context.Context, ready *sync.WaitGroup, start, stop, quit <-chan struct{}) {
	isReady := sync.OnceFunc(ready.Done)
	defer isReady()
	first := true
	for c.failed == "" && ctx.Err() == nil {
		ws, frames, readerDone := c.connect(ctx, first)
		if ws == nil {
			return
		}
		if first {
			isReady()
			select {
			case <-start:
			case <-ctx.Done():
			}
			first = false
		}
		done := c.converse(ctx, ws, frames, stop, quit)
		hangUp(ws, frames, readerDone)
		if done {
			return
		}
	}
}

// hangUp closes the connection and waits for its reader.
func hangUp(ws *websocket.Conn, frames <-chan []byte, readerDone <-chan struct{}) {
	_ = ws.Close()
	for range frames {
	}
	<-readerDone
}

// connect dials until the host answers, says hello (resuming after the
// first time) and waits for the room's joined.
func (c *killClient) connect(ctx context.Context, first bool) (*websocket.Conn, <-chan []byte, <-chan struct{}) {
	for {
		if ctx.Err() != nil {
			c.fail("gave up connecting: %v", ctx.Err())
			return nil, nil, nil
		}
		ws, _, err := websocket.DefaultDialer.DialContext(ctx, c.url, nil)
		if err != nil {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		hello := protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: c.name}
		for i := range c.pending {
			c.pending[i].sent = false // to resend after the handshake, in order
		}
		if !first {
			hello.Resume = &protocol.Resume{Session: c.session, Rooms: map[string]uint64{c.room: c.lastSeq}}
		}
		frames := make(chan []byte, 256)
		readerDone := make(chan struct{})
		go func() {
			defer close(readerDone)
			defer close(frames)
			for {
				_, data, err := ws.ReadMessage()
				if err != nil {
					return
				}
				for _, f := range bytes.Split(data, []byte("\n")) {
					frames <- f
				}
			}
		}()
		ok := ws.WriteJSON(hello) == nil
		if ok && first {
			ok = ws.WriteJSON(protocol.Join{Type: protocol.TypeJoin, Room: c.room}) == nil
		}
		// Wait for welcome and the room's joined (which carries what was missed).
		joined := false
		for ok && !joined {
			f, open := <-frames
			if !open {
				break
			}
			joined = c.handle(f)
		}
		if joined && c.failed == "" {
			c.connects.Add(1)
			c.resent += len(c.pending)
			return ws, frames, readerDone
		}
		hangUp(ws, frames, readerDone)
		if c.failed != "" {
			return nil, nil, nil
		}
		time.Sleep(20 * time.Millisecond) // the host went away during the handshake
	}
}

// converse sends and receives on one connection. It reports true when the
// client is done (quit closed, or a failure) and false when the connection
// dropped.
func (c *killClient) converse(ctx context.Context, ws *websocket.Conn, frames <-chan []byte, stop, quit <-chan struct{}) bool {
	tick := time.NewTicker(killPace)
	defer tick.Stop()
	stopping := false
	for {
		// Resends and bursts go out at once; new messages at the pace.
		for i := range c.pending {
			if !c.pending[i].sent {
				n := c.pending[i].n
				if ws.WriteJSON(protocol.Send{Type: protocol.TypeSend, Room: c.room, ClientID: c.clientID(n), Text: c.text(n)}) != nil {
					return false
				}
				c.pending[i].sent = true
			}
		}
		if c.burstsSent.Load() < int32(c.burstsTaken) {
			c.burstsSent.Store(int32(c.burstsTaken))
		}
		if stopping && len(c.pending) == 0 {
			c.drained.Store(true)
		}
		select {
		case f, open := <-frames:
			if !open {
				return false
			}
			c.handle(f)
			if c.failed != "" {
				return true
			}
		case <-tick.C:
			if !stopping && len(c.pending) < killWindow {
				c.pending = append(c.pending, outgoing{n: c.next})
				c.next++
			}
		case <-c.nextBurst():
			for range killBurst {
				c.pending = append(c.pending, outgoing{n: c.next})
				c.next++
			}
			c.burstsTaken++
			continue // written at the top of the loop, then counted
		case <-stop:
			stopping, stop = true, nil
		case <-quit:
			return true
		case <-ctx.Done():
			c.fail("test context ended")
			return true
		}
	}
}

// handle processes one server frame and reports whether it was the room's
// joined.
func (c *killClient) handle(data []byte) bool {
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &head); err != nil {
		c.fail("undecodable frame %q: %v", data, err)
		return false
	}
	switch head.Type {
	case protocol.TypeWelcome:
		var w protocol.Welcome
		_ = json.Unmarshal(data, &w)
		c.session = w.Session
	case protocol.TypeJoined:
		var j protocol.Joined
		_ = json.Unmarshal(data, &j)
		if j.Room != c.room {
			return false
		}
		if j.Truncated {
			c.fail("joined %s truncated (first kept %d)", j.Room, j.FirstKept)
		}
		for _, m := range j.History {
			c.message(m)
		}
		if c.lastSeq != j.LastSeq {
			c.fail("after joined, last seq seen %d but the room's is %d", c.lastSeq, j.LastSeq)
		}
		return true
	case protocol.TypeMessage:
		var m protocol.Message
		_ = json.Unmarshal(data, &m)
		if m.Room == c.room {
			c.message(m)
		}
	case protocol.TypeAck:
		var a protocol.Ack
		_ = json.Unmarshal(data, &a)
		if prev, dup := c.acked[a.ClientID]; dup {
			if prev.seq != a.Seq || prev.id != a.ID {
				c.fail("%s acked twice differently: seq %d then %d", a.ClientID, prev.seq, a.Seq)
			}
		} else {
			c.acked[a.ClientID] = ackRec{a.Seq, a.ID}
			c.nAcked.Add(1)
		}
		for i, p := range c.pending {
			if c.clientID(p.n) == a.ClientID {
				c.pending = append(c.pending[:i], c.pending[i+1:]...)
				break
			}
		}
	case protocol.TypeError:
		var e protocol.Error
		_ = json.Unmarshal(data, &e)
		if e.Code != protocol.CodeShuttingDown {
			c.fail("error from the host: %s %s (ref %s)", e.Code, e.Message, e.Ref)
		}
	}
	return false
}

// message checks that room messages arrive exactly once, in seq order,
// without gaps.
func (c *killClient) message(m protocol.Message) {
	switch {
	case m.Seq == c.lastSeq+1:
		c.seen[m.Seq] = m.ID
		c.lastSeq = m.Seq
		c.lastSeen.Store(m.Seq)
		for _, p := range c.pending {
			if p.sent == false && c.clientID(p.n) == m.ClientID {
				c.storedUnacked++ // stored before the kill, ack lost: the resend must not store it again
			}
		}
	case m.Seq <= c.lastSeq:
		if c.seen[m.Seq] != m.ID {
			c.fail("seq %d reused: first %s, now %s", m.Seq, c.seen[m.Seq], m.ID)
		} else {
			c.fail("seq %d delivered twice", m.Seq)
		}
	default:
		c.fail("gap: seq %d after %d", m.Seq, c.lastSeq)
	}
}

// fetchHistory joins every room with since 0 as a new member and returns
// the full history the host serves.
func fetchHistory(t *testing.T, port int) map[string][]protocol.Message {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("ws://127.0.0.1:%d/ws", port), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	rooms := map[string]uint64{}
	for _, r := range killRooms {
		rooms[r] = 0
	}
	if err := ws.WriteJSON(protocol.Hello{Type: protocol.TypeHello, Version: protocol.Version, Name: "checker",
		Resume: &protocol.Resume{Rooms: rooms}}); err != nil {
		t.Fatal(err)
	}
	out := map[string][]protocol.Message{}
	_ = ws.SetReadDeadline(time.Now().Add(killDeadline))
	for len(out) < len(killRooms) {
		_, data, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("reading history: %v", err)
		}
		for _, f := range bytes.Split(data, []byte("\n")) {
			var j protocol.Joined
			if json.Unmarshal(f, &j) == nil && j.Type == protocol.TypeJoined && j.Room != "lobby" {
				if j.Truncated || uint64(len(j.History)) != j.LastSeq {
					t.Fatalf("room %s: served %d messages, last seq %d, truncated %v", j.Room, len(j.History), j.LastSeq, j.Truncated)
				}
				out[j.Room] = j.History
			}
		}
	}
	return out
}

// buildLanchat builds the lanchat binary (with -race when the test has it,
// so the build reuses the test's compiled packages).
func buildLanchat(t *testing.T) string {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatalf("go env GOMOD: %v", err)
	}
	root := filepath.Dir(strings.TrimSpace(string(gomod)))
	bin := filepath.Join(t.TempDir(), "lanchat")
	args := []string{"build", "-o", bin}
	if raceEnabled {
		args = append(args, "-race")
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build lanchat: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// hostProc is a running `lanchat serve`.
type hostProc struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (h *hostProc) log() string {
	h.out.mu.Lock()
	defer h.out.mu.Unlock()
	return h.out.b.String()
}

// startHost starts `lanchat serve` on 127.0.0.1:port (no mDNS) and waits
// until it serves there.
func startHost(t *testing.T, bin, dataDir string, port int) *hostProc {
	t.Helper()
	out := &lockedBuffer{}
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:"+strconv.Itoa(port), "--data-dir", dataDir,
		"--no-discovery", "--name", "kill-test")
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	h := &hostProc{cmd: cmd, out: out, done: make(chan error, 1)}
	go func() { h.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-h.done:
		default:
			_ = cmd.Process.Kill()
			<-h.done
		}
	})
	deadline := time.Now().Add(killDeadline)
	for {
		select {
		case err := <-h.done:
			h.done <- err
			t.Fatalf("lanchat serve exited: %v\n%s", err, h.log())
		default:
		}
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/info", port))
		if err == nil {
			var info struct {
				Port int `json:"port"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if info.Port == port {
				return h
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("lanchat serve did not come up on port %d\n%s", port, h.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *hostProc) kill9(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	err := <-h.done
	h.done <- err
	if ws, ok := h.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("host ended with %v, not by SIGKILL", err)
	}
}

func (h *hostProc) stop(t *testing.T) {
	t.Helper()
	if err := h.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-h.done:
		h.done <- err
		if err != nil {
			t.Fatalf("host stopped with %v\n%s", err, h.log())
		}
	case <-time.After(killDeadline):
		t.Fatalf("host did not stop on SIGTERM\n%s", h.log())
	}
}
