// Package jsstore keeps a host's rooms and messages in NATS JetStream, so
// that the boxes of a cluster (backend/cluster) share them. It implements
// chat.Store.
//
// Layout:
//   - one stream per room, named ROOM_<enc> with subject lanchat.room.<enc>,
//     where <enc> is the room key in unpadded base32 (A–Z, 2–7: safe in
//     stream names, subjects, KV keys and file names on case-insensitive
//     file systems). A room's seq is its stream sequence: the stream hands
//     it out, so it is gapless and shared by every box. Messages are
//     stored as the protocol.Message JSON with seq 0; reads set the seq
//     from the stream sequence.
//   - KV bucket lanchat_rooms: the StoredRoom of each room (key <enc>).
//   - KV bucket lanchat_deleted: tombstones, key <enc>.<seq>. A stream
//     cannot rewrite a message, so MarkDeleted records the seq there and
//     reads mask the message (Deleted set, Text emptied). The original
//     text stays in the stream's files until retention removes it.
//   - KV bucket lanchat_meta: the epoch, created once for the cluster.
//
// A resent client id is caught by JetStream's duplicate window
// (Nats-Msg-Id = client id, per room stream as the SQLite store's unique
// (room, client_id) index): within the window (default 24 h), not for as
// long as the message is kept as the SQLite store does.
//
// Reads take the room's first and last seq from the stream's leader and
// the messages from a batched direct get, which the box's own replica
// answers as a rule; what a replica behind lacks is read from the leader,
// so a read holds every message acked before it began, on every box.
//
// Every call is bounded by Options.Timeout, so a cluster that lost its
// quorum makes calls fail rather than hang. Creating a stream (a room's
// first message) needs Replicas boxes up: with one box of three down,
// existing rooms go on, new rooms fail until it is back.
package jsstore

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Bucket names.
const (
	RoomsBucket   = "lanchat_rooms"
	DeletedBucket = "lanchat_deleted"
	MetaBucket    = "lanchat_meta"
	// DecisionsBucket keeps bans, mutes, co-hosts and the join code;
	// ActionsBucket carries moderation actions on members for an hour.
	DecisionsBucket = "lanchat_decisions"
	ActionsBucket   = "lanchat_actions"
)

// Options tune a Store. The zero value keeps everything, with one replica.
type Options struct {
	// Replicas of every stream and bucket: 1 to 5, at most the number of
	// boxes (cluster.Node.Replicas). Default 1.
	Replicas int
	// Duplicates is how long a client id is remembered; default 24 h, at
	// most MaxAge when that is set.
	Duplicates time.Duration
	// Retention per room: messages older than MaxAge and all but the
	// newest MaxMsgs are removed by JetStream. Zero keeps everything. They
	// apply to streams created from then on; existing streams keep the
	// limits they were created with.
	MaxAge  time.Duration
	MaxMsgs int64
	// Timeout bounds every call; default 10 s.
	Timeout time.Duration
	// PublishTimeout bounds one attempt of a publish with a client id;
	// an unanswered one is sent again (its Nats-Msg-Id makes that safe)
	// until Timeout. A stream whose leader died answers nothing until its
	// replicas elected another (seconds): the next attempt after that is
	// acked. Default 1 s.
	PublishTimeout time.Duration
}

// Store is a chat.Store over JetStream. Its methods are safe for
// concurrent use. It does not own the connection; Close ends its one
// subscription.
type Store struct {
	opts    Options
	js      jetstream.JetStream
	nc      *nats.Conn
	rooms   jetstream.KeyValue
	deleted jetstream.KeyValue
	meta    jetstream.KeyValue
	// decisions and actions: see chat.Decisions.
	decisions, actions jetstream.KeyValue
	delSt              jetstream.Stream // the deleted bucket's stream, for its subjects
	mux                *mux
	epoch              string

	mu    sync.Mutex
	ready map[string]bool // room streams known to exist
	// lastAppended is the newest seq this box's Append got per room, for
	// Follow's watchdog.
	lastAppended map[string]uint64
	stalls       atomic.Int64 // consumers Follow took for stalled and made again
}

