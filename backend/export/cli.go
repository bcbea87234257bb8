package export

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lanchat/backend/files"
	"lanchat/backend/store"
)

// Main runs `lanchat export`: it reads the history database in a data dir
// (read-only, so it works while a host runs there) and writes a transcript to
// stdout or a file. It returns the process exit code.
func Main(args []string, defaultDataDir string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("lanchat export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", defaultDataDir, "the host's data dir (holding "+store.FileName+")")
	room := fs.String("room", "", "export only this room (default: every room of the host)")
	format := fs.String("format", "", "md, html, json or zip (the HTML transcript with the files; default: from --out's extension, else md)")
	out := fs.String("out", "", "write to this file instead of stdout")
	title := fs.String("title", "lanchat transcript", "the transcript's title")
	private := fs.Bool("private", false, "include private conversations in a whole-host export")
	utc := fs.Bool("utc", false, "show times in UTC instead of local time")
	lang := fs.String("lang", "en", "the language of the transcript's own words: en or pt-BR")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: lanchat export [--data-dir DIR] [--room ROOM] [--format md|html|json|zip] [--out FILE]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lanchat export: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	f := Markdown
	switch {
	case *format != "":
		var err error
		if f, err = ParseFormat(*format); err != nil {
			fmt.Fprintln(stderr, "lanchat export:", err)
			return 2
		}
	case *out != "":
		if g, err := ParseFormat(filepath.Ext(*out)); err == nil {
			f = g
		}
	}
	loc := time.Local
	if *utc {
		loc = time.UTC
	}
	err := run(*dataDir, Options{Room: *room, Private: *private}, Transcript{Title: *title, Exported: time.Now(), Language: *lang}, f, loc, *out, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "lanchat export:", err)
		return 1
	}
	return 0
}

func run(dataDir string, o Options, t Transcript, f Format, loc *time.Location, out string, stdout io.Writer) error {
	path := store.PathIn(dataDir)
	s, err := store.OpenReadOnly(path)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("no history in %s (%s does not exist)", dataDir, store.FileName)
	}
	if err != nil {
		return err
	}
	defer s.Close()
	if t.Rooms, err = Collect(s, o); err != nil {
		return err
	}
	t.Files = func(id string) (io.ReadCloser, error) { return files.OpenIn(filepath.Join(dataDir, "files"), id) }
	var buf bytes.Buffer
	if err := Write(&buf, t, f, loc); err != nil {
		return err
	}
	if out == "" || out == "-" {
		_, err := stdout.Write(buf.Bytes())
		return err
	}
	return writeFileAtomic(out, buf.Bytes())
}

// writeFileAtomic writes data to a temporary file next to path and renames
// it into place, so an interrupted export never leaves half a transcript.
func writeFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+strings.TrimPrefix(filepath.Base(path), ".")+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
