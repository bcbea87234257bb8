// Package protocol defines lanchat's wire protocol v1: JSON text frames over
// WebSocket at /ws. docs/protocol.md documents it; a golden test keeps the two
// in step.
//
// Every frame is a JSON object with a "type" field. A server text frame may
// carry several frames separated by "\n" (JSON never contains a raw newline),
// so a client must split on "\n" before decoding.
package protocol

// Version is the protocol version this build speaks.
const Version = 1

// Frame types sent by clients.
const (
	TypeHello      = "hello"
	TypeJoin       = "join"
	TypeLeave      = "leave"
	TypeSend       = "send"
	TypeTyping     = "typing"
	TypeCreateRoom = "create_room"
)

// Frame types sent by the server. TypeTyping is used in both directions.
const (
	TypeWelcome  = "welcome"
	TypeJoined   = "joined"
	TypeLeft     = "left"
	TypeAck      = "ack"
	TypeMessage  = "message"
	TypePresence = "presence"
	TypeRooms    = "rooms"
	TypeError    = "error"
)

// Frame is any protocol message. FrameType returns the value of its "type".
type Frame interface {
	FrameType() string
}

// Hello is the first frame a client sends.
type Hello struct {
	Type    string  `json:"type"`
	Version int     `json:"version"`
	Name    string  `json:"name"`
	Resume  *Resume `json:"resume,omitempty"`
	// JoinCode is required when the host asks for one (welcome.limits and /api/info say so).
	JoinCode string `json:"join_code,omitempty"`
	// HostToken proves the host role; only the host's own desktop app knows it.
	HostToken string `json:"host_token,omitempty"`
	// Device is a stable, client-chosen random id used for device bans.
	Device string `json:"device,omitempty"`
}

// Resume carries what a reconnecting client already has.
type Resume struct {
	// Session is the token from a previous welcome. If its connection is
	// still open on the server (a network blip the server has not noticed),
	// the new connection takes over that member.
	Session string `json:"session,omitempty"`
	// Rooms maps each room the client was in to the last seq it saw there.
	Rooms map[string]uint64 `json:"rooms,omitempty"`
}

// Welcome answers a valid hello.
type Welcome struct {
	Type    string     `json:"type"`
	Version int        `json:"version"`
	Host    HostInfo   `json:"host"`
	Member  Member     `json:"member"`
	Session string     `json:"session"`
	Limits  Limits     `json:"limits"`
	Rooms   []RoomInfo `json:"rooms"`
	// Epoch names the host's history: it changes only when that history
	// starts over (a host without a data dir restarted, or its database was
	// replaced). Seqs a client remembers are meaningful only under the epoch
	// it saw them with.
	Epoch string `json:"epoch,omitempty"`
	// GoneRooms are the rooms named in hello.resume.rooms that the client
	// cannot resume (they no longer exist, or never did), sorted. Each is
	// reported here once, never with an error frame of its own.
	GoneRooms []string `json:"gone_rooms,omitempty"`
	// Boxes are the other boxes of this host's cluster (their join links,
	// "http://10.0.0.2:47800/"), when it is one: a client that loses this
	// box resumes on one of them, with the same name and seqs.
	Boxes []string `json:"boxes,omitempty"`
	// FilesKey is the member's key for uploads and downloads (see
	// UploadPath and FilePath). It is good for as long as the member is
	// connected, and changes with the session.
	FilesKey string `json:"files_key,omitempty"`
	// Announcements are the host's newest announcements (at most
	// MaxAnnouncements), oldest first, for a member who was not there when
	// they were made.
	Announcements []Announcement `json:"announcements,omitempty"`
}

// HostInfo names the host a client is connected to.
type HostInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Member is one connected person.
type Member struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Role  string `json:"role,omitempty"`
	Muted bool   `json:"muted,omitempty"`
}

// Roles a member can hold. A member without a role is a guest.
const (
	RoleHost   = "host"
	RoleCohost = "cohost"
)