var _ chat.Store = (*Store)(nil)

var enc = base32.StdEncoding.WithPadding(base32.NoPadding)

// Encode is the form of a room key used in stream names, subjects and KV
// keys.
func Encode(room string) string { return enc.EncodeToString([]byte(room)) }

// StreamName is the stream holding room's messages.
func StreamName(room string) string { return "ROOM_" + Encode(room) }

// Subject is the subject room's messages are published on.
func Subject(room string) string { return "lanchat.room." + Encode(room) }

// New opens (creating if needed) the buckets and the cluster's epoch. It
// needs JetStream to answer (cluster.Node.WaitJetStream); ctx bounds it.
func New(ctx context.Context, js jetstream.JetStream, opts Options) (*Store, error) {
	if opts.Replicas <= 0 {
		opts.Replicas = 1
	}
	if opts.Duplicates <= 0 {
		opts.Duplicates = 24 * time.Hour
	}
	if opts.MaxAge > 0 && opts.Duplicates > opts.MaxAge {
		opts.Duplicates = opts.MaxAge
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	if opts.PublishTimeout <= 0 {
		opts.PublishTimeout = time.Second
	}
	s := &Store{opts: opts, js: js, nc: js.Conn(), ready: map[string]bool{}, lastAppended: map[string]uint64{}}
	var err error
	if s.rooms, err = s.bucket(ctx, RoomsBucket, 0); err != nil {
		return nil, err
	}
	if s.deleted, err = s.bucket(ctx, DeletedBucket, opts.MaxAge); err != nil {
		return nil, err
	}
	if s.decisions, err = s.bucket(ctx, DecisionsBucket, 0); err != nil {
		return nil, err
	}
	if s.actions, err = s.bucket(ctx, ActionsBucket, time.Hour); err != nil {
		return nil, err
	}
	if s.meta, err = s.bucket(ctx, MetaBucket, 0); err != nil {
		return nil, err
	}
	if s.delSt, err = js.Stream(ctx, "KV_"+DeletedBucket); err != nil {
		return nil, fmt.Errorf("jsstore: %w", err)
	}
	if s.epoch, err = initEpoch(ctx, s.meta); err != nil {
		return nil, err
	}
	if s.mux, err = newMux(s.nc); err != nil {
		return nil, fmt.Errorf("jsstore: %w", err)
	}
	return s, nil
}

// Close ends the store's subscription for replies. The connection stays
// open: it belongs to the caller.
func (s *Store) Close() error {
	if err := s.mux.close(); err != nil && !errors.Is(err, nats.ErrConnectionClosed) && !errors.Is(err, nats.ErrBadSubscription) {
		return err
	}
	return nil
}

// bucket creates the KV bucket name, or opens it when another box made it.
func (s *Store) bucket(ctx context.Context, name string, ttl time.Duration) (jetstream.KeyValue, error) {
	var kv jetstream.KeyValue
	err := retry(ctx, bounded(ctx, func(ctx context.Context) (err error) {
		kv, err = s.js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: name, History: 1, TTL: ttl, Storage: jetstream.FileStorage, Replicas: s.opts.Replicas,
		})
		return err
	}))
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = s.js.KeyValue(ctx, name)
	}
	if err != nil {
		return nil, fmt.Errorf("jsstore: bucket %s: %w", name, err)
	}
	return kv, nil
}

// initEpoch creates the epoch if no box has yet, and returns it.
func initEpoch(ctx context.Context, meta jetstream.KeyValue) (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	v, err := shared(ctx, meta, "epoch", []byte(hex.EncodeToString(b[:])))
	if err != nil {
		return "", fmt.Errorf("jsstore: epoch: %w", err)
	}
	return string(v), nil
}

