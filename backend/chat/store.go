package chat

import (
	"sync"

	"lanchat/backend/protocol"
)

// Store keeps rooms and their messages. Every room argument is the room's
// store key (StoredRoom.Key), which stays the same across renames.
//
// Append must return only once the message is as durable as the store
// promises: the hub acks after it. The hub may call Append for one room from
// several goroutines at once (a durable store commits them together); the
// store hands out the seqs, so they stay gapless in the order it stores.
type Store interface {
	// Rooms returns the rooms the store knows, with their last seq.
	Rooms() ([]StoredRoom, error)
	// SaveRoom creates or updates a room.
	SaveRoom(r StoredRoom) error
	// Append stores m as the next message of room: it sets m.Seq to the
	// room's last seq plus one and returns m as stored. When the room still
	// keeps a message sent with m.ClientID, nothing is stored and Append
	// returns that message with dup true.
	Append(room string, m protocol.Message) (stored protocol.Message, dup bool, err error)
	// Since returns up to limit messages of room with seq > after, oldest
	// first, and the first seq the store still keeps (0 if none).
	Since(room string, after uint64, limit int) ([]protocol.Message, uint64, error)
	// Last returns up to n newest messages of room, oldest first, and the
	// first seq kept.
	Last(room string, n int) ([]protocol.Message, uint64, error)
	// MarkDeleted turns message seq of room into a tombstone: Deleted set,
	// Text emptied. Since and Last return it that way from then on.
	MarkDeleted(room string, seq uint64) error
	// (MarkDeleted also masks the text of the message's edits, and a
	// poll's options.)
	// Epoch names this store's history: random when the history was
	// created, the same for as long as it is kept.
	Epoch() string
}

// StoredRoom is a room as the store keeps it. Key is protocol.RoomKey(Name).
type StoredRoom struct {
	Key     string
	Name    string
	LastSeq uint64
	Topic   string
	Flags   RoomFlags
	Closed  bool
	// Pinned is the message pinned at the top of the room, as it was
	// when pinned; nil when nothing is.
	Pinned *protocol.Message
}

// RoomFlags are the room's moderation settings.
type RoomFlags struct {
	Locked        bool `json:"locked,omitempty"`
	Announcements bool `json:"announcements,omitempty"`
	SlowSeconds   int  `json:"slow_seconds,omitempty"`
}

// MemoryStore keeps the newest Keep messages of each room in memory. It is
// the store of a host without a data dir, and the model for durable ones.
type MemoryStore struct {
	Keep int

	epoch string
	mu    sync.Mutex
	rooms map[string]*memRoom
	order []string
	stamp uint64 // counts appends: the order messages were stored in
}

type memRoom struct {
	info     StoredRoom
	msgs     []protocol.Message // ring, oldest first after normalisation
	stamps   []uint64           // when each of msgs was stored (MemoryStore.stamp)
	byClient map[string]uint64
}

// NewMemoryStore returns a store that keeps keep messages per room.
func NewMemoryStore(keep int) *MemoryStore {
	if keep <= 0 {
		keep = 1000
	}
	return &MemoryStore{Keep: keep, rooms: map[string]*memRoom{}, epoch: randomHex(8)}
}

// Epoch is random per MemoryStore: its history lasts as long as the process.
func (s *MemoryStore) Epoch() string { return s.epoch }

func (s *MemoryStore) Rooms() ([]StoredRoom, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]StoredRoom, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, s.rooms[k].info)
	}
	return out, nil
}

func (s *MemoryStore) SaveRoom(r StoredRoom) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if mr, ok := s.rooms[r.Key]; ok {
		r.LastSeq = max(r.LastSeq, mr.info.LastSeq) // seqs are never handed out twice
		mr.info = r
		return nil
	}
	s.rooms[r.Key] = &memRoom{info: r, byClient: map[string]uint64{}}
	s.order = append(s.order, r.Key)
	return nil
}

