package disclosure

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// decisions counts disclosure decisions on outcomes and messages going back
// to the GP; result "redacted" is what consent or the patient withheld.
var decisions = promauto.NewCounterVec(prometheus.CounterOpts{
	Namespace: "referral_adapter", Subsystem: "consent", Name: "disclosure_decisions_total",
	Help: "Disclosure decisions on outcomes and messages for the referring practice, by result (disclosed, redacted).",
}, []string{"result"})

func countDecision(ok bool) {
	if ok {
		decisions.WithLabelValues("disclosed").Inc()
	} else {
		decisions.WithLabelValues("redacted").Inc()
	}
}
