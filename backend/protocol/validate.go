package protocol

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mtibben/confusables"
	"golang.org/x/text/unicode/norm"
)

// Name and room limits.
const (
	MaxNameRunes     = 32
	MaxRoomRunes     = 32
	MaxClientIDBytes = 64
)

// maxNameBytes bounds a name as sent, ignorable characters and all.
const maxNameBytes = 1024

// CleanName normalises a display name and checks it. The name a member gets
// is the NFKC form of what was sent, with every format character (Unicode
// category Cf: zero-width spaces and joiners, bidi controls, soft hyphens…)
// and every other default-ignorable code point (variation selectors, Hangul
// fillers, U+034F) removed, then trimmed. It must then be 1–32 characters
// with no control characters (Cc), line or paragraph separators, or U+FFFD
// (which is what invalid UTF-8 decodes to), and have a character left in
// its NameKey (not only combining marks and spaces).
func CleanName(name string) (string, *Problem) {
	// NFKC can make a character 18 (U+FDFA); refuse what cannot be a name
	// before normalising a whole frame's worth of it.
	if len(name) > maxNameBytes {
		return "", Errorf(CodeBadName, "the name is longer than %d characters", MaxNameRunes)
	}
	if strings.ContainsRune(name, utf8.RuneError) {
		return "", Errorf(CodeBadName, "the name contains a control character")
	}
	n := strings.TrimSpace(normalizeName(name))
	if n == "" {
		return "", Errorf(CodeBadName, "the name is empty")
	}
	if utf8.RuneCountInString(n) > MaxNameRunes {
		return "", Errorf(CodeBadName, "the name is longer than %d characters", MaxNameRunes)
	}
	for _, r := range n {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
			return "", Errorf(CodeBadName, "the name contains a control character")
		}
	}
	if NameKey(n) == "" { // only marks and spaces, such as U+02D9 DOT ABOVE (NFKC: space + U+0307)
		return "", Errorf(CodeBadName, "the name has no letters")
	}
	return n, nil
}

// normalizeName is NFKC without the ignorable characters. Removing one can
// leave a sequence that NFKC composes (e + U+200B + U+0301), hence the
// second pass; the result is NFKC and free of ignorables.
func normalizeName(s string) string {
	s = norm.NFKC.String(s)
	if t := strings.Map(dropIgnorable, s); len(t) != len(s) {
		s = norm.NFKC.String(t)
	}
	return s
}

func dropIgnorable(r rune) rune {
	if unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Other_Default_Ignorable_Code_Point, r) ||
		unicode.Is(unicode.Variation_Selector, r) {
		return -1
	}
	return r
}

// NameKey is the key under which names must be unique on a host: two names
// with the same key look alike, and only one of them may be connected at a
// time. It is, in order:
//
//  1. the name as CleanName leaves it (NFKC, no ignorables), case-folded
//     (simple case folding, rune by rune: "ß" stays "ß");
//  2. the confusable skeleton of Unicode TR39 (NFD, each character replaced
//     by its prototype, NFD again): Cyrillic "а", Greek "α" and "ɑ" are all
//     "a", "0" is "O", "1" is "l", and "m" is "rn". Folding comes first, so
//     a capital "I" is "i" here and "AIice" is not "Alice";
//  3. without the combining marks on Latin, Greek, Cyrillic or Common
//     characters (or at the start): accents, overlays and any other mark
//     there do not tell names apart, so "José" and "Jose", "Alice" and
//     "Alice" + U+0301 have one key. Marks on the letters of other scripts
//     still count (Devanagari vowel signs, Thai vowels, kana voicing marks,
//     Hebrew points), after the skeleton mapped them like everything else;
//  4. steps 1–3 again until nothing changes (a prototype may be a capital
//     or a compatibility character: "0" becomes "O", then "o");
//  5. with runs of white space as one space, trimmed.
//
// The key is for comparing only; it is never shown.
func NameKey(name string) string {
	k := keyPass(strings.Map(dropIgnorable, name))
	// Nearly always the second pass changes nothing. Every single character
	// settles within maxKeyPasses (TestNameKeySettles); the bound only
	// guards against a cycle in some later Unicode data.
	for range maxKeyPasses - 1 {
		next := keyPass(k)
		if next == k {
			break
		}
		k = next
	}
	return strings.Join(strings.Fields(k), " ")
}

const maxKeyPasses = 4

// foldRune is simple case folding: every rune of a case orbit ("K", "k",
// U+212A KELVIN SIGN; "σ", "ς", "Σ") gives the same rune, and folding is
// idempotent.
func foldRune(r rune) rune { return unicode.ToLower(unicode.ToUpper(r)) }

// keyPass is steps 1–3 of NameKey.
func keyPass(s string) string {
	s = confusables.Skeleton(strings.Map(foldRune, norm.NFKC.String(s)))
	var b strings.Builder
	b.Grow(len(s))
	base := rune(-1) // the last character that is not a mark; -1 at the start
	for _, r := range s {
		if !unicode.IsMark(r) {
			base = r
			b.WriteRune(r)
			continue
		}
		if base < 0 || unicode.In(base, unicode.Latin, unicode.Greek, unicode.Cyrillic, unicode.Common) {
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CleanRoom trims a room name and checks it: 1–32 characters of letters,
// digits, spaces, '-', '_' or '.'. Room names are case-insensitive: RoomKey
// gives the key.
func CleanRoom(room string) (string, *Problem) {
	r := strings.TrimSpace(room)
	if r == "" {
		return "", &Problem{Code: CodeBadRoomName, Message: "the room name is empty", Ref: room}
	}
	if utf8.RuneCountInString(r) > MaxRoomRunes {
		return "", &Problem{Code: CodeBadRoomName, Message: "the room name is too long", Ref: room}
	}
	for _, c := range r {
		if !(unicode.IsLetter(c) || unicode.IsDigit(c) || c == ' ' || c == '-' || c == '_' || c == '.') {
			return "", &Problem{Code: CodeBadRoomName, Message: "room names use letters, digits, spaces, '-', '_' and '.'", Ref: room}
		}
	}
	return r, nil
}

// RoomKey is the case-insensitive key of a room name.
func RoomKey(room string) string {
	return strings.ToLower(strings.TrimSpace(room))
}

// CheckText checks a message text against the host's limit (in bytes of UTF-8).
// Text is delivered as sent; it is never interpreted as markup.
func CheckText(text string, max int) *Problem {
	if strings.TrimSpace(text) == "" {
		return Errorf(CodeEmptyText, "the message is empty")
	}
	if len(text) > max {
		return Errorf(CodeTextTooLong, "the message is longer than %d bytes", max)
	}
	return nil
}

// CheckClientID checks a client-chosen message id.
func CheckClientID(id string) *Problem {
	if id == "" || len(id) > MaxClientIDBytes {
		return Errorf(CodeBadClientID, "client_id must be 1–%d bytes", MaxClientIDBytes)
	}
	return nil
}
