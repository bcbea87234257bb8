//go:build !windows

package app

import (
	"os"
	"strings"
)

// osLocale is the locale messages are shown in, from the POSIX variables in
// their order of precedence.
func osLocale() string {
	if l := os.Getenv("LANGUAGE"); l != "" { // a list, first wins
		first, _, _ := strings.Cut(l, ":")
		if first != "" {
			return first
		}
	}
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" && l != "C" && l != "POSIX" && !strings.HasPrefix(l, "C.") {
			return l
		}
	}
	return ""
}
