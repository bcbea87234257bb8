package jsstore

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

var _ chat.Feed = (*Store)(nil)

// Follow delivers every message of room with a seq above after, appended
// by any box, in seq order, until stop is called. It reads the room's
// stream with an ordered consumer; when the consumer fails (a leader
// change, a lost quorum) it starts again after the last seq delivered, so
// nothing is skipped or delivered twice.
//
// An ordered consumer whose stream's leader died notices it only when two
// of its heartbeats (5 s apart) are missed. Sooner than that, when this
// box appended a message the consumer has not delivered and nothing came
// for stallAfter, the consumer is taken for stalled and made again: a
// hub waits for the seqs before its own to go out before it acks.
func (s *Store) Follow(room string, after uint64, deliver func(protocol.Message)) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for ctx.Err() == nil {
			err := s.follow(ctx, room, &after, deliver)
			if ctx.Err() != nil {
				return
			}
			pause := time.Second
			switch {
			case errors.Is(err, errUnanswered):
				pause = 100 * time.Millisecond // an election under way
			case errors.Is(err, errStalled):
				pause = 100 * time.Millisecond
				s.stalls.Add(1)
				slog.Info("jsstore: following a room stalled; starting again", "room", room, "after", after)
			default:
				slog.Warn("jsstore: following a room failed; starting again", "room", room, "after", after, "err", err)
			}
			select {
			case <-ctx.Done():
			case <-time.After(pause):
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

// stallAfter is how long a consumer may deliver nothing while a message
// this box appended is still to come.
const stallAfter = time.Second

var errStalled = errors.New("jsstore: the room's consumer delivered nothing while a message appended here was due")

// appended records that room's stream holds seq (this box's Append).
func (s *Store) appended(room string, seq uint64) {
	s.mu.Lock()
	if seq > s.lastAppended[room] {
		s.lastAppended[room] = seq
	}
	s.mu.Unlock()
}

func (s *Store) lastAppendedSeq(room string) uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastAppended[room]
}

func (s *Store) follow(ctx context.Context, room string, after *uint64, deliver func(protocol.Message)) error {
	if err := s.ensure(ctx, room); err != nil {
		return err
	}
	// Made on the stream's leader: while the stream elects one, an
	// attempt goes unanswered, and the next is made soon.
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	cons, err := s.js.OrderedConsumer(cctx, StreamName(room), jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   *after + 1,
	})
	cancel()
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return errUnanswered
	}
	if err != nil {
		return err
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	stopIt := context.AfterFunc(ctx, it.Stop)
	defer func() {
		if stopIt() {
			it.Stop()
		}
	}()
	// The watchdog: progress is the last seq delivered and when.
	var delivered atomic.Uint64
	var progressed atomic.Int64
	delivered.Store(*after)
	progressed.Store(time.Now().UnixNano())
	var stalled atomic.Bool
	done := make(chan struct{})
	defer close(done)
	go func() {
		tick := time.NewTicker(stallAfter / 4)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			if s.lastAppendedSeq(room) > delivered.Load() && time.Since(time.Unix(0, progressed.Load())) > stallAfter {
				stalled.Store(true)
				it.Stop()
				return
			}
		}
	}()
	for {
		msg, err := it.Next()
		if err != nil {
			if stalled.Load() {
				return errStalled
			}
			return err
		}
		md, err := msg.Metadata()
		if err != nil {
			return err
		}
		seq := md.Sequence.Stream
		if seq <= *after {
			continue
		}
		m, err := decode(room, seq, msg.Data())
		if err != nil {
			// Every seq is delivered, or the hubs would wait for it.
			slog.Error("jsstore: a stored message does not decode; delivered as deleted", "room", room, "seq", seq, "err", err)
			m = protocol.Message{Type: protocol.TypeMessage, Seq: seq, Deleted: true}
		}
		deliver(m)
		*after = seq
		delivered.Store(seq)
		progressed.Store(time.Now().UnixNano())
	}
}
