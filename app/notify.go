package app

import (
	"context"
	"errors"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wailsapp/wails/v2/pkg/runtime"
)

// notifier shows desktop notifications.
type notifier interface {
	Notify(title, body string) error
}

// wailsNotifier uses the webview runtime's notifications (D-Bus
// org.freedesktop.Notifications on Linux, toasts on Windows), connecting on
// first use; when that fails it tries notify-send, then gives up quietly.
type wailsNotifier struct {
	ctx  context.Context
	once sync.Once
	ok   bool
	seq  atomic.Uint64
}

func (n *wailsNotifier) Notify(title, body string) error {
	n.once.Do(func() {
		n.ok = runtime.InitializeNotifications(n.ctx) == nil && runtime.IsNotificationAvailable(n.ctx)
		if n.ok {
			// Clicking a notification brings the window back.
			runtime.OnNotificationResponse(n.ctx, func(r runtime.NotificationResult) {
				if r.Error == nil {
					runtime.WindowUnminimise(n.ctx)
					runtime.WindowShow(n.ctx)
				}
			})
		}
	})
	if n.ok {
		err := runtime.SendNotification(n.ctx, runtime.NotificationOptions{
			ID: "lanchat-" + strconv.FormatUint(n.seq.Add(1), 10), Title: title, Body: body,
		})
		if err == nil {
			return nil
		}
	}
	return notifySend(n.ctx, title, body)
}

// cleanup releases the notification service's connection.
func (n *wailsNotifier) cleanup() {
	n.once.Do(func() {}) // waits for a first Notify's set-up; none after this
	if n.ok {
		runtime.CleanupNotifications(n.ctx)
	}
}

// notifySend runs notify-send when it is installed.
func notifySend(ctx context.Context, title, body string) error {
	path, err := exec.LookPath("notify-send")
	if err != nil {
		return errors.New("no notification service")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, path, "--app-name=lanchat", "--", title, body).Run()
}
