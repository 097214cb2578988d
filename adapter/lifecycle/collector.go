package lifecycle

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// StatsReader reads queue figures for the metrics collector.
type StatsReader interface {
	QueueStats(ctx context.Context, services []string, now time.Time) (map[string]adapter.QueueStats, error)
}

// Collector exposes queue depth, the age of the longest-waiting referral
// and free places per service, read from the store at each scrape.
type Collector struct {
	r        StatsReader
	services []string
	depth    *prometheus.Desc
	oldest   *prometheus.Desc
	free     *prometheus.Desc
}

// NewCollector returns a Collector for the directory's services.
func NewCollector(r StatsReader, m *routing.Mappings) *Collector {
	label := []string{"service"}
	return &Collector{r: r, services: m.ServiceIDs(),
		depth:  prometheus.NewDesc("referral_adapter_queue_depth", "Referrals waiting in a service's queue.", label, nil),
		oldest: prometheus.NewDesc("referral_adapter_queue_oldest_age_seconds", "Age of the referral at the head of the queue.", label, nil),
		free:   prometheus.NewDesc("referral_adapter_capacity_remaining", "Free places at a service (-1: unlimited).", label, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.depth
	ch <- c.oldest
	ch <- c.free
}

// Collect implements prometheus.Collector; a store error yields no samples.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	stats, err := c.r.QueueStats(ctx, c.services, time.Now())
	if err != nil {
		return
	}
	for svc, s := range stats {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(s.Depth), svc)
		ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, s.OldestAge.Seconds(), svc)
		ch <- prometheus.MustNewConstMetric(c.free, prometheus.GaugeValue, float64(s.Remaining), svc)
	}
}
