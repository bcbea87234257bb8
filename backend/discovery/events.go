package discovery

import "context"

type subscriber struct {
	queue  []Event
	wake   chan struct{}
	closed bool
}

func (sub *subscriber) wakeUp() {
	select {
	case sub.wake <- struct{}{}:
	default:
	}
}

// emitLocked queues ev for every subscriber; it never blocks.
func (s *Service) emitLocked(t EventType, p Peer) {
	ev := Event{Type: t, Peer: p}
	for sub := range s.subs {
		sub.queue = append(sub.queue, ev)
		sub.wakeUp()
	}
}

// Subscribe returns the list's changes: first an Added event for every
// peer listed now (this computer included), then every change as it
// happens, in order and never dropped. The channel is closed, and the
// goroutine feeding it has ended, once ctx ends or Run has returned.
func (s *Service) Subscribe(ctx context.Context) <-chan Event {
	ch := make(chan Event)
	sub := &subscriber{wake: make(chan struct{}, 1)}
	s.mu.Lock()
	for _, p := range s.peersLocked() {
		sub.queue = append(sub.queue, Event{Type: Added, Peer: p})
	}
	sub.closed = s.stopped
	s.subs[sub] = struct{}{}
	s.mu.Unlock()
	go func() {
		defer close(ch)
		defer func() {
			s.mu.Lock()
			delete(s.subs, sub)
			s.mu.Unlock()
		}()
		for {
			s.mu.Lock()
			q, closed := sub.queue, sub.closed
			sub.queue = nil
			s.mu.Unlock()
			for _, ev := range q {
				select {
				case ch <- ev:
				case <-ctx.Done():
					return
				}
			}
			if closed {
				return
			}
			select {
			case <-sub.wake:
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}
