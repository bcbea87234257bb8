package chat

import (
	"sync"
	"sync/atomic"

	"lanchat/backend/protocol"
)

// Frames on their way out: a connection's Sink and the Out a fan-out shares.

// Sink is one connection's outbound side. Send must never block: a
// transport whose queue is full drops the connection (the member then
// disconnects like any other). Close asks the transport to end the
// connection after what is queued, with an error frame first.
type Sink interface {
	Send(o *Out)
	Close(p *protocol.Problem)
}

// Out is a frame on its way to one or many connections. It is encoded once,
// on first use, however many members receive it.
type Out struct {
	Frame protocol.Frame
	once  sync.Once
	data  []byte
	alt   atomic.Pointer[altEncoding]
}

// NewOut wraps a frame.
func NewOut(f protocol.Frame) *Out { return &Out{Frame: f} }

// Bytes returns the frame's JSON encoding.
func (o *Out) Bytes() []byte {
	o.once.Do(func() { o.data = protocol.MustEncode(o.Frame) })
	return o.data
}

// Encoding returns the frame's encoding for another codec (the Socket.IO
// bridge's, for instance), made by encode once however many connections
// of that codec get the frame. One codec besides the native one is kept;
// a third would encode each time.
func (o *Out) Encoding(codec any, encode func() any) any {
	if e := o.alt.Load(); e != nil && e.codec == codec {
		return e.v
	}
	v := encode()
	o.alt.CompareAndSwap(nil, &altEncoding{codec: codec, v: v})
	return v
}

type altEncoding struct {
	codec any
	v     any
}
