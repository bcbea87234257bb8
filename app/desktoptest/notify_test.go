//go:build desktoptest

package desktoptest

import (
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"lanchat/backend/discovery/nstest"
)

// notification is one org.freedesktop.Notifications.Notify call.
type notification struct {
	App, Summary, Body string
}

// notificationServer stands in for the desktop's notification daemon on a
// session bus of the test's own.
type notificationServer struct {
	got chan notification
}

func (s *notificationServer) Notify(app string, replaces uint32, icon, summary, body string,
	actions []string, hints map[string]dbus.Variant, timeout int32) (uint32, *dbus.Error) {
	s.got <- notification{App: app, Summary: summary, Body: body}
	return 1, nil
}

func (s *notificationServer) CloseNotification(id uint32) *dbus.Error { return nil }

func (s *notificationServer) GetCapabilities() ([]string, *dbus.Error) {
	return []string{"body", "actions"}, nil
}

func (s *notificationServer) GetServerInformation() (string, string, string, string, *dbus.Error) {
	return "lanchat-test", "lanchat", "1", "1.2", nil
}

// startSessionBus runs a D-Bus session bus in h, listening on a socket
// file, with a notification server on it; it returns the bus address for
// the app and the server.
func startSessionBus(t *testing.T, h *nstest.Host) (string, *notificationServer) {
	t.Helper()
	addr := "unix:path=" + filepath.Join(t.TempDir(), "bus")
	bus := h.Start(t, nil, "dbus-daemon", "--session", "--nofork", "--nopidfile", "--address="+addr, "--print-address=1")
	t.Cleanup(func() { bus.Signal(syscall.SIGTERM); bus.Wait(10 * time.Second) })
	if _, _, ok := bus.Out.Wait(0, wait, func(s string) bool { return strings.HasPrefix(s, "unix:") }); !ok {
		t.Fatal("the session bus did not start")
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("session bus: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	srv := &notificationServer{got: make(chan notification, 16)}
	if err := conn.Export(srv, "/org/freedesktop/Notifications", "org.freedesktop.Notifications"); err != nil {
		t.Fatal(err)
	}
	reply, err := conn.RequestName("org.freedesktop.Notifications", dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("taking the notifications name: %v (%v)", reply, err)
	}
	return addr, srv
}
