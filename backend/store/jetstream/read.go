package jsstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/protocol"
)

// Since returns up to limit messages of room with seq > after, oldest
// first, and the first seq the stream still keeps (0 if none). A limit
// below 0 is no limit.
func (s *Store) Since(room string, after uint64, limit int) ([]protocol.Message, uint64, error) {
	return s.read(room, func(first, last uint64) (uint64, uint64) {
		if after >= last || limit == 0 {
			return last + 1, last // none (and after+1 cannot overflow below)
		}
		from := max(after+1, first)
		if limit < 0 { // no limit, as SQLite's LIMIT -1
			return from, last
		}
		return from, min(last, from+uint64(limit)-1)
	})
}

// Last returns up to n newest messages of room, oldest first, and the first
// seq kept.
func (s *Store) Last(room string, n int) ([]protocol.Message, uint64, error) {
	return s.read(room, func(first, last uint64) (uint64, uint64) {
		if n <= 0 {
			return last + 1, last
		}
		from := first
		if last >= uint64(n) {
			from = max(first, last-uint64(n)+1)
		}
		return from, last
	})
}

// read returns room's messages from..to, as pick chooses them from the
// stream's first and last seq, with tombstones applied.
//
// The stream's state comes from its leader. The messages come from a
// batched direct get, which any replica may answer (the local one, as a
// rule); a replica that has not yet applied the newest acked messages
// answers short, and what it lacks is read from the leader, so a read
// holds every message acked before it began.
func (s *Store) read(room string, pick func(first, last uint64) (from, to uint64)) ([]protocol.Message, uint64, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	name := StreamName(room)
	// The room's state and its tombstones, asked for at once.
	stateOf, err := s.info(name, "")
	if err != nil {
		return nil, 0, wrap("read", err)
	}
	tombsOf, err := s.info("KV_"+DeletedBucket, deletedPrefix(room)+">")
	if err != nil {
		return nil, 0, wrap("read", err)
	}
	state, serr := stateOf(ctx)
	tombs, terr := tombsOf(ctx)
	if serr != nil {
		if isStreamNotFound(serr) {
			return nil, 0, nil
		}
		return nil, 0, wrap("read", serr)
	}
	if terr != nil {
		return nil, 0, wrap("read tombstones", terr)
	}
	if state.Msgs == 0 {
		return nil, 0, nil
	}
	from, to := pick(state.FirstSeq, state.LastSeq)
	if from > to {
		return nil, state.FirstSeq, nil
	}
	raw, err := s.fetch(ctx, name, from, to)
	if err != nil {
		return nil, 0, err
	}
	deleted, err := s.deletedSeqs(ctx, room, tombs)
	if err != nil {
		return nil, 0, err
	}
	out := make([]protocol.Message, 0, len(raw))
	for _, r := range raw {
		m, err := decode(room, r.seq, r.data)
		if err != nil {
			return nil, 0, err
		}
		if deleted[r.seq] {
			m.Deleted, m.Text, m.Attachments, m.Options = true, "", nil, nil
		}
		if m.FrameType() == protocol.TypeEdited && deleted[m.Target] {
			m.Deleted, m.Text = true, "" // a deleted message's edits go with it
		}
		out = append(out, m)
	}
	return out, state.FirstSeq, nil
}

// streamState is the part of a stream info answer reads need.
type streamState struct {
	Msgs     uint64            `json:"messages"`
	FirstSeq uint64            `json:"first_seq"`
	LastSeq  uint64            `json:"last_seq"`
	Subjects map[string]uint64 `json:"subjects"`
	complete bool              // Subjects holds every subject matched
}

