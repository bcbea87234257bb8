package store

import (
	"slices"
	"testing"

	"lanchat/backend/chat"
)

// The join code is kept across a reopen, the last one set wins, an empty
// one removes it, and the session's bans, mutes and co-hosts are not kept.
func TestJoinCodeIsKept(t *testing.T) {
	replayed := func(t *testing.T, path string) []chat.Decision {
		t.Helper()
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var got []chat.Decision
		stop := s.WatchDecisions(func(d chat.Decision, live bool) {
			if live {
				t.Errorf("a kept decision replayed as live: %+v", d)
			}
			got = append(got, d)
		})
		stop()
		return got
	}
	s, path := openTemp(t, Options{})
	if got := replayed(t, path); len(got) != 0 {
		t.Fatalf("a new database replays %+v", got)
	}
	for _, d := range []chat.Decision{
		{Kind: chat.DecideJoinCode, Value: "turma7A"},
		{Kind: chat.DecideBanned, Key: "ana@device", On: true},
		{Kind: chat.DecideBanDevice, Key: "device", On: true},
		{Kind: chat.DecideMuted, Key: "bruno@device", On: true},
		{Kind: chat.DecideJoinCode, Value: "turma7B"},
		{Kind: chat.DecideCohost, Key: "carla@device", On: true},
	} {
		if err := s.Decide(d); err != nil {
			t.Fatalf("Decide(%+v): %v", d, err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	want := []chat.Decision{{Kind: chat.DecideJoinCode, Value: "turma7B"}}
	if got := replayed(t, path); !slices.Equal(got, want) {
		t.Fatalf("replayed %+v, want %+v", got, want)
	}

	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Decide(chat.Decision{Kind: chat.DecideJoinCode}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if got := replayed(t, path); len(got) != 0 {
		t.Fatalf("after the code was removed, replayed %+v", got)
	}
}

// The announcements are kept across a reopen: the newest list set wins.
func TestAnnouncementsAreKept(t *testing.T) {
	s, path := openTemp(t, Options{})
	for _, v := range []string{`[{"id":"a1","text":"one"}]`, `[{"id":"a1","text":"one"},{"id":"a2","text":"two"}]`} {
		if err := s.Decide(chat.Decision{Kind: chat.DecideAnnouncements, Value: v}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []chat.Decision
	s.WatchDecisions(func(d chat.Decision, live bool) { got = append(got, d) })()
	want := []chat.Decision{{Kind: chat.DecideAnnouncements, Value: `[{"id":"a1","text":"one"},{"id":"a2","text":"two"}]`}}
	if !slices.Equal(got, want) {
		t.Fatalf("replayed %+v, want %+v", got, want)
	}
}
