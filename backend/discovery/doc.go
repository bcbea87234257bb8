// Package discovery keeps the list of lanchat hosts on the LAN: it
// advertises this host and browses for others over mDNS (through the small
// Advertiser and Browser interfaces; backend/discovery/mdns adapts
// zeroconf), checks that every listed peer still answers (mDNS itself never
// reliably reports departures), remembers hosts added by address, and
// explains what it sees in a diagnosis. It serves GET /api/peers,
// POST /api/peers and GET /api/discovery.
//
// # The advertisement
//
// A host registers the DNS-SD service _lanchat._tcp on the interfaces it
// chose (see iface.go: loopback, container and VPN interfaces are skipped
// unless named), with the instance name made from its display name by
// InstanceName (a clash becomes "name (2)") and the host name
// "lanchat-<id>". Its TXT strings (Own.TXT) are:
//
//	txtvers=1   the version of this TXT layout
//	proto=N     the wire protocol version of the room server (docs/protocol.md)
//	id=ID       the host's id: stable across restarts (kept in the data dir); peers
//	            are deduplicated by it, never by name or address
//	name=NAME   the display name, as people wrote it
//	members=N   members connected now
//	rooms=N     rooms listed
//	code=0|1    1 when a join code is needed (the code itself never travels)
//	ver=V       the application's version
//
// A change of name, members, rooms or code is announced again, at most every
// Timing.AnnounceMin (2 s). Keys are read case-insensitively; unknown keys
// are ignored, and a record without id is not listed.
//
// # Liveness
//
// mDNS announces arrivals but not departures reliably (zeroconf drops
// goodbyes, and a host that loses power sends none), so the list trusts a
// peer only while its own server answers:
//
//   - every listed peer's GET /api/info is probed every Timing.ProbeEvery
//     (1 s), with Timing.ProbeTimeout (1 s); a failed probe is retried after
//     Timing.RetryAfter (250 ms);
//   - Timing.RefusedLimit (2) refused probes in a row, or Timing.FailLimit
//     (3) failures of any kind in a row, drop the peer; a single lost probe
//     never does;
//   - the id a probe answers with is the peer's identity: an entry whose
//     address now answers with another id is filed under that id (merged
//     with an entry already listed for it), and one that answers with this
//     host's own id is dropped;
//   - browsing starts afresh every Timing.Rebrowse (5 s), and the interface
//     table is read every Timing.IfacePoll (3 s), so a new link or address is
//     picked up without a restart;
//   - hosts added by address (remembered in the data dir) are probed the
//     same way and, while unreachable, retried every Timing.ManualRetry (5 s);
//   - a clean shutdown sends the DNS-SD goodbye; a peer that sees one probes
//     that host at once instead of at its next turn.
package discovery
