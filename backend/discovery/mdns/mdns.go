// Package mdns adapts github.com/grandcat/zeroconf to discovery's
// Advertiser and Browser, and adds what zeroconf lacks: an announcement the
// moment a service is registered (zeroconf's own first one comes after a
// random delay of up to half a second), a watch on all mDNS traffic for the
// diagnosis, goodbye detection, and DNS-SD escapes for non-ASCII names.
package mdns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/grandcat/zeroconf"
	"github.com/miekg/dns"
	"golang.org/x/net/ipv4"

	"lanchat/backend/discovery"
)

const domain = "local."

var (
	group     = net.IPv4(224, 0, 0, 251)
	groupAddr = &net.UDPAddr{IP: group, Port: 5353}
	// Listening on a multicast address makes Go bind the wildcard address
	// with SO_REUSEADDR, so several sockets (zeroconf's, ours, another
	// responder's) share port 5353.
	listenAddr = &net.UDPAddr{IP: net.IPv4(224, 0, 0, 0), Port: 5353}
)

// MDNS is the adapter. The zero value is ready.
type MDNS struct{}

// New returns the adapter.
func New() *MDNS { return &MDNS{} }

var (
	_ discovery.Advertiser = (*MDNS)(nil)
	_ discovery.Browser    = (*MDNS)(nil)
)

func netIfaces(ifs []discovery.Iface) []net.Interface {
	out := make([]net.Interface, 0, len(ifs))
	for _, i := range ifs {
		out = append(out, i.Interface)
	}
	return out
}

// Advertise registers ad with zeroconf on ad.Ifaces, advertising only those
// interfaces' addresses, and announces it at once.
func (m *MDNS) Advertise(ad discovery.Ad) (discovery.Registration, error) {
	r := &registration{}
	if err := r.start(ad); err != nil {
		return nil, err
	}
	return r, nil
}

type registration struct {
	mu  sync.Mutex
	srv *zeroconf.Server
	ad  discovery.Ad
}

func (r *registration) start(ad discovery.Ad) error {
	var ips []string
	for _, i := range ad.Ifaces {
		for _, a := range i.Addrs {
			ips = append(ips, a.String())
		}
	}
	if len(ips) == 0 {
		return errors.New("no address to advertise")
	}
	text := escapeTXT(ad.Text)
	srv, err := zeroconf.RegisterProxy(ad.Instance, discovery.ServiceType, domain, ad.Port, ad.Host, ips, text, netIfaces(ad.Ifaces))
	if err != nil {
		return fmt.Errorf("mdns register: %w", err)
	}
	r.srv, r.ad = srv, ad
	if err := announce(ad, text, 120, 4500); err != nil {
		return fmt.Errorf("mdns announce: %w", err)
	}
	return nil
}

// Update re-registers: zeroconf's SetText is not safe while it answers
// queries. The old registration's goodbye is followed at once by the new
// announcement, whose cache-flush records replace the old ones.
func (r *registration) Update(ad discovery.Ad) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv != nil {
		r.srv.Shutdown()
		r.srv = nil
	}
	return r.start(ad)
}

// Close sends the goodbye and stops answering.
func (r *registration) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.srv == nil {
		return nil
	}
	r.srv.Shutdown()
	r.srv = nil
	return nil
}

// announce sends an unsolicited response for ad from port 5353 on each of
// its interfaces (RFC 6762 §8.3). With ttl 0 it is a goodbye.
func announce(ad discovery.Ad, text []string, hostTTL, ttl uint32) error {
	svc := discovery.ServiceType + "." + domain
	inst := ad.Instance + "." + svc
	host := ad.Host + "." + domain
	const flush = 1 << 15
	hdr := func(name string, t uint16, ttl uint32, cache bool) dns.RR_Header {
		c := uint16(dns.ClassINET)
		if cache {
			c |= flush
		}
		return dns.RR_Header{Name: name, Rrtype: t, Class: c, Ttl: ttl}
	}
	msg := new(dns.Msg)
	msg.Response, msg.Authoritative, msg.Compress = true, true, true
	msg.Answer = []dns.RR{
		&dns.PTR{Hdr: hdr(svc, dns.TypePTR, ttl, false), Ptr: inst},
		&dns.SRV{Hdr: hdr(inst, dns.TypeSRV, hostTTL, true), Port: uint16(ad.Port), Target: host},
		&dns.TXT{Hdr: hdr(inst, dns.TypeTXT, ttl, true), Txt: text},
		&dns.PTR{Hdr: hdr("_services._dns-sd._udp."+domain, dns.TypePTR, ttl, false), Ptr: svc},
	}
	for _, i := range ad.Ifaces {
		for _, a := range i.Addrs {
			if v4 := a.To4(); v4 != nil {
				msg.Answer = append(msg.Answer, &dns.A{Hdr: hdr(host, dns.TypeA, hostTTL, true), A: v4})
			} else {
				msg.Answer = append(msg.Answer, &dns.AAAA{Hdr: hdr(host, dns.TypeAAAA, hostTTL, true), AAAA: a})
			}
		}
	}
	buf, err := msg.Pack()
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp4", listenAddr)
	if err != nil {
		return err
	}
	defer c.Close()
	pc := ipv4.NewPacketConn(c)
	_ = pc.SetMulticastTTL(255)
	_ = pc.SetMulticastLoopback(true)
	var firstErr error
	sent := 0
	for _, i := range ad.Ifaces {
		if _, err := pc.WriteTo(buf, &ipv4.ControlMessage{IfIndex: i.Index}, groupAddr); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		sent++
	}
	if sent == 0 {
		return firstErr
	}
	return nil
}

