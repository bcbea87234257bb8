package main

import (
	"context"
	_ "embed"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"lanchat/app"
	"lanchat/backend/host"
)

//go:embed build/appicon.png
var appIcon []byte

// desktop hosts and opens the window; closing it stops the host.
func desktop(args []string) int {
	fs := flag.NewFlagSet("lanchat", flag.ContinueOnError)
	cfg := host.Config{Version: version, Assets: webAssets()}
	port := fs.Int("port", 47800, "port to host on; if taken, the next free one is used")
	hostFlags(fs, &cfg)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg.Addr = ":" + strconv.Itoa(*port)
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := app.Run(ctx, app.Options{Host: cfg, Assets: cfg.Assets, Icon: appIcon}); err != nil {
		fmt.Fprintln(os.Stderr, "lanchat:", err)
		return 1
	}
	return 0
}
