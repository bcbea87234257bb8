package files

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lanchat/backend/protocol"
)

// finish turns a complete upload into a file: it hashes the bytes, learns
// whether they are an image (and makes its thumbnail), moves them to
// blobs/ (or drops them when that file is stored already) and records the
// upload as done. The upload's room in the count becomes the file's.
func (s *Store) finish(upload, owner, name, claimed string) (protocol.Attachment, *protocol.Problem) {
	in, ok := s.readPartial(upload)
	if !ok {
		return protocol.Attachment{}, protocol.Errorf(protocol.CodeNoSuchFile, "the upload is gone")
	}
	src := s.partialPath(upload)
	f, err := os.Open(src)
	if err != nil {
		return protocol.Attachment{}, s.internal(err)
	}
	h := sha256.New()
	size, err := io.Copy(h, f)
	if err != nil {
		f.Close()
		return protocol.Attachment{}, s.internal(err)
	}
	att := protocol.Attachment{ID: hex.EncodeToString(h.Sum(nil)), Name: protocol.CleanFileName(name), Size: size, Type: plainType(claimed)}
	img, p := s.image(f)
	f.Close()
	if p != nil {
		s.dropPartial(upload, in.Size)
		return protocol.Attachment{}, p
	}
	var thumb []byte
	if img != nil {
		att.Type, att.Width, att.Height = img.mediaType, img.width, img.height
		if len(img.thumb) > 0 {
			thumb = img.thumb
			sum := sha256.Sum256(thumb)
			att.Thumb = hex.EncodeToString(sum[:])
		}
	} else if protocol.InlineImage(att.Type) {
		// It says it is an image, but it does not decode as one.
		att.Type = "application/octet-stream"
	}
	// In a cluster the file (and its thumbnail) reach the shared store
	// first, off the store's lock: that may take a while.
	if err := s.share(att.ID, func() (io.ReadCloser, error) { return os.Open(src) }); err != nil {
		return protocol.Attachment{}, s.internal(err)
	}
	if thumb != nil {
		if err := s.share(att.Thumb, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(thumb)), nil }); err != nil {
			return protocol.Attachment{}, s.internal(err)
		}
	}
	// The file, its thumbnail and the record that keeps them from the sweep
	// go in together.
	s.mu.Lock()
	defer s.mu.Unlock()
	if thumb != nil {
		if err := s.putLocked(att.Thumb, thumb); err != nil {
			return protocol.Attachment{}, s.internal(err)
		}
	}
	dst := s.blobPath(att.ID)
	if _, err := os.Stat(dst); err == nil {
		_ = os.Remove(src) // stored already: the same bytes were sent before
		s.used.Add(-in.Size)
	} else {
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			return protocol.Attachment{}, s.internal(err)
		}
		if err := os.Rename(src, dst); err != nil {
			return protocol.Attachment{}, s.internal(err)
		}
		s.used.Add(size - in.Size)
	}
	rec, _ := json.Marshal(done{Owner: owner, File: att, At: s.cfg.Now().UnixMilli()})
	if err := writeAtomic(s.donePath(upload), rec); err != nil {
		return protocol.Attachment{}, s.internal(err)
	}
	_ = os.Remove(src + ".info")
	return att, nil
}

// putLocked stores b as the blob id (a thumbnail), unless it is there.
// The store's lock is held.
func (s *Store) putLocked(id string, b []byte) error {
	dst := s.blobPath(id)
	if _, err := os.Stat(dst); err == nil {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	if err := writeAtomic(dst, b); err != nil {
		return err
	}
	s.used.Add(int64(len(b)))
	return nil
}

// writeAtomic writes b to a temp file beside path and renames it there.
func writeAtomic(path string, b []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// plainType is the media type a client claimed, if it is a well-formed
// one (parameters dropped), else application/octet-stream.
func plainType(t string) string {
	mt, _, err := mime.ParseMediaType(t)
	if err != nil || !strings.Contains(mt, "/") || len(mt) > 100 {
		return "application/octet-stream"
	}
	return mt
}

func (s *Store) internal(err error) *protocol.Problem {
	s.cfg.Logger.Error("files", "err", err)
	return protocol.Errorf(protocol.CodeInternal, "the file could not be stored; try again")
}

// share puts the file id, read from open, in the cluster's shared store,
// if there is one.
func (s *Store) share(id string, open func() (io.ReadCloser, error)) error {
	if s.cfg.Shared == nil {
		return nil
	}
	r, err := open()
	if err != nil {
		return err
	}
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	return s.cfg.Shared.Put(ctx, id, r)
}

// fetch brings the file id from the cluster's shared store to this box's
// disk (a temp file renamed into place); os.ErrNotExist when no box has it.
func (s *Store) fetch(ctx context.Context, id string) error {
	if s.cfg.Shared == nil {
		return os.ErrNotExist
	}
	dst := s.blobPath(id)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(dst), ".fetch-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	h := sha256.New()
	err = s.cfg.Shared.Get(ctx, id, io.MultiWriter(tmp, h))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if hex.EncodeToString(h.Sum(nil)) != id {
		return fmt.Errorf("files: the cluster's copy of %s does not match its hash", id)
	}
	fi, err := os.Stat(tmp.Name())
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := os.Stat(dst); err == nil {
		return nil // fetched meanwhile for another reader
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return err
	}
	s.used.Add(fi.Size())
	return nil
}
