package protocol

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestSearchTerms(t *testing.T) {
	cases := []struct {
		q    string
		want []string
	}{
		{"Prova", []string{"prova"}},
		{"AVALIAÇÃO final", []string{"avaliacao", "final"}},
		{"avaliação", []string{"avaliacao"}},
		{"Ação-2 (prova)", []string{"acao", "2", "prova"}},
		{"e\u0301cole", []string{"ecole"}}, // a decomposed accent
		{`"`, nil},
		{`NEAR(`, []string{"near"}},
		{`a OR b*`, []string{"a", "or", "b"}},
		{"prova prova PROVA", []string{"prova"}},
		{"1 2 3 4 5 6 7 8 9 10", []string{"1", "2", "3", "4", "5", "6", "7", "8"}},
		{"straße Σίσυφος", []string{"straße", "σισυφος"}},
	}
	for _, c := range cases {
		terms, p := CheckSearch(c.q)
		if p != nil || !slices.Equal(terms, c.want) {
			t.Errorf("CheckSearch(%q) = %q, %v; want %q", c.q, terms, p, c.want)
		}
	}
	for _, bad := range []string{"", "   ", "\t\n", strings.Repeat("a", SearchMaxRunes+1), strings.Repeat("é", SearchMaxRunes+1)} {
		if _, p := CheckSearch(bad); p == nil || p.Code != CodeBadQuery {
			t.Errorf("CheckSearch(%q) = %v, want bad_query", bad, p)
		}
	}
	if _, p := CheckSearch(strings.Repeat("é", SearchMaxRunes)); p != nil {
		t.Errorf("a query of %d characters refused: %v", SearchMaxRunes, p)
	}
}

func TestFoldWords(t *testing.T) {
	text := "Olá, turma! A prova-2 é às 10h."
	var got []string
	for _, w := range FoldWords(text) {
		got = append(got, text[w.Start:w.End]+"="+w.Folded)
	}
	want := []string{"Olá=ola", "turma=turma", "A=a", "prova=prova", "2=2", "é=e", "às=as", "10h=10h"}
	if !slices.Equal(got, want) {
		t.Errorf("FoldWords = %q, want %q", got, want)
	}
}

// FuzzSearch: decoding a search or history frame never panics, refuses only
// with known codes, and the words of any query are what the host relies
// on: folded, made of letters and digits only (so never FTS5 syntax),
// distinct and at most SearchMaxTerms. Word offsets fall on rune
// boundaries, in order.
func FuzzSearch(f *testing.F) {
	f.Add([]byte(`{"type":"search","query":"avaliação prova"}`))
	f.Add([]byte(`{"type":"search","query":"\"NEAR(a b)*"}`))
	f.Add([]byte(`{"type":"search","query":"e\u0301cole ǅ ﬁ"}`))
	f.Add([]byte(`{"type":"history","room":"general","before":40,"limit":20}`))
	f.Add([]byte(`{"type":"history","room":"general","before":-1}`))
	f.Add([]byte(`{"type":"search","query":7}`))
	known := map[string]bool{}
	for _, c := range Codes {
		known[c] = true
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fr, err := Decode(data)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || !known[p.Code] {
				t.Fatalf("Decode(%q): %v", data, err)
			}
			return
		}
		if again, err := Decode(MustEncode(fr)); err != nil || string(MustEncode(again)) != string(MustEncode(fr)) {
			t.Fatalf("round trip of %s: %v", MustEncode(fr), err)
		}
		s, ok := fr.(Search)
		if !ok {
			return
		}
		terms, p := CheckSearch(s.Query)
		if p != nil {
			if p.Code != CodeBadQuery {
				t.Fatalf("CheckSearch(%q) code %s", s.Query, p.Code)
			}
			return
		}
		if len(terms) > SearchMaxTerms {
			t.Fatalf("%d terms", len(terms))
		}
		for i, term := range terms {
			if term == "" || Fold(term) != term || slices.Contains(terms[:i], term) {
				t.Fatalf("term %q of %q", term, s.Query)
			}
			for _, r := range term {
				if !(unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Co, r) || unicode.IsMark(r)) {
					t.Fatalf("term %q of %q has %q", term, s.Query, r)
				}
			}
		}
		at := 0
		for _, w := range FoldWords(s.Query) {
			if w.Start < at || w.End <= w.Start || w.End > len(s.Query) ||
				!utf8.RuneStart(s.Query[w.Start]) || (w.End < len(s.Query) && !utf8.RuneStart(s.Query[w.End])) {
				t.Fatalf("word %+v of %q", w, s.Query)
			}
			at = w.End
		}
	})
}
