package discovery

import (
	"errors"
	"strings"
	"unicode/utf8"
)

// Names: DNS-SD instance names from display names, and clashes.

func (s *Service) instanceBase() string { return InstanceName(s.own.Name) }

// baseOf strips a " (n)" suffix added by uniqueName.
func baseOf(name string) string {
	if i := strings.LastIndex(name, " ("); i > 0 && strings.HasSuffix(name, ")") {
		if _, err := parseUint(name[i+2 : len(name)-1]); err == nil {
			return name[:i]
		}
	}
	return name
}

// InstanceName turns a display name into a DNS-SD instance name: no dots or
// control characters, at most 63 bytes.
func InstanceName(name string) string {
	name = strings.Map(func(r rune) rune {
		switch {
		case r == '.' || r == '\\':
			return '-'
		case r < 0x20 || r == 0x7f:
			return -1
		}
		return r
	}, strings.TrimSpace(name))
	for len(name) > 63 {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	if name = strings.TrimSpace(name); name == "" {
		name = "lanchat"
	}
	return name
}

// uniqueName returns base, or "base (n)" with the smallest n ≥ 2 not taken.
func uniqueName(base string, taken func(string) bool) string {
	if !taken(base) {
		return base
	}
	for n := 2; ; n++ {
		suffix := " (" + itoa(n) + ")"
		b := base
		for len(b)+len(suffix) > 63 {
			_, size := utf8.DecodeLastRuneInString(b)
			b = b[:len(b)-size]
		}
		if c := b + suffix; !taken(c) {
			return c
		}
	}
}

func parseUint(s string) (int, error) {
	if s == "" || len(s) > 6 {
		return 0, errors.New("not a number")
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errors.New("not a number")
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

func mapValues[K comparable, V any](m map[K]V) []V {
	out := make([]V, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}
