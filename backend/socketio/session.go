package socketio

import (
	"context"
	"io"
	"net/http"
	"sync"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
	"lanchat/backend/sendq"
)

const (
	transportPolling   = "polling"
	transportWebSocket = "websocket"
)

// closeReason says why a session ended.
type closeReason int

const (
	reasonClient      closeReason = iota + 1 // the client closed it or its transport broke
	reasonPingTimeout                        // no pong within pingTimeout
	reasonShutdown                           // the host is stopping
	reasonSlow                               // it does not keep up with its queue (see Config.QueueBytes)
	reasonProtocol                           // it sent something malformed
	reasonHub                                // the hub asked, after flushing
)

// item is one entry of a session's outbound queue: a hub frame to
// translate, an encoded Engine.IO packet, or the end marker.
type item struct {
	out *chat.Out
	raw []byte
	end bool
	// private: out was made for this session alone (a merged or filtered
	// presence), so its translation is not worth caching.
	private bool
}

// itemPolicy is the queue policy: hub frames count for their encoded bytes and
// supersede queued ones as native connections' do (sendq.Frames); packets
// count for their bytes.
var itemPolicy = sendq.Policy[item]{
	Size: func(it item) int {
		if it.out != nil {
			return len(it.out.Bytes())
		}
		return len(it.raw)
	},
	Key: func(it item) (string, sendq.Mode) {
		if it.out == nil {
			return "", sendq.Add
		}
		return sendq.FrameKey(it.out.Frame)
	},
	Merge: func(older, newer item) item {
		return item{out: sendq.MergeOut(older.out, newer.out), private: true}
	},
}

// session is one Engine.IO connection. Its run goroutine owns the heartbeat
// and, when the session ends, the hub disconnect. Outbound packets wait in a
// queue bounded in bytes that one drainer at a time (a long-poll GET or the
// WebSocket writer) empties.
type session struct {
	srv    *Server
	id     string
	remote string          // the client's address, without port
	origin string          // scheme://host the page reached the host by, for links
	ctx    context.Context // ends with the session
	cancel context.CancelFunc
	queue  *sendq.Queue[item]
	pong   chan struct{}
	// finalSent is closed when a GET has carried the last payload of a
	// polling session cut off for being slow (its error_message).
	finalSent chan struct{}
	sock      *socket

	endOnce   sync.Once
	reason    closeReason // set once, before ctx ends
	finalOnce sync.Once

	mu        sync.Mutex
	transport string
	polling   bool          // a GET is open
	probing   bool          // a WebSocket upgrade probe is running
	upgrading chan struct{} // closed once a probe was answered: the open GET answers noop
	woken     bool          // upgrading is closed

	drainMu sync.Mutex // one drainer at a time

	inMu       sync.Mutex // serialises inbound packets
	skipBinary int        // binary attachments still to drop (under inMu)
}

func newSession(srv *Server, id, transport string) *session {
	ctx, cancel := context.WithCancel(srv.ctx)
	ss := &session{
		srv: srv, id: id, ctx: ctx, cancel: cancel,
		queue: sendq.New(sendq.Config{
			Soft: srv.cfg.QueueBytes, Hard: srv.cfg.QueueHardBytes, Grace: srv.cfg.QueueGrace,
		}, itemPolicy),
		pong:      make(chan struct{}, 1),
		finalSent: make(chan struct{}),
		transport: transport,
		upgrading: make(chan struct{}),
	}
	ss.sock = newSocket(ss)
	return ss
}

// terminate ends the session; the first reason given wins.
func (ss *session) terminate(r closeReason) {
	ss.endOnce.Do(func() {
		ss.reason = r
		ss.cancel()
	})
}

// closedFor reports the reason once the session has ended.
func (ss *session) closedFor() closeReason {
	if ss.ctx.Err() == nil {
		return 0
	}
	return ss.reason
}

// enqueue adds it without blocking. A client that does not keep up (see
// Config.QueueBytes) is cut off so that it never holds up a room.
func (ss *session) enqueue(it item) bool {
	if ss.ctx.Err() != nil {
		return false
	}
	switch ss.queue.Push(it) {
	case sendq.Queued:
		return true
	case sendq.Overflow:
		ss.terminate(reasonSlow)
	}
	return false
}

func (ss *session) enqueueRaw(b []byte) bool { return ss.enqueue(item{raw: b}) }

// run is the session's heartbeat: the server pings every pingInterval and
// the client must answer within pingTimeout. When the session ends, run
// takes the client out of the hub and forgets the session.
func (ss *session) run() {
	defer ss.finish()
	cfg := &ss.srv.cfg
	t := time.NewTimer(cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ss.ctx.Done():
			return
		case <-t.C:
		}
		select {
		case <-ss.pong: // a stray pong
		default:
		}
		ss.enqueueRaw([]byte{eioPing})
		t.Reset(cfg.PingTimeout)
		select {
		case <-ss.ctx.Done():
			return
		case <-ss.pong:
			t.Reset(cfg.PingInterval)
		case <-t.C:
			ss.terminate(reasonPingTimeout)
			return
		}
	}
}

// finish ends the session: the client leaves the hub, its queue is
// dropped, and the session is forgotten. A polling client cut off for being
// slow is kept a little longer, without membership, so that its next GET
// still tells it why.
func (ss *session) finish() {
	ss.sock.close()
	ss.queue.Close()
	if ss.closedFor() == reasonSlow {
		ss.mu.Lock()
		polling := ss.transport == transportPolling
		ss.mu.Unlock()
		if polling {
			t := time.NewTimer(ss.srv.cfg.WriteWait)
			select {
			case <-ss.finalSent:
			case <-t.C:
			case <-ss.srv.ctx.Done():
			}
			t.Stop()
		}
	}
	ss.srv.removeSession(ss)
}

