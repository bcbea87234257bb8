package pending

import (
	"fmt"
	"testing"
	"time"
)

type rig struct {
	t       *testing.T
	s       *Set
	now     time.Time
	evicted []string
}

func newRig(t *testing.T, l Limits) *rig {
	r := &rig{t: t, now: time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)}
	r.s = New(l)
	r.s.now = func() time.Time { return r.now }
	return r
}

func (r *rig) add(addr, name string) *Entry {
	e, _ := r.s.Add(addr, func() { r.evicted = append(r.evicted, name) }, nil)
	return e
}

func (r *rig) wantEvicted(want ...string) {
	r.t.Helper()
	if fmt.Sprint(r.evicted) != fmt.Sprint(want) {
		r.t.Fatalf("evicted %v, want %v", r.evicted, want)
	}
}

func TestDefaults(t *testing.T) {
	if l := New(Limits{}).Limits(); l != (Limits{PerAddr: 32, Total: 256, Hard: 2048, EvictAfter: 10 * time.Second}) {
		t.Errorf("defaults %+v", l)
	}
}

// Over the per-address limit, the oldest connection of that address goes,
// once it has waited EvictAfter; other addresses are untouched.
func TestPerAddress(t *testing.T) {
	r := newRig(t, Limits{PerAddr: 2, Total: 100, EvictAfter: time.Second})
	r.add("10.0.0.9", "other")
	r.add("10.0.0.1", "a1")
	r.add("10.0.0.1", "a2")
	r.add("10.0.0.1", "a3") // the others are fresh: a burst is let in
	r.wantEvicted()
	r.now = r.now.Add(time.Second)
	r.add("10.0.0.1", "a4")
	r.wantEvicted("a1")
	r.add("10.0.0.1", "a5")
	r.wantEvicted("a1", "a2")
	if n := r.s.Len(); n != 4 { // other, a3, a4, a5: one eviction per arrival
		t.Errorf("%d waiting, want 4", n)
	}
}

// Over the total, the oldest connection of all goes once it has waited
// EvictAfter; at Hard, the oldest goes whatever its age. Nothing is refused.
func TestTotalAndHard(t *testing.T) {
	r := newRig(t, Limits{PerAddr: 100, Total: 3, Hard: 5, EvictAfter: time.Second})
	for i := range 3 {
		r.add(fmt.Sprint("10.0.0.", i), fmt.Sprint("c", i))
	}
	r.add("10.0.0.3", "c3")
	r.add("10.0.0.4", "c4")
	r.wantEvicted()
	r.add("10.0.0.5", "c5") // at Hard: c0 goes, young as it is
	r.wantEvicted("c0")
	r.now = r.now.Add(time.Second)
	r.add("10.0.0.6", "c6") // over Total, and c1 is old enough
	r.wantEvicted("c0", "c1")
	if st := r.s.Stats(); st.Waiting != 5 || st.Peak != 5 || st.Evicted != 2 {
		t.Errorf("stats %+v", st)
	}
}

// Remove frees the place; removing twice or after an eviction is harmless.
func TestRemove(t *testing.T) {
	r := newRig(t, Limits{PerAddr: 1, Total: 10, EvictAfter: time.Second})
	a := r.add("10.0.0.1", "a")
	r.s.Remove(a)
	r.s.Remove(a)
	r.s.Remove(nil)
	b := r.add("10.0.0.1", "b")
	r.now = r.now.Add(2 * time.Second)
	r.add("10.0.0.1", "c")
	r.wantEvicted("b")
	r.s.Remove(b)
	if n := r.s.Len(); n != 1 {
		t.Errorf("%d waiting, want 1", n)
	}
}

// An entry whose active func turns false (admitted meanwhile) leaves the
// set when next met, and is never evicted.
func TestActive(t *testing.T) {
	r := newRig(t, Limits{PerAddr: 1, Total: 10, EvictAfter: time.Second})
	named := false
	r.s.Add("10.0.0.1", func() { r.evicted = append(r.evicted, "named") }, func() bool { return !named })
	named = true
	r.now = r.now.Add(2 * time.Second)
	r.add("10.0.0.1", "b")
	r.wantEvicted()
	if n := r.s.Len(); n != 1 {
		t.Errorf("%d waiting, want 1", n)
	}
}
