package jsstore

import (
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
)

// mux takes the replies to requests that answer with several messages
// (batched direct gets) on one wildcard subscription. A subscription per
// request would cost the server far more than the request itself (about
// 0.3 ms per subscribe and unsubscribe, against 30 µs for a direct get).
type mux struct {
	nc     *nats.Conn
	prefix string
	sub    *nats.Subscription
	next   atomic.Uint64

	mu      sync.Mutex
	waiting map[string]chan *nats.Msg
}

func newMux(nc *nats.Conn) (*mux, error) {
	m := &mux{nc: nc, prefix: nc.NewRespInbox() + ".", waiting: map[string]chan *nats.Msg{}}
	sub, err := nc.Subscribe(m.prefix+"*", m.dispatch)
	if err != nil {
		return nil, err
	}
	// dispatch never blocks, so the pending queue stays short; no limit
	// means no reply is ever dropped for a slow consumer.
	if err := sub.SetPendingLimits(-1, -1); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	m.sub = sub
	return m, nil
}

// request publishes data to subj and returns the channel its replies come
// on (room for max of them) and done, which the caller must call when it
// stops reading. Replies after done, or beyond max, are dropped.
func (m *mux) request(subj string, data []byte, max int) (<-chan *nats.Msg, func(), error) {
	token := strconv.FormatUint(m.next.Add(1), 36)
	ch := make(chan *nats.Msg, max)
	m.mu.Lock()
	m.waiting[token] = ch
	m.mu.Unlock()
	done := func() {
		m.mu.Lock()
		delete(m.waiting, token)
		m.mu.Unlock()
	}
	if err := m.nc.PublishRequest(subj, m.prefix+token, data); err != nil {
		done()
		return nil, nil, err
	}
	return ch, done, nil
}

// dispatch runs on the subscription's goroutine, which the connection owns.
func (m *mux) dispatch(msg *nats.Msg) {
	token := msg.Subject[len(m.prefix):]
	m.mu.Lock()
	ch := m.waiting[token]
	m.mu.Unlock()
	if ch == nil {
		return
	}
	select {
	case ch <- msg:
	default:
	}
}

func (m *mux) close() error { return m.sub.Unsubscribe() }
