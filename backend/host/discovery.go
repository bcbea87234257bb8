package host

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"lanchat/backend/discovery"
	"lanchat/backend/discovery/mdns"
	"lanchat/backend/identity"
	"lanchat/backend/protocol"
)

// newDiscovery sets up the host's discovery: the peer list, hosts added by
// address and, when cfg.Discovery is on, mDNS on the LAN interfaces.
func (h *Host) newDiscovery() *discovery.Service {
	cfg := discovery.Config{
		ID: h.ID, Port: h.Port(), DataDir: h.cfg.DataDir,
		MDNS: h.cfg.Discovery, Ifaces: h.cfg.Ifaces,
		Own: h.own, Logger: h.log, Timing: h.cfg.DiscoveryTiming,
	}
	cfg.Pins = h.Pins
	if h.cfg.Discovery {
		m := mdns.New()
		cfg.Advertiser, cfg.Browser = m, m
	}
	d := discovery.New(cfg)
	d.Register(h.Server.Handle, h.Server.OriginAllowed)
	return d
}

// own is what the host tells peers about itself (the TXT record).
func (h *Host) own() discovery.Own {
	st := h.Hub.Stats()
	return discovery.Own{Name: h.Hub.HostName(), Version: h.cfg.Version, Protocol: protocol.Version,
		Members: st.Members, Rooms: len(st.Rooms), JoinCode: h.Hub.JoinCodeRequired(), Fingerprint: h.Identity.Fingerprint}
}

// serve runs the server and discovery side by side until ctx ends (or the
// server fails) and waits for both; discovery's goodbye goes out as the
// server stops.
func (h *Host) serve(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := h.Discovery.Run(ctx); err != nil {
			h.log.Warn("discovery stopped", "err", err)
		}
	}()
	if h.Files != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h.Files.Run(ctx, time.Hour)
		}()
	}
	err := h.Server.Serve(ctx, h.ln)
	h.Relay.Close()
	cancel()
	wg.Wait()
	return err
}

// openPins opens the store of the keys of hosts met before. One that cannot
// be read is left on disk untouched and the host remembers in memory only.
func openPins(dataDir string, log *slog.Logger) *identity.Pins {
	pins, err := identity.OpenPins(filepath.Join(dataDir, "pins.json"))
	if err != nil {
		log.Warn("the keys of hosts met before could not be read; remembering new ones in memory only", "err", err)
		return identity.NewMemoryPins()
	}
	return pins
}
