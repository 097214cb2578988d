package httpapi

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/social-prescribing/referral-adapter/adapter"
	"github.com/social-prescribing/referral-adapter/adapter/fhir"
)

// Task searches (issue 18): focus=ServiceRequest/{id}, owner, status and
// _lastUpdated (any date prefix), paged in creation order, the one order that does
// not change as Tasks change, so that no Task is skipped or repeated
// while a client follows next links; Tasks created meanwhile come last.

const (
	// scanBudget bounds how many Tasks one page reads looking for matches;
	// a page that runs out of it ends early, with a next link from where it
	// stopped.
	scanBudget = 5000
	// countBudget bounds how many Tasks _count=0 reads to count matches;
	// beyond it the total is left out.
	countBudget = 200_000
	// changedLimit bounds the Tasks changed since _lastUpdated read at once;
	// beyond it the search reads in creation order instead.
	changedLimit = 10_000
)

// taskFilter is the owner/status/_lastUpdated part of a Task search.
type taskFilter struct {
	owner    string
	statuses []string
	since    time.Time // exclusive; zero: any
	until    time.Time // exclusive; zero: any
	focus    string    // ServiceRequest id; "": any
}

func taskFilterOf(c *gin.Context) (taskFilter, error) {
	f := taskFilter{owner: strings.TrimPrefix(c.Query("owner"), "HealthcareService/")}
	if v, ok := c.GetQuery("focus"); ok {
		f.focus = strings.TrimPrefix(v, "ServiceRequest/")
		if f.focus == "" || strings.Contains(f.focus, "/") || !fhirID.MatchString(f.focus) {
			return f, adapter.Errorf(adapter.EINVALID, "focus must be ServiceRequest/{id}").At("focus")
		}
	}
	if v := c.Query("status"); v != "" {
		f.statuses = strings.Split(v, ",")
		for _, st := range f.statuses {
			if !adapter.TaskStatus(st).FHIR() { // draft, received, ready: valid, and match nothing here
				return f, adapter.Errorf(adapter.ECODEINVALID, "%q is not a FHIR Task status", adapter.Clip(st, nameMax)).At("status")
			}
		}
	}
	var err error
	f.since, f.until, err = lastUpdated(c)
	return f, err
}

// lastUpdated reads _lastUpdated (lastUpdatedRange) as the exclusive
// bounds of a search; zero when not given.
func lastUpdated(c *gin.Context) (since, until time.Time, err error) {
	v := c.Query("_lastUpdated")
	if v == "" {
		return since, until, nil
	}
	if since, until, err = lastUpdatedRange(v); err != nil {
		return since, until, adapter.Errorf(adapter.EVALUE,
			"_lastUpdated must be a date (2026-11-23) or an instant with its zone (2026-11-23T09:00:00Z), optionally after eq, gt, ge, lt or le").At("_lastUpdated")
	}
	return since, until, nil
}

func (f taskFilter) matches(t *adapter.Task) bool {
	return (f.owner == "" || t.Owner == f.owner) && (len(f.statuses) == 0 || slices.Contains(f.statuses, string(t.Status))) &&
		(f.since.IsZero() || t.LastModified.After(f.since)) && (f.until.IsZero() || t.LastModified.Before(f.until)) &&
		(f.focus == "" || t.ReferralID == f.focus)
}

