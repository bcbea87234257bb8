package discovery

import (
	"fmt"
	"strings"
)

// FormatEvent renders an event as one line for `lanchat serve --peers`:
//
//	added 3f2a9c0d1b2e4f5a 10.0.0.7:47800 self=no mdns=yes manual=no members=2 rooms=4 code=no name=Ana's laptop
//
// The fields are space-separated; name comes last and may hold spaces.
func FormatEvent(e Event) string {
	p := e.Peer
	yn := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	id, addr := p.ID, p.Addr
	if id == "" {
		id = "-"
	}
	if addr == "" {
		addr = "-"
	}
	return fmt.Sprintf("%s %s %s self=%s mdns=%s manual=%s members=%d rooms=%d code=%s name=%s",
		e.Type, id, addr, yn(p.Self), yn(p.MDNS), yn(p.Manual), p.Members, p.Rooms, yn(p.JoinCode),
		strings.ReplaceAll(p.Name, "\n", " "))
}
