package chat

import (
	"sync"

	"lanchat/backend/protocol"
)

// Store keeps rooms and their messages. The hub calls it with the room's lock
// held, so calls for one room never overlap. Append must return only once the
// message is as durable as the store promises: the hub acks after it.
type Store interface {
	// Rooms returns the rooms the store knows, with their last seq.
	Rooms() ([]StoredRoom, error)
	// SaveRoom creates or updates a room.
	SaveRoom(r StoredRoom) error
	// Append stores m; m.Seq is the room's last seq plus one.
	Append(m protocol.Message) error
	// Since returns up to limit messages of room with seq > after, oldest
	// first, and the first seq the store still keeps (0 if none).
	Since(room string, after uint64, limit int) ([]protocol.Message, uint64, error)
	// Last returns up to n newest messages of room, oldest first, and the
	// first seq kept.
	Last(room string, n int) ([]protocol.Message, uint64, error)
	// ByClientID finds a message of room sent with clientID, if kept.
	ByClientID(room, clientID string) (protocol.Message, bool, error)
	// MarkDeleted turns message seq of room into a tombstone: Deleted set,
	// Text emptied. Since and Last return it that way from then on.
	MarkDeleted(room string, seq uint64) error
}

// StoredRoom is a room as the store keeps it. Key is protocol.RoomKey(Name).
type StoredRoom struct {
	Key     string
	Name    string
	LastSeq uint64
	Topic   string
	Flags   RoomFlags
	Closed  bool
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

	mu    sync.Mutex
	rooms map[string]*memRoom
	order []string
}

type memRoom struct {
	info     StoredRoom
	msgs     []protocol.Message // ring, oldest first after normalisation
	byClient map[string]uint64
}

// NewMemoryStore returns a store that keeps keep messages per room.
func NewMemoryStore(keep int) *MemoryStore {
	if keep <= 0 {
		keep = 1000
	}
	return &MemoryStore{Keep: keep, rooms: map[string]*memRoom{}}
}

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

func (s *MemoryStore) Append(m protocol.Message) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(protocol.RoomKey(m.Room))
	mr.msgs = append(mr.msgs, m)
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
		mr.msgs = mr.msgs[over:]
		if cap(mr.msgs) > 4*s.Keep {
			mr.msgs = append(make([]protocol.Message, 0, 2*s.Keep), mr.msgs...)
		}
	}
	mr.info.LastSeq = m.Seq
	return nil
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
	mr := s.room(protocol.RoomKey(room))
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
	mr := s.room(protocol.RoomKey(room))
	from := max(len(mr.msgs)-n, 0)
	return append([]protocol.Message(nil), mr.msgs[from:]...), s.firstKept(mr), nil
}

func (s *MemoryStore) ByClientID(room, clientID string) (protocol.Message, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(protocol.RoomKey(room))
	seq, ok := mr.byClient[clientID]
	if !ok {
		return protocol.Message{}, false, nil
	}
	first := s.firstKept(mr)
	return mr.msgs[seq-first], true, nil
}

func (s *MemoryStore) MarkDeleted(room string, seq uint64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	mr := s.room(protocol.RoomKey(room))
	first := s.firstKept(mr)
	if seq < first || seq-first >= uint64(len(mr.msgs)) {
		return nil
	}
	m := &mr.msgs[seq-first]
	m.Deleted, m.Text = true, ""
	return nil
}
