package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
	"github.com/social-prescribing/referral-adapter/adapter/jobs"
	"github.com/social-prescribing/referral-adapter/internal/redistest"
)

// Two adapter replicas on one Redis: referrals submitted to both, claims
// from both, jobs on both. No double claim, no double job run, no lost
// referral.
func TestTwoReplicasShareOneRedis(t *testing.T) {
	env := map[string]string{"REDIS_URL": redistest.URL(t), "REDIS_NAMESPACE": redistest.Namespace(t)}
	a, b := newHarness(t, env), newHarness(t, env)
	replicas := []*harness{a, b}
	gp := a.token(auth.RolePractice, practice)
	base := string(fixture(t, "servicerequest-general.json"))

	const n = 60
	var wg sync.WaitGroup
	ids := make([]string, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := strings.Replace(base, "SP-2026-000104", fmt.Sprintf("SCALE-%d", i), 1)
			r := replicas[i%2].do("POST", "/fhir/ServiceRequest", gp, []byte(body))
			if r.status != 201 {
				t.Errorf("submit %d = %d", i, r.status)
				return
			}
			ids[i] = locationID(r.header.Get("Location"))
		}()
	}
	// The same referral sent to both replicas at once is stored once.
	dup := []byte(strings.Replace(base, "SP-2026-000104", "SCALE-DUP", 1))
	dupIDs := make([]string, 2)
	for i, h := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dupIDs[i] = h.do("POST", "/fhir/ServiceRequest", gp, dup).json(t)["id"].(string)
		}()
	}
	wg.Wait()
	if dupIDs[0] != dupIDs[1] {
		t.Errorf("the same referral became two: %v", dupIDs)
	}

	var mu sync.Mutex
	claims := map[string]int{}
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := replicas[w%2]
			tok, _ := auth.Mint(testSecret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", Subject: fmt.Sprintf("lw%d", w)})
			for {
				r := h.api("POST", "/api/v1/queues/riverside-link-workers/claim", tok, "")
				if r.status == 204 {
					return
				}
				if r.status != 200 {
					t.Errorf("claim = %d", r.status)
					return
				}
				id := r.json(t)["task"].(map[string]any)["id"].(string)
				mu.Lock()
				claims[id]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, id := range append(ids, dupIDs[0]) {
		if claims[id] != 1 {
			t.Errorf("referral %s claimed %d times", id, claims[id])
		}
	}
	if len(claims) != n+1 {
		t.Errorf("%d claims for %d referrals", len(claims), n+1)
	}

	// A job fired on both replicas at the same moment runs once.
	var runs sync.WaitGroup
	results := make([]error, 2)
	for i, h := range replicas {
		runs.Add(1)
		go func() {
			defer runs.Done()
			r, err := h.app.jobs(jobs.Config{}, slog.Default())
			if err != nil {
				results[i] = err
				return
			}
			_, results[i] = r.RunOnce(context.Background(), "retention-purge")
		}()
	}
	runs.Wait()
	ok, locked := 0, 0
	for _, err := range results {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, jobs.ErrLocked):
			locked++
		default:
			t.Errorf("job: %v", err)
		}
	}
	if ok < 1 || ok+locked != 2 {
		t.Errorf("job runs: %d ran, %d skipped as locked", ok, locked)
	}
}
