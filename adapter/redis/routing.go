package redis

import (
	"github.com/social-prescribing/referral-adapter/adapter"
)

// routingJSON is capacity.lua's cfg: what its scripts need to place
// referrals by capacity.
type routingJSON struct {
	Now     int64                         `json:"now"`
	Stale   int64                         `json:"stale"`
	LW      stepJSON                      `json:"lw"`
	Names   map[string]string             `json:"names"`
	Phrases map[adapter.SkipReason]string `json:"phrases"`
	Text    textJSON                      `json:"text"`
	TMod    string                        `json:"tmod"` // index of Tasks by last change (keys.go taskIndex)
}

// textJSON carries adapter.ReasonFormats to the scripts.
type textJSON struct {
	Routed       string `json:"routed"`
	RoutedAfter  string `json:"routedAfter"`
	Waitlisted   string `json:"waitlisted"`
	WaitlistedNE string `json:"waitlistedNE"`
	Redirected   string `json:"redirected"`
	OverCapacity string `json:"overCapacity"`
	Promoted     string `json:"promoted"`
	Rerouted     string `json:"rerouted"`
}

// stepJSON is one capacity.lua step, or a service's keys.
type stepJSON struct {
	Service  string `json:"svc,omitempty"`
	Queue    string `json:"queue,omitempty"`
	Cap      string `json:"cap,omitempty"`
	WL       string `json:"wl,omitempty"`
	Skip     string `json:"skip,omitempty"`
	Waitlist bool   `json:"waitlist,omitempty"`
}

// placementJSON is a placement as the scripts return it.
type placementJSON struct {
	ID   string         `json:"id"`
	Gone bool           `json:"gone"`
	Own  string         `json:"own"`
	Out  string         `json:"out"`
	BS   string         `json:"bs"`
	Rsn  string         `json:"rsn"`
	Skip []adapter.Skip `json:"skip"`
	Rsv  string         `json:"rsv"`
	Over string         `json:"over"`
	Pos  int            `json:"pos"`
	Wait int            `json:"wait"`
}

func (s *Store) routing(r *adapter.Routing) *routingJSON {
	names := map[string]string{}
	for k, v := range r.Names {
		names[k] = v
	}
	f := adapter.ReasonFormats
	stale := int64(0)
	if r.StaleAfter > 0 {
		stale = r.StaleAfter.Milliseconds()
	}
	return &routingJSON{
		Now: r.Now.UnixMilli(), Stale: stale, LW: s.serviceKeys(r.LinkWorker), Names: names, TMod: s.k.taskIndex(),
		Phrases: adapter.SkipPhrases(),
		Text: textJSON{Routed: f.Routed, RoutedAfter: f.RoutedAfter, Waitlisted: f.Waitlisted,
			WaitlistedNE: f.WaitlistedNE, Redirected: f.Redirected, OverCapacity: f.OverCapacity,
			Promoted: f.Promoted, Rerouted: f.Rerouted},
	}
}

// serviceKeys names a service and its queue, capacity and waitlist keys.
func (s *Store) serviceKeys(id string) stepJSON {
	return stepJSON{Service: id, Queue: s.k.queue(id), Cap: s.k.capacity(id), WL: s.k.waitlist(id)}
}

// steps builds capacity.lua steps, leaving out the service except (for
// re-routing away from a closed service; "" leaves out none).
func (s *Store) steps(route []adapter.RouteStep, except string) []stepJSON {
	out := make([]stepJSON, 0, len(route))
	for _, st := range route {
		switch {
		case st.Waitlist:
			out = append(out, stepJSON{Waitlist: true})
		case st.Service != "" && st.Service != except:
			j := s.serviceKeys(st.Service)
			j.Skip = string(st.Skip)
			out = append(out, j)
		}
	}
	return out
}

// placement converts a script's placement to the domain's.
func (p *placementJSON) placement() adapter.Placement {
	return adapter.Placement{
		Owner: p.Own, Outcome: adapter.Outcome(p.Out), Skipped: p.Skip, Reserved: p.Rsv != "",
		OverCapacity: p.Over != "", OverReason: adapter.SkipReason(p.Over), Position: p.Pos, WaitDays: p.Wait,
	}
}

// apply records a placement on the Task the store just wrote.
func (p *placementJSON) apply(t *adapter.Task) {
	t.Owner, t.StatusReason, t.Reserved = p.Own, p.Rsn, p.Rsv
	if bs, ok := adapter.BusinessStatus(p.BS); ok {
		t.BusinessStatus = bs
	}
}
