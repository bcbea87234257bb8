// Package files keeps the files members attach to messages: resumable
// uploads (tus 1.0, by tusd), content-addressed storage in the data dir,
// thumbnails of images, downloads that never render as a page on the
// host's origin, and the sweep that deletes files no message uses.
//
// Layout under Config.Dir:
//
//	partial/<upload>        an upload in progress, with partial/<upload>.info (tusd's)
//	done/<upload>.json      a finished upload: its owner and its file
//	blobs/<ab>/<sha256>     a file (or a thumbnail), named by its sha256
//
// A file reaches blobs/ only by a rename once it is complete and hashed,
// so a host killed mid-upload leaves nothing half-written there.
package files

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"lanchat/backend/protocol"
)

// Config sets up a Store.
type Config struct {
	Dir string
	// MaxFile is the largest file taken, in bytes (default 100 MiB).
	MaxFile int64
	// MaxTotal bounds the bytes of all files and uploads in progress;
	// default 2 GiB or a tenth of the disk's free space, whichever is less.
	MaxTotal int64
	// MaxPixels bounds an image's width × height; a larger one is refused
	// (default 50 million: a decoded image is held in memory once).
	MaxPixels int
	// Grace is how long a finished upload waits to be attached before the
	// sweep may delete it (default 1 hour); an upload in progress that
	// has not moved for Stale goes (default 24 hours).
	Grace, Stale time.Duration
	// Referenced lists every file id (and thumbnail id) that a kept
	// message uses. Nil: the sweep keeps every file.
	Referenced func() (map[string]bool, error)
	// Shared, for one box of a cluster, is where every box reads the
	// files: a finished file goes there before its upload is done, and a
	// file not on this box's disk is fetched from there.
	Shared Shared
	Logger *slog.Logger
	Now    func() time.Time
}

// Shared keeps files where every box of a cluster reads them.
type Shared interface {
	// Put stores the file id (its bytes from r), unless it is there.
	Put(ctx context.Context, id string, r io.Reader) error
	// Get writes the file id to w; os.ErrNotExist when there is none.
	Get(ctx context.Context, id string, w io.Writer) error
}

// Store is the host's files.
type Store struct {
	cfg  Config
	used atomic.Int64 // bytes of blobs plus the declared length of uploads in progress
	// maxFile and maxTotal are the limits now (see SetLimits).
	maxFile, maxTotal atomic.Int64
	thumb             sync.Mutex // one image decoded at a time
	mu                sync.Mutex // finishing and sweeping
	poke              chan struct{}
}

// New opens (creating) the store's directories and counts what they hold.
func New(cfg Config) (*Store, error) {
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = 50_000_000
	}
	if cfg.Grace <= 0 {
		cfg.Grace = time.Hour
	}
	if cfg.Stale <= 0 {
		cfg.Stale = 24 * time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	for _, d := range []string{"partial", "done", "blobs"} {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
	}
	s := &Store{cfg: cfg, poke: make(chan struct{}, 1)}
	n, err := s.count()
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	s.used.Store(n)
	s.SetLimits(cfg.MaxFile, cfg.MaxTotal)
	return s, nil
}

// DefaultMaxFile is the largest file taken unless told otherwise.
const DefaultMaxFile = 100 << 20

// SetLimits changes the largest file and the room for all files (0: the
// defaults, see Config). Uploads in progress keep the room they took.
func (s *Store) SetLimits(maxFile, maxTotal int64) {
	if maxFile <= 0 {
		maxFile = DefaultMaxFile
	}
	if maxTotal <= 0 {
		maxTotal = 2 << 30
		if free, err := freeSpace(s.cfg.Dir); err == nil && (free+s.used.Load())/10 < maxTotal {
			maxTotal = (free + s.used.Load()) / 10
		}
	}
	s.maxFile.Store(maxFile)
	s.maxTotal.Store(maxTotal)
}

