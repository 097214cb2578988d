package report

import (
	"cmp"
	"slices"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

// Reach is who one area's referrals came from and who they were for, each
// against the funnel (issue 20): by referrer role, by practice, by age
// band and by sex (from the Patient where the EHR sent one, else
// "unknown"). Each stage of each breakdown is suppressed as a group.
type Reach struct {
	BySource   []ReachRow `json:"bySource"`
	ByPractice []ReachRow `json:"byPractice"`
	ByAgeBand  []ReachRow `json:"byAgeBand"`
	BySex      []ReachRow `json:"bySex"`
}

// ReachRow is one group's referrals at each stage of the funnel: referred,
// contacted, support started, completed. One of the group fields is set.
type ReachRow struct {
	ReferrerRole   string `json:"referrerRole,omitempty"`
	Practice       string `json:"practice,omitempty"`
	Name           string `json:"name,omitempty"` // the practice's, from the practice table
	AgeBand        string `json:"ageBand,omitempty"`
	Sex            string `json:"sex,omitempty"`
	Referred       Count  `json:"referred"`
	Contacted      Count  `json:"contacted"`
	SupportStarted Count  `json:"supportStarted"`
	Completed      Count  `json:"completed"`
}

// Group is the row's group: its referrer role, practice, age band or sex.
func (r ReachRow) Group() string { return cmp.Or(r.ReferrerRole, r.Practice, r.AgeBand, r.Sex) }

// Stages are the row's counts in funnel order.
func (r *ReachRow) Stages() []*Count {
	return []*Count{&r.Referred, &r.Contacted, &r.SupportStarted, &r.Completed}
}

// UnknownAreaLabel says what the area "unknown" holds.
const UnknownAreaLabel = "Area not known: referrals sent without a postcode from a practice not in the practice table"

// reachCounts are the reach counters of one area: dimension → group →
// counts per stage (in adapter.ReachStages order).
type reachCounts map[string]map[string]*[4]int64

// reachByArea reads the reach counters of every area at once.
func reachByArea(stats map[adapter.StatKey]int64) map[string]reachCounts {
	out := map[string]reachCounts{}
	for k, n := range stats {
		sub, ok := strings.CutPrefix(k.Metric, adapter.MReach+":")
		if !ok {
			continue
		}
		stage, dim, value, ok := adapter.SplitReachMetric(sub)
		i := slices.Index(adapter.ReachStages, stage)
		if !ok || i < 0 {
			continue
		}
		rc := out[k.Area]
		if rc == nil {
			rc = reachCounts{}
			out[k.Area] = rc
		}
		if rc[dim] == nil {
			rc[dim] = map[string]*[4]int64{}
		}
		c := rc[dim][value]
		if c == nil {
			c = &[4]int64{}
			rc[dim][value] = c
		}
		c[i] += n
	}
	return out
}

// reach builds an area's breakdowns: referrer roles and practices sorted
// (unknown last), age bands and sexes in their natural order; each
// stage's column suppressed as a group.
func (rc reachCounts) reach(m *routing.Mappings) Reach {
	rows := func(dim string, order []string, set func(*ReachRow, string)) []ReachRow {
		groups := rc[dim]
		keys := order
		if keys == nil {
			keys = sortedKeys(groups)
			if i := slices.Index(keys, adapter.ReachUnknown); i >= 0 {
				keys = append(slices.Delete(keys, i, i+1), adapter.ReachUnknown)
			}
		}
		out := []ReachRow{}
		for _, g := range keys {
			c := groups[g]
			if c == nil || *c == [4]int64{} {
				continue
			}
			r := ReachRow{}
			set(&r, g)
			for i, p := range r.Stages() {
				p.N = c[i]
			}
			out = append(out, r)
		}
		for i := range adapter.ReachStages {
			col := make([]*Count, len(out))
			for j := range out {
				col[j] = out[j].Stages()[i]
			}
			suppress(col...)
		}
		return out
	}
	return Reach{
		BySource: rows(adapter.DimSource, nil, func(r *ReachRow, g string) { r.ReferrerRole = g }),
		ByPractice: rows(adapter.DimPractice, nil, func(r *ReachRow, g string) {
			r.Practice = g
			if p, ok := m.Practice(g); ok {
				r.Name = p.Name
			}
		}),
		ByAgeBand: rows(adapter.DimAgeBand, adapter.AgeBands(), func(r *ReachRow, g string) { r.AgeBand = g }),
		BySex:     rows(adapter.DimSex, adapter.Sexes(), func(r *ReachRow, g string) { r.Sex = g }),
	}
}
