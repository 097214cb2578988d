package notify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sethvargo/go-envconfig"
)

// A Subscription cannot point the adapter at the network it runs in:
// the cloud metadata service, loopback, private and shared addresses are
// refused at create time when written as addresses, and when a name
// resolves to one, at the moment of dialling.
func TestAddressPolicy(t *testing.T) {
	strict := addressPolicy{}
	hscn := addressPolicy{private: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}}
	dev := addressPolicy{loopback: true}
	for _, c := range []struct {
		policy addressPolicy
		ip     string
		want   bool
	}{
		{strict, "169.254.169.254", false}, // cloud metadata
		{dev, "169.254.169.254", false},
		{strict, "127.0.0.1", false},
		{strict, "::1", false},
		{strict, "::ffff:127.0.0.1", false},
		{dev, "127.0.0.1", true},
		{strict, "10.0.0.1", false},
		{hscn, "10.20.30.40", true},
		{hscn, "192.168.1.1", false},
		{strict, "172.16.0.1", false},
		{strict, "100.64.0.1", false},
		{strict, "fd00::1", false},
		{strict, "fe80::1", false},
		{strict, "0.0.0.0", false},
		{strict, "0.1.2.3", false},
		{strict, "224.0.0.1", false},
		{strict, "81.144.1.1", true},
		{strict, "2a00:1450::1", true},
	} {
		if got := c.policy.permits(netip.MustParseAddr(c.ip)); got != c.want {
			t.Errorf("%+v permits %s = %v, want %v", c.policy, c.ip, got, c.want)
		}
	}
	for raw, want := range map[string]bool{
		"https://169.254.169.254/latest/meta-data/": false,
		"https://[::1]:8443/hook":                   false,
		"https://10.0.0.1/hook":                     false,
		"https://LOCALHOST./hook":                   false,
		"https://hooks.localhost/x":                 false,
		"https://ehr.example.nhs.uk/hook":           true, // a name: checked when dialled
		"https://81.144.1.1/hook":                   true,
	} {
		if err := strict.checkEndpoint(raw); (err == nil) != want {
			t.Errorf("checkEndpoint(%s) = %v", raw, err)
		}
	}
}

// A delivery to a name that resolves to a refused address is refused by
// the dialler ("address-refused"), and nothing reaches the receiver.
func TestDeliveryDialRefusesBlockedAddresses(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { hits++ }))
	defer srv.Close()
	byName := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1)
	if got := post(context.Background(), newClient(5*time.Second, addressPolicy{}), byName, nil, []byte(`{}`)); got != "address-refused" {
		t.Errorf("delivery to loopback by name = %q, want address-refused", got)
	}
	if hits != 0 {
		t.Errorf("the receiver was reached %d times", hits)
	}
	if got := post(context.Background(), newClient(5*time.Second, addressPolicy{loopback: true}), byName, nil, []byte(`{}`)); got != "" || hits != 1 {
		t.Errorf("in development, delivery to loopback = %q (%d hits)", got, hits)
	}
}

// SUBSCRIPTION_PRIVATE_NETWORKS reads a comma-separated list of CIDRs.
func TestPrivateNetworksFromEnv(t *testing.T) {
	var c Config
	l := envconfig.MapLookuper(map[string]string{"SUBSCRIPTION_PRIVATE_NETWORKS": "10.0.0.0/8,fd12::/16"})
	if err := envconfig.ProcessWith(context.Background(), &envconfig.Config{Target: &c, Lookuper: l}); err != nil {
		t.Fatal(err)
	}
	if len(c.PrivateNetworks) != 2 || c.PrivateNetworks[0].String() != "10.0.0.0/8" || c.PrivateNetworks[1].String() != "fd12::/16" {
		t.Errorf("PrivateNetworks = %v", c.PrivateNetworks)
	}
}