// info sends a stream info request for stream name (with the subjects
// matching filter, if any) and returns the function that waits for the
// answer, so that several can be under way at once. The stream's leader
// answers.
func (s *Store) info(name, filter string) (func(context.Context) (streamState, error), error) {
	var req []byte
	if filter != "" {
		req, _ = json.Marshal(struct {
			Filter string `json:"subjects_filter"`
		}{filter})
	}
	replies, done, err := s.mux.request("$JS.API.STREAM.INFO."+name, req, 1)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context) (streamState, error) {
		defer done()
		var resp struct {
			State streamState         `json:"state"`
			Total int                 `json:"total"`
			Error *jetstream.APIError `json:"error"`
		}
		select {
		case m := <-replies:
			if m.Header.Get("Status") == "503" {
				return streamState{}, nats.ErrNoResponders
			}
			if err := json.Unmarshal(m.Data, &resp); err != nil {
				return streamState{}, err
			}
		case <-ctx.Done():
			return streamState{}, ctx.Err()
		}
		if resp.Error != nil {
			return streamState{}, resp.Error
		}
		resp.State.complete = resp.Total <= len(resp.State.Subjects)
		return resp.State, nil
	}, nil
}

func isStreamNotFound(err error) bool {
	var ae *jetstream.APIError
	return errors.As(err, &ae) && ae.ErrorCode == jetstream.JSErrCodeStreamNotFound
}

type rawMsg struct {
	seq  uint64
	data []byte
}

func decode(room string, seq uint64, data []byte) (protocol.Message, error) {
	var m protocol.Message
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("jsstore: room %q seq %d: %w", room, seq, err)
	}
	m.Seq = seq
	return m, nil
}

// fetch returns the messages from..to of stream name, in order; seqs that
// retention removed meanwhile are left out.
func (s *Store) fetch(ctx context.Context, name string, from, to uint64) ([]rawMsg, error) {
	// First without headers, which is about three times cheaper. The end
	// marker gives the seq of the last message sent: n messages, at or
	// after from (where the batch starts), ascending and ending at to, are
	// from..to.
	got, last, derr := s.directBatch(ctx, name, from, to, false)
	if derr == nil && uint64(len(got)) == to-from+1 && last == to {
		for i := range got {
			got[i].seq = from + uint64(i)
		}
		return got, nil
	}
	if ctx.Err() != nil {
		return nil, wrap("read", derr)
	}
	// Short: the replica is behind, or retention moved the first seq.
	got, _, derr = s.directBatch(ctx, name, from, to, true)
	if derr != nil && ctx.Err() != nil {
		return nil, wrap("read", derr)
	}
	out := make([]rawMsg, 0, to-from+1)
	next := from
	fill := func(upTo uint64) error { // what the direct get did not give
		for ; next < upTo; next++ {
			data, found, err := s.leaderGet(ctx, name, next)
			if err != nil {
				return wrap("read", err)
			}
			if found {
				out = append(out, rawMsg{next, data})
			}
		}
		return nil
	}
	for _, r := range got {
		if r.seq < next || r.seq > to {
			continue
		}
		if err := fill(r.seq); err != nil {
			return nil, err
		}
		out = append(out, r)
		next = r.seq + 1
	}
	if err := fill(to + 1); err != nil {
		return nil, err
	}
	return out, nil
}

