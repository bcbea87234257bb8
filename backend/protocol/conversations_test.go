package protocol

import (
	"errors"
	"strings"
	"testing"
	"unicode"
)

func TestDecodeConversationFrames(t *testing.T) {
	cases := []struct {
		in   string
		want Frame
		code string
	}{
		{`{"type":"send","room":"g","client_id":"c","text":"x","reply_to":8}`, Send{Type: "send", Room: "g", ClientID: "c", Text: "x", ReplyTo: 8}, ""},
		{`{"type":"react","room":"g","client_id":"c","target":3,"emoji":"👍","remove":true}`, React{Type: "react", Room: "g", ClientID: "c", Target: 3, Emoji: "👍", Remove: true}, ""},
		{`{"type":"edit","room":"g","client_id":"c","target":3,"text":"y"}`, Edit{Type: "edit", Room: "g", ClientID: "c", Target: 3, Text: "y"}, ""},
		{`{"type":"poll","room":"g","client_id":"c","text":"?","options":["a","b"]}`, Poll{Type: "poll", Room: "g", ClientID: "c", Text: "?", Options: []string{"a", "b"}}, ""},
		{`{"type":"vote","room":"g","client_id":"c","target":3,"option":0}`, Vote{Type: "vote", Room: "g", ClientID: "c", Target: 3}, ""},
		{`{"type":"close_poll","room":"g","client_id":"c","target":3}`, ClosePoll{Type: "close_poll", Room: "g", ClientID: "c", Target: 3}, ""},
		{`{"type":"send","reply_to":-1}`, nil, CodeBadFrame},
		{`{"type":"react","target":"3"}`, nil, CodeBadFrame},
		{`{"type":"poll","options":"a,b"}`, nil, CodeBadFrame},
		{`{"type":"vote","option":1.5}`, nil, CodeBadFrame},
		// events are the host's: a client cannot send them
		{`{"type":"reaction","target":3,"emoji":"👍"}`, nil, CodeUnknownType},
		{`{"type":"edited","target":3}`, nil, CodeUnknownType},
		{`{"type":"poll_closed","target":3}`, nil, CodeUnknownType},
	}
	for _, tc := range cases {
		got, err := Decode([]byte(tc.in))
		if tc.code != "" {
			var p *Problem
			if !errors.As(err, &p) || p.Code != tc.code {
				t.Errorf("Decode(%s) = %v, %v; want %s", tc.in, got, err, tc.code)
			}
			continue
		}
		if err != nil || string(MustEncode(got)) != string(MustEncode(tc.want)) {
			t.Errorf("Decode(%s) = %#v, %v; want %#v", tc.in, got, err, tc.want)
		}
	}
}

func TestEventsEncodeUnderTheirType(t *testing.T) {
	one := 1
	for typ, m := range map[string]Message{
		TypeMessage:    {},
		TypeReaction:   {Type: TypeReaction, Target: 1, Emoji: "👍"},
		TypeVote:       {Type: TypeVote, Target: 1, Option: &one},
		TypePollClosed: {Type: TypePollClosed, Target: 1},
	} {
		if got := string(MustEncode(m)); !strings.HasPrefix(got, `{"type":"`+typ+`"`) {
			t.Errorf("%s encodes as %s", typ, got)
		}
	}
	if IsEvent(TypeMessage) || IsEvent(TypePoll) || !IsEvent(TypeEdited) {
		t.Error("IsEvent tells messages from events wrongly")
	}
}

func TestCheckEmoji(t *testing.T) {
	for _, ok := range []string{"👍", "❤️", "😂", "✅", "❓", "🇧🇷", "👨‍👩‍👧‍👦", "👍🏽", "♥"} {
		if p := CheckEmoji(ok); p != nil {
			t.Errorf("CheckEmoji(%q) = %v", ok, p)
		}
	}
	for _, bad := range []string{"", "a", "ok", "1", "👍 ", " 👍", "👍\n", "\u200d", "😂" + strings.Repeat("\ufe0f", 70), "\xff"} {
		if p := CheckEmoji(bad); p == nil || p.Code != CodeBadReaction {
			t.Errorf("CheckEmoji(%q) = %v, want bad_reaction", bad, p)
		}
	}
}

func TestCheckPoll(t *testing.T) {
	if p := CheckPoll("Friday?", []string{"yes", "no"}, 100); p != nil {
		t.Fatal(p)
	}
	for _, tc := range []struct {
		text string
		opts []string
		code string
	}{
		{" ", []string{"a", "b"}, CodeEmptyText},
		{strings.Repeat("q", 101), []string{"a", "b"}, CodeTextTooLong},
		{"?", []string{"a"}, CodeBadPoll},
		{"?", []string{"a", "b", "c", "d", "e", "f", "g"}, CodeBadPoll},
		{"?", []string{"a", "\t"}, CodeBadPoll},
		{"?", []string{"a", strings.Repeat("x", MaxOptionBytes+1)}, CodeBadPoll},
		{"?", []string{"Sim", " sim "}, CodeBadPoll},
	} {
		if p := CheckPoll(tc.text, tc.opts, 100); p == nil || p.Code != tc.code {
			t.Errorf("CheckPoll(%q, %q) = %v, want %s", tc.text, tc.opts, p, tc.code)
		}
	}
}

// FuzzCheckEmoji: CheckEmoji never panics, and what it accepts is short
// and has no letters, digits or spaces.
func FuzzCheckEmoji(f *testing.F) {
	for _, s := range []string{"👍", "❤️", "a", "", "👨‍👩‍👧‍👦", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if CheckEmoji(s) != nil {
			return
		}
		if len(s) > MaxEmojiBytes || strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) }) >= 0 {
			t.Fatalf("CheckEmoji accepted %q", s)
		}
	})
}