// shared puts value under key in kv unless a box did first, and returns
// the value that is there: the same on every box.
func shared(ctx context.Context, kv jetstream.KeyValue, key string, value []byte) ([]byte, error) {
	err := retry(ctx, func() error { _, err := kv.Create(ctx, key, value); return err })
	if err == nil {
		return value, nil
	} else if !errors.Is(err, jetstream.ErrKeyExists) {
		return nil, err
	}
	for {
		// A KV get may be answered by a replica that has not yet seen the
		// value another box just created.
		e, err := kvGet(ctx, kv, key)
		if err == nil {
			return e.Value(), nil
		}
		if !errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Shared puts value under key in the cluster's meta bucket unless another
// box did first, and returns the value every box gets: the first one.
func (s *Store) Shared(key string, value []byte) ([]byte, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	v, err := shared(ctx, s.meta, key, value)
	return v, wrap("shared "+key, err)
}

// Epoch names the cluster's history: 16 random hex digits chosen by the
// first box that opened it, the same on every box.
func (s *Store) Epoch() string { return s.epoch }

func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.opts.Timeout)
}

// ensure makes room's stream exist: it registers the room (named by its
// key) if it is new and creates the stream, starting after the room's
// saved last seq.
func (s *Store) ensure(ctx context.Context, room string) error {
	s.mu.Lock()
	ok := s.ready[room]
	s.mu.Unlock()
	if ok {
		return nil
	}
	key := Encode(room)
	var lastSeq uint64
	e, err := kvGet(ctx, s.rooms, key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		b, _ := json.Marshal(roomRecord{Key: room, Name: room})
		err := retry(ctx, func() error { _, err := s.rooms.Create(ctx, key, b); return err })
		if err != nil && !errors.Is(err, jetstream.ErrKeyExists) {
			return wrap("register room", err)
		}
	case err != nil:
		return wrap("register room", err)
	default:
		var rec roomRecord
		if err := json.Unmarshal(e.Value(), &rec); err == nil {
			lastSeq = rec.LastSeq
		}
	}
	cfg := jetstream.StreamConfig{
		Name:        StreamName(room),
		Subjects:    []string{Subject(room)},
		Storage:     jetstream.FileStorage,
		Replicas:    s.opts.Replicas,
		Duplicates:  s.opts.Duplicates,
		MaxAge:      s.opts.MaxAge,
		MaxMsgs:     s.opts.MaxMsgs,
		Discard:     jetstream.DiscardOld,
		DenyDelete:  true, // seqs stay gapless: only retention removes messages
		AllowDirect: true,
	}
	if cfg.MaxMsgs == 0 {
		cfg.MaxMsgs = -1
	}
	if lastSeq > 0 {
		cfg.FirstSeq = lastSeq + 1
	}
	// An existing stream (made by another box, or with other options) is
	// used as it is.
	err = retry(ctx, bounded(ctx, func(ctx context.Context) error { _, err := s.js.CreateStream(ctx, cfg); return err }))
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return wrap("create stream", err)
	}
	s.mu.Lock()
	s.ready[room] = true
	s.mu.Unlock()
	return nil
}

// Append stores m as the next message of room and returns it with its seq,
// the stream sequence, once the stream acked it (a majority of replicas
// have it). When the room's duplicate window still holds m.ClientID,
// nothing is stored and Append returns the message sent with it, dup true.
func (s *Store) Append(room string, m protocol.Message) (protocol.Message, bool, error) {
	if room == "" {
		return protocol.Message{}, false, errors.New("jsstore: room without a key")
	}
	ctx, cancel := s.ctx()
	defer cancel()
	if err := s.ensure(ctx, room); err != nil {
		return protocol.Message{}, false, err
	}
	body := m
	body.Seq = 0 // known only once stored: reads set it
	b, err := json.Marshal(body)
	if err != nil {
		return protocol.Message{}, false, err
	}
	msg := &nats.Msg{Subject: Subject(room), Data: b, Header: nats.Header{}}
	if m.ClientID != "" {
		msg.Header.Set(jetstream.MsgIDHeader, m.ClientID)
	}
	msg.Header.Set(jetstream.ExpectedStreamHeader, StreamName(room))
	var ack *jetstream.PubAck
	attempts := 0
	err = retry(ctx, func() (err error) {
		attempts++
		if m.ClientID == "" {
			// Without a message id a second attempt could store it twice.
			ack, err = s.js.PublishMsg(ctx, msg)
			return err
		}
		actx, cancel := context.WithTimeout(ctx, s.opts.PublishTimeout)
		defer cancel()
		ack, err = s.js.PublishMsg(actx, msg)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return errUnanswered
		}
		return err
	})
	if errors.Is(err, errUnanswered) {
		err = context.DeadlineExceeded
	}
	if errors.Is(err, jetstream.ErrNoStreamResponse) {
		s.mu.Lock()
		delete(s.ready, room) // deleted behind our back: make it again next time
		s.mu.Unlock()
	}
	if err != nil {
		return protocol.Message{}, false, wrap("append", err)
	}
	s.appended(room, ack.Sequence)
	if !ack.Duplicate {
		m.Seq = ack.Sequence
		return m, false, nil
	}
	kept, found, err := s.getOne(ctx, room, ack.Sequence)
	if err != nil {
		return protocol.Message{}, false, err
	}
	if !found {
		// Retention removed the original within the duplicate window: it
		// was stored at that seq, and is gone.
		m.Seq, m.Text, m.Deleted = ack.Sequence, "", true
		return m, true, nil
	}
	if attempts > 1 && kept.ID == m.ID {
		// Stored by an earlier attempt of this call, whose ack was lost:
		// not a resend of the client's.
		return kept, false, nil
	}
	return kept, true, nil
}