// directBatch asks for to-from+1 messages from from on in one direct get
// request, which any replica may answer, and collects the answers: fewer
// when the replica has fewer, and from the first seq at or after from it
// has. With headers, each message carries its seq and the answers end
// once the batch is in. Without, they carry none (0), and the answers end
// with the end-of-batch marker, whose last seq directBatch returns.
func (s *Store) directBatch(ctx context.Context, name string, from, to uint64, headers bool) ([]rawMsg, uint64, error) {
	n := int(to - from + 1)
	req, _ := json.Marshal(struct {
		Seq       uint64 `json:"seq"`
		Batch     int    `json:"batch"`
		NoHeaders bool   `json:"no_hdr,omitempty"`
	}{from, n, !headers})
	// At most the batch and the end marker, or one error status.
	replies, done, err := s.mux.request("$JS.API.DIRECT.GET."+name, req, n+1)
	if err != nil {
		return nil, 0, err
	}
	defer done()
	out := make([]rawMsg, 0, n)
	for !headers || len(out) < n {
		var m *nats.Msg
		select {
		case m = <-replies:
		case <-ctx.Done():
			return out, 0, ctx.Err()
		}
		switch status := m.Header.Get("Status"); status {
		case "":
		case "204": // end of batch
			last, _ := strconv.ParseUint(m.Header.Get(jetstream.LastSequenceHeader), 10, 64)
			return out, last, nil
		case "404": // nothing at or after from
			return out, 0, nil
		default:
			return out, 0, fmt.Errorf("direct get: %s %s", status, m.Header.Get("Description"))
		}
		var seq uint64
		if headers {
			if seq, err = strconv.ParseUint(m.Header.Get(jetstream.SequenceHeader), 10, 64); err != nil {
				return out, 0, fmt.Errorf("direct get: sequence %q", m.Header.Get(jetstream.SequenceHeader))
			}
		}
		out = append(out, rawMsg{seq, m.Data})
	}
	return out, 0, nil // the end marker follows; not waited for
}

// leaderGet reads message seq of stream name from the stream's leader.
func (s *Store) leaderGet(ctx context.Context, name string, seq uint64) ([]byte, bool, error) {
	req, _ := json.Marshal(struct {
		Seq uint64 `json:"seq"`
	}{seq})
	reply, err := s.nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+name, req)
	if err != nil {
		return nil, false, err
	}
	var resp struct {
		Message *struct {
			Data []byte `json:"data"` // base64 in the JSON
		} `json:"message"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return nil, false, err
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound {
			return nil, false, nil
		}
		return nil, false, resp.Error
	}
	if resp.Message == nil {
		return nil, false, errors.New("message get: empty answer")
	}
	return resp.Message.Data, true, nil
}

// getOne reads message seq of room from the stream's leader, with its
// tombstone applied.
func (s *Store) getOne(ctx context.Context, room string, seq uint64) (protocol.Message, bool, error) {
	data, found, err := s.leaderGet(ctx, StreamName(room), seq)
	if err != nil || !found {
		return protocol.Message{}, false, wrap("read", err)
	}
	m, err := decode(room, seq, data)
	if err != nil {
		return m, false, err
	}
	// Asked of the bucket stream's leader: a replica's KV get could miss a
	// tombstone just made.
	tombOf, err := s.info("KV_"+DeletedBucket, "$KV."+DeletedBucket+"."+deletedKey(room, seq))
	if err != nil {
		return m, false, wrap("read tombstone", err)
	}
	tomb, err := tombOf(ctx)
	if err != nil {
		return m, false, wrap("read tombstone", err)
	}
	if len(tomb.Subjects) > 0 {
		m.Deleted, m.Text, m.Attachments, m.Options = true, "", nil, nil
	}
	return m, true, nil
}

func deletedPrefix(room string) string { return "$KV." + DeletedBucket + "." + Encode(room) + "." }

// deletedSeqs returns the seqs of room marked deleted: the subjects of the
// deleted bucket's stream in tombs, or, when that answer was cut short
// (over 100,000 of them), all of them asked for page by page.
func (s *Store) deletedSeqs(ctx context.Context, room string, tombs streamState) (map[uint64]bool, error) {
	prefix := deletedPrefix(room)
	subjects := tombs.Subjects
	if !tombs.complete {
		info, err := s.delSt.Info(ctx, jetstream.WithSubjectFilter(prefix+">"))
		if err != nil {
			return nil, wrap("read tombstones", err)
		}
		subjects = info.State.Subjects
	}
	out := make(map[uint64]bool, len(subjects))
	for subj := range subjects {
		if seq, err := strconv.ParseUint(strings.TrimPrefix(subj, prefix), 10, 64); err == nil {
			out[seq] = true
		}
	}
	return out, nil
}
