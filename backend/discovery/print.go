package discovery

import (
	"fmt"
	"strings"

	"lanchat/backend/identity"
)

// FormatEvent renders an event as one line for `lanchat serve --peers`:
//
//	added 3f2a9c0d1b2e4f5a 10.0.0.7:47800 self=no mdns=yes manual=no members=2 rooms=4 code=no trust=pinned key=WZEM-HNWH-OPSF-32SP name=Ana's laptop
//
// The fields are space-separated; name comes last and may hold spaces.
// trust and key (the short fingerprint) are there when the peer proved a
// key, or its key changed.
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
	trust := ""
	if p.Trust != "" {
		trust = " trust=" + p.Trust + " key=" + identity.Short(p.Fingerprint)
	}
	return fmt.Sprintf("%s %s %s self=%s mdns=%s manual=%s members=%d rooms=%d code=%s%s name=%s",
		e.Type, id, addr, yn(p.Self), yn(p.MDNS), yn(p.Manual), p.Members, p.Rooms, yn(p.JoinCode), trust,
		strings.ReplaceAll(p.Name, "\n", " "))
}
