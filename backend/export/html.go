package export

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/files"
	"lanchat/backend/protocol"
)

// The page is self-contained (inline style, no scripts) and its
// Content-Security-Policy forbids scripts and remote content outright, so
// even a file edited later cannot run code when opened. html/template escapes
// every value for its context.
var page = template.Must(template.New("transcript").Funcs(template.FuncMap{
	"days":      func(r Room, loc *time.Location) []day { return byDay(r.Messages, loc) },
	"date":      func(w words, t time.Time) string { return w.date(t) },
	"clock":     func(ms int64, loc *time.Location) string { return time.UnixMilli(ms).In(loc).Format(clockLayout) },
	"iso":       func(ms int64, loc *time.Location) string { return time.UnixMilli(ms).In(loc).Format(time.RFC3339) },
	"stamp":     func(t time.Time, loc *time.Location) string { return t.In(loc).Format(stampLayout) },
	"label":     func(w words, r Room) string { return w.roomLabel(r) },
	"count":     func(w words, n int) string { return w.count(n) },
	"shown":     shownCount,
	"deleted":   func(m chat.Folded) bool { return deleted(m.Message) },
	"reply":     func(w words, m chat.Folded) string { return w.reply(m) },
	"reactions": reactionsLabel,
	"isPoll":    isPoll,
	"pollLabel": func(w words, m chat.Folded) string { return w.poll(m) },
	"options":   pollOptions,
	"votes":     func(w words, n int) string { return w.votes(n) },
	"truncated": truncated,
	"note":      func(w words, r Room) string { return fmt.Sprintf(w.truncatedNote, truncatedFrom(r)) },
	"exported":  func(w words, stamp string) string { return fmt.Sprintf(w.exported, stamp) },
	"topic":     func(w words, topic string) string { return fmt.Sprintf(w.topic, topic) },
	"filePath":  filePath,
	"fileSize":  files.HumanSize,
	"anchor": func(r Room, m chat.Folded) string {
		return fmt.Sprintf("%s-%d", strings.ReplaceAll(protocol.RoomKey(r.Name), " ", "-"), m.Seq)
	},
}).Parse(`<!doctype html>
<html lang="{{.W.Lang}}">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.T.Title}}</title>
<style>
body { font: 15px/1.45 system-ui, sans-serif; max-width: 50rem; margin: 2rem auto; padding: 0 1rem; color: #1d232a; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid #d5dbe1; }
h3 { font-size: 0.95rem; color: #5b6670; margin: 1.5rem 0 0.5rem; }
.msg { margin: 0.5rem 0; }
.meta { font-size: 0.85rem; color: #5b6670; }
.who { font-weight: 600; color: #1d232a; }
.text { margin: 0.1rem 0 0; white-space: pre-wrap; overflow-wrap: anywhere; }
.deleted { font-style: italic; color: #5b6670; }
.note { color: #5b6670; }
.files { margin: 0.2rem 0 0; padding-left: 1.2rem; }
</style>
</head>
<body>
<h1>{{.T.Title}}</h1>
<p class="note">{{exported .W (stamp .T.Exported .Loc)}}</p>
{{- range $r := .T.Rooms}}
<section>
<h2>{{label $.W $r}}</h2>
{{- if $r.Topic}}
<p>{{topic $.W $r.Topic}}</p>
{{- end}}
<p class="note">{{count $.W (shown $r.Messages)}}.{{if truncated $r}} {{note $.W $r}}{{end}}</p>
{{- range days $r $.Loc}}
<h3>{{date $.W .Date}}</h3>
{{- range .Messages}}
<div class="msg" id="{{anchor $r .}}">
<div class="meta"><span class="who">{{.From.Name}}</span> · <time datetime="{{iso .TS $.Loc}}">{{clock .TS $.Loc}}</time> · #{{.Seq}}{{if and .Edited (not (deleted .))}}{{$.W.Edited}}{{end}}</div>
{{- with reply $.W .}}
<p class="meta reply">↪ {{.}}</p>
{{- end}}
{{- if deleted .}}
<p class="text deleted">{{$.W.Deleted}}</p>
{{- else}}
{{- if isPoll .}}
<p class="meta">{{pollLabel $.W .}}</p>
{{- end}}
{{- if .Text}}
<p class="text">{{.Text}}</p>
{{- end}}
{{- if isPoll .}}
<ul class="files">
{{- range options .}}
<li>{{.Text}} <span class="meta">{{votes $.W .Votes}}</span></li>
{{- end}}
</ul>
{{- end}}
{{- with reactions .}}
<p class="meta">{{.}}</p>
{{- end}}
{{- if .Attachments}}
<ul class="files">
{{- range .Attachments}}
<li><a href="{{filePath .}}">{{.Name}}</a> <span class="meta">{{fileSize .Size}}</span></li>
{{- end}}
</ul>
{{- end}}
{{- end}}
</div>
{{- end}}
{{- end}}
</section>
{{- end}}
</body>
</html>
`))

func writeHTML(w io.Writer, t Transcript, loc *time.Location) error {
	return page.Execute(w, struct {
		T   Transcript
		Loc *time.Location
		W   words
	}{t, loc, wordsFor(t.Language)})
}
