package chat

import (
	"slices"

	"lanchat/backend/protocol"
)

// Files in messages: the hub decides who may upload, which finished uploads
// a send may attach, and who may read a message's file. The bytes are the
// files package's.

// Files is the host's store of finished uploads.
type Files interface {
	// Finished returns the file of upload, if it is a finished upload made
	// by owner (a member identity).
	Finished(owner, upload string) (protocol.Attachment, bool)
	// Attached says a message now carries these uploads' files: from now
	// on only messages keep them.
	Attached(uploads []string)
	// Released says that a message with files was deleted: files that no
	// message uses any more may go. It must not block.
	Released()
}

// filesKeyOf is the member's files key, when the host takes files.
func (h *Hub) filesKeyOf(m *Member) string {
	if h.cfg.Files == nil {
		return ""
	}
	return m.filesKey
}

// Uploader is who may upload with a files key: the member's identity
// (which owns the upload) or why not.
func (h *Hub) Uploader(key string) (string, *protocol.Problem) {
	h.mu.Lock()
	defer h.mu.Unlock()
	m, p := h.fileMemberLocked(key)
	if p != nil {
		return "", p
	}
	if p := h.mayUploadLocked(m.isHost(), m.muted); p != nil {
		return "", p
	}
	return m.identity, nil
}

func (h *Hub) mayUploadLocked(host, muted bool) *protocol.Problem {
	if h.cfg.Files == nil {
		return protocol.Errorf(protocol.CodeUploadsOff, "this host does not take files")
	}
	switch {
	case h.uploads == protocol.UploadsNobody:
		return protocol.Errorf(protocol.CodeUploadsOff, "the host has turned off sending files")
	case h.uploads == protocol.UploadsHosts && !host:
		return protocol.Errorf(protocol.CodeUploadsOff, "only the host sends files here")
	case muted && !host:
		return protocol.Errorf(protocol.CodeMuted, "the host has muted you")
	}
	return nil
}

// fileMemberLocked is the connected member holding key.
func (h *Hub) fileMemberLocked(key string) (*Member, *protocol.Problem) {
	m, ok := h.fileKeys[key]
	if !ok || key == "" || m.conn.Load() == nil {
		return nil, protocol.Errorf(protocol.CodeForbidden, "join the chat to send or open files")
	}
	return m, nil
}

// Readable returns the attachment id of message seq in room (a file or its
// thumbnail: thumb says which) when the member holding key is in that room
// now and the message, not deleted, carries it.
func (h *Hub) Readable(key, room string, seq uint64, id string) (att protocol.Attachment, thumb bool, p *protocol.Problem) {
	h.mu.Lock()
	m, p := h.fileMemberLocked(key)
	var rkey string
	if p == nil {
		rkey, p = h.roomKey(room, m)
		if p == nil && !slices.Contains(m.rooms, rkey) {
			p = protocol.Errorf(protocol.CodeNotInRoom, "join %q to open its files", room)
		}
	}
	h.mu.Unlock()
	if p != nil {
		return att, false, p
	}
	none := protocol.Errorf(protocol.CodeNoSuchFile, "no message there has that file")
	if seq == 0 || !protocol.ValidFileID(id) {
		return att, false, none
	}
	msgs, _, err := h.cfg.Store.Since(rkey, seq-1, 1)
	if err != nil {
		return att, false, h.internal(err, "the message could not be read")
	}
	if len(msgs) != 1 || msgs[0].Seq != seq || msgs[0].Deleted {
		return att, false, none
	}
	for _, a := range msgs[0].Attachments {
		if a.ID == id {
			return a, false, nil
		}
		if a.Thumb == id {
			return a, true, nil
		}
	}
	return att, false, none
}

// attachments resolves a send's upload ids to the files they name, each
// once, in the order given.
func (c *Conn) attachments(ids []string, st memberState) ([]protocol.Attachment, *protocol.Problem) {
	if len(ids) == 0 {
		return nil, nil
	}
	h := c.hub
	h.mu.Lock()
	p := h.mayUploadLocked(st.host, st.muted)
	h.mu.Unlock()
	if p != nil {
		return nil, p
	}
	if len(ids) > protocol.MaxAttachments {
		return nil, protocol.Errorf(protocol.CodeBadFrame, "a message carries at most %d files", protocol.MaxAttachments)
	}
	var out []protocol.Attachment
	for _, id := range ids {
		a, ok := h.cfg.Files.Finished(c.member.identity, id)
		if !ok {
			return nil, protocol.Errorf(protocol.CodeNoSuchFile, "%s is not a finished upload of yours", quoteID(id))
		}
		if !slices.ContainsFunc(out, func(o protocol.Attachment) bool { return o.ID == a.ID }) {
			out = append(out, a)
		}
	}
	return out, nil
}

func quoteID(id string) string {
	if len(id) > 40 {
		id = id[:40] + "…"
	}
	return "upload " + `"` + id + `"`
}

// SetMaxFile changes the largest file the host takes, as clients hear it,
// and tells everyone.
func (h *Hub) SetMaxFile(n int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.cfg.Files == nil || h.maxFile == n {
		return
	}
	h.maxFile = n
	h.broadcastLocked(NewOut(protocol.LimitsUpdate{Limits: h.limitsLocked()}))
}

// setUploadsLocked sets who may upload and tells everyone.
func (h *Hub) setUploadsLocked(who string) *protocol.Problem {
	switch who {
	case protocol.UploadsEveryone, protocol.UploadsHosts, protocol.UploadsNobody:
	default:
		return protocol.Errorf(protocol.CodeBadControl, "uploads are for everyone, hosts or nobody").WithRef(protocol.ActionSetUploads)
	}
	if h.cfg.Files == nil {
		return protocol.Errorf(protocol.CodeUploadsOff, "this host does not take files").WithRef(protocol.ActionSetUploads)
	}
	h.uploads = who
	h.broadcastLocked(NewOut(protocol.LimitsUpdate{Limits: h.limitsLocked()}))
	return nil
}