// MaxFile is the largest file taken.
func (s *Store) MaxFile() int64 { return s.maxFile.Load() }

// MaxTotal is the room for all files.
func (s *Store) MaxTotal() int64 { return s.maxTotal.Load() }

// Used is the bytes files and uploads in progress take.
func (s *Store) Used() int64 { return s.used.Load() }

// count adds up the blobs and the declared sizes of uploads in progress.
func (s *Store) count() (int64, error) {
	var n int64
	err := filepath.WalkDir(filepath.Join(s.cfg.Dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if fi, err := d.Info(); err == nil {
			n += fi.Size()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, in := range s.partials() {
		n += in.Size
	}
	return n, nil
}

var uploadIDPattern = regexp.MustCompile(`^[0-9a-f]{32}$`)

// validUpload: tusd's ids are 32 hex digits; nothing else names a path.
func validUpload(id string) bool { return uploadIDPattern.MatchString(id) }

func (s *Store) blobPath(id string) string {
	return filepath.Join(s.cfg.Dir, "blobs", id[:2], id)
}

func (s *Store) donePath(upload string) string {
	return filepath.Join(s.cfg.Dir, "done", upload+".json")
}

// done is a finished upload's record.
type done struct {
	Owner string              `json:"owner"`
	File  protocol.Attachment `json:"file"`
	At    int64               `json:"at"` // ms since the epoch
	// Attached: a message carries the file, so the record no longer
	// keeps it from the sweep (messages do).
	Attached bool `json:"attached,omitempty"`
}

func (s *Store) readDone(upload string) (done, bool) {
	if !validUpload(upload) {
		return done{}, false
	}
	b, err := os.ReadFile(s.donePath(upload))
	if err != nil {
		return done{}, false
	}
	var d done
	if json.Unmarshal(b, &d) != nil || !protocol.ValidFileID(d.File.ID) {
		return done{}, false
	}
	return d, true
}

// Finished returns the file of a finished upload by owner (chat.Files).
func (s *Store) Finished(owner, upload string) (protocol.Attachment, bool) {
	d, ok := s.readDone(upload)
	if !ok || d.Owner != owner {
		return protocol.Attachment{}, false
	}
	if _, err := os.Stat(s.blobPath(d.File.ID)); err != nil {
		return protocol.Attachment{}, false
	}
	return d.File, true
}

// Attached marks uploads as carried by a message (chat.Files).
func (s *Store) Attached(uploads []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, u := range uploads {
		if d, ok := s.readDone(u); ok && !d.Attached {
			d.Attached = true
			b, _ := json.Marshal(d)
			if err := writeAtomic(s.donePath(u), b); err != nil {
				s.cfg.Logger.Warn("files: mark attached", "err", err)
			}
		}
	}
}

// Released asks for a sweep soon (chat.Files): a message with files was
// deleted.
func (s *Store) Released() {
	select {
	case s.poke <- struct{}{}:
	default:
	}
}

// Run sweeps when poked and every interval until ctx ends.
func (s *Store) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if err := s.Sweep(); err != nil {
			s.cfg.Logger.Warn("files: sweep", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.poke:
		}
	}
}

// Sweep deletes files no kept message uses (past the grace a fresh upload
// gets to be attached), finished-upload records past the grace, and
// uploads in progress that went stale.
func (s *Store) Sweep() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.cfg.Now()
	keep := map[string]bool{}
	entries, err := os.ReadDir(filepath.Join(s.cfg.Dir, "done"))
	if err != nil {
		return err
	}
	for _, e := range entries {
		upload, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok {
			continue
		}
		d, ok := s.readDone(upload)
		if ok && now.Sub(time.UnixMilli(d.At)) < s.cfg.Grace {
			if !d.Attached {
				keep[d.File.ID], keep[d.File.Thumb] = true, true
			}
			continue
		}
		_ = os.Remove(filepath.Join(s.cfg.Dir, "done", e.Name()))
	}
	for id, in := range s.partials() {
		if now.Sub(in.mod) > s.cfg.Stale {
			s.dropPartial(id, in.Size)
		}
	}
	if s.cfg.Referenced == nil {
		return nil
	}
	refs, err := s.cfg.Referenced()
	if err != nil {
		return err
	}
	return filepath.WalkDir(filepath.Join(s.cfg.Dir, "blobs"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		id := d.Name()
		if keep[id] || refs[id] {
			return nil
		}
		fi, err := d.Info()
		if err != nil {
			return nil
		}
		if strings.HasPrefix(id, ".") {
			// A temp file of a finish the host did not live to complete.
			if now.Sub(fi.ModTime()) < s.cfg.Grace {
				return nil
			}
		}
		if os.Remove(p) == nil {
			s.used.Add(-fi.Size())
		}
		return nil
	})
}

// partial is an upload in progress as tusd's .info file describes it.
type partial struct {
	Size     int64             `json:"Size"`
	MetaData map[string]string `json:"MetaData"`
	mod      time.Time
}

func (s *Store) partialPath(upload string) string {
	return filepath.Join(s.cfg.Dir, "partial", upload)
}

func (s *Store) readPartial(upload string) (partial, bool) {
	if !validUpload(upload) {
		return partial{}, false
	}
	b, err := os.ReadFile(s.partialPath(upload) + ".info")
	if err != nil {
		return partial{}, false
	}
	var in partial
	if json.Unmarshal(b, &in) != nil {
		return partial{}, false
	}
	if fi, err := os.Stat(s.partialPath(upload)); err == nil {
		in.mod = fi.ModTime()
	}
	return in, true
}

func (s *Store) partials() map[string]partial {
	out := map[string]partial{}
	entries, _ := os.ReadDir(filepath.Join(s.cfg.Dir, "partial"))
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), ".info"); ok {
			if in, ok := s.readPartial(id); ok {
				out[id] = in
			}
		}
	}
	return out
}

