package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"lanchat/backend/export"
)

// transcriptWriter is the running host's transcript export
// (host.Host.ExportTranscriptIn, the same code `lanchat export` uses), in
// a language.
type transcriptWriter interface {
	ExportTranscriptIn(w io.Writer, room string, f export.Format, lang string) error
}

// saveDialog asks the user where to save; "" means they cancelled. It is a
// variable so tests can answer for the user.
var saveDialog = func(ctx context.Context, o runtime.SaveDialogOptions) (string, error) {
	if ctx == nil {
		return "", errors.New("the window is not open")
	}
	return runtime.SaveFileDialog(ctx, o)
}

// formatNames label the save dialog's file filter.
var formatNames = map[export.Format]string{
	export.Markdown: "Markdown",
	export.HTML:     "HTML",
	export.JSON:     "JSON",
	export.Zip:      "Zip archive",
}

// ExportTranscript asks where to save the transcript of room (empty: every
// public room of this host) in format ("md", "html", "json" or "zip") and writes
// it there. It returns the path written, or "" when the user cancelled.
func (a *App) ExportTranscript(room, format string) (string, error) {
	f, err := export.ParseFormat(format)
	if err != nil {
		return "", err
	}
	tw, ok := a.host.(transcriptWriter)
	if !ok {
		return "", errors.New("this host keeps no transcript")
	}
	// Make the transcript first: a room that does not exist fails before
	// the dialog, and a failure never leaves half a file.
	var buf bytes.Buffer
	// in the UI's language, as the person sees the chat
	if err := tw.ExportTranscriptIn(&buf, strings.TrimSpace(room), f, a.settings.Get().Language); err != nil {
		return "", err
	}
	a.mu.Lock()
	ctx := a.wailsCx
	a.mu.Unlock()
	path, err := saveDialog(ctx, runtime.SaveDialogOptions{
		Title:                "Export transcript",
		DefaultFilename:      transcriptFilename(a.hub.HostName(), room, f, time.Now()),
		Filters:              []runtime.FileFilter{{DisplayName: fmt.Sprintf("%s (*%s)", formatNames[f], f.Extension()), Pattern: "*" + f.Extension()}},
		CanCreateDirectories: true,
	})
	if err != nil || path == "" {
		return "", err
	}
	if filepath.Ext(path) == "" {
		path += f.Extension()
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		return "", fmt.Errorf("save transcript: %w", err)
	}
	a.log.Info("transcript exported", "room", room, "format", string(f), "path", path)
	return path, nil
}

// transcriptFilename suggests a file name such as
// "Sala-12-general-2026-11-25.md": the host's name, the room (if one), the
// date, with only characters every file system accepts.
func transcriptFilename(hostName, room string, f export.Format, now time.Time) string {
	parts := []string{}
	for _, p := range []string{hostName, room} {
		if p = safeName(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		parts = append(parts, "lanchat")
	}
	return strings.Join(parts, "-") + "-" + now.Format("2006-01-02") + f.Extension()
}

func safeName(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.TrimSpace(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || r == '_' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	out := strings.TrimRight(b.String(), "-")
	if r := []rune(out); len(r) > 40 {
		out = strings.TrimRight(string(r[:40]), "-")
	}
	return out
}
