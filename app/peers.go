package app

import (
	"context"
	"time"

	"lanchat/backend/discovery"
)

// Peer is a host in the peer list, this computer included (Self), in the
// same shape as GET /api/peers.
type Peer = discovery.Peer

// Diagnosis is discovery's own account of what it sees.
type Diagnosis = discovery.Diagnosis

// Discovery is what the app uses of the host's discovery service.
type Discovery interface {
	Peers() []discovery.Peer
	AddManual(ctx context.Context, addr string) (discovery.Peer, error)
	ForgetKey(id string) error
	Subscribe(ctx context.Context) <-chan discovery.Event
	Diagnosis() discovery.Diagnosis
}

// peerFeed serves the peer list and pushes it whole to the UI on every
// change.
type peerFeed struct {
	disc Discovery
	emit func(list []Peer)
}

// List returns the current peers (never nil).
func (f *peerFeed) List() []Peer {
	l := f.disc.Peers()
	if l == nil {
		l = []Peer{}
	}
	return l
}

// Watch calls emit with the whole list after every change until ctx ends
// or discovery stops. Changes that arrive together are sent as one list.
func (f *peerFeed) Watch(ctx context.Context) {
	events := f.disc.Subscribe(ctx)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-ctx.Done():
			return
		}
	drain:
		for {
			select {
			case _, ok := <-events:
				if !ok {
					break drain
				}
			default:
				break drain
			}
		}
		f.emit(f.List())
	}
}

// awaitAdvertising waits until discovery advertises this host, or has said
// why it cannot, or limit has passed; it reports whether it advertises.
func awaitAdvertising(ctx context.Context, d Discovery, limit time.Duration) bool {
	deadline := time.NewTimer(limit)
	defer deadline.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		dg := d.Diagnosis()
		if dg.Advertising {
			return true
		}
		if !dg.Since.IsZero() && dg.Reason != "" { // running, and said why not
			return false
		}
		select {
		case <-tick.C:
		case <-deadline.C:
			return false
		case <-ctx.Done():
			return false
		}
	}
}
