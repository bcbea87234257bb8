package app

import (
	"cmp"
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"sync"
	"time"

	"github.com/wailsapp/wails/v2"
	"github.com/wailsapp/wails/v2/pkg/options"
	"github.com/wailsapp/wails/v2/pkg/options/assetserver"
	"github.com/wailsapp/wails/v2/pkg/options/linux"
	"github.com/wailsapp/wails/v2/pkg/options/windows"
	"github.com/wailsapp/wails/v2/pkg/runtime"

	"lanchat/backend/host"
)

// Title is the window's title.
const Title = "lanchat"

// advertiseWait bounds how long the window waits for the host to be
// advertised on the LAN.
const advertiseWait = 2 * time.Second

// stopWait bounds how long closing waits for the host to shut down.
const stopWait = 10 * time.Second

// quitGrace is how long the window is left to close on a signal's own
// quit before it is quit from here (see Run).
const quitGrace = stopWait

//go:embed placeholder
var placeholder embed.FS

// Options configure Run.
type Options struct {
	// Host is the host to run. An empty Name takes the name from the
	// settings (the OS user's by default); HostToken is set by Run.
	Host host.Config
	// Assets is the built web UI (index.html at its root); nil or empty
	// shows a page saying the UI is not built in.
	Assets fs.FS
	// Icon is the window icon, a PNG.
	Icon []byte
}

