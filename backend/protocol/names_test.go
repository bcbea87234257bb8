package protocol

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// TestCleanNameNormalises: the name a member gets is the NFKC form without
// format or other default-ignorable characters, trimmed; control
// characters and line breaks are refused.
func TestCleanNameNormalises(t *testing.T) {
	cases := []struct {
		why, in, want string // want "" means refused with bad_name
	}{
		{"fullwidth letters become ASCII", "Ａｌｉｃｅ", "Alice"},
		{"a ligature is spelled out", "ﬁona", "fiona"},
		{"a combining accent is composed", "Jose\u0301", "José"},
		{"zero-width space removed", "A\u200Blice", "Alice"},
		{"zero-width joiner removed", "A\u200Dlice", "Alice"},
		{"word joiner removed", "Ali\u2060ce", "Alice"},
		{"byte order mark removed", "\uFEFFAna", "Ana"},
		{"soft hyphen removed", "An\u00ADa", "Ana"},
		{"bidi override removed", "\u202Eecila", "ecila"},
		{"left-to-right mark removed", "a\u200Eb", "ab"},
		{"variation selector removed", "Ana\uFE0F", "Ana"},
		{"combining grapheme joiner removed", "An\u034Fa", "Ana"},
		{"composes across a removed character", "e\u200B\u0301", "é"},
		{"ideographic space becomes a space, then trimmed", "\u3000Ana\u3000", "Ana"},
		{"no-break space inside stays a space", "Ana\u00A0Maria", "Ana Maria"},
		{"only ignorables is empty", "\u200B\u200C\u2060", ""},
		{"only combining marks", "\u0301\u0302", ""},
		{"spacing accents (NFKC: space + mark)", "\u02D9 \u02DA", ""},
		{"Hangul filler alone is empty", "\u3164", ""},
		{"halfwidth Hangul filler alone is empty", " \uFFA0 ", ""},
		{"line separator refused", "Ana\u2028Maria", ""},
		{"paragraph separator refused", "Ana\u2029Maria", ""},
		{"control refused", "Ana\x1b[31m", ""},
		{"invalid UTF-8 refused", "Ana\xff", ""},
		{"U+FFFD refused", "Ana\uFFFD", ""},
		{"32 characters after NFKC", strings.Repeat("Ａ", 32), strings.Repeat("A", 32)},
		{"NFKC expands past 32", strings.Repeat("\uFDFA", 2), ""},
		{"ignorables do not count", strings.Repeat("a\u200B", 32), strings.Repeat("a", 32)},
		{"but a name as sent is at most 1024 bytes", strings.Repeat("\u200B", 400) + "Ana", ""},
		{"a frame's worth of U+FDFA is refused before NFKC", strings.Repeat("\uFDFA", 20000), ""},
	}
	for _, tc := range cases {
		got, p := CleanName(tc.in)
		if tc.want == "" {
			if p == nil || p.Code != CodeBadName {
				t.Errorf("%s: CleanName(%+q) = %+q, %v; want bad_name", tc.why, tc.in, got, p)
			}
			continue
		}
		if p != nil || got != tc.want {
			t.Errorf("%s: CleanName(%+q) = %+q, %v; want %+q", tc.why, tc.in, got, p, tc.want)
			continue
		}
		if again, p := CleanName(got); p != nil || again != got {
			t.Errorf("%s: CleanName is not idempotent: %+q -> %+q, %v", tc.why, got, again, p)
		}
	}
}