// Limits tells a client what the server accepts.
type Limits struct {
	MaxText        int  `json:"max_text"`
	MaxFrame       int  `json:"max_frame"`
	RatePerSecond  int  `json:"rate_per_second"`
	RateBurst      int  `json:"rate_burst"`
	History        int  `json:"history"`
	TypingMillis   int  `json:"typing_ms"`
	PingSeconds    int  `json:"ping_seconds"`
	CanCreateRooms bool `json:"can_create_rooms"`
	JoinCode       bool `json:"join_code"`
	// FullList is the largest room whose member list the host sends in
	// full; larger rooms are large (see MembersList).
	FullList int `json:"full_list"`
	// MaxFile is the largest file the host takes, in bytes; Uploads says
	// who may upload (UploadsEveryone, UploadsHosts or UploadsNobody).
	// Both are absent from a host that takes no files.
	MaxFile int64  `json:"max_file,omitempty"`
	Uploads string `json:"uploads,omitempty"`
	// Search is true when the host answers search frames.
	Search bool `json:"search,omitempty"`
	// EditSeconds is how long after sending a member may edit a message
	// (0: not at all); Polls says who may post polls (PollsHosts or
	// PollsEveryone).
	EditSeconds int    `json:"edit_seconds"`
	Polls       string `json:"polls"`
}

// RoomInfo is one entry of the rooms list.
type RoomInfo struct {
	Name    string `json:"name"`
	Members int    `json:"members"`
	Topic   string `json:"topic,omitempty"`
	// Locked: only hosts post. Announcements rooms are always locked.
	Locked        bool `json:"locked,omitempty"`
	Announcements bool `json:"announcements,omitempty"`
	SlowSeconds   int  `json:"slow_seconds,omitempty"`
}

// Join asks to enter a room. Since, when set, is the last seq the client has
// seen there; the server then sends exactly the messages after it.
type Join struct {
	Type  string  `json:"type"`
	Room  string  `json:"room"`
	Since *uint64 `json:"since,omitempty"`
}

// Joined confirms a join and carries the room's state.
type Joined struct {
	Type    string    `json:"type"`
	Room    string    `json:"room"`
	Members []Member  `json:"members"`
	History []Message `json:"history"`
	// LastSeq is the room's newest seq at the time of joining.
	LastSeq uint64 `json:"last_seq"`
	// Truncated is true when the client asked for messages (or the default
	// history window reaches back further than) the host still keeps; History
	// then starts at FirstKept.
	Truncated bool   `json:"truncated,omitempty"`
	FirstKept uint64 `json:"first_kept,omitempty"`
	// Epoch is the host's history epoch, as in Welcome.
	Epoch string `json:"epoch,omitempty"`
	// Count is the room's member count, the joining member included. In a
	// large room (see MembersList) Members holds only the hosts, co-hosts
	// and the member itself, and Partial is true.
	Count   int  `json:"count"`
	Partial bool `json:"partial,omitempty"`
	// Pinned is the message pinned at the top of the room, if any, as it
	// was when pinned (see Pinned).
	Pinned *Message `json:"pinned,omitempty"`
}

// Leave asks to leave a room. The lobby cannot be left.
type Leave struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

// Left confirms a leave.
type Left struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

// Send posts a message. ClientID is chosen by the client, unique per message;
// resending the same ClientID never delivers twice and returns the first ack.
type Send struct {
	Type     string `json:"type"`
	Room     string `json:"room"`
	ClientID string `json:"client_id"`
	Text     string `json:"text"`
	// Attachments are the ids of finished uploads of this member (the last
	// element of each upload's URL), at most MaxAttachments. A message
	// with attachments may have empty text.
	Attachments []string `json:"attachments,omitempty"`
	// ReplyTo is the seq of the message of the same room this one answers.
	ReplyTo uint64 `json:"reply_to,omitempty"`
}

// Ack confirms that a Send was accepted (and stored) with its seq.
type Ack struct {
	Type     string `json:"type"`
	ClientID string `json:"client_id"`
	Room     string `json:"room"`
	Seq      uint64 `json:"seq"`
	ID       string `json:"id"`
	TS       int64  `json:"ts"`
}

