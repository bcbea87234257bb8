package discovery

import (
	"context"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type mode int

const (
	answer mode = iota
	refuse
	hang // no answer until the probe times out
)

type fakeHost struct {
	info  Info
	mode  mode
	peers []Peer
}

type fakeProber struct {
	mu    sync.Mutex
	hosts map[string]fakeHost
	calls map[string]int
}

func newFakeProber() *fakeProber {
	return &fakeProber{hosts: map[string]fakeHost{}, calls: map[string]int{}}
}

func (f *fakeProber) set(addr string, h fakeHost) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hosts[addr] = h
}

func (f *fakeProber) setMode(addr string, m mode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	h := f.hosts[addr]
	h.mode = m
	f.hosts[addr] = h
}

var errRefused = &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}

func (f *fakeProber) get(ctx context.Context, addr string) (fakeHost, error) {
	f.mu.Lock()
	h, ok := f.hosts[addr]
	f.calls[addr]++
	f.mu.Unlock()
	switch {
	case !ok || h.mode == refuse:
		return h, errRefused
	case h.mode == hang:
		<-ctx.Done()
		return h, ctx.Err()
	}
	return h, nil
}

func (f *fakeProber) Info(ctx context.Context, addr string) (Info, error) {
	h, err := f.get(ctx, addr)
	return h.info, err
}

func (f *fakeProber) Peers(ctx context.Context, addr string) ([]Peer, error) {
	h, err := f.get(ctx, addr)
	return h.peers, err
}

type fakeBrowser struct {
	mu       sync.Mutex
	handlers map[int]BrowseHandler
	rounds   int
	ifs      []Iface
}

func (b *fakeBrowser) Browse(ctx context.Context, ifs []Iface, h BrowseHandler) error {
	b.mu.Lock()
	if b.handlers == nil {
		b.handlers = map[int]BrowseHandler{}
	}
	id := b.rounds
	b.rounds++
	b.handlers[id], b.ifs = h, ifs
	b.mu.Unlock()
	<-ctx.Done()
	b.mu.Lock()
	delete(b.handlers, id)
	b.mu.Unlock()
	return nil
}

func (b *fakeBrowser) live() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.handlers)
}

// found delivers f through one live round (as zeroconf would, once).
func (b *fakeBrowser) found(f Found) {
	b.mu.Lock()
	var h BrowseHandler
	for _, x := range b.handlers {
		h = x
		break
	}
	b.mu.Unlock()
	if h != nil {
		h.Found(f)
	}
}

func (b *fakeBrowser) traffic(t Traffic) {
	b.mu.Lock()
	var h BrowseHandler
	for _, x := range b.handlers {
		h = x
		break
	}
	b.mu.Unlock()
	if h != nil {
		h.Traffic(t)
	}
}

type fakeAdvertiser struct {
	mu     sync.Mutex
	ads    []Ad
	active bool
	closes int
	fail   error
}

type fakeReg struct{ a *fakeAdvertiser }

func (a *fakeAdvertiser) Advertise(ad Ad) (Registration, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.fail != nil {
		return nil, a.fail
	}
	a.ads = append(a.ads, ad)
	a.active = true
	return fakeReg{a}, nil
}

func (r fakeReg) Update(ad Ad) error {
	r.a.mu.Lock()
	defer r.a.mu.Unlock()
	r.a.ads = append(r.a.ads, ad)
	return nil
}

func (r fakeReg) Close() error {
	r.a.mu.Lock()
	defer r.a.mu.Unlock()
	r.a.active = false
	r.a.closes++
	return nil
}

func (a *fakeAdvertiser) snapshot() ([]Ad, bool, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.ads), a.active, a.closes
}

type fakeIfaces struct {
	mu  sync.Mutex
	ifs []Iface
}

func (f *fakeIfaces) set(ifs ...Iface) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ifs = ifs
}

func (f *fakeIfaces) list() ([]Iface, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.ifs), nil
}

func iface(name string, index int, flags net.Flags, addrs ...string) Iface {
	i := Iface{Interface: net.Interface{Name: name, Index: index, Flags: flags}}
	for _, a := range addrs {
		i.Addrs = append(i.Addrs, net.ParseIP(a))
	}
	return i
}

var (
	lanFlags = net.FlagUp | net.FlagBroadcast | net.FlagMulticast
	loIface  = iface("lo", 1, net.FlagUp|net.FlagLoopback, "127.0.0.1")
	eth0     = iface("eth0", 2, lanFlags, "10.0.0.1")
)

// rig is a Service on fakes, with its events collected.
type rig struct {
	t      *testing.T
	s      *Service
	prober *fakeProber
	br     *fakeBrowser
	adv    *fakeAdvertiser
	ifs    *fakeIfaces
	own    *ownBox
	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	events []Event
}

type ownBox struct {
	mu  sync.Mutex
	own Own
}

func (o *ownBox) get() Own {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.own
}

func (o *ownBox) set(f func(*Own)) {
	o.mu.Lock()
	defer o.mu.Unlock()
	f(&o.own)
}

func newRig(t *testing.T, mod func(*Config), ifs ...Iface) *rig {
	r := &rig{t: t, prober: newFakeProber(), br: &fakeBrowser{}, adv: &fakeAdvertiser{}, ifs: &fakeIfaces{},
		own: &ownBox{own: Own{Name: "alpha", Version: "test", Protocol: 1, Rooms: 4}}, done: make(chan struct{})}
	if len(ifs) == 0 {
		ifs = []Iface{loIface, eth0}
	}
	r.ifs.set(ifs...)
	cfg := Config{ID: "aaaa0001", Port: 47800, MDNS: true, Advertiser: r.adv, Browser: r.br,
		Prober: r.prober, ListIfaces: r.ifs.list, Own: r.own.get, Logger: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	r.s = New(cfg)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	sub := r.s.Subscribe(ctx)
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for ev := range sub {
			r.mu.Lock()
			r.events = append(r.events, ev)
			r.mu.Unlock()
		}
	}()
	go func() {
		defer close(r.done)
		if err := r.s.Run(ctx); err != nil {
			t.Error(err)
		}
		<-collected
	}()
	return r
}

func (r *rig) stop() {
	r.cancel()
	<-r.done
}

func (r *rig) eventsFor(id string) []EventType {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []EventType
	for _, e := range r.events {
		if e.Peer.ID == id {
			out = append(out, e.Type)
		}
	}
	return out
}

func (r *rig) peer(id string) (Peer, bool) {
	for _, p := range r.s.Peers() {
		if p.ID == id {
			return p, true
		}
	}
	return Peer{}, false
}
