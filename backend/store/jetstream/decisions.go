package jsstore

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"

	"github.com/nats-io/nats.go/jetstream"

	"lanchat/backend/chat"
)

var _ chat.Decisions = (*Store)(nil)

// Decide saves d: a kept decision under its kind and key in the decisions
// bucket (the latest one holds), an action on a member under a key of its
// own in the actions bucket, whose entries expire after an hour.
func (s *Store) Decide(d chat.Decision) error {
	ctx, cancel := s.ctx()
	defer cancel()
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	kv, key := s.decisions, d.Kind
	if d.Key != "" {
		key += "." + Encode(d.Key)
	}
	if d.Member != "" {
		r := make([]byte, 8)
		_, _ = rand.Read(r)
		kv, key = s.actions, "a."+hex.EncodeToString(r)
	}
	return wrap("decide", retry(ctx, func() error { _, err := kv.Put(ctx, key, b); return err }))
}

// WatchDecisions implements chat.Decisions: the kept decisions first (not
// live), then every decision and action as it is saved (live).
func (s *Store) WatchDecisions(apply func(d chat.Decision, live bool)) (stop func()) {
	decode := func(e jetstream.KeyValueEntry, live bool) {
		var d chat.Decision
		if json.Unmarshal(e.Value(), &d) == nil && d.Kind != "" {
			apply(d, live)
		}
	}
	stopKept := watch(s.decisions, false, decode)
	stopActions := watch(s.actions, true, func(e jetstream.KeyValueEntry, _ bool) { decode(e, true) })
	return func() {
		stopActions()
		stopKept()
	}
}
