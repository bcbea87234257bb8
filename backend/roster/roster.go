// Package roster is a chat.Roster for a cluster of lanchat boxes over NATS:
// members' comings and goings travel on plain subjects (not stored), names
// are claimed in a replicated key-value bucket, and a box that stops
// heartbeating is gone, with its members, for everyone else.
package roster

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/chat"
	"lanchat/backend/protocol"
)

// Subjects. All roster traffic is on one subscription (lanchat.roster.>),
// so a box's changes, its heartbeats and its goodbye arrive in order.
const (
	subjectAll    = "lanchat.roster.>"
	subjectChange = "lanchat.roster.change" // a member joined or left a room
	subjectAlive  = "lanchat.roster.alive"  // a box's heartbeat
	subjectHello  = "lanchat.roster.hello"  // a box started: the others tell it who is where
	subjectBye    = "lanchat.roster.bye"    // a box stops
	namesBucket   = "lanchat_names"
)

// Config says who this box is and how liveness works.
type Config struct {
	// Box names this box's run: unique per process (a restarted box is a
	// new box; the others forget the old one when it stops heartbeating).
	Box      string
	Replicas int           // of the names bucket
	Alive    time.Duration // heartbeat interval; default 1 s
	Expire   time.Duration // a box not heard for this long is gone; default 5 s
	Timeout  time.Duration // of a name claim; default 5 s
	Logger   *slog.Logger
	// URLs returns this box's join links, told to the other boxes with
	// every heartbeat (their welcome lists them for failover).
	URLs func() []string
}

// Roster is this box's side of the cluster's roster. It implements
// chat.Roster; Attach gives it the hub that it tells of other boxes.
type Roster struct {
	cfg   Config
	nc    *nats.Conn
	names jetstream.KeyValue
	start time.Time

	mu   sync.Mutex
	hub  *chat.Hub
	seen map[string]time.Time // other boxes, when last heard
	urls map[string][]string  // other boxes' join links
	// origins are the pages (join links) of every box heard since start: a
	// box that went quiet keeps its origin, so that its members' pages can
	// still fail over once its hold on their names is released.
	origins map[string]bool

	sub      *nats.Subscription
	releases chan [2]string // name claims to release, off the hub's lock
	wg       sync.WaitGroup
}

type event struct {
	Box    string         `json:"box"`
	Room   string         `json:"room,omitempty"`
	Event  string         `json:"event,omitempty"`
	Member chat.BoxMember `json:"member,omitzero"`
	URLs   []string       `json:"urls,omitempty"`
}

// New opens the names bucket (creating it when no box has) and subscribes.
func New(ctx context.Context, nc *nats.Conn, js jetstream.JetStream, cfg Config) (*Roster, error) {
	if cfg.Box == "" {
		return nil, errors.New("roster: a box name is required")
	}
	cfg.Alive = cmpOr(cfg.Alive, time.Second)
	cfg.Expire = cmpOr(cfg.Expire, 5*time.Second)
	cfg.Timeout = cmpOr(cfg.Timeout, 5*time.Second)
	cfg.Replicas = max(cfg.Replicas, 1)
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: namesBucket, History: 1, Storage: jetstream.FileStorage, Replicas: cfg.Replicas})
	if errors.Is(err, jetstream.ErrBucketExists) {
		kv, err = js.KeyValue(ctx, namesBucket)
	}
	if err != nil {
		return nil, fmt.Errorf("roster: names bucket: %w", err)
	}
	r := &Roster{cfg: cfg, nc: nc, names: kv, start: time.Now(), seen: map[string]time.Time{}, urls: map[string][]string{}, origins: map[string]bool{}, releases: make(chan [2]string, 1024)}
	r.sub, err = nc.Subscribe(subjectAll, r.receive)
	if err != nil {
		return nil, fmt.Errorf("roster: subscribe: %w", err)
	}
	return r, nil
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// Attach hands the roster its hub and asks the other boxes who is where.
func (r *Roster) Attach(h *chat.Hub) {
	r.mu.Lock()
	r.hub = h
	r.mu.Unlock()
	r.send(subjectHello, r.heartbeat())
}

// heartbeat is this box's heartbeat.
func (r *Roster) heartbeat() event {
	e := event{Box: r.cfg.Box}
	if r.cfg.URLs != nil {
		e.URLs = r.cfg.URLs()
	}
	return e
}

// Boxes lists the join links of the other boxes heard within Expire.
func (r *Roster) Boxes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for box, at := range r.seen {
		if time.Since(at) <= r.cfg.Expire {
			out = append(out, r.urls[box]...)
		}
	}
	slices.Sort(out)
	return out
}

// KnownOrigin reports whether origin is the page of another box (its join
// link without the path), so that its members may fail over to this one.
func (r *Roster) KnownOrigin(origin string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.origins[strings.ToLower(origin)]
}

// Run heartbeats, forgets boxes that went quiet, and releases names, until
// ctx ends; then it says goodbye and unsubscribes.
func (r *Roster) Run(ctx context.Context) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.releaseLoop(ctx)
	}()
	t := time.NewTicker(r.cfg.Alive)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			r.send(subjectBye, event{Box: r.cfg.Box})
			_ = r.nc.Flush()
			_ = r.sub.Unsubscribe()
			r.wg.Wait()
			return
		case <-t.C:
			r.send(subjectAlive, r.heartbeat())
			r.expire(time.Now())
		}
	}
}

