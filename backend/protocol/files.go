package protocol

import (
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Files and images in messages.
//
// A client uploads a file to the host first (tus, at UploadPath, with its
// files key), then sends a message whose attachments name the finished
// uploads by id. The host replaces each id with the file's Attachment, so
// what a message says about its files is always what the host stored.

// Attachment is one file a message carries.
type Attachment struct {
	// ID is the sha256 of the file's bytes in hex: the same file sent
	// twice has the same id and is stored once.
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	// Type is the media type. Only image/png, image/jpeg, image/gif and
	// image/webp are ever shown inline (see InlineImage); the host sets
	// those only for files that decode as that image.
	Type   string `json:"type"`
	Width  int    `json:"width,omitempty"`
	Height int    `json:"height,omitempty"`
	// Thumb is the id of a small JPEG preview of an image, fetched like
	// the file itself.
	Thumb string `json:"thumb,omitempty"`
}

// UploadPath is where uploads are created (tus 1.0 creation at POST
// UploadPath, then PATCH/HEAD at the Location it answers).
const UploadPath = "/files/uploads/"

// FilePath is where a file of a message is read: GET
// FilePath + id + "?room=…&seq=…&key=…" (add "&download=1" to save an image
// rather than show it).
const FilePath = "/files/"

// Who may upload files, a host setting (Limits.Uploads).
const (
	UploadsEveryone = "everyone"
	UploadsHosts    = "hosts"
	UploadsNobody   = "nobody"
)

// TypeLimits (server) tells every member that the host changed a limit:
// who may upload.
const TypeLimits = "limits"

// LimitsUpdate carries the host's limits after a change.
type LimitsUpdate struct {
	Type   string `json:"type"`
	Limits Limits `json:"limits"`
}

func (LimitsUpdate) FrameType() string { return TypeLimits }

// MaxAttachments is the most files one message carries.
const MaxAttachments = 10

// MaxFileNameBytes bounds a file's name.
const MaxFileNameBytes = 255

var inlineImages = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// InlineImage reports whether files of media type t are shown inline as
// images. Everything else (HTML, SVG, PDF, …) is only ever downloaded.
func InlineImage(t string) bool { return inlineImages[t] }

var fileIDPattern = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ValidFileID reports whether id is a file id (64 lowercase hex digits).
func ValidFileID(id string) bool { return fileIDPattern.MatchString(id) }

// CleanFileName makes a name safe to show and to offer as a download name:
// the last element of any path (either slash), no control or format
// characters, no leading dots, at most MaxFileNameBytes bytes; "file" when
// nothing is left.
func CleanFileName(name string) string {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, name)
	name = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(name), "."))
	for len(name) > MaxFileNameBytes {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	if name == "" {
		return "file"
	}
	return name
}
