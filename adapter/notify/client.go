package notify

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxResponseBytes bounds how much of a receiver's response is read (and
// discarded) so the connection can be reused.
const maxResponseBytes = 64 << 10

// newClient returns the HTTP client for deliveries: a bounded timeout, and
// redirects followed only within the endpoint's own host (at most 3), so a
// notification and its headers never go to another host.
//
// Every connection is checked against the address policy once the name is
// resolved. Behind an egress proxy the proxy is what is dialled: list its
// network in SUBSCRIPTION_PRIVATE_NETWORKS if it is private, and let it
// enforce the rest.
func newClient(timeout time.Duration, addrs addressPolicy) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = addrs.dialer().DialContext
	t.MaxIdleConnsPerHost = 4
	t.ResponseHeaderTimeout = timeout
	return &http.Client{
		Timeout:   timeout,
		Transport: t,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 3 || req.URL.Host != via[0].URL.Host || req.URL.Scheme != via[0].URL.Scheme {
				return http.ErrUseLastResponse
			}
			return nil
		},
	}
}

// post sends one notification and returns "" on a 2xx answer, otherwise a
// short reason code ("http-503", "timeout", "connection") that carries no
// response content.
func post(ctx context.Context, c *http.Client, endpoint string, headers []string, body []byte) string {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return "bad-endpoint"
	}
	for _, h := range headers {
		name, val, _ := strings.Cut(h, ":")
		req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(val))
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("User-Agent", "referral-adapter-notify")
	res, err := c.Do(req)
	if err != nil {
		return errorReason(err)
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, maxResponseBytes))
	_ = res.Body.Close()
	if res.StatusCode < 200 || res.StatusCode > 299 {
		return "http-" + strconv.Itoa(res.StatusCode)
	}
	return ""
}

func errorReason(err error) string {
	var ne net.Error
	switch {
	case errors.Is(err, errBlockedAddress):
		return "address-refused"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "connection"
}
