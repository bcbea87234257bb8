// Package chat is lanchat's room logic: the lobby and rooms, members and
// names, per-room seq, history and resume, typing and rate limits. It does no
// I/O of its own: transports hand it decoded frames and a Sink per connection,
// and history goes through a Store.
package chat

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lanchat/backend/protocol"
)

// Lobby is the room every member is in and cannot leave.
const Lobby = "lobby"

// DefaultRooms are the rooms a host has besides the lobby unless configured,
// by their store key. A new host names them in its language (RoomNames);
// the keys stay the same whatever the language, so a host whose language
// changes later keeps its rooms and makes no new ones.
var DefaultRooms = []string{"general", "projects", "random"}

// RoomNames are the names a new host gives the default rooms, per language.
var RoomNames = map[string]map[string]string{
	"pt-BR": {"general": "conversa", "projects": "projetos", "random": "bate-papo"},
}

// defaultRoomName is the name of default room key in language lang ("pt",
// "pt-BR", "pt_BR.UTF-8" are Portuguese), or the key itself.
func defaultRoomName(key, lang string) string {
	l := strings.ToLower(lang)
	if l == "pt" || strings.HasPrefix(l, "pt-") || strings.HasPrefix(l, "pt_") {
		if n := RoomNames["pt-BR"][key]; n != "" {
			return n
		}
	}
	return key
}

// Config sets up a Hub. Zero fields take the defaults noted.
type Config struct {
	HostID   string
	HostName string
	Rooms    []string // besides the lobby; default DefaultRooms
	// Language names the default rooms of a new host ("pt-BR": conversa,
	// projetos, bate-papo); it changes no room that exists. It is also the
	// language of the host's transcripts.
	Language string

	HistoryOnJoin  int           // messages a joiner gets; default 100
	ResumeMax      int           // most missed messages sent on resume; default 5000
	MaxText        int           // bytes; default 4096
	MaxFrame       int           // bytes, reported to clients; default 65536
	RatePerSecond  int           // sends per second per member; default 10
	RateBurst      int           // default 20
	TypingInterval time.Duration // default 2 s
	PingSeconds    int           // reported to clients; default 20
	AllowCreate    bool          // members may create rooms
	MaxRooms       int           // default 64

	// HostToken, when set, gives the host role to a hello that carries it.
	// Only the host's own desktop app knows it.
	HostToken string
	// JoinCode, when set, must be in every guest's hello.
	JoinCode string
	// JoinFailLimit wrong codes from one address within JoinFailWindow
	// block that address for JoinFailWindow. Defaults 5 and 1 minute.
	JoinFailLimit  int
	JoinFailWindow time.Duration

	Store Store            // default NewMemoryStore(1000)
	Now   func() time.Time // default time.Now
	// PresenceWindow is the shortest time between two presence frames of a
	// room, and between two rooms lists: changes within it go out together.
	// Default 150 ms.
	PresenceWindow time.Duration
	// FullList is the largest room whose member list goes out in full: in
	// joined, and as every member's change in presence. A larger room is
	// large (see protocol.MembersList). Default 1000.
	FullList int
	// Feed tells the hub of messages other boxes append to a Store it
	// shares with them (cluster mode); nil for a host on its own.
	Feed Feed
	// Roster shares members and names with the other boxes of a cluster;
	// nil for a host on its own.
	Roster Roster
	// RoomFeed tells the hub of rooms other boxes create, rename, close or
	// change in that Store; nil for a host on its own.
	RoomFeed RoomFeed
	// Decisions shares moderation and the join code with the other boxes;
	// nil for a host on its own.
	Decisions Decisions
	// Logger receives the cause of every internal error; default slog.Default().
	Logger *slog.Logger

	// Files are the finished uploads a send may attach; nil: the host
	// takes no files. MaxFile is reported to clients; Uploads says who may
	// upload at first (default protocol.UploadsEveryone).
	Files   Files
	MaxFile int64
	Uploads string

	defaultRooms bool // Rooms are DefaultRooms (see Language)
	// EditSeconds is how long an author may edit a message at first:
	// default protocol.DefaultEditLimit, negative for no edits. Polls says
	// who may post polls at first (default protocol.PollsHosts).
	EditSeconds int
	Polls       string
}