// Message is a chat message delivered to a room. Seq is a per-room gapless
// counter starting at 1. TS is milliseconds since the Unix epoch.
type Message struct {
	Type     string `json:"type"`
	Room     string `json:"room"`
	Seq      uint64 `json:"seq"`
	ID       string `json:"id"`
	From     Member `json:"from"`
	Text     string `json:"text"`
	TS       int64  `json:"ts"`
	ClientID string `json:"client_id,omitempty"`
	// Attachments are the message's files; a tombstone has none.
	Attachments []Attachment `json:"attachments,omitempty"`
	// Deleted marks a tombstone: the text is gone.
	Deleted bool `json:"deleted,omitempty"`
	// ReplyTo is the seq of the message this one answers (a message), and
	// ReplyFrom that message's author as it was sent.
	ReplyTo   uint64  `json:"reply_to,omitempty"`
	ReplyFrom *Member `json:"reply_from,omitempty"`
	// Target is the seq of the message an event acts on (a reaction, an
	// edit, a vote, a poll's closing: see IsEvent).
	Target uint64 `json:"target,omitempty"`
	// Emoji and Remove are a reaction's.
	Emoji  string `json:"emoji,omitempty"`
	Remove bool   `json:"remove,omitempty"`
	// Options are a poll's answers; Option is a vote's choice (0-based).
	Options []string `json:"options,omitempty"`
	Option  *int     `json:"option,omitempty"`
	// Counts are a closed poll's votes per option (poll_closed).
	Counts []int `json:"counts,omitempty"`
}

// Typing from a client says "I am typing in Room"; from the server it says
// that From is typing there. The server relays at most one per member and
// room per Limits.TypingMillis.
type Typing struct {
	Type string  `json:"type"`
	Room string  `json:"room"`
	From *Member `json:"from,omitempty"`
}

// Presence events.
const (
	EventJoined       = "joined"
	EventLeft         = "left"
	EventDisconnected = "disconnected"
	EventRemoved      = "removed" // the host removed (kicked or banned) the member
)

// Presence tells a room who joined, left or disconnected since its previous
// presence frame. The host gathers a room's changes for a short window
// (PresenceWindow) and sends them as one frame, with at most one change per
// member: the latest. Applied in order to the member list of joined (or of
// the previous presence), the changes give the room's list as it is now.
type Presence struct {
	Type    string           `json:"type"`
	Room    string           `json:"room"`
	Changes []PresenceChange `json:"changes"`
	TS      int64            `json:"ts"`
	// Count is the room's member count after the changes. Partial marks a
	// large room's presence: Changes then hold only hosts' and co-hosts'
	// changes (possibly none), and the count is the news.
	Count   int  `json:"count"`
	Partial bool `json:"partial,omitempty"`
}

// PresenceChange is one member's change: an Event and the member.
type PresenceChange struct {
	Event  string `json:"event"`
	Member Member `json:"member"`
}

// Rooms is the rooms list with member counts, pushed whenever it changes.
type Rooms struct {
	Type  string     `json:"type"`
	Rooms []RoomInfo `json:"rooms"`
}

// CreateRoom asks for a new room, when the host allows members to create them.
type CreateRoom struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

// Error refuses an action. Ref is the client_id or room of the refused
// frame, when it had one.
type Error struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
	Ref     string `json:"ref,omitempty"`
}

func (Hello) FrameType() string   { return TypeHello }
func (Welcome) FrameType() string { return TypeWelcome }
func (Join) FrameType() string    { return TypeJoin }
func (Joined) FrameType() string  { return TypeJoined }
func (Leave) FrameType() string   { return TypeLeave }
func (Left) FrameType() string    { return TypeLeft }
func (Send) FrameType() string    { return TypeSend }
func (Ack) FrameType() string     { return TypeAck }

// FrameType of a message is its Type: a room's log holds messages and the
// events of conversations (see IsEvent), all carried as Message.
func (m Message) FrameType() string {
	if m.Type != "" {
		return m.Type
	}
	return TypeMessage
}
func (Typing) FrameType() string     { return TypeTyping }
func (Presence) FrameType() string   { return TypePresence }
func (Rooms) FrameType() string      { return TypeRooms }
func (CreateRoom) FrameType() string { return TypeCreateRoom }
func (Error) FrameType() string      { return TypeError }
