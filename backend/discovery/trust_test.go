package discovery

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"lanchat/backend/identity"
)

func fpOf(c byte) string { return strings.Repeat(string(c), 52) }

func peerByAddr(s *Service, addr string) (Peer, bool) {
	for _, p := range s.Peers() {
		if p.Addr == addr {
			return p, true
		}
	}
	return Peer{}, false
}

func TestTrustOnFirstUse(t *testing.T) {
	pins := identity.NewMemoryPins()
	teacher := infoB
	teacher.Fingerprint = fpOf('b')
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *Config) { c.Pins = pins })
		defer r.stop()
		synctest.Wait()
		start := time.Now()
		r.prober.set("10.0.0.2:47800", fakeHost{info: teacher})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		p, ok := peerByAddr(r.s, "10.0.0.2:47800")
		if !ok || p.Trust != "new" || p.Fingerprint != fpOf('b') {
			t.Fatalf("first met: %+v", p)
		}
		at(t, start, probeEvery)
		if p, _ = peerByAddr(r.s, "10.0.0.2:47800"); p.Trust != "new" {
			t.Errorf("the next probe in the same run says %q", p.Trust)
		}

		// Another host under the teacher's name, with its own id and key:
		// listed beside the teacher, as a host met for the first time.
		other := Info{ID: "cccc0003", Name: "bravo", Protocol: 1, Port: 47800, Fingerprint: fpOf('c')}
		r.prober.set("10.0.0.3:47800", fakeHost{info: other})
		r.br.found(Found{Instance: "bravo (2)", Port: 47800, Text: Own{Name: "bravo"}.TXT("cccc0003"), Addrs: []net.IP{net.ParseIP("10.0.0.3")}})
		synctest.Wait()
		if p, ok := peerByAddr(r.s, "10.0.0.3:47800"); !ok || p.ID != "cccc0003" || p.Trust != "new" {
			t.Errorf("look-alike host: %+v", p)
		}
		if p, _ := peerByAddr(r.s, "10.0.0.2:47800"); p.ID != "bbbb0002" || p.Trust != "new" || p.Fingerprint != fpOf('b') {
			t.Errorf("teacher after the look-alike: %+v", p)
		}

		// The teacher's address now answers with the teacher's id but
		// another key: changed, and the remembered key stays.
		impostor := teacher
		impostor.Fingerprint = fpOf('x')
		r.prober.set("10.0.0.2:47800", fakeHost{info: impostor})
		at(t, start, 2*probeEvery)
		if p, _ := peerByAddr(r.s, "10.0.0.2:47800"); p.Trust != "changed" || p.Fingerprint != fpOf('x') {
			t.Errorf("another key under the teacher's id: %+v", p)
		}
		if got := pins.Lookup("bbbb0002"); got != fpOf('b') {
			t.Errorf("remembered key became %q", got)
		}
		// Plain HTTP under a remembered id proves nothing: changed too.
		plain := teacher
		plain.Fingerprint = ""
		r.prober.set("10.0.0.2:47800", fakeHost{info: plain})
		at(t, start, 3*probeEvery)
		if p, _ := peerByAddr(r.s, "10.0.0.2:47800"); p.Trust != "changed" {
			t.Errorf("plain answer under a remembered id: %+v", p)
		}

		// The person checks the new key and accepts it: remembered from
		// the next probe on, which comes at once.
		r.prober.set("10.0.0.2:47800", fakeHost{info: impostor})
		at(t, start, 4*probeEvery)
		if err := r.s.ForgetKey("bbbb0002"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if p, _ := peerByAddr(r.s, "10.0.0.2:47800"); p.Trust != "new" || pins.Lookup("bbbb0002") != fpOf('x') {
			t.Errorf("after the key was forgotten: %+v, pin %q", p, pins.Lookup("bbbb0002"))
		}
		teacher = impostor // the key the next run remembers
	})

	// The next run: the teacher's key is the remembered one.
	synctest.Test(t, func(t *testing.T) {
		r := newRig(t, func(c *Config) { c.Pins = pins })
		defer r.stop()
		synctest.Wait()
		r.prober.set("10.0.0.2:47800", fakeHost{info: teacher})
		r.br.found(foundB("10.0.0.2"))
		synctest.Wait()
		if p, ok := peerByAddr(r.s, "10.0.0.2:47800"); !ok || p.Trust != "pinned" {
			t.Errorf("next run: %+v", p)
		}
	})
}

func TestAddManualChecksTheLinkKey(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pins := identity.NewMemoryPins()
		r := newRig(t, func(c *Config) { c.Pins = pins })
		defer r.stop()
		synctest.Wait()
		info := Info{ID: "dddd0004", Name: "delta", Protocol: 1, Port: 47800, Fingerprint: fpOf('d')}
		r.prober.set("10.0.0.4:47800", fakeHost{info: info})
		_, err := r.s.AddManual(context.Background(), "http://10.0.0.4:47800/#fp="+fpOf('e'))
		var mismatch *identity.MismatchError
		if !errors.As(err, &mismatch) {
			t.Fatalf("a link with another key: %v", err)
		}
		if len(r.s.Peers()) != 1 || pins.Lookup("dddd0004") != "" {
			t.Errorf("a refused link left a peer or a pin: %+v", r.s.Peers())
		}
		p, err := r.s.AddManual(context.Background(), "http://10.0.0.4:47800/#fp="+strings.ToUpper(fpOf('d')))
		if err != nil || p.ID != "dddd0004" || p.Trust != "new" {
			t.Fatalf("the link's own key: %+v %v", p, err)
		}
		if pins.Lookup("dddd0004") != fpOf('d') {
			t.Error("not remembered")
		}
	})
}
