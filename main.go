// Command lanchat is a LAN chat where every running copy is a host.
//
//	lanchat          opens the desktop app (and hosts)
//	lanchat serve    hosts with no window: room server and LAN discovery
//	lanchat export   writes a transcript from a data dir's history
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"lanchat/backend/discovery"
	"lanchat/backend/export"
	"lanchat/backend/host"
	"lanchat/backend/protocol"
)

// version is stamped at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		os.Exit(serve(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "export" {
		os.Exit(export.Main(os.Args[2:], host.DefaultDataDir(), os.Stdout, os.Stderr))
	}
	os.Exit(desktop(os.Args[1:]))
}

// hostFlags registers the flags shared by serve and the desktop app.
func hostFlags(fs *flag.FlagSet, cfg *host.Config) {
	fs.StringVar(&cfg.Name, "name", "", "host display name (default: this machine's hostname)")
	fs.StringVar(&cfg.DataDir, "data-dir", host.DefaultDataDir(), "where the host keeps its id and history")
	fs.Func("rooms", "comma-separated rooms besides the lobby (default general,projects,random)", func(s string) error {
		cfg.Rooms = nil
		return appendList(&cfg.Rooms)(s)
	})
	fs.StringVar(&cfg.Language, "lang", "", "the host's language, en or pt-BR: the names a new host gives its default rooms, and the words of its transcripts (default en; the desktop app: its UI language)")
	fs.BoolVar(&cfg.AllowCreate, "allow-create", false, "let members create rooms")
	fs.IntVar(&cfg.History, "history", 100, "messages a member gets on joining a room")
	fs.IntVar(&cfg.MaxText, "max-text", 4096, "longest message, in bytes")
	fs.IntVar(&cfg.Server.MaxConns, "max-members", 10000, "most members connected at once (each idle one costs about 15 KiB)")
	fs.IntVar(&cfg.FullList, "full-list", 1000, "rooms with more members than this send member counts and let members search the list, instead of sending everyone the whole list")
	host.HistoryFlags(fs, &cfg.Store)
	host.FilesFlags(fs, &cfg.Files)
	fs.Func("edit-minutes", "how long members may edit their own messages, in minutes (default 15; 0: no edits)", func(s string) error {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 7*24*60 {
			return fmt.Errorf("%q: say 0 to 10080 minutes", s)
		}
		cfg.Hub.EditSeconds = n * 60
		if n == 0 {
			cfg.Hub.EditSeconds = -1 // none, not the default
		}
		return nil
	})
	fs.Func("polls", "who may post polls: hosts (default) or everyone", func(s string) error {
		if s != protocol.PollsHosts && s != protocol.PollsEveryone {
			return fmt.Errorf("%q: say hosts or everyone", s)
		}
		cfg.Hub.Polls = s
		return nil
	})
	cfg.Discovery = true
	fs.Func("iface", "advertise and browse on this interface only (repeatable; default: every LAN interface)", func(s string) error {
		cfg.Ifaces = append(cfg.Ifaces, s)
		return nil
	})
	fs.BoolFunc("no-discovery", "do not advertise or browse over mDNS (hosts added by address still work)", func(s string) error {
		off, err := strconv.ParseBool(s)
		cfg.Discovery = !off
		return err
	})
	fs.Func("allow-origin", "also accept WebSocket connections from this page origin (repeatable)", func(s string) error {
		cfg.Server.AllowedOrigins = append(cfg.Server.AllowedOrigins, s)
		return nil
	})
	fs.StringVar(&cfg.TLSCert, "tls-cert", "", "serve https and wss with this certificate (PEM, with its chain) instead of the host's own key; needs --tls-key")
	fs.StringVar(&cfg.TLSKey, "tls-key", "", "the private key of --tls-cert (PEM)")
	fs.Func("allow-host", "also answer requests for these host names, comma-separated (repeatable); by default only this computer's addresses, localhost and its .local name are answered", appendList(&cfg.AllowHosts))
}

// appendList is a flag's setter that appends the items of a comma-separated
// value to dst, trimmed, leaving out empty ones.
func appendList(dst *[]string) func(string) error {
	return func(s string) error {
		for _, v := range strings.Split(s, ",") {
			if v = strings.TrimSpace(v); v != "" {
				*dst = append(*dst, v)
			}
		}
		return nil
	}
}

func serve(args []string) int {
	fs := flag.NewFlagSet("lanchat serve", flag.ContinueOnError)
	cfg := host.Config{Version: version, Assets: webAssets()}
	fs.StringVar(&cfg.Addr, "addr", ":47800", "listen address; if the port is taken a free one is used")
	printPeers := fs.Bool("peers", false, "print the live peer list to stdout, one change per line")
	tokenFile := fs.String("host-token-file", "", "read the host token from this file (made, owner-only, if missing); a local UI that sends it gets the host role")
	hostFlags(fs, &cfg)
	cc := clusterFlags(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cc.Listen != "" || len(cc.Peers) > 0 {
		cfg.Cluster = cc
	}
	if *tokenFile != "" {
		var err error
		if cfg.HostToken, err = host.TokenFile(*tokenFile); err != nil {
			fmt.Fprintln(os.Stderr, "lanchat:", err)
			return 1
		}
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	h, err := host.New(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "lanchat:", err)
		return 1
	}
	var printer sync.WaitGroup
	if *printPeers {
		printer.Add(1)
		go func() {
			defer printer.Done()
			for ev := range h.Discovery.Subscribe(ctx) {
				fmt.Println(discovery.FormatEvent(ev))
			}
		}()
	}
	err = h.Run(ctx)
	stop()
	printer.Wait()
	if err != nil {
		fmt.Fprintln(os.Stderr, "lanchat:", err)
		return 1
	}
	return 0
}

// clusterFlags registers serve's cluster flags; a box with --cluster-listen
// or --cluster-peers is one box of a cluster.
func clusterFlags(fs *flag.FlagSet) *host.ClusterConfig {
	cc := &host.ClusterConfig{}
	fs.StringVar(&cc.Listen, "cluster-listen", "", "run as one box of a cluster: this box's cluster address host:port (the other boxes' --cluster-peers name it)")
	fs.Func("cluster-peers", "the other boxes' cluster addresses, comma-separated host:port", appendList(&cc.Peers))
	fs.StringVar(&cc.Name, "cluster-name", "lanchat", "the cluster's name, the same on every box")
	fs.StringVar(&cc.SecretFile, "cluster-secret-file", "", "the secret the boxes prove to each other (required with --cluster-listen): made, owner-only, if missing; copy the first box's file to the others")
	fs.BoolVar(&cc.SyncAlways, "cluster-sync-always", false, "write every message to disk before acknowledging it (default: replicas on other boxes make it safe, disks are synced every two minutes)")
	return cc
}
