package protocol

import (
	"errors"
	"strings"
	"testing"
)

func TestDecode(t *testing.T) {
	cases := []struct {
		in   string
		want Frame
		code string
	}{
		{`{"type":"hello","version":1,"name":"Ana"}`, Hello{Type: "hello", Version: 1, Name: "Ana"}, ""},
		{`{"type":"join","room":"general","since":0}`, Join{Type: "join", Room: "general", Since: u64(0)}, ""},
		{`{"type":"send","room":"lobby","client_id":"c1","text":"oi","extra":true}`, Send{Type: "send", Room: "lobby", ClientID: "c1", Text: "oi"}, ""},
		{` {"type":"typing","room":"lobby"} `, Typing{Type: "typing", Room: "lobby"}, ""},
		{`{"type":"leave","room":"x"}`, Leave{Type: "leave", Room: "x"}, ""},
		{`{"type":"create_room","room":"x"}`, CreateRoom{Type: "create_room", Room: "x"}, ""},
		{``, nil, CodeBadFrame},
		{`null`, nil, CodeBadFrame},
		{`"hello"`, nil, CodeBadFrame},
		{`{"type":"hello"`, nil, CodeBadFrame},
		{"{\"type\":\"send\",\"text\":\"\xc3\x28\"}", nil, CodeBadFrame},
		{`{"type":7}`, nil, CodeBadFrame},
		{`{"room":"lobby"}`, nil, CodeBadFrame},
		{`{"type":"join","room":["a"]}`, nil, CodeBadFrame},
		{`{"type":"join","since":-1}`, nil, CodeBadFrame},
		{`{"type":"welcome"}`, nil, CodeUnknownType},
		{`{"type":"` + strings.Repeat("x", 100) + `"}`, nil, CodeUnknownType},
	}
	for _, tc := range cases {
		got, err := Decode([]byte(tc.in))
		if tc.code != "" {
			var p *Problem
			if !errors.As(err, &p) || p.Code != tc.code {
				t.Errorf("Decode(%q) = %v, %v; want code %s", tc.in, got, err, tc.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("Decode(%q): %v", tc.in, err)
			continue
		}
		if string(MustEncode(got)) != string(MustEncode(tc.want)) {
			t.Errorf("Decode(%q) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}

func TestCleanName(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{"Ana", "Ana", true},
		{"  Ana Maria  ", "Ana Maria", true},
		{strings.Repeat("á", 32), strings.Repeat("á", 32), true},
		{strings.Repeat("á", 33), "", false},
		{"", "", false},
		{" \t ", "", false},
		{"a\nb", "", false},
		{"a\u200eb", "ab", true}, // a format character is removed (names_test.go has more)
		{"a\x00", "", false},
	}
	for _, tc := range cases {
		got, p := CleanName(tc.in)
		if (p == nil) != tc.ok || got != tc.want {
			t.Errorf("CleanName(%q) = %q, %v", tc.in, got, p)
		}
		if p != nil && p.Code != CodeBadName {
			t.Errorf("CleanName(%q) code %s", tc.in, p.Code)
		}
	}
	if NameKey(" ANA ") != NameKey("ana") {
		t.Error("names must compare case-insensitively")
	}
}

func TestCleanRoom(t *testing.T) {
	for _, ok := range []string{"general", "Sala 1", "robô-2", "a.b_c"} {
		if _, p := CleanRoom(ok); p != nil {
			t.Errorf("CleanRoom(%q): %v", ok, p)
		}
	}
	for _, bad := range []string{"", "a/b", "<b>", strings.Repeat("r", 33), "tab\there"} {
		if _, p := CleanRoom(bad); p == nil || p.Code != CodeBadRoomName {
			t.Errorf("CleanRoom(%q) accepted", bad)
		}
	}
}

// FuzzDecode: Decode never panics, refuses only with a known code, and what
// it accepts encodes and decodes to the same frame.
func FuzzDecode(f *testing.F) {
	for _, ex := range examples {
		f.Add(MustEncode(ex))
	}
	f.Add([]byte(`{"type":"send","text":"\u0000"}`))
	f.Add([]byte("{\"type\":\"hello\",\"name\":\"\xff\"}"))
	known := map[string]bool{}
	for _, c := range Codes {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || !known[p.Code] || p.Message == "" {
				t.Fatalf("Decode(%q) error %v is not a known Problem", data, err)
			}
			return
		}
		enc := MustEncode(fr)
		again, err := Decode(enc)
		if err != nil {
			t.Fatalf("re-decode of %s: %v", enc, err)
		}
		if string(MustEncode(again)) != string(enc) {
			t.Fatalf("round trip changed %s", enc)
		}
	})
}
