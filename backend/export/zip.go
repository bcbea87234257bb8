package export

import (
	"archive/zip"
	"fmt"
	"io"
	"time"

	"lanchat/backend/protocol"
)

// writeZip writes transcript.html and transcript.json, and each file the
// messages carry once under files/ (where the HTML links point). A file
// the host no longer has is left out and named in missing-files.txt.
func writeZip(w io.Writer, t Transcript, loc *time.Location) error {
	z := zip.NewWriter(w)
	add := func(name string, write func(io.Writer) error) error {
		f, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: t.Exported})
		if err != nil {
			return err
		}
		return write(f)
	}
	if err := add("transcript.html", func(w io.Writer) error { return writeHTML(w, t, loc) }); err != nil {
		return err
	}
	if err := add("transcript.json", func(w io.Writer) error { return writeJSON(w, t, loc) }); err != nil {
		return err
	}
	done := map[string]bool{}
	var missing []string
	for _, r := range t.Rooms {
		for _, m := range r.Messages {
			if deleted(m) || protocol.IsEvent(m.FrameType()) {
				continue
			}
			for _, a := range m.Attachments {
				p := filePath(a)
				if done[p] {
					continue
				}
				done[p] = true
				if t.Files == nil {
					missing = append(missing, p)
					continue
				}
				src, err := t.Files(a.ID)
				if err != nil {
					missing = append(missing, p)
					continue
				}
				// Files are mostly compressed already (images, PDFs): stored.
				f, err := z.CreateHeader(&zip.FileHeader{Name: p, Method: zip.Store, Modified: time.UnixMilli(m.TS)})
				if err == nil {
					_, err = io.Copy(f, src)
				}
				src.Close()
				if err != nil {
					return fmt.Errorf("%s: %w", p, err)
				}
			}
		}
	}
	if len(missing) > 0 {
		if err := add("missing-files.txt", func(w io.Writer) error {
			_, err := fmt.Fprintln(w, "These files were no longer on the host when the transcript was exported:")
			for _, p := range missing {
				if err == nil {
					_, err = fmt.Fprintln(w, p)
				}
			}
			return err
		}); err != nil {
			return err
		}
	}
	return z.Close()
}
