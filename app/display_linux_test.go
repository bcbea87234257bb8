package app

import "testing"

func TestCheckDisplay(t *testing.T) {
	for _, tc := range []struct {
		display, wayland string
		ok               bool
	}{
		{"", "", false},
		{":0", "", true},
		{"", "wayland-0", true},
	} {
		t.Setenv("DISPLAY", tc.display)
		t.Setenv("WAYLAND_DISPLAY", tc.wayland)
		if err := checkDisplay(); (err == nil) != tc.ok {
			t.Errorf("DISPLAY=%q WAYLAND_DISPLAY=%q: %v", tc.display, tc.wayland, err)
		}
	}
}
