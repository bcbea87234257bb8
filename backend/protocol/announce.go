package protocol

import "strings"

// Pinned messages and announcements.
//
// A host (or co-host) pins one message at the top of a room with the
// control action "pin"; the room's members get a Pinned frame, and every
// joiner finds it in Joined.Pinned. An announcement (control action
// "announce") goes to every connected member of the host, in whatever rooms
// they are; a member who connects later finds the newest ones in
// Welcome.Announcements.

const (
	TypePinned       = "pinned"       // server: a room's pinned message changed
	TypeAnnouncement = "announcement" // server: the host announced something to everyone
)

// Control actions for pins and announcements (host and co-hosts).
const (
	ActionPin      = "pin"      // room, seq, flag: pin message seq (true) or unpin (false)
	ActionAnnounce = "announce" // text: an announcement to every member
)

// MaxAnnouncements is how many announcements a host keeps for the members
// who connect later (Welcome.Announcements), the newest last.
const MaxAnnouncements = 3

// Pinned tells a room's members what is pinned there now. Message is the
// pinned message as it was when pinned; absent, nothing is pinned (it was
// unpinned, or the pinned message was deleted). By is who pinned or unpinned
// it (absent when a deletion unpinned it).
type Pinned struct {
	Type    string   `json:"type"`
	Room    string   `json:"room"`
	Message *Message `json:"message,omitempty"`
	By      *Member  `json:"by,omitempty"`
}

// Announcement is the host's word to every member. ID is unique per
// announcement, so a client that sees one twice (in a welcome and live)
// shows it once.
type Announcement struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	From Member `json:"from"`
	Text string `json:"text"`
	TS   int64  `json:"ts"`
}

func (Pinned) FrameType() string       { return TypePinned }
func (Announcement) FrameType() string { return TypeAnnouncement }

// CheckAnnouncement checks an announcement's text as a message's (not
// blank, at most max bytes) and gives the refusal the action as its ref.
func CheckAnnouncement(text string, max int) *Problem {
	if p := CheckText(text, max); p != nil {
		return p.WithRef(ActionAnnounce)
	}
	return nil
}

// CheckPin checks a pin control's fields: a room, and a seq when pinning.
func CheckPin(f Control) *Problem {
	if strings.TrimSpace(f.Room) == "" {
		return Errorf(CodeBadControl, "pin needs a room").WithRef(ActionPin)
	}
	if f.Flag && f.Seq == 0 {
		return Errorf(CodeBadControl, "pin needs the seq of the message to pin").WithRef(ActionPin)
	}
	return nil
}
