package protocol

// Host controls and private messages.

const (
	TypeControl = "control" // client: a host action
	TypeDM      = "dm"      // client: open a private conversation with a member
	TypeDeleted = "deleted" // server: a message was deleted (tombstone)
	TypeRenamed = "renamed" // server: a room was renamed
	TypeClosed  = "closed"  // server: a room was closed
	TypeMember  = "member"  // server: a member's role or mute changed
	TypeHost    = "host"    // server: the host's display name changed
)

// Control actions. Only members with the host or co-host role may use them,
// except delete_message on one's own message.
const (
	ActionCreateRoom  = "create_room"   // name; flag: an announcements room
	ActionRenameRoom  = "rename_room"   // room, name
	ActionCloseRoom   = "close_room"    // room
	ActionLock        = "lock"          // room, flag: locked or not
	ActionSlowMode    = "slow_mode"     // room, seconds (0 turns it off)
	ActionMute        = "mute"          // member, flag: muted or not
	ActionKick        = "kick"          // member
	ActionBan         = "ban"           // member: banned by name and device for this session
	ActionDelete      = "delete"        // room, seq
	ActionCohost      = "cohost"        // member, flag (host only)
	ActionSetJoinCode = "set_join_code" // name: the code, "" for none (host only)
	ActionSetUploads  = "set_uploads"   // name: UploadsEveryone, UploadsHosts or UploadsNobody (host only)
	// ActionPin and ActionAnnounce are in announce.go.
	ActionSetEdit  = "set_edit"  // seconds: how long authors may edit (0: no edits; host only)
	ActionSetPolls = "set_polls" // name: PollsHosts or PollsEveryone (host only)
)

// Control asks the host to act. Ref is echoed in the error if refused.
type Control struct {
	Type    string `json:"type"`
	Action  string `json:"action"`
	Room    string `json:"room,omitempty"`
	Member  string `json:"member,omitempty"`
	Seq     uint64 `json:"seq,omitempty"`
	Seconds int    `json:"seconds,omitempty"`
	Name    string `json:"name,omitempty"`
	Flag    bool   `json:"flag,omitempty"`
	// Text is an announcement's text (ActionAnnounce).
	Text string `json:"text,omitempty"`
}

// DM opens (or reopens) the private conversation with a member of this
// host. The server answers joined for a private room whose name starts with
// "@"; both members may send there as in any room, with the same ack, seq,
// history and resume rules. Only the two members can join it.
type DM struct {
	Type   string `json:"type"`
	Member string `json:"member"`
}

// Deleted tells a room that a message was deleted. History keeps the
// message as a tombstone: deleted true and no text.
type Deleted struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Seq  uint64 `json:"seq"`
	ID   string `json:"id"`
	By   Member `json:"by"`
}

// Renamed tells everyone that a room has a new name.
type Renamed struct {
	Type string `json:"type"`
	Room string `json:"room"`
	Name string `json:"name"`
}

// Closed tells a room's members that it was closed.
type Closed struct {
	Type string `json:"type"`
	Room string `json:"room"`
}

// HostUpdate tells everyone the host's display name changed.
type HostUpdate struct {
	Type string   `json:"type"`
	Host HostInfo `json:"host"`
}

// MemberUpdate tells everyone a member's role or mute changed.
type MemberUpdate struct {
	Type   string `json:"type"`
	Member Member `json:"member"`
}

func (Control) FrameType() string      { return TypeControl }
func (DM) FrameType() string           { return TypeDM }
func (Deleted) FrameType() string      { return TypeDeleted }
func (Renamed) FrameType() string      { return TypeRenamed }
func (Closed) FrameType() string       { return TypeClosed }
func (MemberUpdate) FrameType() string { return TypeMember }
func (HostUpdate) FrameType() string   { return TypeHost }

func init() {
	RegisterClientFrame(Control{})
	RegisterClientFrame(DM{})
}
