package app

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"unicode/utf8"
)

// Settings are the few things a person sets: their name and the UI
// language. DataDir is where the host keeps its files; it is shown, not
// changed from the UI.
type Settings struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	DataDir  string `json:"data_dir"`
	// HostName is this computer's chat name, the name of its host on the
	// LAN ("Sala da Prof. Ana"); empty until the person chose one.
	HostName string `json:"host_name,omitempty"`
	// MaxFileMB and MaxFilesMB are the host's file limits (0: the
	// defaults); only SetFileLimits changes them.
	MaxFileMB  int `json:"max_file_mb,omitempty"`
	MaxFilesMB int `json:"max_files_mb,omitempty"`
}

// Languages the UI speaks; the first is the fallback.
var Languages = []string{"en", "pt-BR"}

// maxName is the longest name kept, in runes (the protocol's own limit is
// checked by the server when the name is used).
const maxName = 40

const settingsFile = "settings.json"

// settingsStore keeps Settings in dataDir/settings.json.
type settingsStore struct {
	dataDir string
	mu      sync.Mutex
	cur     Settings
}

// loadSettings reads the saved settings, filling what is missing from the
// OS: the user's name and the locale's language. The store it returns is
// always usable: an unreadable file is reported and the defaults are used
// (the next save replaces it).
func loadSettings(dataDir string) (*settingsStore, error) {
	s := &settingsStore{dataDir: dataDir}
	p := filepath.Join(dataDir, settingsFile)
	b, err := os.ReadFile(p)
	switch {
	case err == nil:
		if jerr := json.Unmarshal(b, &s.cur); jerr != nil {
			s.cur = Settings{}
			err = fmt.Errorf("settings: %s: %w", p, jerr)
		}
	case errors.Is(err, fs.ErrNotExist):
		err = nil
	default:
		err = fmt.Errorf("settings: %w", err)
	}
	s.cur = s.cur.normalized(dataDir)
	return s, err
}

// Get returns the current settings.
func (s *settingsStore) Get() Settings {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.cur
}

// Save validates and stores new settings; the data dir stays what it is.
func (s *settingsStore) Save(in Settings) (Settings, error) {
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" {
		return Settings{}, errors.New("the name cannot be empty")
	}
	if utf8.RuneCountInString(in.Name) > maxName {
		return Settings{}, fmt.Errorf("the name is longer than %d characters", maxName)
	}
	in.HostName = strings.TrimSpace(in.HostName)
	if utf8.RuneCountInString(in.HostName) > maxName {
		return Settings{}, fmt.Errorf("the computer's chat name is longer than %d characters", maxName)
	}
	if in.Language != "" && supportedLanguage(in.Language) == "" {
		return Settings{}, fmt.Errorf("unsupported language %q", in.Language)
	}
	out := in.normalized(s.dataDir)
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return Settings{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := os.MkdirAll(s.dataDir, 0o700); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	p := filepath.Join(s.dataDir, settingsFile)
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o600); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return Settings{}, fmt.Errorf("settings: %w", err)
	}
	s.cur = out
	return out, nil
}

// normalized fills empty fields from the OS and pins the data dir.
func (s Settings) normalized(dataDir string) Settings {
	s.Name = strings.TrimSpace(s.Name)
	s.HostName = strings.TrimSpace(s.HostName)
	if s.Name == "" {
		s.Name = osUserName()
	}
	if l := supportedLanguage(s.Language); l != "" {
		s.Language = l
	} else {
		s.Language = languageFromLocale(osLocale())
	}
	s.DataDir = dataDir
	return s
}

// osUserName is the OS user's display name (its first GECOS field) or,
// failing that, the login name.
func osUserName() string {
	u, err := user.Current()
	if err != nil {
		if n := os.Getenv("USER"); n != "" {
			return n
		}
		return os.Getenv("USERNAME")
	}
	name, _, _ := strings.Cut(u.Name, ",")
	if name = strings.TrimSpace(name); name != "" {
		return name
	}
	login := u.Username
	if i := strings.LastIndexByte(login, '\\'); i >= 0 { // DOMAIN\user on Windows
		login = login[i+1:]
	}
	return login
}

// supportedLanguage maps a language tag to one the UI speaks, or "".
func supportedLanguage(tag string) string {
	tag = strings.ReplaceAll(strings.TrimSpace(tag), "_", "-")
	for _, l := range Languages {
		if strings.EqualFold(tag, l) {
			return l
		}
	}
	return ""
}

// languageFromLocale picks the UI language for an OS locale such as
// "pt_BR.UTF-8", "pt-PT" or "en-US": any Portuguese gets pt-BR, the rest
// English.
func languageFromLocale(locale string) string {
	lang, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(locale)), ".")
	lang, _, _ = strings.Cut(lang, "@")
	if lang == "pt" || strings.HasPrefix(lang, "pt_") || strings.HasPrefix(lang, "pt-") {
		return "pt-BR"
	}
	return Languages[0]
}