func (s *MemoryStore) room(key string) *memRoom {
	mr, ok := s.rooms[key]
	if !ok {
		mr = &memRoom{info: StoredRoom{Key: key, Name: key}, byClient: map[string]uint64{}}
		s.rooms[key] = mr
		s.order = append(s.order, key)
	}
	return mr
}

func (s *MemoryStore) Append(room string, m protocol.Message) (protocol.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(room)
	if m.ClientID != "" {
		if seq, ok := mr.byClient[m.ClientID]; ok {
			return mr.msgs[seq-s.firstKept(mr)], true, nil
		}
	}
	m.Seq = mr.info.LastSeq + 1
	mr.msgs = append(mr.msgs, m)
	s.stamp++
	mr.stamps = append(mr.stamps, s.stamp)
	if m.ClientID != "" {
		mr.byClient[m.ClientID] = m.Seq
	}
	if over := len(mr.msgs) - s.Keep; over > 0 {
		for _, old := range mr.msgs[:over] {
			if old.ClientID != "" {
				delete(mr.byClient, old.ClientID)
			}
		}
		// Reslicing is O(1); copying to a fresh array once the dropped
		// prefix is as large as the window keeps memory bounded.
		mr.msgs, mr.stamps = mr.msgs[over:], mr.stamps[over:]
		if cap(mr.msgs) > 4*s.Keep {
			mr.msgs = append(make([]protocol.Message, 0, 2*s.Keep), mr.msgs...)
			mr.stamps = append(make([]uint64, 0, 2*s.Keep), mr.stamps...)
		}
	}
	mr.info.LastSeq = m.Seq
	return m, false, nil
}

func (s *MemoryStore) firstKept(mr *memRoom) uint64 {
	if len(mr.msgs) == 0 {
		return 0
	}
	return mr.msgs[0].Seq
}

func (s *MemoryStore) Since(room string, after uint64, limit int) ([]protocol.Message, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(room)
	var out []protocol.Message
	for _, m := range mr.msgs {
		if m.Seq > after {
			out = append(out, m)
			if len(out) == limit {
				break
			}
		}
	}
	return out, s.firstKept(mr), nil
}

func (s *MemoryStore) Last(room string, n int) ([]protocol.Message, uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(room)
	from := max(len(mr.msgs)-n, 0)
	return append([]protocol.Message(nil), mr.msgs[from:]...), s.firstKept(mr), nil
}

func (s *MemoryStore) MarkDeleted(room string, seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(room)
	first := s.firstKept(mr)
	if seq < first || seq-first >= uint64(len(mr.msgs)) {
		return nil
	}
	m := &mr.msgs[seq-first]
	m.Deleted, m.Text, m.Attachments, m.Options = true, "", nil, nil
	for i := range mr.msgs[seq-first:] {
		if e := &mr.msgs[int(seq-first)+i]; e.Target == seq && e.FrameType() == protocol.TypeEdited {
			e.Deleted, e.Text = true, "" // its edits go with it
		}
	}
	return nil
}

// EventsOf returns the events acting on message target of room, oldest first.
func (s *MemoryStore) EventsOf(room string, target uint64) ([]protocol.Message, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []protocol.Message
	for _, m := range s.room(room).msgs {
		if m.Target == target && m.Seq > target && protocol.IsEvent(m.FrameType()) {
			out = append(out, m)
		}
	}
	return out, nil
}

// ByClientID returns the message of room kept under clientID, if any.
func (s *MemoryStore) ByClientID(room, clientID string) (protocol.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(room)
	seq, ok := mr.byClient[clientID]
	if !ok {
		return protocol.Message{}, false, nil
	}
	return mr.msgs[seq-s.firstKept(mr)], true, nil
}

// Referenced lists the ids of the files and thumbnails kept messages use.
func (s *MemoryStore) Referenced() (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]bool{}
	for _, mr := range s.rooms {
		for _, m := range mr.msgs {
			for _, a := range m.Attachments {
				out[a.ID] = true
				if a.Thumb != "" {
					out[a.Thumb] = true
				}
			}
		}
	}
	return out, nil
}