func (c *Config) defaults() {
	if c.Rooms == nil {
		c.Rooms, c.defaultRooms = DefaultRooms, true
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.HistoryOnJoin, 100)
	def(&c.ResumeMax, 5000)
	def(&c.MaxText, 4096)
	def(&c.MaxFrame, 64<<10)
	def(&c.RatePerSecond, 10)
	def(&c.RateBurst, 20)
	def(&c.PingSeconds, 20)
	def(&c.MaxRooms, 64)
	def(&c.JoinFailLimit, 5)
	def(&c.FullList, 1000)
	if c.Uploads == "" {
		c.Uploads = protocol.UploadsEveryone
	}
	switch {
	case c.EditSeconds == 0:
		c.EditSeconds = protocol.DefaultEditLimit
	case c.EditSeconds < 0:
		c.EditSeconds = 0
	}
	if c.Polls != protocol.PollsEveryone {
		c.Polls = protocol.PollsHosts
	}
	if c.JoinFailWindow <= 0 {
		c.JoinFailWindow = time.Minute
	}
	if c.TypingInterval <= 0 {
		c.TypingInterval = 2 * time.Second
	}
	if c.Store == nil {
		c.Store = NewMemoryStore(1000)
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.PresenceWindow <= 0 {
		c.PresenceWindow = 150 * time.Millisecond
	}
	c.Logger = cmp.Or(c.Logger, slog.Default())
	c.HostName = cmp.Or(c.HostName, "lanchat")
}

// Hub holds a host's rooms and members. Lock order: Hub.mu, then room.mu.
type Hub struct {
	cfg Config

	mu       sync.Mutex
	rooms    map[string]*room // by RoomKey
	order    []string         // room keys, lobby first
	members  map[string]*Member
	remote   map[string]*Member // other boxes' members in some room (see roster.go)
	names    map[string]*Member // by NameKey, local and remote
	sessions map[string]*Member // by session token
	fileKeys map[string]*Member // by files key
	uploads  string             // who may upload (protocol.Uploads…)
	maxFile  int64              // the largest file, as clients hear it
	closed   bool

	// conversations: how long authors may edit (0: no edits) and who
	// may post polls (protocol.Polls…); guarded by mu
	editSeconds int
	polls       string

	// hostRoleKey is the NameKey of the name the host role last connected
	// under. It stays reserved for the hub's lifetime, not only while that
	// member is connected: the host's app reconnects (a network blip, a
	// reload) and a guest must not take its name in between.
	hostRoleKey string
	hostName    string // the host's display name now (see SetHostName)

	joinCode  string
	joinFails map[string]*failCount // by remote address
	cohosts   map[string]bool       // by identity
	mutes     map[string]bool       // by identity
	bannedIDs map[string]bool       // by identity
	bannedDev map[string]bool       // by device

	// announcements are the newest announcements (see announce.go),
	// oldest first, at most protocol.MaxAnnouncements.
	announcements []protocol.Announcement

	joins     []joinJob     // joins decided under mu, finished by unlock
	roomsList throttle      // the rooms list pushed to every member
	unwatch   []func()      // stop the RoomFeed and Decisions watches (each once)
	box       string        // names this hub's actions among the boxes' (Decision.Box)
	searching chan struct{} // a slot per search reading the store now
}

type room struct {
	key  string // the store's key: stable across renames
	name string
	// dm holds the two identities of a private room; empty for rooms.
	dm [2]string

	mu      sync.Mutex
	stored  *sync.Cond // on mu: a send waits here until the seqs before its own went out
	lastSeq uint64     // the newest seq sent to the room's members
	// appending counts sends in the store whose seq is not known yet;
	// ready holds the stored seqs still waiting for their turn.
	appending int
	ready     []uint64
	members   []*Member    // in join order
	count     atomic.Int64 // len(members), for readers without mu
	// joining are members whose join was decided under Hub.mu but whose
	// joined frame is not sent yet; they get no room traffic until then.
	joining map[*Member]bool
	flags   RoomFlags
	topic   string
	pinned  *protocol.Message // see announce.go; guarded by mu

	presence []protocol.PresenceChange // not yet sent, one per member
	counted  bool                      // the count changed since the last presence frame
	pushed   throttle                  // presence frames
	large    bool                      // more than FullList members (see members.go)

	// With a Feed: messages of other boxes waiting for the seqs before
	// them, and how to stop following the room.
	fed      map[uint64]protocol.Message
	unfollow func()

	lastTyping map[*Member]time.Time
	lastSend   map[*Member]time.Time
}

// Conn is one connection's handle on its member. After a takeover the old
// Conn is stale and its calls do nothing.
type Conn struct {
	hub    *Hub
	member *Member
	sink   Sink

	mu     sync.Mutex // serialises this connection's frames; guards the limiter
	tokens float64
	last   time.Time

	removed bool // the host removed (kicked or banned) the member on this connection; guarded by Hub.mu

	searchTokens float64 // the search limiter; guarded by mu
	searchLast   time.Time
}

// ErrClosed is returned by Connect after Close.
var ErrClosed = errors.New("chat: hub closed")

// NewHub creates the hub, loading rooms from the store.
func NewHub(cfg Config) (*Hub, error) {
	cfg.defaults()
	h := &Hub{
		cfg:       cfg,
		rooms:     map[string]*room{},
		members:   map[string]*Member{},
		remote:    map[string]*Member{},
		names:     map[string]*Member{},
		sessions:  map[string]*Member{},
		fileKeys:  map[string]*Member{},
		uploads:   cfg.Uploads,
		maxFile:   cfg.MaxFile,
		joinCode:  cfg.JoinCode,
		hostName:  cfg.HostName,
		joinFails: map[string]*failCount{},
		cohosts:   map[string]bool{},
		mutes:     map[string]bool{},
		bannedIDs: map[string]bool{},
		bannedDev: map[string]bool{},
		searching: make(chan struct{}, maxSearches),
	}
	h.editSeconds, h.polls = cfg.EditSeconds, cfg.Polls
	stored, err := cfg.Store.Rooms()
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, sr := range stored {
		known[sr.Key] = true
		if sr.Closed {
			continue
		}
		h.addRoomLocked(sr.Key, sr.Name, sr.LastSeq, sr.Flags, sr.Topic).pinned = sr.Pinned
	}
	for _, name := range append([]string{Lobby}, cfg.Rooms...) {
		clean, p := protocol.CleanRoom(name)
		if p != nil {
			return nil, p
		}
		key := protocol.RoomKey(clean)
		if known[key] {
			continue
		}
		if cfg.defaultRooms {
			// named in the host's language, keyed as always
			if clean, p = protocol.CleanRoom(defaultRoomName(key, cfg.Language)); p != nil {
				return nil, p
			}
			if _, clash := h.rooms[protocol.RoomKey(clean)]; clash {
				continue // a room of that name exists already
			}
		}
		if err := cfg.Store.SaveRoom(StoredRoom{Key: key, Name: clean}); err != nil {
			return nil, err
		}
		h.addRoomLocked(key, clean, 0, RoomFlags{}, "")
	}
	// The lobby first, then the others in creation order.
	h.order = slices.DeleteFunc(h.order, func(k string) bool { return k == Lobby })
	h.order = append([]string{Lobby}, h.order...)
	h.box = randomHex(8)
	if cfg.RoomFeed != nil {
		h.unwatch = append(h.unwatch, sync.OnceFunc(cfg.RoomFeed.WatchRooms(h.roomChanged)))
	}
	if cfg.Decisions != nil {
		h.unwatch = append(h.unwatch, sync.OnceFunc(cfg.Decisions.WatchDecisions(h.decided)))
	}
	return h, nil
}

// Config returns the hub's effective configuration.
func (h *Hub) Config() Config { return h.cfg }

// Limits returns the limits sent to clients in welcome.
func (h *Hub) Limits() protocol.Limits {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.limitsLocked()
}

func (h *Hub) limitsLocked() protocol.Limits {
	c := h.cfg
	l := protocol.Limits{
		MaxText: c.MaxText, MaxFrame: c.MaxFrame,
		RatePerSecond: c.RatePerSecond, RateBurst: c.RateBurst,
		History: c.HistoryOnJoin, TypingMillis: int(c.TypingInterval / time.Millisecond),
		PingSeconds: c.PingSeconds, CanCreateRooms: c.AllowCreate,
		JoinCode: h.joinCode != "", FullList: c.FullList,
		EditSeconds: h.editSeconds, Polls: h.polls,
	}
	if c.Files != nil {
		l.MaxFile, l.Uploads = h.maxFile, h.uploads
	}
	_, l.Search = c.Store.(Searcher)
	return l
}

// Stats is a snapshot for /api/info and discovery.
type Stats struct {
	Members int
	Rooms   []protocol.RoomInfo
}

// Stats returns member and room counts.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	return Stats{Members: len(h.members), Rooms: h.roomsLocked()}
}

