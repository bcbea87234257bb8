package jsstore

import (
	"context"
	"log/slog"
	"sync"
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
			slog.Warn("jsstore: following a room failed; starting again", "room", room, "after", after, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}()
	return func() {
		cancel()
		wg.Wait()
	}
}

func (s *Store) follow(ctx context.Context, room string, after *uint64, deliver func(protocol.Message)) error {
	if err := s.ensure(ctx, room); err != nil {
		return err
	}
	cons, err := s.js.OrderedConsumer(ctx, StreamName(room), jetstream.OrderedConsumerConfig{
		DeliverPolicy: jetstream.DeliverByStartSequencePolicy,
		OptStartSeq:   *after + 1,
	})
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
	for {
		msg, err := it.Next()
		if err != nil {
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
	}
}
