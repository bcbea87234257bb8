package protocol

// A large room's member list: a room with more members than Limits.FullList
// is large. Its joined and presence frames carry the member count and only
// the hosts and co-hosts (and, in joined, the member itself), marked
// Partial; a client asks for the rest with a members query. A room that
// shrinks back to half of FullList or fewer is small again: the host then
// pushes every member a complete members frame (Partial false, no Query),
// and presence carries every member's change from there on.

// TypeMembers is a members query (client) and its answer (server).
const TypeMembers = "members"

// MembersQueryMax is the most members one answer holds.
const MembersQueryMax = 200

// MembersQuery asks for members of a room the client is in whose name
// contains Query (compared as names are for uniqueness: case, width and
// look-alikes folded). An empty Query lists members from the start of the
// list. Limit defaults to 50 and is capped at MembersQueryMax.
type MembersQuery struct {
	Type  string `json:"type"`
	Room  string `json:"room"`
	Query string `json:"query,omitempty"`
	Limit int    `json:"limit,omitempty"`
}

// MembersList answers a MembersQuery (Partial true, Query echoed), or, pushed
// by the host with Partial false, is a room's complete member list that
// replaces the client's. Members are hosts and co-hosts first, then by name.
// Count is the room's member count.
type MembersList struct {
	Type    string   `json:"type"`
	Room    string   `json:"room"`
	Query   string   `json:"query,omitempty"`
	Members []Member `json:"members"`
	Count   int      `json:"count"`
	Partial bool     `json:"partial,omitempty"`
}

func (MembersQuery) FrameType() string { return TypeMembers }
func (MembersList) FrameType() string  { return TypeMembers }

func init() { RegisterClientFrame(MembersQuery{}) }