// dropPartial deletes an upload in progress and gives back its room.
func (s *Store) dropPartial(upload string, size int64) {
	_ = os.Remove(s.partialPath(upload))
	if err := os.Remove(s.partialPath(upload) + ".info"); err == nil {
		s.used.Add(-size)
	}
}

// reserve takes room for size bytes, or says why not.
func (s *Store) reserve(size int64) *protocol.Problem {
	if max := s.MaxFile(); size > max {
		return protocol.Errorf(protocol.CodeFileTooLarge, "the file is %s; this host takes files up to %s", HumanSize(size), HumanSize(max))
	}
	for {
		used := s.used.Load()
		if total := s.MaxTotal(); used+size > total {
			return protocol.Errorf(protocol.CodeFilesFull, "this host has no room for %s more (%s of %s used)", HumanSize(size), HumanSize(used), HumanSize(total))
		}
		if s.used.CompareAndSwap(used, used+size) {
			return nil
		}
	}
}

// HumanSize is a size for people, in English: "482 KB", "2.2 MB".
func HumanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f KB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d bytes", n)
}

// Open opens a stored file (or thumbnail) by its id, fetching it from the
// cluster when another box has it.
func (s *Store) Open(id string) (io.ReadCloser, error) {
	f, err := OpenIn(s.cfg.Dir, id)
	if errors.Is(err, os.ErrNotExist) && s.fetch(context.Background(), id) == nil {
		return OpenIn(s.cfg.Dir, id)
	}
	return f, err
}

// OpenIn opens a file by its id from the files dir of a host (its data
// dir's "files"), running or not.
func OpenIn(dir, id string) (io.ReadCloser, error) {
	if !protocol.ValidFileID(id) {
		return nil, fmt.Errorf("files: %q is not a file id", id)
	}
	return os.Open(filepath.Join(dir, "blobs", id[:2], id))
}
