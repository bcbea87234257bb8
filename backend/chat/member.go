package chat

import (
	"sync"
	"sync/atomic"

	"lanchat/backend/protocol"
)

// Member is one person on the host. Its fields are the hub's: transports
// hold it as an opaque handle.
type Member struct {
	id       string
	name     string
	nameKey  string // protocol.NameKey(name), for matching
	sortKey  string // the name in lower case, for ordering lists
	box      string // the box of a member of another box; "" for this box's
	role     string
	session  string
	filesKey string // for uploads and downloads (Welcome.FilesKey)
	identity string // stable for a name on one device; keys mutes, bans, co-hosts and DMs
	device   string
	muted    bool
	// standing guards role and muted: they change under Hub.mu (with
	// setStanding) once the member is known, and public reads them under a
	// room's lock alone too.
	standing sync.Mutex

	// conn is the member's current connection (nil once gone). Hub.mu
	// serialises its changes; fan-outs read it under a room's lock alone.
	conn atomic.Pointer[Conn]
	// guarded by Hub.mu
	rooms []string // room keys, join order
}

func (m *Member) public() protocol.Member {
	m.standing.Lock()
	defer m.standing.Unlock()
	return protocol.Member{ID: m.id, Name: m.name, Role: m.role, Muted: m.muted}
}

// setStanding changes the member's role and mute. Hub.mu is held.
func (m *Member) setStanding(role string, muted bool) {
	m.standing.Lock()
	defer m.standing.Unlock()
	m.role, m.muted = role, muted
}

// send queues o for the member's connection, if it has one.
func (m *Member) send(o *Out) {
	if c := m.conn.Load(); c != nil {
		c.sink.Send(o)
	}
}

// close asks the member's connection, if any, to end with p.
func (m *Member) close(p *protocol.Problem) {
	if c := m.conn.Load(); c != nil {
		c.sink.Close(p)
	}
}

// isHost reports whether the member holds the host or co-host role.
func (m *Member) isHost() bool { return m.role == protocol.RoleHost || m.role == protocol.RoleCohost }