// Run starts the host, then opens the window, and returns once the window
// is closed (or ctx ends, which closes it) and the host has stopped: peers
// get the discovery goodbye and clients close code 1001.
func Run(ctx context.Context, opt Options) error {
	if err := checkDisplay(); err != nil {
		return err
	}
	cfg := opt.Host
	if cfg.DataDir == "" {
		cfg.DataDir = host.DefaultDataDir()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger
	release, err := lockDataDir(cfg.DataDir)
	if errors.Is(err, errLocked) {
		// Another copy has this data dir: its window comes to the front instead.
		rerr := askRaise(cfg.DataDir)
		if rerr == nil {
			log.Info("lanchat is already open with this data dir; its window was brought to the front", "data_dir", cfg.DataDir)
			return nil
		}
		log.Warn("the open lanchat window could not be brought to the front", "err", rerr)
	}
	if err != nil {
		return err
	}
	defer release()
	raiser, err := listenRaise(cfg.DataDir)
	if err != nil {
		return err
	}
	defer raiser.close()
	settings, err := loadSettings(cfg.DataDir)
	if err != nil {
		log.Warn("settings unreadable; using the defaults", "err", err)
	}
	// The computer's chat name is chosen once given on the command line or
	// saved from the first run; until then the first run asks for it and the
	// host goes by the person's name.
	named := cfg.Name != "" || settings.Get().HostName != ""
	if cfg.Name == "" {
		cfg.Name = cmp.Or(settings.Get().HostName, settings.Get().Name)
	}
	// A new host names its default rooms in the UI's language (unless --lang said).
	if cfg.Language == "" {
		cfg.Language = settings.Get().Language
	}
	// File limits saved in the app apply unless the command line set them.
	if cfg.Files.MaxFile == 0 {
		cfg.Files.MaxFile = int64(settings.Get().MaxFileMB) << 20
	}
	if cfg.Files.MaxTotal == 0 {
		cfg.Files.MaxTotal = int64(settings.Get().MaxFilesMB) << 20
	}
	if cfg.HostToken, err = newToken(); err != nil {
		return err
	}
	h, err := host.New(cfg)
	if err != nil {
		return err
	}
	a := newApp(h, cfg, settings)
	a.hostNamed.Store(named)

	hostCtx, stopHost := context.WithCancel(context.Background())
	defer stopHost()
	hostDone := make(chan error, 1)
	go func() { hostDone <- h.Run(hostCtx) }()
	// Advertise first, then open the window.
	if !awaitAdvertising(ctx, h.Discovery, advertiseWait) {
		log.Info("not advertising on the LAN", "reason", h.Discovery.Diagnosis().Reason)
	}

	var (
		wg        sync.WaitGroup
		notifier  *wailsNotifier
		hostErr   error
		hostEnded bool
	)
	watchCtx, stopWatch := context.WithCancel(context.Background())
	defer stopWatch()
	started := make(chan struct{})
	closed := make(chan struct{})
	// A second copy started on this data dir brings this window to the front.
	wg.Add(1)
	go func() {
		defer wg.Done()
		raiser.serve(watchCtx, func() {
			log.Info("a second copy of lanchat was started with this data dir; bringing the window to the front")
			select {
			case <-started:
				runtime.WindowUnminimise(a.context())
				runtime.WindowShow(a.context())
			default: // the window is about to open anyway
			}
		})
	}()
	// Quit the window when ctx ends or the host fails on its own.
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case <-ctx.Done():
			// SIGINT and SIGTERM, which end ctx, also reach the Wails
			// runtime's own handler, which quits the window; quitting it
			// from here as well calls gtk_main_quit twice from two
			// goroutines at once, which once corrupted GTK's heap on the
			// way out. The window is quit from here only if it is still
			// open a while later (ctx ended for another reason).
			select {
			case <-closed:
				return
			case <-time.After(quitGrace):
			}
		case hostErr = <-hostDone:
			hostEnded = true
			log.Error("the host stopped", "err", hostErr)
		case <-closed:
			return
		}
		select {
		case <-started:
			runtime.Quit(a.context())
		case <-closed:
		}
	}()

	assets := opt.Assets
	if assets == nil {
		assets = placeholderAssets()
	} else if _, err := fs.Stat(assets, "index.html"); err != nil {
		assets = placeholderAssets()
	}
	err = wails.Run(&options.App{
		Title:            Title,
		Width:            1120,
		Height:           740,
		MinWidth:         720,
		MinHeight:        480,
		BackgroundColour: &options.RGBA{R: 246, G: 247, B: 249, A: 255},
		AssetServer:      &assetserver.Options{Assets: assets},
		OnStartup: func(wctx context.Context) {
			a.mu.Lock()
			notifier = &wailsNotifier{ctx: wctx}
			a.wailsCx, a.notify = wctx, notifier
			a.mu.Unlock()
			a.peers.emit = func(list []Peer) { runtime.EventsEmit(wctx, "peers", list) }
			wg.Add(1)
			go func() {
				defer wg.Done()
				a.peers.Watch(watchCtx)
			}()
			close(started)
		},
		OnShutdown: func(context.Context) {
			stopWatch()
			a.mu.Lock()
			n := notifier
			a.mu.Unlock()
			if n != nil {
				n.cleanup()
			}
		},
		Bind: []any{a},
		Linux: &linux.Options{
			Icon:             opt.Icon,
			ProgramName:      "lanchat",
			WebviewGpuPolicy: linux.WebviewGpuPolicyNever,
		},
		Windows: &windows.Options{Theme: windows.SystemDefault},
	})
	close(closed)
	stopWatch()
	stopHost()
	wg.Wait()
	if !hostEnded {
		select {
		case hostErr = <-hostDone:
		case <-time.After(stopWait):
			hostErr = errors.Join(hostErr, fmt.Errorf("the host did not stop within %s", stopWait))
		}
	}
	if err != nil {
		return fmt.Errorf("window: %w", err)
	}
	return hostErr
}

// newApp makes the bridge for a host made from cfg.
func newApp(h *host.Host, cfg host.Config, settings *settingsStore) *App {
	return &App{
		id: h.ID, version: cfg.Version, token: cfg.HostToken,
		host: h, hub: h.Hub, settings: settings, log: cmp.Or(cfg.Logger, slog.Default()), peers: &peerFeed{disc: h.Discovery},
	}
}

func placeholderAssets() fs.FS {
	sub, err := fs.Sub(placeholder, "placeholder")
	if err != nil {
		panic(err)
	}
	return sub
}
