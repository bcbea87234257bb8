package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Name and room limits.
const (
	MaxNameRunes     = 32
	MaxRoomRunes     = 32
	MaxClientIDBytes = 64
)

// CleanName trims a display name and checks it: 1–32 characters after
// trimming, no control or format characters. It returns the trimmed name.
func CleanName(name string) (string, *Problem) {
	n := strings.TrimSpace(name)
	if n == "" {
		return "", Errorf(CodeBadName, "the name is empty")
	}
	if utf8.RuneCountInString(n) > MaxNameRunes {
		return "", Errorf(CodeBadName, "the name is longer than %d characters", MaxNameRunes)
	}
	for _, r := range n {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return "", Errorf(CodeBadName, "the name contains a control character")
		}
	}
	return n, nil
}

// NameKey is the case-insensitive key under which names must be unique.
func NameKey(name string) string {
	return strings.ToLower(strings.TrimSpace(name))
}

// CleanRoom trims a room name and checks it: 1–32 characters of letters,
// digits, spaces, '-', '_' or '.'. Room names are case-insensitive: RoomKey
// gives the key.
func CleanRoom(room string) (string, *Problem) {
	r := strings.TrimSpace(room)
	if r == "" {
		return "", &Problem{Code: CodeBadRoomName, Message: "the room name is empty", Ref: room}
	}
	if utf8.RuneCountInString(r) > MaxRoomRunes {
		return "", &Problem{Code: CodeBadRoomName, Message: "the room name is too long", Ref: room}
	}
	for _, c := range r {
		if !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == ' ' || c == '-' || c == '_' || c == '.') {
			return "", &Problem{Code: CodeBadRoomName, Message: "room names use letters, digits, spaces, '-', '_' and '.'", Ref: room}
		}
	}
	return r, nil
}

// RoomKey is the case-insensitive key of a room name.
func RoomKey(room string) string {
	return strings.ToLower(strings.TrimSpace(room))
}

// CheckText checks a message text against the host's limit (in bytes of UTF-8).
// Text is delivered as sent; it is never interpreted as markup.
func CheckText(text string, max int) *Problem {
	if strings.TrimSpace(text) == "" {
		return Errorf(CodeEmptyText, "the message is empty")
	}
	if len(text) > max {
		return Errorf(CodeTextTooLong, "the message is longer than %d bytes", max)
	}
	return nil
}

// CheckClientID checks a client-chosen message id.
func CheckClientID(id string) *Problem {
	if id == "" || len(id) > MaxClientIDBytes {
		return Errorf(CodeBadClientID, "client_id must be 1–%d bytes", MaxClientIDBytes)
	}
	return nil
}
