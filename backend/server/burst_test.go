package server

import (
	"testing"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/server/crowd"
)

// crowdSize is n, or a tenth of it under the race detector.
func crowdSize(n int) int {
	if raceEnabled {
		return n / 10
	}
	return n
}

// burstHost is a host sized for a crowd: its connection limit above it, and
// its rooms small (whole member lists) for the crowd and the members who
// send to it, so that every member's list can be checked.
func burstHost(t *testing.T, n int) *testHost {
	return startHost(t, chat.Config{HostID: "host-burst", HostName: "lecture hall", RatePerSecond: 50, RateBurst: 100, FullList: 2 * n},
		Config{MaxConns: 2*n + 10})
}

// A lecture hall: 1,000 clients send hello and join one room at the same
// moment. Nobody is disconnected and everyone ends with the same, complete
// member list.
func TestJoinBurst1000(t *testing.T) {
	n := crowdSize(1000)
	h := burstHost(t, n)
	c := crowd.New(h.url, "general", n)
	defer c.Close()
	start := time.Now()
	c.Connect(false)
	complete := c.WaitComplete(n, 3*time.Minute)
	t.Logf("%d members joined with complete lists in %v", n, time.Since(start).Round(time.Millisecond))
	if d := c.Disconnected(); len(d) > 0 {
		t.Fatalf("%d of %d disconnected, first: %s", len(d), n, d[0])
	}
	if complete != n {
		t.Fatalf("%d of %d members have a complete list", complete, n)
	}
	if err := c.SameLists(n); err != nil {
		t.Fatal(err)
	}
}

// A reconnect storm: 1,000 members in a room where messages are being
// sent all lose their connection at once and resume together. Each ends
// with every message exactly once, in order, and the same complete list.
func TestReconnectStorm1000(t *testing.T) {
	n := crowdSize(1000)
	h := burstHost(t, n)
	c := crowd.New(h.url, "general", n)
	defer c.Close()
	c.Connect(false)
	if got := c.WaitComplete(n, 3*time.Minute); got != n {
		t.Fatalf("before the storm: %d of %d complete; %d disconnected", got, n, len(c.Disconnected()))
	}
	const batch = 100
	sendBatch := func() {
		if err := crowd.Send(h.url, "general", batch); err != nil {
			t.Fatal(err)
		}
	}
	sendBatch()
	c.Drop()
	sendBatch() // while everyone is away
	start := time.Now()
	c.Connect(true)
	sendBatch() // while they come back
	// The senders have gone once the host counts the crowd alone; their
	// leaving is then the last change every list gets.
	for end := time.Now().Add(3 * time.Minute); c.Joined() != n || h.hub.Stats().Members != n; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("after the storm: %d of %d joined, the host counts %d", c.Joined(), n, h.hub.Stats().Members)
		}
	}
	if got := c.WaitComplete(n, 3*time.Minute); got != n {
		t.Fatalf("after the storm: %d of %d complete; %d disconnected", got, n, len(c.Disconnected()))
	}
	if behind := c.WaitSeqs(3*batch, 2*time.Minute); behind > 0 {
		t.Errorf("%d members still miss messages", behind)
	}
	t.Logf("%d members resumed with every message in %v", n, time.Since(start).Round(time.Millisecond))
	if tally := c.Check(3 * batch); tally != (crowd.Tally{}) {
		t.Fatalf("after the storm: %+v", tally)
	}
	if err := c.SameLists(n); err != nil {
		t.Fatal(err)
	}
}
