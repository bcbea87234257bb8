package jsstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// roomRecord is a room as lanchat_rooms keeps it. Order is the revision
// that created the record; it is 0 in that first revision itself (it
// cannot know its own revision) and carried over by every update, so rooms
// list in creation order without relying on clocks.
type roomRecord struct {
	Key     string         `json:"key"`
	Name    string         `json:"name"`
	LastSeq uint64         `json:"last_seq"`
	Topic   string         `json:"topic,omitempty"`
	Flags   chat.RoomFlags `json:"flags"`
	Closed  bool           `json:"closed,omitempty"`
	Order   uint64         `json:"order,omitempty"`
	// Pinned is the room's pinned message, if any.
	Pinned *protocol.Message `json:"pinned,omitempty"`
}

func (r roomRecord) room() chat.StoredRoom {
	return chat.StoredRoom{Key: r.Key, Name: r.Name, LastSeq: r.LastSeq, Topic: r.Topic, Flags: r.Flags, Closed: r.Closed, Pinned: r.Pinned}
}

// SaveRoom creates or updates a room. It never lowers the room's last seq.
// A room saved with a last seq before its first message makes its stream
// start numbering after it; once the stream exists, a higher last seq is
// reported by Rooms but numbering follows the stream.
func (s *Store) SaveRoom(r chat.StoredRoom) error {
	if r.Key == "" {
		r.Key = protocol.RoomKey(r.Name)
	}
	if r.Key == "" {
		return errors.New("jsstore: room without a key")
	}
	ctx, cancel := s.ctx()
	defer cancel()
	key := Encode(r.Key)
	for try := 0; ; try++ {
		if try > 0 {
			// Another box wrote the room meanwhile, or our replica's copy
			// (a KV get may be answered by any replica) is behind.
			select {
			case <-ctx.Done():
				return wrap("save room", ctx.Err())
			case <-time.After(time.Duration(min(try, 10)) * 5 * time.Millisecond):
			}
		}
		rec := roomRecord{Key: r.Key, Name: r.Name, LastSeq: r.LastSeq, Topic: r.Topic, Flags: r.Flags, Closed: r.Closed, Pinned: r.Pinned}
		e, err := kvGet(ctx, s.rooms, key)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			b, _ := json.Marshal(rec)
			err = retry(ctx, func() error { _, err := s.rooms.Create(ctx, key, b); return err })
			if errors.Is(err, jetstream.ErrKeyExists) {
				continue // another box created it meanwhile
			}
			return wrap("save room", err)
		}
		if err != nil {
			return wrap("save room", err)
		}
		var old roomRecord
		if err := json.Unmarshal(e.Value(), &old); err != nil {
			return fmt.Errorf("jsstore: room %q: %w", r.Key, err)
		}
		rec.LastSeq = max(rec.LastSeq, old.LastSeq)
		rec.Order = old.Order
		if rec.Order == 0 {
			rec.Order = e.Revision()
		}
		b, _ := json.Marshal(rec)
		err = retry(ctx, func() error { _, err := s.rooms.Update(ctx, key, b, e.Revision()); return err })
		if errors.Is(err, jetstream.ErrKeyExists) || errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			continue // changed meanwhile: merge again
		}
		return wrap("save room", err)
	}
}

// Rooms returns every room in creation order, with its last seq: the
// saved one or the stream's, whichever is higher.
func (s *Store) Rooms() ([]chat.StoredRoom, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	last := map[string]uint64{}
	streams := s.js.ListStreams(ctx, jetstream.WithStreamListSubject("lanchat.room.>"))
	for info := range streams.Info() {
		last[info.Config.Name] = info.State.LastSeq
	}
	if err := streams.Err(); err != nil {
		return nil, wrap("rooms", err)
	}
	// Every room with a stream was registered before its stream was made
	// (see ensure), so a room whose stream is listed but whose record is not
	// comes from a view of the records that is behind: read them again.
	var out []ordered
	for try := 0; ; try++ {
		var err error
		out, err = s.roomRecords(ctx, last)
		if err != nil {
			return nil, err
		}
		have := map[string]bool{}
		for _, o := range out {
			have[StreamName(o.room.Key)] = true
		}
		missing := false
		for name := range last {
			missing = missing || !have[name]
		}
		if !missing || try >= 20 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, wrap("rooms", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	slices.SortFunc(out, func(a, b ordered) int { return cmp.Compare(a.order, b.order) })
	rooms := make([]chat.StoredRoom, len(out))
	for i, o := range out {
		rooms[i] = o.room
	}
	return rooms, nil
}

// WatchRooms calls changed with every room a box creates, renames, closes
// or changes from now on (this box's own changes too), in the order they
// were saved, until stop is called; stop waits for the last call to
// return.
func (s *Store) WatchRooms(changed func(chat.StoredRoom)) (stop func()) {
	return watch(s.rooms, true, func(e jetstream.KeyValueEntry, _ bool) {
		var rec roomRecord
		if json.Unmarshal(e.Value(), &rec) == nil && rec.Key != "" {
			changed(rec.room())
		}
	})
}

// watch calls fn with the entries of kv, and whether each is live (put
// after the watch began), until stop is called; stop waits for the last
// call to return. fromNow skips the values already there. A watch that
// ends under it (a reconnect) is opened again, replaying every value (as
// not live), so nothing put in between is missed; applying a value twice
// must change nothing.
func watch(kv jetstream.KeyValue, fromNow bool, fn func(e jetstream.KeyValueEntry, live bool)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for first := true; ctx.Err() == nil; first = false {
			opts := []jetstream.WatchOpt{jetstream.IgnoreDeletes()}
			if first && fromNow {
				opts = append(opts, jetstream.UpdatesOnly())
			}
			w, err := kv.WatchAll(ctx, opts...)
			if err == nil {
				live := first && fromNow
				for e := range w.Updates() {
					if e == nil {
						live = true // the values already there are all in
						continue
					}
					fn(e, live)
				}
				_ = w.Stop()
			}
			select { // the watch ended under us, or could not open: again shortly
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return func() {
		cancel()
		<-done
	}
}

// ordered is a room and its place in creation order.
type ordered struct {
	order uint64
	room  chat.StoredRoom
}

// roomRecords reads every room record, with the last seq of its stream
// (last, by stream name) when that is higher.
func (s *Store) roomRecords(ctx context.Context, last map[string]uint64) ([]ordered, error) {
	w, err := s.rooms.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, wrap("rooms", err)
	}
	defer w.Stop()
	var out []ordered
	for e := range w.Updates() {
		if e == nil {
			break // the initial values are all in
		}
		var rec roomRecord
		if err := json.Unmarshal(e.Value(), &rec); err != nil {
			return nil, fmt.Errorf("jsstore: room %q: %w", e.Key(), err)
		}
		if rec.Order == 0 {
			rec.Order = e.Revision()
		}
		rec.LastSeq = max(rec.LastSeq, last[StreamName(rec.Key)])
		out = append(out, ordered{rec.Order, rec.room()})
	}
	if err := ctx.Err(); err != nil {
		return nil, wrap("rooms", err)
	}
	return out, nil
}
