package protocol

import "fmt"

// Error codes. The list is stable: clients map codes to words in their own
// language, so a code is never renamed or reused. docs/protocol.md lists them.
const (
	CodeBadFrame          = "bad_frame"           // not a JSON object, invalid UTF-8, or a field of the wrong type
	CodeUnknownType       = "unknown_type"        // a "type" the server does not know
	CodeHelloRequired     = "hello_required"      // the first frame was not hello
	CodeAlreadyHello      = "already_hello"       // a second hello on one connection
	CodeVersion           = "version_unsupported" // hello.version is not one the server speaks
	CodeBadName           = "bad_name"            // empty, too long, or control characters
	CodeNameTaken         = "name_taken"          // someone on this host already uses that name
	CodeBadRoomName       = "bad_room_name"       // a room name that cannot exist
	CodeNoSuchRoom        = "no_such_room"        // join/leave/send/typing for a room that does not exist
	CodeNotInRoom         = "not_in_room"         // send/typing/leave in a room the member has not joined
	CodeCannotLeaveLobby  = "cannot_leave_lobby"  // leave of the lobby
	CodeRoomExists        = "room_exists"         // create_room of a name in use
	CodeRoomCreateOff     = "room_create_disabled"
	CodeBadClientID       = "bad_client_id" // missing or longer than 64 bytes
	CodeEmptyText         = "empty_text"
	CodeTextTooLong       = "text_too_long"
	CodeRateLimited       = "rate_limited"
	CodeServerFull        = "server_full"
	CodeTooManyRooms      = "too_many_rooms"
	CodeShuttingDown      = "shutting_down"
	CodeReplaced          = "replaced" // the same session connected again elsewhere
	CodeSlowConsumer      = "slow_consumer"
	CodeInternal          = "internal"
	CodeForbidden         = "forbidden"
	CodeJoinCodeRequired  = "join_code_required"
	CodeJoinCodeWrong     = "join_code_wrong"
	CodeJoinCodeThrottled = "join_code_throttled"
	CodeMuted             = "muted"          // a muted member tried to send
	CodeRoomLocked        = "room_locked"    // only hosts post in this room
	CodeSlowMode          = "slow_mode"      // wait before sending again in this room
	CodeKicked            = "kicked"         // the host removed this member; close code 4001
	CodeBanned            = "banned"         // banned from this host for this session; close code 4003
	CodeNoSuchMember      = "no_such_member" // a control or dm for a member who is not here
	CodeNoSuchMessage     = "no_such_message"
	CodeBadControl        = "bad_control"  // an unknown action or missing field
	CodeNoSuchFile        = "no_such_file" // an attachment that is not a finished upload of this member
	CodeUploadsOff        = "uploads_off"  // the host does not take files from this member
	CodeFileTooLarge      = "file_too_large"
	CodeFilesFull         = "files_full"   // the host's space for files is used up
	CodeBadQuery          = "bad_query"    // a search that is blank or too long, or a history query without a seq
	CodeSearchOff         = "search_off"   // this host cannot search messages (a cluster box)
	CodeBadReaction       = "bad_reaction" // a reaction that is not one emoji
	CodeBadPoll           = "bad_poll"     // a poll without 2–6 options, or a vote for no option
	CodeEditExpired       = "edit_expired" // the time to edit that message is over
	CodePollClosed        = "poll_closed"  // a vote in a closed poll
)

// Codes lists every error code, in the order docs/protocol.md gives them.
var Codes = []string{
	CodeBadFrame, CodeUnknownType, CodeHelloRequired, CodeAlreadyHello, CodeVersion,
	CodeBadName, CodeNameTaken, CodeBadRoomName, CodeNoSuchRoom, CodeNotInRoom,
	CodeCannotLeaveLobby, CodeRoomExists, CodeRoomCreateOff, CodeBadClientID,
	CodeEmptyText, CodeTextTooLong, CodeRateLimited, CodeServerFull, CodeTooManyRooms,
	CodeShuttingDown, CodeReplaced, CodeSlowConsumer, CodeInternal, CodeForbidden,
	CodeJoinCodeRequired, CodeJoinCodeWrong, CodeJoinCodeThrottled,
	CodeMuted, CodeRoomLocked, CodeSlowMode, CodeKicked, CodeBanned,
	CodeNoSuchMember, CodeNoSuchMessage, CodeBadControl,
	CodeNoSuchFile, CodeUploadsOff, CodeFileTooLarge, CodeFilesFull,
	CodeBadQuery, CodeSearchOff,
	CodeBadReaction, CodeBadPoll, CodeEditExpired, CodePollClosed,
}

// Problem is a refusal with a stable code. It is an error, and it becomes an
// Error frame on the wire.
type Problem struct {
	Code    string
	Message string
	Ref     string
}

func (p *Problem) Error() string { return p.Code + ": " + p.Message }

// Frame turns the problem into the Error frame sent to the client.
func (p *Problem) Frame() Error {
	return Error{Type: TypeError, Code: p.Code, Message: p.Message, Ref: p.Ref}
}

// Errorf makes a Problem with a formatted message.
func Errorf(code, format string, args ...any) *Problem {
	return &Problem{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithRef returns a copy of p that refers to ref.
func (p *Problem) WithRef(ref string) *Problem {
	q := *p
	q.Ref = ref
	return &q
}
