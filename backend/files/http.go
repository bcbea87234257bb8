package files

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tus/tusd/v2/pkg/filestore"
	tusd "github.com/tus/tusd/v2/pkg/handler"
	"github.com/tus/tusd/v2/pkg/memorylocker"
	xslog "golang.org/x/exp/slog"

	"lanchat/backend/protocol"
)

// Members answers for the hub who holds a files key.
type Members interface {
	// Uploader is the identity of the member holding key, if they may upload.
	Uploader(key string) (owner string, p *protocol.Problem)
	// Readable is the attachment id of message seq in room, if the member
	// holding key may read it; thumb says id is its thumbnail.
	Readable(key, room string, seq uint64, id string) (att protocol.Attachment, thumb bool, p *protocol.Problem)
}

// KeyHeader carries the member's files key on every upload request.
const KeyHeader = "Lanchat-Key"

type ownerKey struct{}

// Handler serves uploads at protocol.UploadPath and downloads at
// protocol.FilePath. originAllowed is the host's origin policy: a request
// from a page of another origin is refused, as on /ws.
func (s *Store) Handler(m Members, originAllowed func(*http.Request) bool) (http.Handler, error) {
	composer := tusd.NewStoreComposer()
	filestore.New(s.partialPath("")).UseIn(composer)
	memorylocker.New().UseIn(composer)
	tus, err := tusd.NewHandler(tusd.Config{
		StoreComposer:           composer,
		BasePath:                protocol.UploadPath,
		DisableDownload:         true,
		DisableConcatenation:    true,
		Cors:                    &tusd.CorsConfig{Disable: true},
		PreUploadCreateCallback: s.beforeCreate,
		PreFinishResponseCallback: func(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
			owner, _ := ev.Context.Value(ownerKey{}).(string)
			md := ev.Upload.MetaData
			if _, p := s.finish(ev.Upload.ID, owner, md["filename"], md["filetype"]); p != nil {
				return tusd.HTTPResponse{}, tusError(p)
			}
			return tusd.HTTPResponse{}, nil
		},
		PreUploadTerminateCallback: func(ev tusd.HookEvent) (tusd.HTTPResponse, error) {
			s.used.Add(-ev.Upload.Size)
			return tusd.HTTPResponse{}, nil
		},
		NetworkTimeout: 30 * time.Second,
		// tusd logs every request at info; its warnings go to stderr.
		Logger: xslog.New(xslog.NewTextHandler(os.Stderr, &xslog.HandlerOptions{Level: xslog.LevelWarn})),
	})
	if err != nil {
		return nil, err
	}
	uploads := http.StripPrefix(strings.TrimSuffix(protocol.UploadPath, "/"), tus)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			if !originAllowed(r) {
				writeProblem(w, protocol.Errorf(protocol.CodeForbidden, "this page may not use the host's files"))
				return
			}
		}
		if AllowCORS(w, r) {
			return
		}
		if rest, ok := strings.CutPrefix(r.URL.Path, protocol.UploadPath); ok || r.URL.Path+"/" == protocol.UploadPath {
			s.upload(w, r, m, rest, uploads)
			return
		}
		id, ok := strings.CutPrefix(r.URL.Path, protocol.FilePath)
		if !ok || (r.Method != http.MethodGet && r.Method != http.MethodHead) {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		s.download(w, r, m, id)
	}), nil
}

// upload checks the member and, past creation, that the upload is theirs,
// then hands the request to tusd.
func (s *Store) upload(w http.ResponseWriter, r *http.Request, m Members, id string, tus http.Handler) {
	r.Header.Del("X-HTTP-Method-Override") // the method is the method
	owner, p := m.Uploader(r.Header.Get(KeyHeader))
	if p != nil {
		writeProblem(w, p)
		return
	}
	if id == "" {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
	} else {
		if d, ok := s.readDone(id); ok && d.Owner == owner {
			// Finished: a client that lost the last answer learns so here.
			if r.Method == http.MethodHead {
				h := w.Header()
				h.Set("Tus-Resumable", "1.0.0")
				h.Set("Upload-Offset", strconv.FormatInt(d.File.Size, 10))
				h.Set("Upload-Length", strconv.FormatInt(d.File.Size, 10))
				h.Set("Cache-Control", "no-store")
				w.WriteHeader(http.StatusOK)
				return
			}
		}
		if in, ok := s.readPartial(id); !ok || in.MetaData["owner"] != owner {
			writeProblem(w, protocol.Errorf(protocol.CodeNoSuchFile, "no upload of yours has that id"))
			return
		}
	}
	tus.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), ownerKey{}, owner)))
}

