package report

import (
	"maps"
	"slices"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// SnapshotIncs are a day's capacity snapshot (job daily-snapshot): for
// each service with a limit, its places and reserved places and one
// snapshot, so that utilisation over a period is reserved/max summed over
// its days. Services without a limit are left out.
func SnapshotIncs(day string, caps map[string]adapter.Capacity) []adapter.StatInc {
	var incs []adapter.StatInc
	for _, id := range slices.Sorted(maps.Keys(caps)) {
		c := caps[id]
		if c.MaxOpen == 0 {
			continue
		}
		incs = append(incs,
			adapter.StatInc{Day: day, Key: adapter.StatKey{Metric: MSnapMax, Service: id}, N: int64(c.MaxOpen)},
			adapter.StatInc{Day: day, Key: adapter.StatKey{Metric: MSnapReserved, Service: id}, N: int64(c.Reserved)},
			adapter.StatInc{Day: day, Key: adapter.StatKey{Metric: MSnapCount, Service: id}, N: 1})
	}
	return incs
}
