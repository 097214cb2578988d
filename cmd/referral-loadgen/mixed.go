package main

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"time"

	"github.com/social-prescribing/referral-adapter/adapter/auth"
)

// mixedTokens are the extra identities the mixed workload acts as.
type mixedTokens struct {
	linkWorker, commissioner string
}

func mintMixed(o *options) (mixedTokens, error) {
	lw, err := auth.Mint(o.secret, auth.MintOptions{Role: auth.RoleLinkWorker, Org: "U00001", TTL: o.duration + time.Hour, Name: "Load Generator"})
	if err != nil {
		return mixedTokens{}, err
	}
	com, err := auth.Mint(o.secret, auth.MintOptions{Role: auth.RoleCommissioner, Org: "QWO", Areas: []string{"LS6", "LS7"}, TTL: o.duration + time.Hour})
	return mixedTokens{linkWorker: lw, commissioner: com}, err
}

// mixedOne is one step of the mixed workload: mostly referrals, then link
// worker claims with accept and contact, and commissioners' report queries.
func mixedOne(ctx context.Context, c *http.Client, o *options, target, runID string, res *results) {
	switch n := rand.IntN(10); {
	case n < 6:
		one(ctx, c, o, target, runID, res)
	case n < 9:
		claimAndWork(ctx, c, o, target, res)
	default:
		t0 := time.Now()
		status, _ := call(ctx, c, http.MethodGet, target+"/api/v1/reports/capacity", o.mixed.commissioner, "")
		res.addOther("report", status, time.Since(t0))
	}
}

func claimAndWork(ctx context.Context, c *http.Client, o *options, target string, res *results) {
	t0 := time.Now()
	status, body := call(ctx, c, http.MethodPost, target+"/api/v1/queues/riverside-link-workers/claim", o.mixed.linkWorker, "")
	res.addOther("claim", status, time.Since(t0))
	if status != http.StatusOK {
		return
	}
	var claim struct {
		Task struct{ ID string } `json:"task"`
	}
	if json.Unmarshal(body, &claim) != nil || claim.Task.ID == "" {
		return
	}
	for _, step := range []string{`{"status":"accepted"}`, `{"status":"accepted","businessStatus":{"code":"contacted"}}`} {
		t1 := time.Now()
		st, _ := call(ctx, c, http.MethodPost, target+"/api/v1/referrals/"+claim.Task.ID+"/transition", o.mixed.linkWorker, step)
		res.addOther("transition", st, time.Since(t1))
	}
}

func call(ctx context.Context, c *http.Client, method, url, token, body string, contentType ...string) (int, []byte) {
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != "" {
		ct := "application/json"
		if len(contentType) > 0 {
			ct = contentType[0]
		}
		req.Header.Set("Content-Type", ct)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}
