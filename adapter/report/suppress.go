package report

import "slices"

// suppress hides counts of 1 to Threshold-1 in a group of counts that add
// up to a shown total; when exactly one cell of the group is hidden, the
// next smallest non-zero cell is hidden too (complementary suppression),
// so the hidden one cannot be recovered by subtraction from the total.
func suppress(group ...*Count) {
	hidden := 0
	for _, c := range group {
		if c.N > 0 && c.N < Threshold {
			c.Suppressed = true
			hidden++
		}
	}
	if hidden != 1 {
		return
	}
	var shown []*Count
	for _, c := range group {
		if !c.Suppressed && c.N > 0 {
			shown = append(shown, c)
		}
	}
	if len(shown) == 0 {
		return
	}
	slices.SortFunc(shown, func(a, b *Count) int { return int(a.N - b.N) })
	shown[0].Suppressed = true
}

// suppressFigures applies suppression to every group of one row: the
// outcomes of the referrals received (placed, waitlisted, safety), the
// provider decline reasons, the funnel stages, and single figures.
func suppressFigures(f *Figures) {
	suppress(&f.Placed, &f.Waitlisted, &f.ClinicalRedirect, &f.OutOfRemit)
	suppressGroup(f.DeclinedByProvider)
	suppress(&f.Funnel.Contacted, &f.Funnel.Engaged, &f.Funnel.SupportStarted, &f.Funnel.Completed)
	for _, c := range []*Count{&f.Received, &f.Funnel.Referred, &f.RedirectedCapacity, &f.DeclinedByPatient,
		&f.ReturnedToClinician, &f.SLABreaches, &f.SafeguardingConcerns, &f.TimeToFirstContact.N, &f.TimeToSupport.N} {
		suppress(c)
	}
}

// suppressGroup applies suppress to a breakdown held in a map (decline
// reasons, referral sources), in a stable order.
func suppressGroup(m map[string]Count) {
	keys := sortedKeys(m)
	cells := make([]Count, len(keys))
	ptrs := make([]*Count, len(keys))
	for i, k := range keys {
		cells[i] = m[k]
		ptrs[i] = &cells[i]
	}
	suppress(ptrs...)
	for i, k := range keys {
		m[k] = cells[i]
	}
}
