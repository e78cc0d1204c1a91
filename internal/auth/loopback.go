package auth

import (
	"net"
	"net/netip"
	"strings"
)

// IsLoopback reports whether a listen address (host:port) binds to the
// loopback interface only: an address in 127.0.0.0/8, ::1, or the name
// localhost. An empty host binds every interface and is not loopback; other
// names are not resolved and count as not loopback.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}