// TestNameKeyLookAlikes: names that look alike share a key; names that a
// reader tells apart do not.
func TestNameKeyLookAlikes(t *testing.T) {
	cases := []struct {
		why  string
		a, b string
		same bool
	}{
		{"case", "Alice", "aLiCe", true},
		{"surrounding space", "Alice", "  Alice ", true},
		{"Cyrillic А", "Alice", "\u0410lice", true},
		{"Cyrillic а, е", "alice", "\u0430lic\u0435", true},
		{"Greek capital alpha", "Alice", "\u0391lice", true},
		{"Greek small alpha", "alice", "\u03B1lice", true},
		{"fullwidth", "Alice", "\uFF21lice", true},
		{"mathematical bold", "Alice", "\U0001D400lice", true},
		{"combining acute at the end", "Alice", "Alice\u0301", true},
		{"combining acute inside", "Alice", "Ali\u0301ce", true},
		{"combining overlay", "Alice", "Al\u0338ice", true},
		{"stacked marks", "Alice", "A\u0300\u0301\u0302lice", true},
		{"mark at the start", "Alice", "\u0301Alice", true},
		{"a Hebrew point on a Latin letter", "Alice", "Alice\u05B4", true},
		{"zero-width space", "Alice", "A\u200Blice", true},
		{"zero-width non-joiner", "Alice", "Al\u200Cice", true},
		{"digit one as l", "Alice", "A1ice", true},
		{"digit zero as o", "Bob", "B0b", true},
		{"rn as m (TR39)", "rn", "m", true},
		{"Tom and Torn (TR39: m is rn)", "Tom", "Torn", true},
		{"accents do not distinguish", "José", "Jose", true},
		{"tilde does not distinguish", "João", "Joao", true},
		{"slashed o", "Søren", "Soren", true},
		{"dotted capital I", "İlkay", "ilkay", true},
		{"dotless i", "\u0131lkay", "ilkay", true},
		{"Kelvin sign", "\u212Aim", "kim", true},
		{"final sigma", "Σοφοκλής", "ΣΟΦΟΚΛΗΣ", true},
		{"capital sharp s", "Straße", "STRAẞE", true},
		{"inner spaces", "Ana  Maria", "Ana Maria", true},
		{"ideographic space", "Ana\u3000Maria", "Ana Maria", true},
		{"Ana and Anna", "Ana", "Anna", false},
		{"Alice and Alicia", "Alice", "Alicia", false},
		{"Bob and Rob", "Bob", "Rob", false},
		{"a bridge suffix", "Bob", "Bob (2)", false},
		{"two bridge suffixes", "Bob (2)", "Bob (3)", false},
		{"a space inside", "Alice", "Al ice", false},
		{"sharp s is not ss (simple case folding)", "Straße", "Strasse", false},
		{"kana voicing mark counts", "か", "が", false},
		{"kana handakuten counts", "\u306F", "\u3071", false},
		{"Devanagari vowel sign counts", "सुमन", "समन", false},
		{"Thai vowel counts", "\u0E01\u0E34", "\u0E01", false},
		{"Hebrew point on a Hebrew letter counts", "\u05D0\u05B4", "\u05D0", false},
	}
	for _, tc := range cases {
		ka, kb := NameKey(tc.a), NameKey(tc.b)
		if (ka == kb) != tc.same {
			t.Errorf("%s: NameKey(%+q) = %+q, NameKey(%+q) = %+q; same = %v, want %v", tc.why, tc.a, ka, tc.b, kb, ka == kb, tc.same)
		}
		// The key of a cleaned name is the key of what was sent.
		for _, n := range []string{tc.a, tc.b} {
			if c, p := CleanName(n); p == nil && NameKey(c) != NameKey(n) {
				t.Errorf("%s: NameKey(CleanName(%+q)) = %+q, NameKey = %+q", tc.why, n, NameKey(c), NameKey(n))
			}
		}
	}
}

// TestNameKeySettles: for every assigned character, the key settles within
// maxKeyPasses, so NameKey(NameKey(x)) == NameKey(x).
func TestNameKeySettles(t *testing.T) {
	if testing.Short() {
		t.Skip("walks every character")
	}
	worst := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if !unicode.IsGraphic(r) && !unicode.Is(unicode.Cf, r) {
			continue // unassigned, private use, surrogates, controls
		}
		s := string(r)
		k := keyPass(strings.Map(dropIgnorable, s))
		n := 1
		for ; n <= maxKeyPasses; n++ {
			next := keyPass(k)
			if next == k {
				break
			}
			k = next
		}
		worst = max(worst, n)
		if n > maxKeyPasses {
			t.Errorf("%U: the key does not settle in %d passes", r, maxKeyPasses)
		}
		if k := NameKey(s); NameKey(k) != k {
			t.Errorf("%U: NameKey(%+q) = %+q, NameKey of that = %+q", r, s, k, NameKey(k))
		}
	}
	t.Logf("the longest single character takes %d passes", worst)
}

// FuzzNameKey: CleanName and NameKey never panic; cleaning is idempotent;
// the key of a cleaned name is the key of the raw name, does not depend on
// case, and is its own key.
func FuzzNameKey(f *testing.F) {
	for _, s := range []string{"Alice", "\u0410lice", "\uFF21lice", "Alice\u0301", "A\u200Blice", "rn", "m", "José",
		"Σοφοκλής", "सुमन", "が", "\u048B", "%", "\u321D", "\uFDFA", "\u0301", "\u200B", "\xff", "a\u2028b", "İ"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := NameKey(s)
		if !utf8.ValidString(s) {
			return
		}
		c, p := CleanName(s)
		if p != nil {
			if p.Code != CodeBadName {
				t.Fatalf("CleanName(%+q): code %s", s, p.Code)
			}
			return
		}
		if again, p := CleanName(c); p != nil || again != c {
			t.Fatalf("CleanName(%+q) = %+q, then %+q, %v", s, c, again, p)
		}
		kc := NameKey(c)
		if kc != k {
			t.Fatalf("NameKey(%+q) = %+q but NameKey(CleanName) = NameKey(%+q) = %+q", s, k, c, kc)
		}
		if kc == "" {
			t.Fatalf("CleanName(%+q) = %+q has an empty key", s, c)
		}
		if ku := NameKey(strings.ToUpper(c)); ku != kc {
			t.Fatalf("NameKey(%+q) = %+q, of upper case %+q", c, kc, ku)
		}
		if kk := NameKey(kc); kk != kc {
			t.Fatalf("NameKey(%+q) = %+q, NameKey of that = %+q", c, kc, kk)
		}
	})
}

// BenchmarkNameKey: NameKey runs on every hello.
func BenchmarkNameKey(b *testing.B) {
	for _, n := range []string{"Alice", "Ana Maria Souza", "\u0410l\u0456c\u0435", "Jos\u00E9 Jo\u00E3o"} {
		b.Run(n, func(b *testing.B) {
			for b.Loop() {
				NameKey(n)
			}
		})
	}
}
