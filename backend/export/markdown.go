package export

import (
	"bufio"
	"fmt"
	"io"
	"strings"
	"time"

	"lanchat/backend/files"
)

func writeMarkdown(w io.Writer, t Transcript, loc *time.Location) error {
	b := bufio.NewWriter(w)
	wd := wordsFor(t.Language)
	fmt.Fprintf(b, "# %s\n\n", mdEscape(t.Title))
	fmt.Fprintf(b, wd.exported+"\n", t.Exported.In(loc).Format(stampLayout))
	for _, r := range t.Rooms {
		fmt.Fprintf(b, "\n## %s\n\n", mdEscape(wd.roomLabel(r)))
		if r.Topic != "" {
			fmt.Fprintf(b, wd.topic+"\n\n", mdEscape(r.Topic))
		}
		fmt.Fprintf(b, "%s.\n", wd.count(shownCount(r.Messages)))
		if truncated(r) {
			fmt.Fprintf(b, "\n"+wd.truncatedNote+"\n", truncatedFrom(r))
		}
		for _, d := range byDay(r.Messages, loc) {
			fmt.Fprintf(b, "\n### %s\n", wd.date(d.Date))
			for _, m := range d.Messages {
				ts := time.UnixMilli(m.TS).In(loc).Format(clockLayout)
				edited := ""
				if m.Edited && !deleted(m.Message) {
					edited = wd.Edited
				}
				fmt.Fprintf(b, "\n**%s** · %s · #%d%s\n", mdEscape(m.From.Name), ts, m.Seq, edited)
				if l := wd.reply(m); l != "" {
					fmt.Fprintf(b, "> ↪ _%s_\n", mdEscape(l))
				}
				if deleted(m.Message) {
					fmt.Fprintf(b, "> _%s_\n", wd.Deleted)
					continue
				}
				if isPoll(m) {
					fmt.Fprintf(b, "> **%s:**\n", wd.poll(m))
				}
				if m.Text != "" {
					mdQuote(b, m.Text)
				}
				for _, o := range pollOptions(m) {
					fmt.Fprintf(b, "> - %s: %s\n", mdEscape(o.Text), wd.votes(o.Votes))
				}
				if l := reactionsLabel(m); l != "" {
					fmt.Fprintf(b, "> %s\n", mdEscape(l))
				}
				for _, a := range m.Attachments {
					fmt.Fprintf(b, "> 📎 [%s](%s) (%s)\n", mdEscape(a.Name), fileHref(a), files.HumanSize(a.Size))
				}
			}
		}
	}
	return b.Flush()
}

// mdQuote writes text as a block quote, line for line: line breaks stay
// (a trailing backslash is a hard break) and blank lines stay blank.
func mdQuote(b *bufio.Writer, text string) {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, line := range lines {
		line = mdEscape(strings.TrimRight(line, " \t\r"))
		switch {
		case line == "":
			b.WriteString(">\n")
		case i < len(lines)-1 && lines[i+1] != "":
			b.WriteString("> " + line + "\\\n")
		default:
			b.WriteString("> " + line + "\n")
		}
	}
}

// mdEscape makes text literal in Markdown: every ASCII punctuation mark that
// could start markup (emphasis, links, images, code, headings, lists,
// tables) gets a backslash, and so do '<', '>' and '&', so raw HTML and
// entities in a message never reach a Markdown renderer as markup.
func mdEscape(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch r {
		case '\\', '`', '*', '_', '{', '}', '[', ']', '<', '>', '&', '#', '|', '~':
			b.WriteByte('\\')
		case '-', '+', '=', '.', ')':
			// Only markup at the start of a line (lists, setext
			// headings, ordered lists "1." / "1)").
			if lineStartMarker(s[:i]) {
				b.WriteByte('\\')
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lineStartMarker reports whether what precedes a '-', '+', '=', '.' or ')'
// on its line is only spaces or digits, so the mark could start a block.
func lineStartMarker(before string) bool {
	if i := strings.LastIndexByte(before, '\n'); i >= 0 {
		before = before[i+1:]
	}
	return strings.TrimLeft(before, " 0123456789") == ""
}
