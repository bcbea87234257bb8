package host

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"lanchat/backend/protocol"
)

// wsClient is a plain protocol client for the cluster tests: it records
// every frame it receives.
type wsClient struct {
	name    string
	ws      *websocket.Conn
	session string
	// filesKey and id are the welcome's files key and member id.
	filesKey, id string
	lastMembers  []string // the last member list waitMembers saw

	mu     sync.Mutex
	frames []frame
	closed bool
	done   chan struct{}
}

type member struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

type frame struct {
	Type     string   `json:"type"`
	Room     string   `json:"room"`
	Seq      uint64   `json:"seq"`
	ClientID string   `json:"client_id"`
	Code     string   `json:"code"`
	Ref      string   `json:"ref"`
	Session  string   `json:"session"`
	LastSeq  uint64   `json:"last_seq"`
	Members  []member `json:"members"`
	History  []frame  `json:"history"`
	From     member   `json:"from"`
	Text     string   `json:"text"`
	Boxes    []string `json:"boxes"`
	Name     string   `json:"name"`
	FilesKey string   `json:"files_key"`
	Member   member   `json:"member"`
	Deleted  bool     `json:"deleted"`
	Target   uint64   `json:"target"`
	Emoji    string   `json:"emoji"`
	Limits   struct {
		Uploads string `json:"uploads"`
		MaxFile int64  `json:"max_file"`
		Search  bool   `json:"search"`
	} `json:"limits"`
	Query   string `json:"query"`
	Results []struct {
		Room    string `json:"room"`
		Seq     uint64 `json:"seq"`
		Snippet []struct {
			Text  string `json:"text"`
			Match bool   `json:"match"`
		} `json:"snippet"`
	} `json:"results"`
	Attachments []protocol.Attachment `json:"attachments"`
	Rooms       []struct {
		Name   string `json:"name"`
		Locked bool   `json:"locked"`
	} `json:"rooms"`
}

// dialBox connects and says hello; resume, when set, names rooms and the
// last seq seen in each. It returns the refusal's code when hello fails.
func dialBox(url, name, session string, resume map[string]uint64) (*wsClient, string, error) {
	ws, _, err := dialWS(url)
	if err != nil {
		return nil, "", err
	}
	hello := map[string]any{"type": "hello", "version": 1, "name": name, "device": "d-" + name}
	if resume != nil {
		hello["resume"] = map[string]any{"session": session, "rooms": resume}
	}
	return sayHello(ws, name, hello)
}

// joinHost is dialBox for a test that needs the member: it fails the test
// when hello does, and closes the connection when the test ends.
func joinHost(t testing.TB, url, name string) *wsClient {
	t.Helper()
	c, _, err := dialBox(url, name, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.close)
	return c
}

// dialWS opens a WebSocket to a box's ws URL as a page of that box would.
func dialWS(url string) (*websocket.Conn, *http.Response, error) {
	return websocket.DefaultDialer.Dial(url, http.Header{"Origin": {"http://" + url[len("ws://"):len(url)-len("/ws")]}})
}

// sayHello sends hello on ws and waits for the welcome (or the refusal's
// code).
func sayHello(ws *websocket.Conn, name string, hello map[string]any) (*wsClient, string, error) {
	if err := ws.WriteJSON(hello); err != nil {
		ws.Close()
		return nil, "", err
	}
	c := &wsClient{name: name, ws: ws, done: make(chan struct{})}
	go c.read()
	f, ok := c.waitFor(10*time.Second, func(f frame) bool { return f.Type == "welcome" || f.Type == "error" })
	if !ok {
		c.close()
		return nil, "", fmt.Errorf("%s: no welcome", name)
	}
	if f.Type == "error" {
		c.close()
		return nil, f.Code, fmt.Errorf("%s: hello refused: %s", name, f.Code)
	}
	c.session, c.filesKey, c.id = f.Session, f.FilesKey, f.Member.ID
	return c, "", nil
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			c.mu.Lock()
			c.closed = true
			c.mu.Unlock()
			return
		}
		for line := range bytes.SplitSeq(data, []byte("\n")) {
			var f frame
			if json.Unmarshal(line, &f) == nil {
				c.mu.Lock()
				c.frames = append(c.frames, f)
				c.mu.Unlock()
			}
		}
	}
}

func (c *wsClient) send(v any) error { return c.ws.WriteJSON(v) }

func (c *wsClient) close() {
	_ = c.ws.Close()
	<-c.done
}

func (c *wsClient) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// waitFor returns the first frame (from the start) that pred accepts.
func (c *wsClient) waitFor(d time.Duration, pred func(frame) bool) (frame, bool) {
	for deadline := time.Now().Add(d); ; time.Sleep(5 * time.Millisecond) {
		c.mu.Lock()
		i := slices.IndexFunc(c.frames, pred)
		var f frame
		if i >= 0 {
			f = c.frames[i]
		}
		closed := c.closed
		c.mu.Unlock()
		if i >= 0 {
			return f, true
		}
		if closed || time.Now().After(deadline) {
			return frame{}, false
		}
	}
}

// inLog: a frame of this type is an entry of a room's log (a message, a
// poll, or an event acting on one), numbered by the room's seq.
func inLog(typ string) bool {
	return typ == protocol.TypeMessage || typ == protocol.TypePoll || protocol.IsEvent(typ)
}

// seqs lists the seqs of room's log (messages and conversation events)
// received, live and in history, in the order they came.
func (c *wsClient) seqs(room string) []uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []uint64
	for _, f := range c.frames {
		switch {
		case inLog(f.Type) && f.Room == room:
			out = append(out, f.Seq)
		case f.Type == "joined" && f.Room == room:
			for _, m := range f.History {
				out = append(out, m.Seq)
			}
		}
	}
	return out
}

// messages lists room's log (live and in history) in arrival order.
func (c *wsClient) messages(room string) []frame {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []frame
	for _, f := range c.frames {
		switch {
		case inLog(f.Type) && f.Room == room:
			out = append(out, f)
		case f.Type == "joined" && f.Room == room:
			out = append(out, f.History...)
		}
	}
	return out
}

// waitSeqs waits until room's messages number at least n.
func (c *wsClient) waitSeqs(room string, n uint64, d time.Duration) bool {
	for deadline := time.Now().Add(d); uint64(len(c.seqs(room))) < n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
