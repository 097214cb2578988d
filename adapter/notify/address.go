package notify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
	"syscall"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// errBlockedAddress is a delivery refused because the endpoint's address
// is one notifications may not reach (addressPolicy).
var errBlockedAddress = errors.New("notify: endpoint address not permitted")

// cgnat is the shared address space (RFC 6598), private in practice.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// addressPolicy says which addresses notifications may be sent to, so a
// Subscription cannot make the adapter reach into the network it runs in
// (server-side request forgery): never the cloud metadata service or any
// link-local, unspecified or multicast address; loopback only in
// development (SUBSCRIPTION_ALLOW_HTTP); private and shared addresses only
// within the networks the operator lists (an EHR on HSCN, say).
type addressPolicy struct {
	loopback bool
	private  []netip.Prefix
}

func newAddressPolicy(cfg Config) addressPolicy {
	return addressPolicy{loopback: cfg.AllowHTTP, private: cfg.PrivateNetworks}
}

// permits reports whether notifications may go to ip.
func (p addressPolicy) permits(ip netip.Addr) bool {
	ip = ip.Unmap()
	switch {
	case !ip.IsValid(), ip.IsUnspecified(), ip.IsLinkLocalUnicast(), ip.IsLinkLocalMulticast(),
		ip.IsInterfaceLocalMulticast(), ip.IsMulticast():
		return false
	case ip.IsLoopback():
		return p.loopback
	case ip.IsPrivate(), cgnat.Contains(ip), ip.Is4() && ip.As4()[0] == 0:
		for _, n := range p.private {
			if n.Contains(ip) {
				return true
			}
		}
		return false
	}
	return true
}

// checkEndpoint refuses, at create time, an endpoint whose host is an
// address the policy does not permit, or localhost. A name that resolves
// to one is refused when a delivery dials it (control).
func (p addressPolicy) checkEndpoint(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return nil // fhir.CheckEndpoint has answered already
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		if p.loopback {
			return nil
		}
		return blockedEndpoint()
	}
	if ip, err := netip.ParseAddr(host); err == nil && !p.permits(ip) {
		return blockedEndpoint()
	}
	return nil
}

func blockedEndpoint() error {
	return adapter.Errorf(adapter.EBUSINESSRULE,
		"endpoint must be a public address: loopback, link-local (the cloud metadata service), private and shared addresses are refused unless the operator lists the network (SUBSCRIPTION_PRIVATE_NETWORKS)").
		At("Subscription.channel.endpoint")
}

// control is the delivery dialer's check of the address it is about to
// connect to, after name resolution, so a name resolving (or re-resolving)
// to a refused address is refused too.
func (p addressPolicy) control(_ context.Context, _, address string, _ syscall.RawConn) error {
	ap, err := netip.ParseAddrPort(address)
	if err != nil {
		return fmt.Errorf("%w: %v", errBlockedAddress, err)
	}
	if !p.permits(ap.Addr()) {
		return errBlockedAddress
	}
	return nil
}

// dialer is the delivery dialer, checking each address it connects to.
func (p addressPolicy) dialer() *net.Dialer {
	return &net.Dialer{ControlContext: p.control}
}
