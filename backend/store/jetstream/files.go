package jsstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// FilesBucket is the object store holding a cluster's files, by id.
const FilesBucket = "lanchat_files"

// Files keeps the files members attach in the cluster's object store, so
// that a member on any box reads a file sent on another (files.Shared).
type Files struct {
	obs jetstream.ObjectStore
}

// OpenFiles opens (creating) the files bucket, replicated as the history is.
func OpenFiles(ctx context.Context, js jetstream.JetStream, replicas int) (*Files, error) {
	if replicas <= 0 {
		replicas = 1
	}
	// Every box opens the bucket as it starts, often at the same moment.
	// Create (which answers with the bucket when one with this
	// configuration exists) and bind to a bucket that exists otherwise: an
	// update racing another box's create may go unanswered, so each
	// attempt is bounded and an unanswered one is made again.
	var obs jetstream.ObjectStore
	err := retry(ctx, bounded(ctx, func(ctx context.Context) (err error) {
		obs, err = js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{
			Bucket: FilesBucket, Description: "files in messages, by sha256", Replicas: replicas, Storage: jetstream.FileStorage,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			obs, err = js.ObjectStore(ctx, FilesBucket)
		}
		return err
	}))
	if err != nil {
		return nil, wrap("files bucket", err)
	}
	return &Files{obs: obs}, nil
}

// Put stores a file under id, unless it is there already.
func (f *Files) Put(ctx context.Context, id string, r io.Reader) error {
	if _, err := f.obs.GetInfo(ctx, id); err == nil {
		return nil
	}
	if _, err := f.obs.Put(ctx, jetstream.ObjectMeta{Name: id}, r); err != nil {
		return fmt.Errorf("files: share %s: %w", id, err)
	}
	return nil
}

// missingWait is how long Get looks again for a file this box's replica
// does not have yet.
const missingWait = 5 * time.Second

// Get writes the file id to w; os.ErrNotExist when the cluster has none.
// A file is stored on a quorum of boxes before the message that names it
// is sent, but this box's replica may be behind: a file it does not have
// is looked for again, for up to missingWait, before it counts as missing.
func (f *Files) Get(ctx context.Context, id string, w io.Writer) error {
	res, err := f.obs.Get(ctx, id)
	for wait := time.Now().Add(missingWait); errors.Is(err, jetstream.ErrObjectNotFound) && time.Now().Before(wait); {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		res, err = f.obs.Get(ctx, id)
	}
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return os.ErrNotExist
	}
	if err != nil {
		return fmt.Errorf("files: fetch %s: %w", id, err)
	}
	defer res.Close()
	if _, err := io.Copy(w, res); err != nil {
		return fmt.Errorf("files: fetch %s: %w", id, err)
	}
	return nil
}