// Browse finds _lanchat._tcp instances on ifaces with zeroconf until ctx
// ends, and reports every mDNS packet seen there.
func (m *MDNS) Browse(ctx context.Context, ifaces []discovery.Iface, h discovery.BrowseHandler) error {
	if len(ifaces) == 0 {
		return errors.New("no interface")
	}
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	defer func() { cancel(); wg.Wait() }()
	mon, err := listen(ifaces)
	if err != nil {
		return fmt.Errorf("mdns listen: %w", err)
	}
	wg.Add(2)
	go func() { defer wg.Done(); <-ctx.Done(); mon.Close() }()
	go func() { defer wg.Done(); watch(mon, h) }()

	res, err := zeroconf.NewResolver(zeroconf.SelectIfaces(netIfaces(ifaces)), zeroconf.SelectIPTraffic(zeroconf.IPv4))
	if err != nil {
		return fmt.Errorf("mdns resolver: %w", err)
	}
	entries := make(chan *zeroconf.ServiceEntry)
	if err := res.Browse(ctx, discovery.ServiceType, domain, entries); err != nil {
		return fmt.Errorf("mdns browse: %w", err)
	}
	for e := range entries { // closed by zeroconf once ctx ends
		f := discovery.Found{Instance: unescape(e.Instance), Host: e.HostName, Port: e.Port, Text: unescapeAll(e.Text)}
		f.Addrs = append(f.Addrs, e.AddrIPv4...)
		f.Addrs = append(f.Addrs, e.AddrIPv6...)
		h.Found(f)
	}
	return nil
}

// listen joins the mDNS group on ifaces, to watch all traffic there.
func listen(ifaces []discovery.Iface) (*ipv4.PacketConn, error) {
	c, err := net.ListenUDP("udp4", listenAddr)
	if err != nil {
		return nil, err
	}
	pc := ipv4.NewPacketConn(c)
	_ = pc.SetControlMessage(ipv4.FlagInterface, true)
	joined := 0
	var lastErr error
	for _, i := range ifaces {
		ifc := i.Interface
		if err := pc.JoinGroup(&ifc, &net.UDPAddr{IP: group}); err != nil {
			lastErr = err
			continue
		}
		joined++
	}
	if joined == 0 {
		pc.Close()
		return nil, lastErr
	}
	return pc, nil
}

func watch(pc *ipv4.PacketConn, h discovery.BrowseHandler) {
	buf := make([]byte, 9000)
	names := map[int]string{}
	svc := discovery.ServiceType + "." + domain
	for {
		n, cm, from, err := pc.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		var msg dns.Msg
		if msg.Unpack(buf[:n]) != nil {
			continue // not DNS: not counted as mDNS traffic
		}
		t := discovery.Traffic{}
		if ua, ok := from.(*net.UDPAddr); ok {
			t.From = ua.IP
		}
		if cm != nil {
			name, ok := names[cm.IfIndex]
			if !ok {
				if ifc, err := net.InterfaceByIndex(cm.IfIndex); err == nil {
					name = ifc.Name
				}
				names[cm.IfIndex] = name
			}
			t.Iface = name
		}
		if msg.Response {
			for _, rr := range append(msg.Answer, msg.Extra...) {
				p, ok := rr.(*dns.PTR)
				if !ok || !strings.EqualFold(p.Hdr.Name, svc) {
					continue
				}
				name := unescape(strings.TrimSuffix(p.Ptr, "."+svc))
				if p.Hdr.Ttl == 0 {
					t.Goodbyes = append(t.Goodbyes, name)
				} else {
					t.Announced = append(t.Announced, name)
				}
			}
		}
		h.Traffic(t)
	}
}

// escapeTXT protects backslashes, which miekg/dns reads as escapes.
func escapeTXT(txt []string) []string {
	out := make([]string, len(txt))
	for i, s := range txt {
		out[i] = strings.ReplaceAll(s, `\`, `\\`)
	}
	return out
}

func unescapeAll(txt []string) []string {
	out := make([]string, len(txt))
	for i, s := range txt {
		out[i] = unescape(s)
	}
	return out
}

// unescape undoes miekg/dns's presentation escapes (\DDD and \X), giving
// back the raw bytes, such as UTF-8 names.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 >= len(s) {
			b.WriteByte(c)
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			v := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if v < 256 {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
