package mdns

import (
	"context"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"lanchat/backend/discovery"
)

// zeroconf's announcement goroutine is not waited for by its Shutdown; it
// ends by itself about 3 s after a registration.
var ignoreZeroconf = goleak.IgnoreAnyFunction("github.com/grandcat/zeroconf.(*Server).probe")

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, ignoreZeroconf) }

func TestUnescape(t *testing.T) {
	for in, want := range map[string]string{
		`plain`: "plain", `Z\195\169\032test`: "Zé test", `a\.b`: "a.b", `back\\slash`: `back\slash`, `end\`: `end\`,
	} {
		if got := unescape(in); got != want {
			t.Errorf("unescape(%q) = %q, want %q", in, got, want)
		}
	}
	if got := escapeTXT([]string{`a\b`}); got[0] != `a\\b` {
		t.Errorf("escapeTXT = %q", got)
	}
}

type collector struct {
	mu       sync.Mutex
	found    []discovery.Found
	traffic  int
	goodbyes []string
}

func (c *collector) Found(f discovery.Found) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.found = append(c.found, f)
}

func (c *collector) Traffic(t discovery.Traffic) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.traffic++
	c.goodbyes = append(c.goodbyes, t.Goodbyes...)
}

func (c *collector) wait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		ok := cond()
		c.mu.Unlock()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

const childEnv = "LANCHAT_MDNS_TEST_CHILD"

// TestAdvertiseBrowse runs real mDNS on the loopback interface of a network
// namespace of its own (unshare -n), so no packet can leave it.
func TestAdvertiseBrowse(t *testing.T) {
	if os.Getenv(childEnv) != "1" {
		if os.Geteuid() != 0 {
			if os.Getenv("CI") == "true" {
				t.Fatal("needs root to make a network namespace")
			}
			t.Skip("needs root to make a network namespace")
		}
		cmd := exec.Command("unshare", "-n", os.Args[0], "-test.run=^TestAdvertiseBrowse$", "-test.v", "-test.count=1")
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestAdvertiseBrowse") {
			t.Fatalf("in a private namespace: %v\n%s", err, out)
		}
		return
	}
	for _, args := range [][]string{{"link", "set", "lo", "multicast", "on"}, {"link", "set", "lo", "up"}} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v %s", args, err, out)
		}
	}
	all, err := discovery.ListIfaces()
	if err != nil {
		t.Fatal(err)
	}
	ifs, _ := discovery.SelectIfaces(all, []string{"lo"})
	if len(ifs) != 1 {
		t.Fatalf("interfaces %+v", all)
	}

	ctx, cancel := context.WithCancel(context.Background())
	c := &collector{}
	browsed := make(chan error, 1)
	go func() { browsed <- New().Browse(ctx, ifs, c) }()
	time.Sleep(200 * time.Millisecond) // the browser's sockets are open

	own := discovery.Own{Name: `Zé \ test`, Version: "t", Protocol: 1, Rooms: 4}
	ad := discovery.Ad{Instance: "Zé test", Host: "lanchat-t1", Port: 4242, Text: own.TXT("t1"), Ifaces: ifs}
	reg, err := New().Advertise(ad)
	if err != nil {
		t.Fatal(err)
	}
	c.wait(t, "service found", func() bool {
		return slices.ContainsFunc(c.found, func(f discovery.Found) bool { return f.Instance == "Zé test" })
	})
	c.mu.Lock()
	f := c.found[0]
	c.mu.Unlock()
	txt := discovery.ParseTXT(f.Text)
	if f.Port != 4242 || txt["name"] != `Zé \ test` || txt["id"] != "t1" || !slices.ContainsFunc(f.Addrs, func(a net.IP) bool { return a.Equal(net.IPv4(127, 0, 0, 1)) }) {
		t.Errorf("found %+v txt %v", f, txt)
	}

	// An update is seen by a fresh browse round.
	own.Members = 5
	ad.Text = own.TXT("t1")
	if err := reg.Update(ad); err != nil {
		t.Fatal(err)
	}
	c2 := &collector{}
	ctx2, cancel2 := context.WithCancel(context.Background())
	browsed2 := make(chan error, 1)
	go func() { browsed2 <- New().Browse(ctx2, ifs, c2) }()
	c2.wait(t, "updated TXT", func() bool {
		return slices.ContainsFunc(c2.found, func(f discovery.Found) bool { return discovery.ParseTXT(f.Text)["members"] == "5" })
	})
	cancel2()
	if err := <-browsed2; err != nil {
		t.Error(err)
	}

	// The goodbye is seen by the traffic watch.
	reg.Close()
	c.wait(t, "goodbye", func() bool { return slices.Contains(c.goodbyes, "Zé test") && c.traffic > 0 })
	cancel()
	if err := <-browsed; err != nil {
		t.Error(err)
	}
	goleak.VerifyNone(t, ignoreZeroconf)
}
