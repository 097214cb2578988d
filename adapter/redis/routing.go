package redis

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/social-prescribing/referral-adapter/adapter"
)

// routingJSON is capacity.lua's cfg: what its scripts need to place
// referrals by capacity.
type routingJSON struct {
	Now   int64             `json:"now"`
	Stale int64             `json:"stale"`
	LW    stepJSON          `json:"lw"`
	Names map[string]string `json:"names"`
	TMod  string            `json:"tmod"` // index of Tasks by last change (keys.go taskIndex)
}

// stepJSON is one capacity.lua step, or a service's keys.
type stepJSON struct {
	Service  string `json:"svc,omitempty"`
	Queue    string `json:"queue,omitempty"`
	Cap      string `json:"cap,omitempty"`
	WL       string `json:"wl,omitempty"`
	Skip     string `json:"skip,omitempty"`
	Waitlist bool   `json:"waitlist,omitempty"`
	// LastResort: wait on this service's waitlist rather than go to the
	// link workers, whom the patient's consent does not cover.
	LastResort bool `json:"lr,omitempty"`
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
	Held bool           `json:"held"` // put on hold awaiting consent (reroute.lua)
}

func (s *conn) routing(r *adapter.Routing) *routingJSON {
	names := r.Names // only read (encoded), never changed here
	if names == nil {
		names = map[string]string{} // cjson reads null as userdata, not a table
	}
	stale := int64(0)
	if r.StaleAfter > 0 {
		stale = r.StaleAfter.Milliseconds()
	}
	return &routingJSON{Now: r.Now.UnixMilli(), Stale: stale, LW: s.serviceKeys(r.LinkWorker), Names: names, TMod: s.k.taskIndex()}
}

// only keeps the display names of the link workers and of the services
// the steps name: all a placement along them can mention. It makes a new
// map; the Routing's own is left as it was.
func (rj *routingJSON) only(steps ...[]stepJSON) {
	keep := map[string]string{}
	if n, ok := rj.Names[rj.LW.Service]; ok {
		keep[rj.LW.Service] = n
	}
	for _, st := range steps {
		for _, step := range st {
			if n, ok := rj.Names[step.Service]; ok {
				keep[step.Service] = n
			}
		}
	}
	rj.Names = keep
}

// reasonConstants writes adapter's skip phrases and reason sentences as
// the Lua tables CAP_PHRASES and CAP_TEXT (capacity.lua), keys sorted so
// the script, and so its SHA, is the same on every start.
func reasonConstants() string {
	f := adapter.ReasonFormats
	text := map[string]string{"routed": f.Routed, "routedAfter": f.RoutedAfter, "routedAnyway": f.RoutedAnyway, "waitlisted": f.Waitlisted,
		"waitlistedNE": f.WaitlistedNE, "redirected": f.Redirected, "overCapacity": f.OverCapacity,
		"promoted": f.Promoted, "rerouted": f.Rerouted, "heldNoConsent": f.HeldNoConsent}
	phrases := map[string]string{}
	for k, v := range adapter.SkipPhrases() {
		phrases[string(k)] = v
	}
	return "local CAP_PHRASES = " + luaTable(phrases) + "\nlocal CAP_TEXT = " + luaTable(text) + "\n"
}

func luaTable(m map[string]string) string {
	var b strings.Builder
	b.WriteString("{")
	for i, k := range slices.Sorted(maps.Keys(m)) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("[" + luaString(k) + "] = " + luaString(m[k]))
	}
	b.WriteString("}")
	return b.String()
}

// luaString quotes s as a Lua 5.1 string literal: printable ASCII as
// itself, quotes and backslashes escaped, every other byte as \ddd.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c >= 0x20 && c < 0x7f:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "\\%03d", c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// serviceKeys names a service and its queue, capacity and waitlist keys.
func (s *conn) serviceKeys(id string) stepJSON {
	return stepJSON{Service: id, Queue: s.k.queue(id), Cap: s.k.capacity(id), WL: s.k.waitlist(id)}
}

// steps builds capacity.lua steps, leaving out the service except (for
// re-routing away from a closed service; "" leaves out none).
func (s *conn) steps(route []adapter.RouteStep, except string) []stepJSON {
	out := make([]stepJSON, 0, len(route))
	for _, st := range route {
		switch {
		case st.Waitlist:
			out = append(out, stepJSON{Waitlist: true})
		case st.Service != "" && st.Service != except:
			j := s.serviceKeys(st.Service)
			j.Skip, j.LastResort = string(st.Skip), st.LastResort
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
