package app

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLanguageFromLocale(t *testing.T) {
	for _, tc := range []struct{ locale, want string }{
		{"pt_BR.UTF-8", "pt-BR"},
		{"pt_PT.UTF-8@euro", "pt-BR"},
		{"pt-BR", "pt-BR"},
		{"PT", "pt-BR"},
		{"en_US.UTF-8", "en"},
		{"de_DE", "en"},
		{"", "en"},
		{"ptx", "en"},
	} {
		if got := languageFromLocale(tc.locale); got != tc.want {
			t.Errorf("languageFromLocale(%q) = %q, want %q", tc.locale, got, tc.want)
		}
	}
}

func TestOSLocalePrecedence(t *testing.T) {
	for _, tc := range []struct {
		name                              string
		language, lcAll, lcMessages, lang string
		want                              string
	}{
		{"LANG only", "", "", "", "pt_BR.UTF-8", "pt_BR.UTF-8"},
		{"LC_ALL wins over LANG", "", "en_GB.UTF-8", "", "pt_BR.UTF-8", "en_GB.UTF-8"},
		{"LC_MESSAGES over LANG", "", "", "pt_BR.UTF-8", "en_US.UTF-8", "pt_BR.UTF-8"},
		{"LANGUAGE list first", "pt_BR:en", "en_US.UTF-8", "", "", "pt_BR"},
		{"C is no locale", "", "C.UTF-8", "", "pt_BR.UTF-8", "pt_BR.UTF-8"},
		{"nothing", "", "", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("LANGUAGE", tc.language)
			t.Setenv("LC_ALL", tc.lcAll)
			t.Setenv("LC_MESSAGES", tc.lcMessages)
			t.Setenv("LANG", tc.lang)
			if got := osLocale(); got != tc.want {
				t.Errorf("osLocale() = %q, want %q", got, tc.want)
			}
		})
	}
}

func setLocale(t *testing.T, lang string) {
	t.Helper()
	t.Setenv("LANGUAGE", "")
	t.Setenv("LC_ALL", "")
	t.Setenv("LC_MESSAGES", "")
	t.Setenv("LANG", lang)
}

func TestSettingsDefaultsFromOS(t *testing.T) {
	setLocale(t, "pt_BR.UTF-8")
	dir := t.TempDir()
	st, err := loadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	got := st.Get()
	if got.Name == "" || got.Name != osUserName() {
		t.Errorf("name %q, want the OS user's %q", got.Name, osUserName())
	}
	if got.Language != "pt-BR" {
		t.Errorf("language %q, want pt-BR from LANG", got.Language)
	}
	if got.DataDir != dir {
		t.Errorf("data dir %q, want %q", got.DataDir, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, settingsFile)); !os.IsNotExist(err) {
		t.Errorf("defaults were written before anything was saved (stat: %v)", err)
	}
}

func TestSettingsSaveAndReload(t *testing.T) {
	setLocale(t, "en_US.UTF-8")
	dir := t.TempDir()
	st, err := loadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	saved, err := st.Save(Settings{Name: "  Ana Souza ", Language: "pt_br", DataDir: "/elsewhere"})
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{Name: "Ana Souza", Language: "pt-BR", DataDir: dir}
	if saved != want || st.Get() != want {
		t.Fatalf("saved %+v, current %+v, want %+v", saved, st.Get(), want)
	}
	again, err := loadSettings(dir)
	if err != nil {
		t.Fatal(err)
	}
	if again.Get() != want {
		t.Errorf("reloaded %+v, want %+v", again.Get(), want)
	}
	var onDisk Settings
	b, err := os.ReadFile(filepath.Join(dir, settingsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &onDisk); err != nil || onDisk.Name != "Ana Souza" {
		t.Errorf("file holds %s (%v)", b, err)
	}
	if fi, err := os.Stat(filepath.Join(dir, settingsFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("settings file mode %v (%v), want 0600", fi.Mode().Perm(), err)
	}
}

func TestSettingsEmptyLanguageFollowsOS(t *testing.T) {
	setLocale(t, "pt_BR.UTF-8")
	st, err := loadSettings(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	s, err := st.Save(Settings{Name: "Bia"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Language != "pt-BR" {
		t.Errorf("language %q, want the OS's pt-BR", s.Language)
	}
}

func TestSettingsRejects(t *testing.T) {
	st, err := loadSettings(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	before := st.Get()
	for _, tc := range []struct {
		name string
		in   Settings
		want string
	}{
		{"empty name", Settings{Name: "   ", Language: "en"}, "empty"},
		{"long name", Settings{Name: strings.Repeat("é", maxName+1), Language: "en"}, "longer"},
		{"unknown language", Settings{Name: "Ana", Language: "fr"}, "unsupported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := st.Save(tc.in); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Save(%+v) error %v, want one saying %q", tc.in, err, tc.want)
			}
			if st.Get() != before {
				t.Errorf("a rejected save changed the settings to %+v", st.Get())
			}
		})
	}
	if _, err := st.Save(Settings{Name: strings.Repeat("é", maxName), Language: "en"}); err != nil {
		t.Errorf("a name of exactly %d characters was refused: %v", maxName, err)
	}
}

func TestSettingsCorruptFile(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, settingsFile), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	st, err := loadSettings(dir)
	if err == nil {
		t.Error("a corrupt settings file loaded without error")
	}
	if got := st.Get(); got.Name != osUserName() || got.DataDir != dir {
		t.Errorf("after a corrupt file the settings are %+v, want the defaults", got)
	}
	if _, err := st.Save(Settings{Name: "Ana", Language: "en"}); err != nil {
		t.Fatalf("saving over a corrupt file: %v", err)
	}
	if again, err := loadSettings(dir); err != nil || again.Get().Name != "Ana" {
		t.Errorf("after saving, reload gives %+v, %v", again.Get(), err)
	}
}
