package host

import "testing"

// A host renamed while it runs says its new name in /api/info and in its
// LAN announcement, without a restart.
func TestRenamedHostSaysSo(t *testing.T) {
	h := runHost(t, Config{Name: "root"})
	if h.Server.Info().Name != "root" || h.own().Name != "root" {
		t.Fatalf("before: info %q, announcement %q", h.Server.Info().Name, h.own().Name)
	}
	if _, p := h.Hub.SetHostName("Sala da Prof. Ana"); p != nil {
		t.Fatal(p)
	}
	if h.Server.Info().Name != "Sala da Prof. Ana" || h.own().Name != "Sala da Prof. Ana" {
		t.Fatalf("after: info %q, announcement %q", h.Server.Info().Name, h.own().Name)
	}
}
