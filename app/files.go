package app

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/wailsapp/wails/v2/pkg/runtime"

	"lanchat/backend/protocol"
	"lanchat/backend/relay"
)

// fileHost is the host's side of the file limits, when it takes files.
type fileHost interface {
	SetFileLimits(maxFile, maxTotal int64)
	FileLimitsNow() (maxFile, maxTotal, used int64, ok bool)
}

// FileLimits are the host's limits for files, in MB, and the MB in use.
// MaxFileMB and MaxFilesMB are 0 when the defaults apply (100 MB per file;
// 2 GB or a tenth of the free disk space in all); EffectiveFileMB and
// EffectiveFilesMB say what they are now. Off: the host takes no files.
type FileLimits struct {
	MaxFileMB        int  `json:"max_file_mb"`
	MaxFilesMB       int  `json:"max_files_mb"`
	EffectiveFileMB  int  `json:"effective_file_mb"`
	EffectiveFilesMB int  `json:"effective_files_mb"`
	UsedMB           int  `json:"used_mb"`
	Off              bool `json:"off"`
}

// Most MB a setting takes: 10 GB per file, 1 TB in all.
const maxFileMB, maxFilesMB = 10 << 10, 1 << 20

// FileLimits returns the file limits as saved and as they are now.
func (a *App) FileLimits() FileLimits {
	s := a.settings.Get()
	out := FileLimits{MaxFileMB: s.MaxFileMB, MaxFilesMB: s.MaxFilesMB, Off: true}
	if fh, ok := a.host.(fileHost); ok {
		if file, total, used, on := fh.FileLimitsNow(); on {
			out.Off = false
			out.EffectiveFileMB, out.EffectiveFilesMB, out.UsedMB = int(file>>20), int(total>>20), int((used+1<<20-1)>>20)
		}
	}
	return out
}

// SetFileLimits changes the largest file and the room for all files, in MB
// (0: the default), at once for everyone, and keeps them for the next start.
func (a *App) SetFileLimits(fileMB, filesMB int) (FileLimits, error) {
	if fileMB < 0 || fileMB > maxFileMB {
		return FileLimits{}, fmt.Errorf("the largest file is 1 to %d MB (0 for the default)", maxFileMB)
	}
	if filesMB < 0 || filesMB > maxFilesMB {
		return FileLimits{}, fmt.Errorf("the room for files is 1 to %d MB (0 for the default)", maxFilesMB)
	}
	fh, ok := a.host.(fileHost)
	if !ok {
		return FileLimits{}, fmt.Errorf("this host takes no files")
	}
	fh.SetFileLimits(int64(fileMB)<<20, int64(filesMB)<<20)
	s := a.settings.Get()
	s.MaxFileMB, s.MaxFilesMB = fileMB, filesMB
	if _, err := a.settings.Save(s); err != nil {
		a.log.Warn("the file limits were not saved", "err", err)
		return a.FileLimits(), err
	}
	return a.FileLimits(), nil
}

// SaveFile asks where to save a message's file and downloads it there: the
// webview cannot save a download itself. url is the file's address on
// this computer's own host (its files route, or its relay to another
// host); name is the file's name, suggested in the dialog. It returns the
// path written, or "" when the user cancelled.
func (a *App) SaveFile(rawURL, name string) (string, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || u.Port() != strconv.Itoa(a.host.Port()) ||
		(u.Hostname() != "127.0.0.1" && u.Hostname() != "localhost" && u.Hostname() != "::1") ||
		(!strings.HasPrefix(u.Path, protocol.FilePath) && !strings.HasPrefix(u.Path, relay.FilesPath)) {
		return "", fmt.Errorf("not a file of this computer's host: %q", rawURL)
	}
	a.mu.Lock()
	ctx := a.wailsCx
	a.mu.Unlock()
	path, err := saveDialog(ctx, runtime.SaveDialogOptions{
		Title:                "Save file",
		DefaultFilename:      protocol.CleanFileName(name),
		CanCreateDirectories: true,
	})
	if err != nil || path == "" {
		return "", err
	}
	res, err := http.Get(u.String())
	if err != nil {
		return "", fmt.Errorf("save file: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", fmt.Errorf("save file: the host answered %s", res.Status)
	}
	// Into a temp file beside the chosen one, renamed when complete: a
	// download cut off never leaves half a file under its name.
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return "", fmt.Errorf("save file: %w", err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	_, err = io.Copy(tmp, res.Body)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return "", fmt.Errorf("save file: %w", err)
	}
	a.log.Info("file saved", "path", path)
	return path, nil
}