func (r *Roster) send(subject string, e event) {
	b, _ := json.Marshal(e)
	if err := r.nc.Publish(subject, b); err != nil {
		r.cfg.Logger.Warn("roster: publish", "subject", subject, "err", err)
	}
}

// expire tells the hub of boxes not heard for Expire.
func (r *Roster) expire(now time.Time) {
	r.mu.Lock()
	var gone []string
	for box, at := range r.seen {
		if now.Sub(at) > r.cfg.Expire {
			gone = append(gone, box)
			delete(r.seen, box)
			delete(r.urls, box)
		}
	}
	h := r.hub
	r.mu.Unlock()
	for _, box := range gone {
		r.cfg.Logger.Info("roster: a box went quiet; its members are gone", "box", box)
		if h != nil {
			h.RemoteGone(box)
		}
	}
	// A box heard again while its members were being taken away: what it
	// told again may have been taken away too. Ask once more.
	r.mu.Lock()
	again := slices.ContainsFunc(gone, func(box string) bool { _, ok := r.seen[box]; return ok })
	r.mu.Unlock()
	if again && h != nil {
		r.send(subjectHello, r.heartbeat())
	}
}

// receive handles the other boxes' roster traffic, in order.
func (r *Roster) receive(msg *nats.Msg) {
	var e event
	if json.Unmarshal(msg.Data, &e) != nil || e.Box == "" || e.Box == r.cfg.Box {
		return
	}
	r.mu.Lock()
	h := r.hub
	// A box heard again after it went quiet (a stall, a network blip
	// longer than Expire) had its members taken away here, and this box's
	// may be gone there: everyone tells again who is where, as for a box
	// that starts. A hello already does that.
	var again bool
	if msg.Subject == subjectBye {
		delete(r.seen, e.Box)
		delete(r.urls, e.Box)
	} else {
		_, known := r.seen[e.Box]
		again = !known && msg.Subject != subjectHello
		r.seen[e.Box] = time.Now()
		if e.URLs != nil {
			r.urls[e.Box] = e.URLs
			for _, u := range e.URLs {
				if o, err := url.Parse(u); err == nil && o.Host != "" {
					r.origins[strings.ToLower(o.Scheme+"://"+o.Host)] = true
				}
			}
		}
	}
	r.mu.Unlock()
	if h == nil {
		return // not attached yet: Attach's hello brings everything
	}
	if again {
		r.cfg.Logger.Info("roster: a box is heard again; asking every box who is where", "box", e.Box)
		r.send(subjectHello, r.heartbeat())
	}
	switch msg.Subject {
	case subjectChange:
		h.Remote(e.Box, e.Room, e.Event, e.Member)
	case subjectHello:
		for _, m := range h.Local() {
			r.Publish(m.Room, protocol.EventJoined, m.Member)
		}
	case subjectBye:
		h.RemoteGone(e.Box)
	}
}

// Publish tells the other boxes of a change of this box's member, or asks
// them to join theirs to a private room (chat.RosterOpened).
func (r *Roster) Publish(room, event_ string, m chat.BoxMember) {
	r.send(subjectChange, event{Box: r.cfg.Box, Room: room, Event: event_, Member: m})
}

func nameKey(key string) string { return hex.EncodeToString([]byte(key)) }

// Claim reserves a name for this box's member id. A name held by a box
// that went quiet (or by this box's earlier run) is taken over.
func (r *Roster) Claim(key, id string) error {
	ctx, cancel := context.WithTimeout(context.Background(), r.cfg.Timeout)
	defer cancel()
	k, val := nameKey(key), []byte(r.cfg.Box+"/"+id)
	for range 3 {
		_, err := r.names.Create(ctx, k, val)
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("roster: claim: %w", err)
		}
		e, err := r.names.Get(ctx, k)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // released meanwhile
		}
		if err != nil {
			return fmt.Errorf("roster: claim: %w", err)
		}
		owner, _, _ := strings.Cut(string(e.Value()), "/")
		if owner != r.cfg.Box && r.alive(owner) {
			return chat.ErrNameTaken
		}
		if _, err := r.names.Update(ctx, k, val, e.Revision()); err == nil {
			return nil
		} else if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			return fmt.Errorf("roster: claim: %w", err)
		}
	}
	return chat.ErrNameTaken
}

// alive reports whether box may still be running: heard within Expire, or
// unknown while this box has not been up for Expire yet.
func (r *Roster) alive(box string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if at, ok := r.seen[box]; ok {
		return time.Since(at) <= r.cfg.Expire
	}
	return time.Since(r.start) <= r.cfg.Expire
}

// Release frees a name this box claimed for id (later, off the hub's lock).
func (r *Roster) Release(key, id string) {
	select {
	case r.releases <- [2]string{key, id}:
	default:
		// Full: the claim stays until a claim finds this box's run gone.
	}
}

func (r *Roster) releaseLoop(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case kid := <-r.releases:
			c, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
			k := nameKey(kid[0])
			if e, err := r.names.Get(c, k); err == nil && string(e.Value()) == r.cfg.Box+"/"+kid[1] {
				_ = r.names.Delete(c, k, jetstream.LastRevision(e.Revision()))
			}
			cancel()
		}
	}
}
