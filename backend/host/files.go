package host

import (
	"context"
	"flag"
	"fmt"
	"path/filepath"
	"time"

	"lanchat/backend/chat"
	"lanchat/backend/files"
	"lanchat/backend/protocol"
	jsstore "lanchat/backend/store/jetstream"
)

// FilesConfig sets how the host takes files.
type FilesConfig struct {
	// Off: the host takes no files.
	Off bool
	// MaxFile and MaxTotal bound one file and all of them (see
	// files.Config); Uploads says who may upload at first
	// (protocol.Uploads…, default everyone).
	MaxFile, MaxTotal int64
	Uploads           string
}

// referencer is a history that lists the files its messages use.
type referencer interface {
	Referenced() (map[string]bool, error)
}

// openFiles opens the files in DataDir/files and lets the hub attach them.
// A history that cannot list the files its messages use (a cluster's)
// keeps every file.
func openFiles(cfg Config, hc *chat.Config, parts *clusterParts) (*files.Store, error) {
	if cfg.Files.Off {
		return nil, nil
	}
	fc := files.Config{
		Dir: filepath.Join(cfg.DataDir, "files"), MaxFile: cfg.Files.MaxFile, MaxTotal: cfg.Files.MaxTotal,
		Logger: cfg.Logger,
	}
	if r, ok := hc.Store.(referencer); ok {
		fc.Referenced = r.Referenced
	}
	if parts != nil {
		wait := cfg.Cluster.FormTimeout
		if wait <= 0 {
			wait = 2 * time.Minute
		}
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		shared, err := jsstore.OpenFiles(ctx, parts.node.JetStream(), parts.node.Replicas())
		cancel()
		if err != nil {
			return nil, fmt.Errorf("files: %w", err)
		}
		fc.Shared = shared
	}
	fs, err := files.New(fc)
	if err != nil {
		return nil, fmt.Errorf("files: %w", err)
	}
	hc.Files, hc.MaxFile, hc.Uploads = fs, fs.MaxFile(), cfg.Files.Uploads
	return fs, nil
}

// FilesFlags registers the flags for files: limits and who may upload.
func FilesFlags(fs *flag.FlagSet, c *FilesConfig) {
	fs.Func("max-file", "largest file members may send, in MB (default 100)", func(s string) error {
		n, err := positive(s)
		c.MaxFile = int64(n) << 20
		return err
	})
	fs.Func("max-files", "room for all files, in MB (default 2048 or a tenth of the free disk space, whichever is less)", func(s string) error {
		n, err := positive(s)
		c.MaxTotal = int64(n) << 20
		return err
	})
	fs.Func("uploads", "who may send files: everyone (default), hosts or nobody", func(s string) error {
		switch s {
		case protocol.UploadsEveryone, protocol.UploadsHosts, protocol.UploadsNobody:
			c.Uploads = s
			return nil
		}
		return fmt.Errorf("%q: say everyone, hosts or nobody", s)
	})
	fs.BoolVar(&c.Off, "no-files", false, "take no files at all")
}

// SetFileLimits changes the largest file and the room for all files while
// the host runs (0: the defaults); members hear the new largest file.
func (h *Host) SetFileLimits(maxFile, maxTotal int64) {
	if h.Files == nil {
		return
	}
	h.Files.SetLimits(maxFile, maxTotal)
	h.Hub.SetMaxFile(h.Files.MaxFile())
}

// FileLimitsNow is the largest file, the room for all files and the bytes
// used now; ok is false when the host takes no files.
func (h *Host) FileLimitsNow() (maxFile, maxTotal, used int64, ok bool) {
	if h.Files == nil {
		return 0, 0, 0, false
	}
	return h.Files.MaxFile(), h.Files.MaxTotal(), h.Files.Used(), true
}