// beforeCreate refuses a file over the limits before any byte is sent and
// keeps only the metadata the host uses.
func (s *Store) beforeCreate(ev tusd.HookEvent) (tusd.HTTPResponse, tusd.FileInfoChanges, error) {
	owner, _ := ev.Context.Value(ownerKey{}).(string)
	if ev.Upload.SizeIsDeferred || ev.Upload.Size <= 0 {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(protocol.Errorf(protocol.CodeBadFrame, "say the file's size (Upload-Length) when creating the upload; empty files are not sent"))
	}
	if p := s.reserve(ev.Upload.Size); p != nil {
		return tusd.HTTPResponse{}, tusd.FileInfoChanges{}, tusError(p)
	}
	md := ev.Upload.MetaData
	return tusd.HTTPResponse{}, tusd.FileInfoChanges{MetaData: tusd.MetaData{
		"filename": protocol.CleanFileName(md["filename"]),
		"filetype": plainType(md["filetype"]),
		"owner":    owner,
	}}, nil
}

// download streams a message's file, with Range support. Only raster
// images are ever served inline; everything else is an attachment of type
// application/octet-stream, so nothing renders as a page of this origin.
func (s *Store) download(w http.ResponseWriter, r *http.Request, m Members, id string) {
	q := r.URL.Query()
	seq, _ := strconv.ParseUint(q.Get("seq"), 10, 64)
	att, thumb, p := m.Readable(q.Get("key"), q.Get("room"), seq, id)
	if p != nil {
		writeProblem(w, p)
		return
	}
	f, err := os.Open(s.blobPath(id))
	if errors.Is(err, os.ErrNotExist) && s.fetch(r.Context(), id) == nil {
		f, err = os.Open(s.blobPath(id)) // sent on another box of the cluster
	}
	if err != nil {
		writeProblem(w, protocol.Errorf(protocol.CodeNoSuchFile, "the file is no longer on this host"))
		return
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		writeProblem(w, s.internal(err))
		return
	}
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "private, max-age=86400")
	h.Set("ETag", `"`+id+`"`)
	name := att.Name
	switch {
	case thumb:
		h.Set("Content-Type", "image/jpeg")
		h.Set("Content-Disposition", disposition("inline", "thumb-"+name+".jpg"))
	case protocol.InlineImage(att.Type) && q.Get("download") == "":
		h.Set("Content-Type", att.Type)
		h.Set("Content-Disposition", disposition("inline", name))
	default:
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", disposition("attachment", name))
	}
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// disposition is a Content-Disposition with name as an ASCII fallback and
// in full (RFC 6266, RFC 5987 encoding).
func disposition(kind, name string) string {
	ascii := strings.Map(func(r rune) rune {
		if r < 0x20 || r >= 0x7f || r == '"' || r == '\\' || r == '%' || r == ';' {
			return '_'
		}
		return r
	}, name)
	return kind + `; filename="` + ascii + `"; filename*=UTF-8''` + strings.ReplaceAll(url.PathEscape(name), "'", "%27")
}

// status is the HTTP status of a refusal.
func status(code string) int {
	switch code {
	case protocol.CodeForbidden, protocol.CodeNotInRoom, protocol.CodeUploadsOff, protocol.CodeMuted:
		return http.StatusForbidden
	case protocol.CodeNoSuchFile, protocol.CodeNoSuchRoom:
		return http.StatusNotFound
	case protocol.CodeFileTooLarge:
		return http.StatusRequestEntityTooLarge
	case protocol.CodeFilesFull:
		return http.StatusInsufficientStorage
	case protocol.CodeInternal:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}

func problemBody(p *protocol.Problem) string {
	b, _ := json.Marshal(protocol.Error{Type: protocol.TypeError, Code: p.Code, Message: p.Message})
	return string(b)
}

// writeProblem answers with the refusal as an error frame in JSON.
func writeProblem(w http.ResponseWriter, p *protocol.Problem) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status(p.Code))
	_, _ = w.Write([]byte(problemBody(p)))
}

// tusError is a refusal as tusd sends it: the same JSON body and status.
func tusError(p *protocol.Problem) error {
	return tusd.Error{ErrorCode: p.Code, Message: p.Message, HTTPResponse: tusd.HTTPResponse{
		StatusCode: status(p.Code),
		Body:       problemBody(p),
		Header:     tusd.HTTPHeader{"Content-Type": "application/json"},
	}}
}

// AllowCORS lets a page of an allowed origin (checked before) use the
// files routes: it sets the CORS headers for the request's Origin, if any,
// and answers a preflight itself, reporting so.
func AllowCORS(w http.ResponseWriter, r *http.Request) (answered bool) {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", o)
	h.Add("Vary", "Origin")
	h.Set("Access-Control-Expose-Headers", "Location, Upload-Offset, Upload-Length, Tus-Resumable, Tus-Version, Tus-Extension, Content-Range, Content-Disposition")
	if r.Method != http.MethodOptions {
		return false
	}
	h.Set("Access-Control-Allow-Methods", "GET, HEAD, POST, PATCH, DELETE, OPTIONS")
	h.Set("Access-Control-Allow-Headers", "Content-Type, Upload-Length, Upload-Offset, Tus-Resumable, Upload-Metadata, Range, "+KeyHeader)
	h.Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return true
}