// searchTask: GET /fhir/Task.
func (s *Server) searchTask(c *gin.Context) {
	if err := onlyParams(c, "focus", "owner", "status", "_lastUpdated"); err != nil {
		s.writeError(c, err)
		return
	}
	pr, err := pageRequestOf(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	f, err := taskFilterOf(c)
	if err != nil {
		s.writeError(c, err)
		return
	}
	m := taskMatcher{s: s, ctx: c.Request.Context(), caller: callerOf(c), f: f}
	found, err := s.findTasks(m, pr)
	if err != nil {
		s.writeError(c, err)
		return
	}
	p := page{next: found.next, prev: found.prev, total: found.total}
	for _, t := range found.tasks {
		body, err := s.renderTask(c.Request.Context(), t, m.caller)
		if err != nil {
			s.writeError(c, err)
			return
		}
		p.entries = append(p.entries, fhir.BundleEntry{FullURL: s.baseURL(c) + "/Task/" + t.ID, Resource: body})
	}
	s.writePage(c, pr, p)
}

// taskMatcher decides which Tasks a search returns: those its filter
// matches that the caller may see.
type taskMatcher struct {
	s      *Server
	ctx    context.Context
	caller adapter.Caller
	f      taskFilter
	also   func(*adapter.Task) bool // a further filter; nil: none
}

func (m taskMatcher) match(t *adapter.Task) (bool, error) {
	if !m.f.matches(t) || m.also != nil && !m.also(t) || !m.s.Access.Candidate(m.caller, t) {
		return false, nil
	}
	return m.s.Access.SeeTask(m.ctx, m.caller, t)
}

// foundTasks is one page of a Task search.
type foundTasks struct {
	tasks      []*adapter.Task
	next, prev string
	total      *int
}

// findTasks reads the page: a referral's few Tasks, or those changed since
// _lastUpdated, are read at once and paged in memory; anything else is
// read in creation order from the store.
func (s *Server) findTasks(m taskMatcher, pr pageRequest) (foundTasks, error) {
	var candidates []*adapter.Task
	var err error
	switch {
	case m.f.focus != "":
		candidates, err = s.Store.TasksForReferral(m.ctx, m.f.focus)
		if adapter.ErrorCode(err) == adapter.ENOTFOUND {
			candidates, err = nil, nil
		}
	case !m.f.since.IsZero():
		candidates, err = s.Store.ChangedTasks(m.ctx, m.f.since, changedLimit+1)
		if err == nil && len(candidates) > changedLimit {
			return s.scanTasks(m, pr)
		}
	default:
		return s.scanTasks(m, pr)
	}
	if err != nil {
		return foundTasks{}, err
	}
	var matched []*adapter.Task
	for _, t := range candidates {
		ok, err := m.match(t)
		if err != nil {
			return foundTasks{}, err
		}
		if ok {
			matched = append(matched, t)
		}
	}
	return keyedPage(matched, pr)
}

// createdKey orders Tasks by creation time, then id.
func createdKey(a, b *adapter.Task) int {
	if c := a.AuthoredOn.Compare(b.AuthoredOn); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// keyedPage pages Tasks all in hand by their creation order, with cursors
// naming positions in it, not offsets: a Task that appears or goes
// between two pages moves no other.
func keyedPage(ts []*adapter.Task, pr pageRequest) (foundTasks, error) {
	slices.SortFunc(ts, createdKey)
	total := len(ts)
	out := foundTasks{total: &total}
	if pr.count == 0 {
		return out, nil
	}
	var lo, hi int
	if pr.cursor != "" {
		dir, ms, id, err := parseKeyCursor(pr.cursor)
		if err != nil {
			return out, err
		}
		at := &adapter.Task{AuthoredOn: time.UnixMilli(ms).UTC(), ID: id}
		i, _ := slices.BinarySearchFunc(ts, at, func(t, target *adapter.Task) int { return createdKey(t, target) })
		if dir == 'a' {
			for i < len(ts) && createdKey(ts[i], at) <= 0 {
				i++
			}
			lo, hi = i, min(i+pr.count, len(ts))
		} else {
			lo, hi = max(0, i-pr.count), i
		}
	} else {
		hi = min(pr.count, len(ts))
	}
	out.tasks = ts[lo:hi]
	if hi < len(ts) && hi > lo {
		out.next = keyCursor('a', ts[hi-1].AuthoredOn.UnixMilli(), ts[hi-1].ID)
	}
	if lo > 0 {
		out.prev = keyCursor('b', ts[lo].AuthoredOn.UnixMilli(), ts[lo].ID)
	}
	return out, nil
}

// scanTasks reads Tasks in creation order from the store, after (or
// before) the cursor, until the page is full, the budget is spent or the
// Tasks run out.
func (s *Server) scanTasks(m taskMatcher, pr pageRequest) (foundTasks, error) {
	var dir byte = 'a'
	var from time.Time
	id := ""
	if pr.cursor != "" {
		d, ms, cid, err := parseKeyCursor(pr.cursor)
		if err != nil {
			return foundTasks{}, err
		}
		dir, from, id = d, time.UnixMilli(ms).UTC(), cid
	}
	budget, want := scanBudget, pr.count
	if pr.count == 0 {
		budget, want = countBudget, countBudget
	}
	var out foundTasks
	matches, read, more := 0, 0, true
	var last *adapter.Task
	for more && matches < want && read < budget {
		batch, m2, err := s.Store.TasksByCreation(m.ctx, from, id, dir == 'b', min(200, budget-read))
		if err != nil {
			return foundTasks{}, err
		}
		more = m2
		for _, t := range batch {
			read++
			last = t
			ok, err := m.match(t)
			if err != nil {
				return foundTasks{}, err
			}
			if ok {
				matches++
				if pr.count > 0 {
					out.tasks = append(out.tasks, t)
				}
				if matches == want {
					more = more || t != batch[len(batch)-1]
					break
				}
			}
		}
		if len(batch) == 0 {
			more = false
			break
		}
		from, id = last.AuthoredOn, last.ID
	}
	if pr.count == 0 {
		if !more {
			out.total = &matches
		}
		return out, nil
	}
	if dir == 'b' {
		slices.Reverse(out.tasks)
	}
	return out.withCursors(pr, dir, last, more), nil
}

// withCursors sets the next and previous cursors of a scanned page. last is
// the last Task read; more says whether Tasks lie beyond it.
func (out foundTasks) withCursors(pr pageRequest, dir byte, last *adapter.Task, more bool) foundTasks {
	first := pr.cursor == "" && dir == 'a'
	key := func(d byte, t *adapter.Task) string { return keyCursor(d, t.AuthoredOn.UnixMilli(), t.ID) }
	if dir == 'a' {
		if more && last != nil {
			out.next = key('a', last)
		}
		if !first {
			if len(out.tasks) > 0 {
				out.prev = key('b', out.tasks[0])
			} else {
				out.prev = "b" + pr.cursor[1:]
			}
		}
		if first && !more {
			n := len(out.tasks)
			out.total = &n
		}
		return out
	}
	if more && last != nil {
		out.prev = key('b', last)
	}
	if len(out.tasks) > 0 {
		out.next = key('a', out.tasks[len(out.tasks)-1])
	} else {
		out.next = "a" + pr.cursor[1:]
	}
	return out
}
