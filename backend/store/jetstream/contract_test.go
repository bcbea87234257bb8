package jsstore

import (
	"testing"

	"lanchat/backend/chat"
	"lanchat/backend/chat/storetest"
)

// TestContract runs the hub's store contract against a single box: one
// embedded server per case, one replica.
func TestContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) chat.Store {
		return open(t, startNodes(t, 1)[0], Options{})
	})
}

// clusters bounds how many three-box clusters the contract runs at once.
var clusters = make(chan struct{}, 4)

// TestContractR3 runs the contract against a three-box cluster per case,
// with three replicas, through the third box (whichever leads the streams).
func TestContractR3(t *testing.T) {
	if testing.Short() {
		t.Skip("a cluster per case")
	}
	storetest.Run(t, func(t *testing.T) chat.Store {
		clusters <- struct{}{}
		t.Cleanup(func() { <-clusters })
		nodes := startNodes(t, 3)
		return open(t, nodes[2], Options{Replicas: 3})
	})
}
