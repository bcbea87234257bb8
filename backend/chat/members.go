package chat

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"lanchat/backend/protocol"
)

// Large rooms: a room of more than Config.FullList members sends its count
// and its hosts, not everyone's changes, so that N members joining cost
// O(N) bytes per member and not O(N²). Members ask for the rest by name
// (protocol.MembersQuery).

// LargeWindow is the shortest time between two presence frames of a large
// room, and between two rooms lists while the host has more than FullList
// members.
const LargeWindow = time.Second

// resizedLocked makes the room large when it grew past FullList, and small
// again when it shrank to half of that; a room turning small pushes its
// complete list to every member, which stands for the changes not yet told.
// It reports whether it pushed. r.mu is held.
func (h *Hub) resizedLocked(r *room) bool {
	n := len(r.members)
	switch {
	case !r.large && n > h.cfg.FullList:
		r.large = true
		// Guests' changes not yet told stay untold: the count says them.
		r.presence = slices.DeleteFunc(r.presence, func(c protocol.PresenceChange) bool {
			return c.Member.Role != protocol.RoleHost && c.Member.Role != protocol.RoleCohost
		})
	case r.large && n <= h.cfg.FullList/2:
		r.large = false
		r.presence, r.counted = nil, false
		h.fanoutLocked(r, NewOut(protocol.MembersList{Room: r.name, Members: sorted(r.members), Count: n}), nil)
		return true
	}
	return false
}

// listLocked is the member list of a joined frame for m: everyone in a
// small room; the hosts, co-hosts and m in a large one. r.mu is held.
func (r *room) listLocked(m *Member) []protocol.Member {
	if !r.large {
		out := make([]protocol.Member, 0, len(r.members))
		for _, o := range r.members {
			out = append(out, o.public())
		}
		return out
	}
	var some []*Member
	for _, o := range r.members {
		if o == m || o.isHost() {
			some = append(some, o)
		}
	}
	return sorted(some)
}

// sorted returns ms as members answers list them: hosts and co-hosts
// first, then by name.
func sorted(ms []*Member) []protocol.Member {
	ms = slices.Clone(ms)
	rank := func(m *Member) int {
		if m.isHost() {
			return 0
		}
		return 1
	}
	slices.SortFunc(ms, func(a, b *Member) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.sortKey, b.sortKey), cmp.Compare(a.id, b.id))
	})
	out := make([]protocol.Member, 0, len(ms))
	for _, m := range ms {
		out = append(out, m.public())
	}
	return out
}

// members answers a members query for a room the member is in.
func (c *Conn) members(f protocol.MembersQuery) *protocol.Problem {
	r, _, _, p := c.queryRoom(f.Room, "to see who is there")
	if r == nil {
		return p
	}
	limit := queryLimit(f.Limit, 50, protocol.MembersQueryMax)
	want := protocol.NameKey(f.Query)
	r.mu.Lock()
	var found []*Member
	for _, m := range r.members {
		if strings.Contains(m.nameKey, want) {
			found = append(found, m)
		}
	}
	list := protocol.MembersList{Room: r.name, Query: f.Query, Count: len(r.members), Partial: true}
	list.Members = sorted(found)
	list.Members = list.Members[:min(limit, len(list.Members))]
	r.mu.Unlock()
	c.sink.Send(NewOut(list))
	return nil
}

// queryLimit is how many answers a query gets: what it asked for (def when
// it asked for none) up to most.
func queryLimit(asked, def, most int) int {
	if asked <= 0 {
		asked = def
	}
	return min(asked, most)
}

// queryRoom starts a query about a room the member is in (members,
// history): under the hub lock it finds the room, its store key and its
// name, then it takes a token from the rate limit, as a send does. r is nil
// with p nil when this connection is no longer the member's: the query is
// dropped.
func (c *Conn) queryRoom(name, why string) (r *room, key, shown string, p *protocol.Problem) {
	h := c.hub
	unlock, ok := c.lockCurrent(h.mu.Unlock)
	if !ok {
		return nil, "", "", nil
	}
	key, p = h.roomKey(name, c.member)
	if p == nil && !slices.Contains(c.member.rooms, key) {
		p = protocol.Errorf(protocol.CodeNotInRoom, "join %q %s", name, why).WithRef(name)
	}
	if p != nil {
		unlock()
		return nil, "", "", p
	}
	r = h.rooms[key]
	shown = r.name
	unlock()
	if !c.allow() {
		return nil, "", "", protocol.Errorf(protocol.CodeRateLimited, "slow down: at most %d requests per second", h.cfg.RatePerSecond).WithRef(name)
	}
	return r, key, shown, nil
}
