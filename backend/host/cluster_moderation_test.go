package host

import (
	"testing"
	"time"
)

// threeBoxClass starts three boxes with the host on box 1, Bia on box 2
// and Caio on box 3, all in the lobby; they hang up when the test ends.
func threeBoxClass(t *testing.T) (boxes []*testBox, host, bia, caio *wsClient) {
	t.Helper()
	boxes = startCluster(t, 3)
	ws, _, err := dialWS(boxes[0].ws())
	if err != nil {
		t.Fatal(err)
	}
	host, _, err = sayHello(ws, "Teacher", map[string]any{"type": "hello", "version": 1, "name": "Teacher", "host_token": boxToken})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(host.close)
	if bia, _, err = dialBox(boxes[1].ws(), "Bia", "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(bia.close)
	if caio, _, err = dialBox(boxes[2].ws(), "Caio", "", nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(caio.close)
	return boxes, host, bia, caio
}

// memberID asks c's box for the id of the lobby member called name, until
// the box lists them (members of other boxes arrive through the roster).
func memberID(t *testing.T, c *wsClient, name string) string {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err := c.send(map[string]any{"type": "members", "room": "lobby", "query": name}); err != nil {
			t.Fatal(err)
		}
		f, ok := c.waitFor(2*time.Second, func(f frame) bool {
			if f.Type != "members" {
				return false
			}
			for _, m := range f.Members {
				if m.Name == name {
					return true
				}
			}
			return false
		})
		if ok {
			for _, m := range f.Members {
				if m.Name == name {
					return m.ID
				}
			}
		}
	}
	t.Fatalf("%s's box never listed %s", c.name, name)
	return ""
}

// The host on box 1 mutes a member of box 2 and bans one of box 3; each
// holds on the member's own box, and the banned one is refused on every
// box. A join code set on box 1 is asked for on box 3.
func TestClusterModeration(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three boxes")
	}
	boxes, host, bia, caio := threeBoxClass(t)
	const wait = 20 * time.Second

	// Mute Bia (box 2) from box 1: her own box refuses her messages.
	if err := host.send(map[string]any{"type": "control", "action": "mute", "member": memberID(t, host, "Bia"), "flag": true}); err != nil {
		t.Fatal(err)
	}
	if _, ok := bia.waitFor(wait, func(f frame) bool { return f.Type == "member" }); !ok {
		t.Fatal("Bia was not told she is muted")
	}
	if err := bia.send(map[string]any{"type": "send", "room": "lobby", "client_id": "b1", "text": "hello?"}); err != nil {
		t.Fatal(err)
	}
	if f, ok := bia.waitFor(wait, func(f frame) bool { return f.Type == "error" && f.Ref == "b1" }); !ok || f.Code != "muted" {
		t.Fatalf("a muted member's send on her own box: %+v", f)
	}

	// Ban Caio (box 3) from box 1: closed on his box, refused on the others.
	if err := host.send(map[string]any{"type": "control", "action": "ban", "member": memberID(t, host, "Caio")}); err != nil {
		t.Fatal(err)
	}
	if f, ok := caio.waitFor(wait, func(f frame) bool { return f.Type == "error" }); !ok || f.Code != "banned" {
		t.Fatalf("Caio on box 3: %+v", f)
	}
	for _, b := range boxes {
		var code string
		for deadline := time.Now().Add(wait); code != "banned" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			c, got, _ := dialBox(b.ws(), "Caio", "", nil)
			if c != nil {
				c.close()
			}
			code = got
		}
		if code != "banned" {
			t.Errorf("Caio back on %s: %q, want banned", b.spec.Name, code)
		}
	}

	// A join code set on box 1 is asked for on box 3.
	if err := host.send(map[string]any{"type": "control", "action": "set_join_code", "name": "SALA12"}); err != nil {
		t.Fatal(err)
	}
	var code string
	for deadline := time.Now().Add(wait); code != "join_code_required" && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		c, got, _ := dialBox(boxes[2].ws(), "Duda", "", nil)
		if c != nil {
			c.close()
		}
		code = got
	}
	if code != "join_code_required" {
		t.Errorf("a newcomer on box 3 without the code: %q", code)
	}
}