// finalPayload is the last payload of a session that ended: why, when it
// was cut off for being slow, then close.
func (ss *session) finalPayload() []byte {
	if ss.closedFor() != reasonSlow {
		return []byte{eioClose}
	}
	payload := appendPayload(nil, slowNotice())
	return appendPayload(payload, []byte{eioClose})
}

// slowNotice is the error_message of a client cut off for being slow.
func slowNotice() []byte {
	return errorEvent(protocol.Errorf(protocol.CodeSlowConsumer, "the client did not keep up"))
}

// take removes the next batch (up to MaxBatch bytes) from the queue.
func (ss *session) take(batch []item) []item {
	return ss.queue.Take(batch[:0], ss.srv.cfg.MaxBatch)
}

// fill encodes a batch with add, up to the end marker. It reports whether it
// reached the end marker.
func (ss *session) fill(dst []byte, batch []item, add func(dst, pkt []byte) []byte) ([]byte, bool) {
	for _, it := range batch {
		switch {
		case it.end:
			return dst, true
		case it.raw != nil:
			dst = add(dst, it.raw)
		default:
			for _, pkt := range ss.sock.translate(it.out, it.private) {
				dst = add(dst, pkt)
			}
		}
	}
	return dst, false
}

// release empties a batch for reuse, dropping a large one.
func release(batch []item) []item {
	clear(batch)
	if cap(batch) > 64 {
		return nil
	}
	return batch[:0]
}

// poll answers a long-polling GET with what is queued, waiting for
// something when the queue is empty (the ping comes at least every
// pingInterval).
func (ss *session) poll(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	if ss.transport != transportPolling {
		ss.mu.Unlock()
		httpError(w, http.StatusBadRequest, errBadRequest)
		return
	}
	if ss.polling {
		ss.mu.Unlock()
		httpError(w, http.StatusBadRequest, errBadRequest)
		ss.terminate(reasonProtocol) // overlapping GETs
		return
	}
	ss.polling = true
	upgrading := ss.upgrading
	ss.mu.Unlock()
	defer func() {
		ss.mu.Lock()
		ss.polling = false
		ss.mu.Unlock()
	}()

	ss.drainMu.Lock()
	defer ss.drainMu.Unlock()
	var payload []byte
	var batch []item
	final := false
	for len(payload) == 0 {
		select {
		case <-ss.queue.Ready():
			var end bool
			batch = ss.take(batch)
			payload, end = ss.fill(payload, batch, appendPayload)
			batch = release(batch)
			if end {
				payload = appendPayload(payload, []byte{eioClose})
				ss.terminate(reasonHub)
			}
		case <-upgrading:
			payload = []byte{eioNoop}
		case <-ss.ctx.Done():
			payload, final = ss.finalPayload(), true
		case <-r.Context().Done():
			return
		}
	}
	writePayload(w, payload)
	if final {
		ss.finalOnce.Do(func() { close(ss.finalSent) })
	}
}

// post takes a long-polling payload from the client.
func (ss *session) post(w http.ResponseWriter, r *http.Request) {
	ss.mu.Lock()
	polling := ss.transport == transportPolling
	ss.mu.Unlock()
	if !polling {
		httpError(w, http.StatusBadRequest, errBadRequest)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, int64(ss.srv.cfg.MaxPayload)))
	if err != nil {
		httpError(w, http.StatusBadRequest, errBadRequest)
		ss.terminate(reasonProtocol)
		return
	}
	packets, err := decodePayload(body)
	if err != nil {
		httpError(w, http.StatusBadRequest, errBadRequest)
		ss.terminate(reasonProtocol)
		return
	}
	ss.inMu.Lock()
	for _, p := range packets {
		ss.onPacket(p)
	}
	ss.inMu.Unlock()
	w.Header().Set("Content-Type", "text/html")
	_, _ = io.WriteString(w, "ok")
}

// onPacket handles one inbound Engine.IO packet. inMu is held.
func (ss *session) onPacket(p eioPacket) {
	if ss.ctx.Err() != nil {
		return
	}
	if p.Binary {
		// An attachment of a refused binary event, or stray binary: dropped.
		if ss.skipBinary > 0 {
			ss.skipBinary--
		}
		return
	}
	switch p.Type {
	case eioPong:
		select {
		case ss.pong <- struct{}{}:
		default:
		}
	case eioMessage:
		ss.sock.onMessage(p.Data)
	case eioClose:
		ss.terminate(reasonClient)
	case eioPing, eioNoop, eioUpgrade:
		// Engine.IO v4 clients do not ping; noop and stray upgrades carry nothing.
	default:
		ss.terminate(reasonProtocol)
	}
}

// beginProbe marks the start of a WebSocket upgrade of a polling session.
func (ss *session) beginProbe() bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.transport != transportPolling || ss.probing {
		return false
	}
	ss.probing = true
	return true
}

// probed wakes the open GET (with a noop) once the probe was answered.
func (ss *session) probed() {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if !ss.woken {
		ss.woken = true
		close(ss.upgrading)
	}
}

// endProbe finishes an upgrade: on success the session now writes to the
// WebSocket; on failure it goes on polling.
func (ss *session) endProbe(ok bool) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.probing = false
	if ok {
		ss.transport = transportWebSocket
		return
	}
	if ss.woken { // a failed upgrade: polling goes on
		ss.woken = false
		ss.upgrading = make(chan struct{})
	}
}
