package discovery

import (
	"net"
	"slices"
	"strings"
)

// virtualPrefixes name interfaces that are not the LAN: container bridges,
// container veths and VPN tunnels.
var virtualPrefixes = []string{"docker", "br-", "veth", "virbr", "cni", "flannel", "cali", "weave", "kube",
	"tun", "tap", "wg", "utun", "ppp", "ipsec", "zt", "tailscale", "nordlynx", "vethernet", "lxc", "lxd",
	"podman", "vmnet", "vboxnet", "awdl", "llw", "anpi"}

// IsVirtual reports whether an interface name looks like a container bridge,
// a container veth or a VPN tunnel rather than a LAN interface.
func IsVirtual(name string) bool {
	lower := strings.ToLower(name)
	for _, p := range virtualPrefixes {
		if strings.HasPrefix(lower, p) {
			return true
		}
	}
	return false
}

// Iface is a network interface with the unicast addresses discovery can
// advertise on it: IPv4 addresses and routable IPv6 ones (never link-local,
// which would need a zone).
type Iface struct {
	net.Interface
	Addrs []net.IP
}

// IfaceInfo is an interface in the diagnosis.
type IfaceInfo struct {
	Name  string   `json:"name"`
	Addrs []string `json:"addrs"`
}

// Skipped is an interface discovery does not use, and why.
type Skipped struct {
	Name   string `json:"name"`
	Reason string `json:"reason"`
}

// ListIfaces reads the machine's interface table. It sends nothing.
func ListIfaces() ([]Iface, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]Iface, 0, len(ifs))
	for _, ifc := range ifs {
		i := Iface{Interface: ifc}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			ipn, ok := a.(*net.IPNet)
			if !ok || ipn.IP.IsLinkLocalUnicast() || ipn.IP.IsMulticast() {
				continue
			}
			if v4 := ipn.IP.To4(); v4 != nil {
				i.Addrs = append(i.Addrs, v4)
			} else if ipn.IP.IsGlobalUnicast() || ipn.IP.IsLoopback() {
				i.Addrs = append(i.Addrs, ipn.IP)
			}
		}
		out = append(out, i)
	}
	return out, nil
}

// SelectIfaces picks the interfaces to advertise and browse on. With
// explicit names only those are used (a chosen loopback included, which is
// handy on one machine). Otherwise every interface that is up, can
// multicast, has an address and is neither loopback nor virtual is used.
func SelectIfaces(all []Iface, explicit []string) (use []Iface, skipped []Skipped) {
	for _, name := range explicit {
		if !slices.ContainsFunc(all, func(i Iface) bool { return i.Name == name }) {
			skipped = append(skipped, Skipped{Name: name, Reason: "chosen with --iface but not found"})
		}
	}
	for _, i := range all {
		reason := ""
		switch {
		case len(explicit) > 0 && !slices.Contains(explicit, i.Name):
			reason = "not chosen with --iface"
		case i.Flags&net.FlagUp == 0:
			reason = "down"
		case len(explicit) > 0:
			// chosen explicitly: only "up" and an address are required
		case i.Flags&net.FlagLoopback != 0:
			reason = "loopback"
		case IsVirtual(i.Name):
			reason = "container bridge or VPN tunnel"
		case i.Flags&net.FlagMulticast == 0:
			reason = "no multicast"
		}
		if reason == "" && len(i.Addrs) == 0 {
			reason = "no address"
		}
		if reason != "" {
			skipped = append(skipped, Skipped{Name: i.Name, Reason: reason})
			continue
		}
		use = append(use, i)
	}
	return use, skipped
}

// ifaceKey is a comparable summary of a selection, to notice changes.
func ifaceKey(ifs []Iface) string {
	var b strings.Builder
	for _, i := range ifs {
		b.WriteString(i.Name)
		b.WriteByte('#')
		b.WriteString(itoa(i.Index))
		for _, a := range i.Addrs {
			b.WriteByte(',')
			b.WriteString(a.String())
		}
		b.WriteByte(';')
	}
	return b.String()
}

func ifaceInfos(ifs []Iface) []IfaceInfo {
	out := make([]IfaceInfo, 0, len(ifs))
	for _, i := range ifs {
		ii := IfaceInfo{Name: i.Name, Addrs: []string{}}
		for _, a := range i.Addrs {
			ii.Addrs = append(ii.Addrs, a.String())
		}
		out = append(out, ii)
	}
	return out
}
