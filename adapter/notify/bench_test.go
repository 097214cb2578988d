package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// BenchmarkPublishToDelivery measures Task events per second from publish
// to a local receiver's 2xx, through one dispatcher on a real Redis.
func BenchmarkPublishToDelivery(b *testing.B) {
	e := newEnv(b)
	rc := newReceiver(b, e.parser, always(http.StatusOK))
	e.subscribe("A81001", rc, "")
	d := e.dispatcher("bench")
	e.poll(d)
	b.ResetTimer()
	for i := range b.N {
		e.publish("A81001", fmt.Sprintf("task-%d", i), adapter.TaskAccepted)
	}
	for len(rc.events()) < b.N {
		if _, err := d.Poll(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}
