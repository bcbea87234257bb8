package host

import (
	"net"

	"lanchat/backend/discovery"
)

// IsVirtual reports whether an interface name looks like a container bridge
// or a VPN tunnel rather than a LAN interface (discovery's classification).
func IsVirtual(name string) bool { return discovery.IsVirtual(name) }

// LANAddrs lists the IPv4 addresses of up, non-loopback, non-virtual
// interfaces. It only reads the local interface table.
func LANAddrs() []net.IP {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil
	}
	var out []net.IP
	for _, ifc := range ifaces {
		if ifc.Flags&net.FlagUp == 0 || ifc.Flags&net.FlagLoopback != 0 || IsVirtual(ifc.Name) {
			continue
		}
		addrs, _ := ifc.Addrs()
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLinkLocalUnicast() {
				out = append(out, ipn.IP.To4())
			}
		}
	}
	return out
}
