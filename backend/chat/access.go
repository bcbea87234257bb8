package chat

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"strings"
	"time"

	"lanchat/backend/protocol"
)

// identityOf is a member's stable identity: the same name on the same device.
// Mutes, bans, co-host roles and private rooms follow it across reconnects.
func identityOf(name, device string) string {
	sum := sha256.Sum256([]byte(protocol.NameKey(name) + "\x00" + device))
	return hex.EncodeToString(sum[:6])
}

type failCount struct {
	n     int
	first time.Time
	until time.Time // blocked until then
}

// JoinCodeRequired reports whether guests need a join code.
func (h *Hub) JoinCodeRequired() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.joinCode != ""
}

// JoinCode returns the current join code, for the host's own session card.
func (h *Hub) JoinCode() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.joinCode
}

// SetJoinCode sets or (with "") removes the join code, for the host's app.
func (h *Hub) SetJoinCode(code string) *protocol.Problem {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.setJoinCodeLocked(code)
}

// checkJoinCodeLocked admits a guest's hello, throttling wrong guesses per
// address: JoinFailLimit wrong codes within JoinFailWindow block the address
// for JoinFailWindow, right code or not.
func (h *Hub) checkJoinCodeLocked(code, addr string) *protocol.Problem {
	if h.joinCode == "" {
		return nil
	}
	now := h.cfg.Now()
	fc := h.joinFails[addr]
	if fc != nil && now.Before(fc.until) {
		wait := fc.until.Sub(now).Round(time.Second)
		return protocol.Errorf(protocol.CodeJoinCodeThrottled, "too many wrong codes; try again in %s", wait)
	}
	code = strings.TrimSpace(code)
	if code == "" {
		return protocol.Errorf(protocol.CodeJoinCodeRequired, "this host needs a join code")
	}
	if subtle.ConstantTimeCompare([]byte(strings.ToUpper(code)), []byte(strings.ToUpper(h.joinCode))) == 1 {
		delete(h.joinFails, addr)
		return nil
	}
	if fc == nil || now.Sub(fc.first) > h.cfg.JoinFailWindow {
		fc = &failCount{first: now}
		h.joinFails[addr] = fc
	}
	fc.n++
	if fc.n >= h.cfg.JoinFailLimit {
		fc.until = now.Add(h.cfg.JoinFailWindow)
		fc.n = 0
		fc.first = now
	}
	return protocol.Errorf(protocol.CodeJoinCodeWrong, "that join code is wrong")
}

// HostName is the host's display name now.
func (h *Hub) HostName() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.hostName
}

// SetHostName renames the host for everyone, at once: every member gets a
// host frame. The name follows the rules of members' names; the cleaned
// name is returned.
func (h *Hub) SetHostName(name string) (string, *protocol.Problem) {
	n, p := protocol.CleanName(name)
	if p != nil {
		return "", p
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if n != h.hostName {
		h.hostName = n
		h.broadcastLocked(NewOut(protocol.HostUpdate{Host: protocol.HostInfo{ID: h.cfg.HostID, Name: n}}))
	}
	return n, nil
}
