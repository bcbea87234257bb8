package store

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"lanchat/backend/protocol"
)

// TestReferencedFollowsDeletesAndRetention: the files a history uses are
// those of its kept, undeleted messages.
func TestReferencedFollowsDeletesAndRetention(t *testing.T) {
	s, _ := openTemp(t, Options{KeepPerRoom: 2, noJanitor: true})
	id := func(c string) string { return strings.Repeat(c, 64) }
	send := func(room string, atts ...protocol.Attachment) {
		if _, _, err := s.Append(room, protocol.Message{ID: "x", From: protocol.Member{ID: "m", Name: "Ana"}, TS: time.Now().UnixMilli(), Attachments: atts}); err != nil {
			t.Fatal(err)
		}
	}
	want := func(ids ...string) {
		t.Helper()
		got, err := s.Referenced()
		if err != nil {
			t.Fatal(err)
		}
		if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, slices.Sorted(slices.Values(ids))) {
			t.Fatalf("referenced %v, want %v", keys, ids)
		}
	}
	send("general", protocol.Attachment{ID: id("a"), Thumb: id("b")}, protocol.Attachment{ID: id("c")})
	send("general") // text only
	send("@x-y", protocol.Attachment{ID: id("d")})
	want(id("a"), id("b"), id("c"), id("d"))
	if err := s.MarkDeleted("@x-y", 1); err != nil {
		t.Fatal(err)
	}
	want(id("a"), id("b"), id("c"))
	send("general")
	send("general") // the first message of general falls out of the two kept
	if _, err := s.Prune(context.Background()); err != nil {
		t.Fatal(err)
	}
	want()
}
