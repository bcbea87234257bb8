package protocol

import (
	"strings"
	"testing"
)

func TestCheckPinAndAnnouncement(t *testing.T) {
	for _, tc := range []struct {
		c    Control
		code string
	}{
		{Control{Action: ActionPin, Room: "lobby", Seq: 3, Flag: true}, ""},
		{Control{Action: ActionPin, Room: "lobby"}, ""}, // unpin
		{Control{Action: ActionPin, Room: " ", Seq: 3, Flag: true}, CodeBadControl},
		{Control{Action: ActionPin, Room: "lobby", Flag: true}, CodeBadControl},
	} {
		p := CheckPin(tc.c)
		if (p == nil) != (tc.code == "") || (p != nil && (p.Code != tc.code || p.Ref != ActionPin)) {
			t.Errorf("CheckPin(%+v) = %v, want %q", tc.c, p, tc.code)
		}
	}
	for _, tc := range []struct {
		text, code string
	}{
		{"Intervalo de 10 minutos", ""},
		{" \n ", CodeEmptyText},
		{strings.Repeat("a", 101), CodeTextTooLong},
	} {
		p := CheckAnnouncement(tc.text, 100)
		if (p == nil) != (tc.code == "") || (p != nil && (p.Code != tc.code || p.Ref != ActionAnnounce)) {
			t.Errorf("CheckAnnouncement(%q) = %v, want %q", tc.text, p, tc.code)
		}
	}
}
