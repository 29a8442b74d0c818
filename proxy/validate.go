package proxy

import (
	"fmt"
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// validName reports whether s is a name made of [a-z0-9.-] that starts and
// ends with a letter or digit and has no empty label: safe to write unquoted
// in an nginx config.
func validName(s string) bool {
	if s == "" || len(s) > 253 || strings.Contains(s, "..") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return isAlnum(s[0]) && isAlnum(s[len(s)-1])
}

func isAlnum(c byte) bool { return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' }

// parseAddr parses host:port, with host an IP address or a host name, and
// returns it as nginx writes it ([v6]:port for IPv6).
func parseAddr(s string) (string, error) {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return "", err
	}
	p, err := strconv.ParseUint(port, 10, 16)
	if err != nil || p == 0 || strconv.FormatUint(p, 10) != port {
		return "", fmt.Errorf("bad port %q", port)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if ip.Zone() != "" {
			return "", fmt.Errorf("zoned address %q", host)
		}
		return netip.AddrPortFrom(ip.Unmap(), uint16(p)).String(), nil
	}
	host = strings.ToLower(host)
	if !validName(host) {
		return "", fmt.Errorf("bad host %q", host)
	}
	return host + ":" + port, nil
}

// parseListen parses the listen address: a port, or ip:port.
func parseListen(s string) (string, error) {
	if s == "" {
		return "80", nil
	}
	if !strings.Contains(s, ":") {
		p, err := strconv.ParseUint(s, 10, 16)
		if err != nil || p == 0 || strconv.FormatUint(p, 10) != s {
			return "", fmt.Errorf("bad listen port %q", s)
		}
		return s, nil
	}
	ap, err := netip.ParseAddrPort(s)
	if err != nil || ap.Port() == 0 || ap.Addr().Zone() != "" {
		return "", fmt.Errorf("bad listen address %q", s)
	}
	return ap.String(), nil
}