// errUnanswered is a publish attempt that got no answer in time.
var errUnanswered = errors.New("jsstore: no answer")

// bounded makes op one attempt for retry: bounded to createAttempt, an
// unanswered attempt (a request to a meta leader that is being elected, or
// that the cluster dropped) is made again, not waited on until ctx ends.
// For requests that may be sent twice (creating a bucket or a stream with
// the same configuration).
func bounded(ctx context.Context, op func(context.Context) error) func() error {
	return func() error {
		actx, cancel := context.WithTimeout(ctx, createAttempt)
		defer cancel()
		err := op(actx)
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			return errUnanswered
		}
		return err
	}
}

// createAttempt bounds one attempt to create a bucket or stream.
const createAttempt = 5 * time.Second

// MarkDeleted turns message seq of room into a tombstone. A seq the room
// does not keep (or never had) is left alone.
func (s *Store) MarkDeleted(room string, seq uint64) error {
	ctx, cancel := s.ctx()
	defer cancel()
	st, err := s.js.Stream(ctx, StreamName(room))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return nil
	}
	if err != nil {
		return wrap("mark deleted", err)
	}
	state := st.CachedInfo().State
	if state.Msgs == 0 || seq < state.FirstSeq || seq > state.LastSeq {
		return nil
	}
	err = retry(ctx, func() error { _, err := s.deleted.Put(ctx, deletedKey(room, seq), []byte{'1'}); return err })
	return wrap("mark deleted", err)
}

// retry runs op until it succeeds, fails for a lasting reason, or ctx
// ends. Passing reasons: the cluster cannot place the replicas yet (a box
// that started before its peers, a meta leader that has not yet heard from
// every box), JetStream or a stream has no leader for a moment (an
// election). A publish that found no responder reached no stream, so
// trying it again cannot store it twice.
func retry(ctx context.Context, op func() error) error {
	for {
		err := op()
		if err == nil || !passing(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// kvGet is kv.Get, retried while the bucket has no responder: a KV get is
// a direct get, which this box's replica answers once it is set up.
func kvGet(ctx context.Context, kv jetstream.KeyValue, key string) (jetstream.KeyValueEntry, error) {
	var e jetstream.KeyValueEntry
	err := retry(ctx, func() (err error) { e, err = kv.Get(ctx, key); return err })
	return e, err
}

func passing(err error) bool {
	if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) || errors.Is(err, errUnanswered) {
		return true
	}
	var je jetstream.JetStreamError
	if !errors.As(err, &je) || je.APIError() == nil {
		return false
	}
	switch je.APIError().ErrorCode {
	case 10005, 10008: // no suitable peers for placement; JetStream temporarily unavailable
		return true
	}
	return false
}

func deletedKey(room string, seq uint64) string { return fmt.Sprintf("%s.%d", Encode(room), seq) }

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("jsstore: %s: %w", what, err)
}