// admits reports whether m may be in the room: anyone for rooms, the two
// members of a private room.
func (r *room) admits(m *Member) bool {
	return r.dm[0] == "" || r.dm[0] == m.identity || r.dm[1] == m.identity
}

// Member returns the connection's member as seen on the wire.
func (c *Conn) Member() protocol.Member { return c.member.public() }

// internal logs err, the cause of an internal error, and returns the
// Problem the member gets, which never carries the cause.
func (h *Hub) internal(err error, format string, args ...any) *protocol.Problem {
	msg := fmt.Sprintf(format, args...)
	h.cfg.Logger.Error("chat: "+msg, "err", err)
	return protocol.Errorf(protocol.CodeInternal, "%s", msg)
}

// lockCurrent takes the hub lock and reports whether c is still its member's
// connection (not taken over or gone). If it is, the caller releases the lock
// by calling the returned unlock; if not, the lock is already released. Either
// way release does the releasing: h.unlock, which also finishes queued joins,
// or a plain h.mu.Unlock.
func (c *Conn) lockCurrent(release func()) (unlock func(), ok bool) {
	c.hub.mu.Lock()
	if c.member.conn.Load() != c {
		release()
		return nil, false
	}
	return release, true
}

// Handle carries out one frame from the connection. A refusal comes back as
// a Problem for the transport to send; nothing else needs the caller.
func (c *Conn) Handle(f protocol.Frame) *protocol.Problem {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch f := f.(type) {
	case protocol.Join:
		return c.join(f)
	case protocol.Leave:
		return c.leave(f)
	case protocol.Send:
		_, p := c.send(f)
		return p
	case protocol.Typing:
		return c.typing(f)
	case protocol.CreateRoom:
		return c.createRoom(f)
	case protocol.Control:
		return c.control(f)
	case protocol.DM:
		return c.openDM(f)
	case protocol.MembersQuery:
		return c.members(f)
	case protocol.Search:
		return c.search(f)
	case protocol.HistoryQuery:
		return c.history(f)
	case protocol.React:
		return c.react(f)
	case protocol.Edit:
		return c.edit(f)
	case protocol.Poll:
		return c.poll(f)
	case protocol.Vote:
		return c.vote(f)
	case protocol.ClosePoll:
		return c.closePoll(f)
	case protocol.Hello:
		return protocol.Errorf(protocol.CodeAlreadyHello, "hello was already received on this connection")
	}
	return protocol.Errorf(protocol.CodeUnknownType, "the server does not accept %s frames", f.FrameType())
}

func (c *Conn) createRoom(f protocol.CreateRoom) *protocol.Problem {
	h := c.hub
	if !h.cfg.AllowCreate {
		return protocol.Errorf(protocol.CodeRoomCreateOff, "this host does not let members create rooms").WithRef(f.Room)
	}
	unlock, ok := c.lockCurrent(h.unlock)
	if !ok {
		return nil
	}
	defer unlock()
	return h.createRoomLocked(c, f.Room, false)
}

// Close refuses new members and tells every connection the host is going
// away. Transports then close their sockets (WebSocket code 1001).
func (h *Hub) Close() {
	for _, stop := range h.unwatch {
		stop() // before the lock: a change being applied needs it
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closed = true
	h.roomsList.stop()
	for _, r := range h.rooms {
		r.mu.Lock()
		r.pushed.stop()
		r.mu.Unlock()
		r.stopFollowing()
	}
	for _, m := range h.members {
		m.close(protocol.Errorf(protocol.CodeShuttingDown, "the host is shutting down"))
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
