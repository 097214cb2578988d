// Package chartcheck holds the tests of the Helm chart in
// charts/referral-adapter: they render it with helm for several sets of
// values, decode every manifest against the part of the Kubernetes API the
// chart uses (unknown fields are errors), and check the fields that keep
// the service safe and running. Values the schema or the chart's own
// checks refuse must make helm fail.
//
// helm comes from $HELM, then PATH, then the pinned build scripts/helm
// caches (v3.16.4 from the Go module proxy). Without one the tests skip,
// except under CI (CI set), where they fail: scripts/test always provides
// it.
package chartcheck
