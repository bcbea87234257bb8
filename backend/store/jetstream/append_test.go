package jsstore

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/protocol"
)

// lossyJS loses the answer to the first lose publishes after storing them,
// as when the stream's leader dies between storing a message and acking it
// and the next attempt reaches the new leader.
type lossyJS struct {
	jetstream.JetStream
	lose atomic.Int32
}

func (j *lossyJS) PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	ack, err := j.JetStream.PublishMsg(ctx, msg, opts...)
	if err == nil && j.lose.Add(-1) >= 0 {
		return nil, context.DeadlineExceeded
	}
	return ack, err
}

// An attempt whose ack was lost is tried again with the same message id:
// the message is stored once, and Append reports it as stored by this
// call (not a duplicate), with its seq. A client's own resend of it is
// still a duplicate.
func TestAppendAgainAfterLostAck(t *testing.T) {
	node := startNodes(t, 1)[0]
	js := &lossyJS{JetStream: node.JetStream()}
	s := open(t, node, Options{})
	s.js = js
	msg := protocol.Message{Type: protocol.TypeMessage, ID: "id-1", ClientID: "c-1", Text: "hello", From: protocol.Member{Name: "Ana"}}
	js.lose.Store(1)
	got, dup, err := s.Append("general", msg)
	if err != nil || dup || got.Seq != 1 || got.ID != "id-1" || got.Text != "hello" {
		t.Fatalf("append with a lost ack: %+v dup %v %v", got, dup, err)
	}
	resend := msg
	resend.ID = "id-2" // the hub makes a new id for every send
	got, dup, err = s.Append("general", resend)
	if err != nil || !dup || got.Seq != 1 || got.ID != "id-1" {
		t.Fatalf("the client's resend: %+v dup %v %v", got, dup, err)
	}
	got, dup, err = s.Append("general", protocol.Message{Type: protocol.TypeMessage, ID: "id-3", ClientID: "c-2", Text: "next"})
	if err != nil || dup || got.Seq != 2 {
		t.Fatalf("the next message: %+v dup %v %v", got, dup, err)
	}
}
