package chat

import (
	"strings"
	"testing"

	"lanchat/backend/protocol"
)

func guestHello(name string) protocol.Hello {
	return protocol.Hello{Version: 1, Name: name, Device: "dev-" + name}
}

// TestLookAlikeNamesAreTaken: with Alice connected, every look-alike of her
// name is refused as taken, and the refusal names her.
func TestLookAlikeNamesAreTaken(t *testing.T) {
	cases := []struct{ why, name string }{
		{"same name", "Alice"},
		{"case", "ALICE"},
		{"Cyrillic А", "\u0410lice"},
		{"Cyrillic а, і, с, е", "\u0430l\u0456\u0441\u0435"},
		{"Greek capital alpha", "\u0391lice"},
		{"fullwidth", "\uFF21\uFF4C\uFF49\uFF43\uFF45"},
		{"combining acute", "Alice\u0301"},
		{"combining marks inside", "A\u0308li\u0300ce"},
		{"zero-width space", "A\u200Blice"},
		{"zero-width joiner", "Ali\u200Dce"},
		{"bidi mark", "\u200EAlice"},
		{"digit one", "A1ice"},
		{"padded", "  Alice\u3000"},
	}
	for _, tc := range cases {
		h, _ := newTestHub(t, Config{})
		connect(t, h, "Alice")
		_, p := h.Connect(guestHello(tc.name), &fakeSink{})
		if p == nil || p.Code != protocol.CodeNameTaken {
			t.Errorf("%s: %+q next to Alice: %v, want name_taken", tc.why, tc.name, p)
			continue
		}
		if !strings.Contains(p.Message, `"Alice"`) {
			t.Errorf("%s: the refusal does not name Alice: %s", tc.why, p.Message)
		}
	}
}

// TestDistinctNamesAreAdmitted: names that differ to a reader connect side
// by side, and a look-alike is free again once its holder leaves.
func TestDistinctNamesAreAdmitted(t *testing.T) {
	h, _ := newTestHub(t, Config{})
	for _, n := range []string{"Ana", "Anna", "Alice", "Alicia", "Al ice", "Bob", "Bob (2)", "Bob (3)", "か", "が", "सुमन", "समन"} {
		c, _ := connect(t, h, n)
		if got := c.Member().Name; got != n {
			t.Errorf("connected as %q, got the name %q", n, got)
		}
	}
	// Accents do not distinguish names: José is Jose.
	connect(t, h, "José")
	if _, p := h.Connect(guestHello("Jose"), &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
		t.Errorf("Jose next to José: %v, want name_taken", p)
	}

	// The member gets the cleaned name; leaving frees its key.
	c, _ := connect(t, h, "\uFF23a\u200Bio")
	if got := c.Member().Name; got != "Caio" {
		t.Errorf("member name %+q, want Caio", got)
	}
	c.Disconnect()
	connect(t, h, "C\u0430io") // Cyrillic а: free now
}

// TestHostNamesAreReserved: the host's display name and the name the host
// role connected under are refused to guests, also while the host is away,
// and allowed with the host token.
func TestHostNamesAreReserved(t *testing.T) {
	h, _ := newTestHub(t, Config{HostName: "relhost", HostToken: "secret"})
	for _, n := range []string{"relhost", "RELHOST", "r\u0435lhost", "relhost\u200B", "re1host"} {
		_, p := h.Connect(guestHello(n), &fakeSink{})
		if p == nil || p.Code != protocol.CodeNameTaken || !strings.Contains(p.Message, "belongs to the host") {
			t.Errorf("guest %+q: %v, want name_taken (belongs to the host)", n, p)
		}
	}
	// A wrong token is a guest.
	bad := guestHello("relhost")
	bad.HostToken = "guess"
	if _, p := h.Connect(bad, &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
		t.Errorf("wrong token: %v, want name_taken", p)
	}

	host := guestHello("relhost")
	host.HostToken = "secret"
	c, p := h.Connect(host, &fakeSink{})
	if p != nil {
		t.Fatalf("host under its display name: %v", p)
	}
	if m := c.Member(); m.Role != protocol.RoleHost || m.Name != "relhost" {
		t.Fatalf("host member %+v", m)
	}
	c.Disconnect()

	// The host role under another name: reserved while the host is away.
	host.Name = "Teacher"
	c, p = h.Connect(host, &fakeSink{})
	if p != nil {
		t.Fatalf("host as Teacher: %v", p)
	}
	if _, p := h.Connect(guestHello("T\u0435acher"), &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
		t.Errorf("look-alike of the connected host: %v, want name_taken", p)
	}
	c.Disconnect()
	for _, n := range []string{"Teacher", "teacher", "T\u0435acher"} {
		_, p := h.Connect(guestHello(n), &fakeSink{})
		if p == nil || p.Code != protocol.CodeNameTaken || !strings.Contains(p.Message, "belongs to the host") {
			t.Errorf("guest %+q while the host is away: %v, want name_taken (belongs to the host)", n, p)
		}
	}
	if _, p := h.Connect(host, &fakeSink{}); p != nil {
		t.Fatalf("host back as Teacher: %v", p)
	}

	// Only the last name is reserved; the display name always is.
	h2, _ := newTestHub(t, Config{HostName: "relhost", HostToken: "secret"})
	host.Name = "Teacher"
	c, _ = h2.Connect(host, &fakeSink{})
	c.Disconnect()
	host.Name = "Prof"
	c, _ = h2.Connect(host, &fakeSink{})
	c.Disconnect()
	connect(t, h2, "Teacher")
	for _, n := range []string{"Prof", "relhost"} {
		if _, p := h2.Connect(guestHello(n), &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
			t.Errorf("guest %q: %v, want name_taken", n, p)
		}
	}
}

// TestDefaultHostNameIsReserved: without a configured display name the host
// is "lanchat", and that is reserved too.
func TestDefaultHostNameIsReserved(t *testing.T) {
	h, _ := newTestHub(t, Config{})
	if _, p := h.Connect(guestHello("LanChat"), &fakeSink{}); p == nil || p.Code != protocol.CodeNameTaken {
		t.Errorf("guest LanChat: %v, want name_taken", p)
	}
}
