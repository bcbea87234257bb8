package socketio

import (
	"context"
	"encoding/binary"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// serveWebSocket runs a WebSocket transport: a new session (no sid) or the
// upgrade of a polling session (sid given), which starts with the probe.
//
// gorilla/websocket reads. Writes bypass it: the writer goroutine builds the
// (unmasked, server-side) frames itself so that several queued packets go out
// in one write, each still its own WebSocket message as Engine.IO requires.
// Nothing else writes to the connection after the handshake.
func (s *Server) serveWebSocket(w http.ResponseWriter, r *http.Request, sid string) {
	var ss *session
	if sid != "" {
		ss = s.session(sid)
		if ss == nil {
			httpError(w, http.StatusBadRequest, errUnknownSID)
			return
		}
		if !ss.beginProbe() {
			httpError(w, http.StatusBadRequest, errBadRequest)
			return
		}
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		if ss != nil {
			ss.endProbe(false)
		}
		http.Error(w, "the host is shutting down", http.StatusServiceUnavailable)
		return
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()

	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		if ss != nil {
			ss.endProbe(false)
		}
		return // the upgrader has answered
	}
	conn := ws.NetConn()
	defer conn.Close()
	ws.SetReadLimit(int64(s.cfg.MaxPayload))
	ctrl := make(chan []byte, 4) // pongs owed for WebSocket pings
	ws.SetPingHandler(func(d string) error {
		select {
		case ctrl <- []byte(d):
		default:
		}
		return nil
	})
	ws.SetCloseHandler(func(int, string) error { return nil })

	if ss == nil {
		ss = s.openSession(transportWebSocket, r)
		if ss == nil {
			writeClose(conn, websocket.CloseTryAgainLater, s.cfg.WriteWait)
			return
		}
		ss.enqueueRaw(s.openPacket(ss.id, []string{}))
	} else if !s.probe(ss, ws, conn) {
		ss.endProbe(false)
		return
	}
	ss.serveWS(ws, conn, ctrl)
}

// probe runs the upgrade handshake: "2probe" -> "3probe", then the client's
// "5" once it has paused polling.
func (s *Server) probe(ss *session, ws *websocket.Conn, conn net.Conn) bool {
	stop := context.AfterFunc(ss.ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	_ = conn.SetReadDeadline(time.Now().Add(s.cfg.PingTimeout))
	probed := false
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil || mt != websocket.TextMessage {
			return false
		}
		switch {
		case !probed && string(data) == "2probe":
			_ = conn.SetWriteDeadline(time.Now().Add(s.cfg.WriteWait))
			if _, err := conn.Write(appendTextFrame(nil, []byte("3probe"))); err != nil {
				return false
			}
			probed = true
			ss.probed()
		case probed && len(data) == 1 && data[0] == eioUpgrade:
			_ = conn.SetReadDeadline(time.Time{})
			ss.endProbe(true)
			return ss.ctx.Err() == nil
		case probed && len(data) == 1 && data[0] == eioNoop:
		default:
			return false
		}
	}
}

// serveWS reads packets until the connection or the session ends; a writer
// goroutine, waited for here, sends the queue.
func (ss *session) serveWS(ws *websocket.Conn, conn net.Conn, ctrl chan []byte) {
	stop := context.AfterFunc(ss.ctx, func() { _ = conn.SetReadDeadline(time.Now()) })
	defer stop()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		ss.writeWS(conn, ctrl)
	}()
	for {
		mt, data, err := ws.ReadMessage()
		if err != nil {
			break
		}
		var p eioPacket
		if mt == websocket.BinaryMessage {
			p = eioPacket{Type: eioMessage, Data: data, Binary: true}
		} else if p, err = decodeEIO(data); err != nil {
			ss.terminate(reasonProtocol)
			break
		}
		ss.inMu.Lock()
		ss.onPacket(p)
		ss.inMu.Unlock()
	}
	ss.terminate(reasonClient)
	wg.Wait()
}

// writeWS drains the queue into the WebSocket until the session ends. A
// client cut off for being slow gets its error_message (written directly,
// whatever is queued) and close code 4008.
func (ss *session) writeWS(conn net.Conn, ctrl chan []byte) {
	ss.drainMu.Lock()
	defer ss.drainMu.Unlock()
	cfg := &ss.srv.cfg
	var buf []byte
	var batch []item
	for {
		select {
		case <-ss.queue.Ready():
			var end bool
			batch = ss.take(batch)
			buf, end = ss.fill(buf[:0], batch, appendTextFrame)
			batch = release(batch)
			if len(buf) > 0 {
				_ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteWait))
				if _, err := conn.Write(buf); err != nil {
					ss.terminate(reasonClient)
					return
				}
			}
			if cap(buf) > 4*cfg.MaxBatch {
				buf = nil // do not keep a huge buffer after a burst
			}
			if end {
				ss.terminate(reasonHub)
				writeClose(conn, websocket.CloseNormalClosure, cfg.WriteWait)
				return
			}
		case d := <-ctrl:
			_ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteWait))
			if _, err := conn.Write(appendFrame(nil, websocket.PongMessage, d)); err != nil {
				ss.terminate(reasonClient)
				return
			}
		case <-ss.ctx.Done():
			code := websocket.CloseNormalClosure
			switch ss.closedFor() {
			case reasonShutdown:
				code = websocket.CloseGoingAway
			case reasonSlow:
				code = closeSlowConsumer
				_ = conn.SetWriteDeadline(time.Now().Add(cfg.WriteWait))
				if _, err := conn.Write(appendTextFrame(nil, slowNotice())); err != nil {
					return
				}
			}
			writeClose(conn, code, cfg.WriteWait)
			return
		}
	}
}

// closeSlowConsumer is the close code of a client that did not keep up,
// as on the native endpoint (server.CloseSlowConsumer).
const closeSlowConsumer = 4008

// appendFrame appends one unmasked, unfragmented WebSocket frame.
func appendFrame(dst []byte, opcode int, payload []byte) []byte {
	dst = append(dst, 0x80|byte(opcode))
	switch n := len(payload); {
	case n < 126:
		dst = append(dst, byte(n))
	case n <= 0xffff:
		dst = append(dst, 126)
		dst = binary.BigEndian.AppendUint16(dst, uint16(n))
	default:
		dst = append(dst, 127)
		dst = binary.BigEndian.AppendUint64(dst, uint64(n))
	}
	return append(dst, payload...)
}

// appendTextFrame appends a text message holding one Engine.IO packet.
func appendTextFrame(dst, pkt []byte) []byte { return appendFrame(dst, websocket.TextMessage, pkt) }

// writeClose sends a close frame, best effort.
func writeClose(conn net.Conn, code int, wait time.Duration) {
	_ = conn.SetWriteDeadline(time.Now().Add(wait))
	_, _ = conn.Write(appendFrame(nil, websocket.CloseMessage, websocket.FormatCloseMessage(code, "")))
}
