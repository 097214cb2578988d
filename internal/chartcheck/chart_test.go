package chartcheck_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/social-prescribing/referral-adapter/adapter/routing"
)

const (
	chartDir    = "../../charts/referral-adapter"
	release     = "sp"
	namespace   = "sp-test"
	fullname    = "sp-referral-adapter"
	helmVersion = "v3.16.4"
	// kubeVersion is the cluster version rendered for: helm built with go
	// install defaults to v1.20, below the chart's kubeVersion.
	kubeVersion = "1.31.0"
)

// helmPath finds helm: $HELM, PATH, or the pinned build scripts/helm
// caches. Under CI a missing helm is a failure, never a skip.
func helmPath(t *testing.T) string {
	t.Helper()
	if h := os.Getenv("HELM"); h != "" {
		return h
	}
	if h, err := exec.LookPath("helm"); err == nil {
		return h
	}
	if dir, err := os.UserCacheDir(); err == nil {
		h := filepath.Join(dir, "referral-adapter", "helm-"+helmVersion, "helm")
		if _, err := os.Stat(h); err == nil {
			return h
		}
	}
	msg := "helm not found (HELM, PATH or the scripts/helm cache); ./scripts/chart-check builds helm " + helmVersion + " from the Go module proxy"
	if os.Getenv("CI") != "" {
		t.Fatal(msg + ": CI must run the chart tests")
	}
	t.Skip(msg)
	return ""
}

// values writes v as a values file and returns the helm flag for it.
func values(t *testing.T, v map[string]any) []string {
	t.Helper()
	b, err := yaml.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "values.yaml")
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return []string{"--values", f}
}

func helm(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(helmPath(t), args...)
	var out, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &stderr
	// Keep helm away from the user's repositories and plugins.
	home := t.TempDir()
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+home, "HELM_CONFIG_HOME="+home, "HELM_DATA_HOME="+home)
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("helm %s: %w\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return out.String(), nil
}

// manifests is one rendering, by kind and name.
type manifests struct {
	objs map[string]any // "Kind/name" → decoded object
	keys []string
}

func (m manifests) get(t *testing.T, kind, name string) any {
	t.Helper()
	o, ok := m.objs[kind+"/"+name]
	if !ok {
		t.Fatalf("no %s/%s rendered; have %v", kind, name, m.keys)
	}
	return o
}

func (m manifests) has(kind, name string) bool { _, ok := m.objs[kind+"/"+name]; return ok }

func (m manifests) count(kind string) int {
	n := 0
	for _, k := range m.keys {
		if strings.HasPrefix(k, kind+"/") {
			n++
		}
	}
	return n
}

// render lints the chart with these values, renders it, and decodes every
// document strictly into its Kubernetes type.
func render(t *testing.T, v map[string]any) manifests {
	t.Helper()
	return renderFor(t, kubeVersion, v)
}

// renderFor renders for a cluster of the given Kubernetes version.
func renderFor(t *testing.T, kubeVersion string, v map[string]any) manifests {
	t.Helper()
	flags := values(t, v)
	if _, err := helm(t, append([]string{"lint", "--strict", chartDir, "--namespace", namespace, "--kube-version", kubeVersion}, flags...)...); err != nil {
		t.Fatalf("lint: %v", err)
	}
	out, err := helm(t, append([]string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion}, flags...)...)
	if err != nil {
		t.Fatal(err)
	}
	return decodeAll(t, out)
}

func decodeAll(t *testing.T, out string) manifests {
	t.Helper()
	m := manifests{objs: map[string]any{}}
	dec := yaml.NewDecoder(strings.NewReader(out))
	for i := 0; ; i++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("document %d does not parse: %v", i, err)
		}
		if len(doc.Content) == 0 || doc.Content[0].Kind == yaml.ScalarNode && doc.Content[0].Tag == "!!null" {
			continue // an empty document (a template rendering nothing)
		}
		var h header
		if err := doc.Decode(&h); err != nil {
			t.Fatalf("document %d is not an object: %v", i, err)
		}
		if h.APIVersion == "" || h.Kind == "" || h.Metadata.Name == "" {
			t.Fatalf("document %d lacks apiVersion, kind or metadata.name: %+v", i, h)
		}
		if len(h.Metadata.Name) > 63 {
			t.Errorf("%s %s: name longer than 63 characters", h.Kind, h.Metadata.Name)
		}
		newObj, ok := kinds[h.APIVersion+"/"+h.Kind]
		if !ok {
			t.Fatalf("document %d: unexpected %s %s", i, h.APIVersion, h.Kind)
		}
		obj := newObj()
		// Re-encode the node so KnownFields applies: unknown fields fail.
		b, err := yaml.Marshal(&doc)
		if err != nil {
			t.Fatal(err)
		}
		strict := yaml.NewDecoder(bytes.NewReader(b))
		strict.KnownFields(true)
		if err := strict.Decode(obj); err != nil {
			t.Fatalf("%s %s does not decode as a Kubernetes %s: %v", h.Kind, h.Metadata.Name, h.Kind, err)
		}
		key := h.Kind + "/" + h.Metadata.Name
		if _, dup := m.objs[key]; dup {
			t.Fatalf("%s rendered twice", key)
		}
		if h.Metadata.Labels["app.kubernetes.io/instance"] != release {
			t.Errorf("%s: no app.kubernetes.io/instance label", key)
		}
		m.objs[key] = obj
		m.keys = append(m.keys, key)
	}
	slices.Sort(m.keys)
	return m
}

// mustFail renders with these values and wants helm to refuse, saying want.
func mustFail(t *testing.T, want string, v map[string]any) {
	t.Helper()
	out, err := helm(t, append([]string{"template", release, chartDir, "--namespace", namespace, "--kube-version", kubeVersion}, values(t, v)...)...)
	if err == nil {
		t.Fatalf("helm rendered values it should refuse (%v):\n%.400s", v, out)
	}
	if !strings.Contains(err.Error(), want) {
		t.Fatalf("helm failed, but not saying %q:\n%v", want, err)
	}
}

// base is the smallest deployable configuration: an external Redis and an
// identity provider's JWKS.
func base(extra map[string]any) map[string]any {
	v := map[string]any{
		"redis": map[string]any{"url": "redis://redis.data:6379/0"},
		"auth":  map[string]any{"jwksURL": "https://idp.example/jwks"},
	}
	return merge(v, extra)
}

func merge(dst, src map[string]any) map[string]any {
	for k, sv := range src {
		if sm, ok := sv.(map[string]any); ok {
			if dm, ok := dst[k].(map[string]any); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = sv
	}
	return dst
}

// --- helpers on decoded objects

func adapterContainer(t *testing.T, d *deployment) *container {
	t.Helper()
	for i := range d.Spec.Template.Spec.Containers {
		if d.Spec.Template.Spec.Containers[i].Name == "adapter" {
			return &d.Spec.Template.Spec.Containers[i]
		}
	}
	t.Fatal("no adapter container")
	return nil
}

func env(c *container) map[string]envVar {
	m := map[string]envVar{}
	for _, e := range c.Env {
		m[e.Name] = e
	}
	return m
}

func envValue(t *testing.T, c *container, name string) string {
	t.Helper()
	e, ok := env(c)[name]
	if !ok {
		t.Fatalf("env %s not set", name)
	}
	if e.Value == nil {
		t.Fatalf("env %s is not a plain value", name)
	}
	return *e.Value
}

func selects(selector, labels map[string]string) bool {
	if len(selector) == 0 {
		return false
	}
	for k, v := range selector {
		if labels[k] != v {
			return false
		}
	}
	return true
}

func isTrue(b *bool) bool  { return b != nil && *b }
func isFalse(b *bool) bool { return b != nil && !*b }

// mountFor is the mount path of the named volume in c.
func mountFor(t *testing.T, c *container, vol string) string {
	t.Helper()
	for _, m := range c.VolumeMounts {
		if m.Name == vol {
			if !m.ReadOnly && vol != "tmp" && vol != "data" {
				t.Errorf("volume %s is mounted writable", vol)
			}
			return m.MountPath
		}
	}
	t.Fatalf("volume %s not mounted", vol)
	return ""
}

func volumeNamed(t *testing.T, p *podSpec, name string) volume {
	t.Helper()
	for _, v := range p.Volumes {
		if v.Name == name {
			return v
		}
	}
	t.Fatalf("no volume %s", name)
	return volume{}
}

// readmeVariables are the environment variables the README's configuration
// table documents.
func readmeVariables(t *testing.T) map[string]bool {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	vars := map[string]bool{}
	in := false
	name := regexp.MustCompile("`([A-Z][A-Z0-9_]+)`")
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "## ") {
			in = line == "## Configuration"
			continue
		}
		if in && strings.HasPrefix(line, "| `") {
			first := strings.SplitN(line, "|", 3)[1]
			for _, m := range name.FindAllStringSubmatch(first, -1) {
				vars[m[1]] = true
			}
		}
	}
	if len(vars) < 20 {
		t.Fatalf("found only %d variables in the README's Configuration table", len(vars))
	}
	return vars
}

// quantityBytes parses the Kubernetes memory quantities the chart uses.
func quantityBytes(t *testing.T, q string) int64 {
	t.Helper()
	for _, u := range []struct {
		suffix string
		factor int64
	}{{"Gi", 1 << 30}, {"Mi", 1 << 20}, {"Ki", 1 << 10}, {"", 1}} {
		if n, err := strconv.ParseInt(strings.TrimSuffix(q, u.suffix), 10, 64); strings.HasSuffix(q, u.suffix) && err == nil {
			return n * u.factor
		}
	}
	t.Fatalf("quantity %q", q)
	return 0
}

// checkAdapter asserts what every rendering's Deployment must have.
func checkAdapter(t *testing.T, m manifests) (*deployment, *container) {
	t.Helper()
	d := m.get(t, "Deployment", fullname).(*deployment)
	pod := &d.Spec.Template.Spec
	c := adapterContainer(t, d)

	if !selects(d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Errorf("Deployment selector %v does not select its pods %v", d.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels)
	}
	if !isTrue(pod.SecurityContext.RunAsNonRoot) || pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
		t.Errorf("pod is not non-root: %+v", pod.SecurityContext)
	}
	sc := c.SecurityContext
	if !isTrue(sc.ReadOnlyRootFilesystem) || !isFalse(sc.AllowPrivilegeEscalation) || !slices.Contains(sc.Capabilities.Drop, "ALL") {
		t.Errorf("container security context: %+v", sc)
	}
	if !isFalse(pod.AutomountServiceAccountToken) {
		t.Error("service account token is mounted; the adapter never calls the Kubernetes API")
	}
	for _, r := range []string{"cpu", "memory"} {
		if c.Resources.Requests[r] == "" {
			t.Errorf("no %s request", r)
		}
	}
	limit := c.Resources.Limits["memory"]
	if limit == "" {
		t.Fatal("no memory limit")
	}
	if quantityBytes(t, c.Resources.Requests["memory"]) > quantityBytes(t, limit) {
		t.Errorf("memory request above the limit")
	}
	if got, want := envValue(t, c, "GOMEMLIMIT"), strconv.FormatInt(quantityBytes(t, limit)*9/10, 10); got != want {
		t.Errorf("GOMEMLIMIT = %s, want 90%% of the %s limit: %s", got, limit, want)
	}
	if got := envValue(t, c, "GOGC"); got != "200" {
		t.Errorf("GOGC = %q, want the values' 200", got)
	}

	// Probes on the API port, by name.
	ports := map[string]int{}
	for _, p := range c.Ports {
		ports[p.Name] = p.ContainerPort
	}
	if ports["http"] != 8080 || envValue(t, c, "ADDR") != ":8080" {
		t.Errorf("API port: %v, ADDR %s", ports, envValue(t, c, "ADDR"))
	}
	for name, p := range map[string]*probe{"/healthz": c.LivenessProbe, "/readyz": c.ReadinessProbe} {
		if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != name || p.HTTPGet.Port != "http" {
			t.Errorf("probe %s: %+v", name, p)
		} else if p.PeriodSeconds == 0 || p.TimeoutSeconds == 0 {
			t.Errorf("probe %s without period or timeout", name)
		}
	}

	// Termination: the kubelet must not kill the adapter mid-drain.
	shutdown, err := time.ParseDuration(envValue(t, c, "SHUTDOWN_TIMEOUT"))
	if err != nil {
		t.Fatalf("SHUTDOWN_TIMEOUT: %v", err)
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	var preStop time.Duration
	if c.Lifecycle != nil && c.Lifecycle.PreStop != nil && c.Lifecycle.PreStop.Sleep != nil {
		preStop = time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
	}
	if grace <= shutdown+preStop {
		t.Errorf("terminationGracePeriodSeconds %v not above preStop %v + SHUTDOWN_TIMEOUT %v", grace, preStop, shutdown)
	}

	// Metrics: their own port, never the API's.
	if addr := envValue(t, c, "METRICS_ADDR"); addr != "off" {
		if addr != fmt.Sprintf(":%d", ports["metrics"]) || ports["metrics"] == 8080 || ports["metrics"] == 0 {
			t.Errorf("METRICS_ADDR %s, ports %v", addr, ports)
		}
	}

	// Every variable set is the README's, and the dev secret never is.
	documented := readmeVariables(t)
	for _, e := range c.Env {
		if e.Name == "AUTH_DEV_HS256_SECRET" {
			t.Error("AUTH_DEV_HS256_SECRET set")
		}
		if !documented[e.Name] && e.Name != "GOMEMLIMIT" && e.Name != "GOGC" {
			t.Errorf("env %s is not in the README's Configuration table", e.Name)
		}
		if (e.Value == nil) == (e.ValueFrom == nil) {
			t.Errorf("env %s: exactly one of value and valueFrom", e.Name)
		}
	}

	// Every mount has a volume.
	vols := map[string]bool{}
	for _, v := range pod.Volumes {
		vols[v.Name] = true
	}
	for _, vm := range c.VolumeMounts {
		if !vols[vm.Name] {
			t.Errorf("mount %s has no volume", vm.Name)
		}
	}

	// The API Service selects these pods on the http port; metrics stay off it.
	svc := m.get(t, "Service", fullname).(*service)
	if !selects(svc.Spec.Selector, d.Spec.Template.Metadata.Labels) {
		t.Errorf("Service selector %v does not select the adapter pods", svc.Spec.Selector)
	}
	if len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].TargetPort != "http" {
		t.Errorf("API Service ports: %+v (metrics must not be on it)", svc.Spec.Ports)
	}
	if m.has("Service", fullname+"-metrics") {
		ms := m.get(t, "Service", fullname+"-metrics").(*service)
		if ms.Spec.Type != "ClusterIP" || !selects(ms.Spec.Selector, d.Spec.Template.Metadata.Labels) ||
			len(ms.Spec.Ports) != 1 || ms.Spec.Ports[0].TargetPort != "metrics" || ms.Spec.Ports[0].Port != ports["metrics"] {
			t.Errorf("metrics Service: %+v", ms.Spec)
		}
	}

	// A PDB, when there is one, covers exactly these pods.
	if m.has("PodDisruptionBudget", fullname) {
		p := m.get(t, "PodDisruptionBudget", fullname).(*pdb)
		if !selects(p.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
			t.Errorf("PDB selector %v does not select the adapter pods", p.Spec.Selector.MatchLabels)
		}
		if m.has("StatefulSet", fullname+"-redis") {
			r := m.get(t, "StatefulSet", fullname+"-redis").(*statefulSet)
			if selects(p.Spec.Selector.MatchLabels, r.Spec.Template.Metadata.Labels) {
				t.Error("the adapter's PDB selects the Redis pod")
			}
		}
	}
	if sa := pod.ServiceAccountName; sa != "" && sa != "default" {
		m.get(t, "ServiceAccount", sa)
	}
	return d, c
}

func TestChartDefaultsWithExternalRedis(t *testing.T) {
	t.Parallel()
	m := render(t, base(nil))
	d, c := checkAdapter(t, m)

	want := []string{
		"Deployment/" + fullname, "PodDisruptionBudget/" + fullname, "Service/" + fullname,
		"Service/" + fullname + "-metrics", "ServiceAccount/" + fullname,
	}
	if !slices.Equal(m.keys, want) {
		t.Errorf("rendered %v, want %v", m.keys, want)
	}
	if d.Spec.Replicas == nil || *d.Spec.Replicas != 2 {
		t.Errorf("replicas %v, want 2", d.Spec.Replicas)
	}
	if got := envValue(t, c, "REDIS_URL"); got != "redis://redis.data:6379/0" {
		t.Errorf("REDIS_URL %q", got)
	}
	if got := envValue(t, c, "METRICS_ADDR"); got != ":9090" {
		t.Errorf("METRICS_ADDR %q", got)
	}
	if got := envValue(t, c, "SHUTDOWN_TIMEOUT"); got != "20s" {
		t.Errorf("SHUTDOWN_TIMEOUT %q, want the README's default 20s", got)
	}
	if _, ok := env(c)["MAPPINGS_DIR"]; ok {
		t.Error("MAPPINGS_DIR set without mappings: the image's own must be used")
	}
	if a := d.Spec.Template.Metadata.Annotations; a["prometheus.io/port"] != "9090" || a["prometheus.io/scrape"] != "true" {
		t.Errorf("scrape annotations: %v", a)
	}
	if len(d.Spec.Template.Spec.TopologySpreadConstraints) != 2 {
		t.Error("replicas are not spread across nodes and zones")
	}
	for _, tsc := range d.Spec.Template.Spec.TopologySpreadConstraints {
		if !selects(tsc.LabelSelector.MatchLabels, d.Spec.Template.Metadata.Labels) {
			t.Errorf("topology spread on %s does not select the pods", tsc.TopologyKey)
		}
	}
	if ru := d.Spec.Strategy.RollingUpdate; ru.MaxUnavailable != 0 {
		t.Errorf("rolling update may take replicas away: %v", ru.MaxUnavailable)
	}
}

func TestChartEmbeddedRedis(t *testing.T) {
	t.Parallel()
	m := render(t, map[string]any{
		"redis": map[string]any{"embedded": map[string]any{"enabled": true}},
		"auth":  map[string]any{"jwksURL": "https://idp.example/jwks"},
	})
	d, c := checkAdapter(t, m)
	name := fullname + "-redis"
	if got, want := envValue(t, c, "REDIS_URL"), "redis://"+name+":6379/0"; got != want {
		t.Errorf("REDIS_URL %q, want %q", got, want)
	}

	sts := m.get(t, "StatefulSet", name).(*statefulSet)
	pod := &sts.Spec.Template.Spec
	if sts.Spec.Replicas == nil || *sts.Spec.Replicas != 1 || sts.Spec.ServiceName != name {
		t.Errorf("StatefulSet: replicas %v, serviceName %q", sts.Spec.Replicas, sts.Spec.ServiceName)
	}
	if !selects(sts.Spec.Selector.MatchLabels, sts.Spec.Template.Metadata.Labels) {
		t.Error("StatefulSet selector does not select its pod")
	}
	if selects(d.Spec.Selector.MatchLabels, sts.Spec.Template.Metadata.Labels) ||
		selects(sts.Spec.Selector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Error("the adapter's and Redis's selectors overlap")
	}
	if !isTrue(pod.SecurityContext.RunAsNonRoot) || pod.SecurityContext.RunAsUser == nil || *pod.SecurityContext.RunAsUser == 0 {
		t.Errorf("Redis pod is not non-root: %+v", pod.SecurityContext)
	}
	if len(pod.Containers) != 1 {
		t.Fatalf("Redis pod containers: %d", len(pod.Containers))
	}
	rc := &pod.Containers[0]
	if !isTrue(rc.SecurityContext.ReadOnlyRootFilesystem) || !isFalse(rc.SecurityContext.AllowPrivilegeEscalation) {
		t.Errorf("Redis container security context: %+v", rc.SecurityContext)
	}
	if rc.LivenessProbe == nil || rc.ReadinessProbe == nil {
		t.Error("Redis without probes")
	}
	if rc.Resources.Limits["memory"] == "" || rc.Resources.Requests["memory"] == "" {
		t.Error("Redis without memory request and limit")
	}
	if len(sts.Spec.VolumeClaimTemplates) != 1 || sts.Spec.VolumeClaimTemplates[0].Metadata.Name != "data" ||
		sts.Spec.VolumeClaimTemplates[0].Spec.Resources.Requests["storage"] == "" {
		t.Fatalf("Redis volume claim: %+v", sts.Spec.VolumeClaimTemplates)
	}
	if mountFor(t, rc, "data") != "/data" {
		t.Error("Redis data volume not at /data")
	}
	confDir := mountFor(t, rc, "config")
	if !slices.Equal(rc.Command, []string{"redis-server", confDir + "/redis.conf"}) {
		t.Errorf("Redis command %v", rc.Command)
	}

	// Its configuration has deploy/redis.conf's durability settings, and
	// refuses writes before the container's memory limit.
	cmName := volumeNamed(t, pod, "config").ConfigMap.Name
	conf := m.get(t, "ConfigMap", cmName).(*configMap).Data["redis.conf"]
	directives := map[string][]string{}
	for _, line := range strings.Split(conf, "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			directives[f[0]] = append(directives[f[0]], strings.Join(f[1:], " "))
		}
	}
	prod, err := os.ReadFile("../../deploy/redis.conf")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(prod), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		if !slices.Contains(directives[f[0]], strings.Join(f[1:], " ")) {
			t.Errorf("embedded redis.conf lacks deploy/redis.conf's %q (has %v)", line, directives[f[0]])
		}
	}
	if directives["dir"][0] != "/data" {
		t.Errorf("Redis writes to %v, not its volume", directives["dir"])
	}
	maxmemory := directives["maxmemory"]
	if len(maxmemory) != 1 || !strings.HasSuffix(maxmemory[0], "mb") {
		t.Fatalf("maxmemory %v", maxmemory)
	}
	mb, _ := strconv.ParseInt(strings.TrimSuffix(maxmemory[0], "mb"), 10, 64)
	if limit := quantityBytes(t, rc.Resources.Limits["memory"]); mb<<20 >= limit*8/10 {
		t.Errorf("maxmemory %dmb leaves too little of the %s limit for the AOF rewrite fork", mb, rc.Resources.Limits["memory"])
	}
	if sts.Spec.Template.Metadata.Annotations["checksum/config"] == "" {
		t.Error("Redis pod does not roll when its configuration changes")
	}

	svc := m.get(t, "Service", name).(*service)
	if !selects(svc.Spec.Selector, sts.Spec.Template.Metadata.Labels) || len(svc.Spec.Ports) != 1 || svc.Spec.Ports[0].Port != 6379 {
		t.Errorf("Redis Service: %+v", svc.Spec)
	}
	np := m.get(t, "NetworkPolicy", name).(*networkPolicy)
	if !selects(np.Spec.PodSelector.MatchLabels, sts.Spec.Template.Metadata.Labels) || len(np.Spec.Ingress) != 1 ||
		len(np.Spec.Ingress[0].From) != 1 || np.Spec.Ingress[0].From[0].PodSelector == nil ||
		!selects(np.Spec.Ingress[0].From[0].PodSelector.MatchLabels, d.Spec.Template.Metadata.Labels) {
		t.Errorf("Redis NetworkPolicy does not admit exactly the adapter pods: %+v", np.Spec)
	}

	// everysec is the one alternative.
	m2 := render(t, map[string]any{
		"redis": map[string]any{"embedded": map[string]any{"enabled": true, "appendfsync": "everysec"}},
		"auth":  map[string]any{"jwksURL": "https://idp.example/jwks"},
	})
	if !strings.Contains(m2.get(t, "ConfigMap", cmName).(*configMap).Data["redis.conf"], "appendfsync everysec") {
		t.Error("appendfsync everysec not rendered")
	}
	if m2.get(t, "StatefulSet", name).(*statefulSet).Spec.Template.Metadata.Annotations["checksum/config"] ==
		sts.Spec.Template.Metadata.Annotations["checksum/config"] {
		t.Error("checksum/config unchanged by a configuration change")
	}
}

// inlineMappings are the repository's default mappings, as values.
func inlineMappings(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob("../../mappings/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("mappings: %v %v", files, err)
	}
	m := map[string]any{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		m[filepath.Base(f)] = string(b)
	}
	return m
}

func TestChartAutoscalingServiceMonitorInlineMappings(t *testing.T) {
	t.Parallel()
	files := inlineMappings(t)
	v := func(files map[string]any) map[string]any {
		return base(map[string]any{
			"autoscaling":   map[string]any{"enabled": true, "minReplicas": 3, "maxReplicas": 9},
			"metrics":       map[string]any{"serviceMonitor": map[string]any{"enabled": true, "labels": map[string]any{"release": "prom"}}},
			"mappings":      map[string]any{"files": files},
			"networkPolicy": map[string]any{"enabled": true},
		})
	}
	m := render(t, v(files))
	d, c := checkAdapter(t, m)

	if d.Spec.Replicas != nil {
		t.Error("replicas set although the HPA owns them")
	}
	h := m.get(t, "HorizontalPodAutoscaler", fullname).(*hpa)
	ref := h.Spec.ScaleTargetRef
	if ref.APIVersion != d.APIVersion || ref.Kind != "Deployment" || ref.Name != d.Metadata.Name {
		t.Errorf("HPA targets %+v", ref)
	}
	if h.Spec.MinReplicas != 3 || h.Spec.MaxReplicas != 9 || len(h.Spec.Metrics) == 0 {
		t.Errorf("HPA spec: %+v", h.Spec)
	}
	if !m.has("PodDisruptionBudget", fullname) {
		t.Error("no PDB with three replicas")
	}

	sm := m.get(t, "ServiceMonitor", fullname).(*serviceMonitor)
	ms := m.get(t, "Service", fullname+"-metrics").(*service)
	if !selects(sm.Spec.Selector.MatchLabels, ms.Metadata.Labels) || selects(sm.Spec.Selector.MatchLabels, m.get(t, "Service", fullname).(*service).Metadata.Labels) {
		t.Errorf("ServiceMonitor selector %v must select the metrics Service only", sm.Spec.Selector.MatchLabels)
	}
	if len(sm.Spec.Endpoints) != 1 || sm.Spec.Endpoints[0].Port != ms.Spec.Ports[0].Name || sm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("ServiceMonitor endpoints: %+v", sm.Spec.Endpoints)
	}
	if sm.Metadata.Labels["release"] != "prom" || !slices.Equal(sm.Spec.NamespaceSelector.MatchNames, []string{namespace}) {
		t.Errorf("ServiceMonitor labels %v, namespaces %v", sm.Metadata.Labels, sm.Spec.NamespaceSelector.MatchNames)
	}
	if _, ok := d.Spec.Template.Metadata.Annotations["prometheus.io/scrape"]; ok {
		t.Error("scrape annotations as well as a ServiceMonitor: scraped twice")
	}

	// The mappings ConfigMap holds the files intact, where MAPPINGS_DIR says.
	cm := m.get(t, "ConfigMap", fullname+"-mappings").(*configMap)
	if vol := volumeNamed(t, &d.Spec.Template.Spec, "mappings"); vol.ConfigMap == nil || vol.ConfigMap.Name != cm.Metadata.Name {
		t.Fatalf("mappings volume %+v", vol)
	}
	if dir := mountFor(t, c, "mappings"); envValue(t, c, "MAPPINGS_DIR") != dir {
		t.Errorf("MAPPINGS_DIR %s, mounted at %s", envValue(t, c, "MAPPINGS_DIR"), dir)
	}
	dir := t.TempDir()
	for name, content := range cm.Data {
		if content != files[name] {
			t.Errorf("ConfigMap %s differs from the values", name)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if len(cm.Data) != len(files) {
		t.Errorf("ConfigMap has %d files, want %d", len(cm.Data), len(files))
	}
	if _, err := routing.Load(os.DirFS(dir), dir); err != nil {
		t.Errorf("the mounted mappings do not load: %v", err)
	}

	// Changing a mapping rolls the pods.
	sum := d.Spec.Template.Metadata.Annotations["checksum/mappings"]
	if sum == "" {
		t.Fatal("no checksum/mappings annotation")
	}
	changed := map[string]any{}
	for k, s := range files {
		changed[k] = s
	}
	changed["99-extra.yaml"] = "# nothing\n"
	d2 := render(t, v(changed)).get(t, "Deployment", fullname).(*deployment)
	if d2.Spec.Template.Metadata.Annotations["checksum/mappings"] == sum {
		t.Error("checksum/mappings unchanged by a mapping change")
	}

	np := m.get(t, "NetworkPolicy", fullname).(*networkPolicy)
	if !selects(np.Spec.PodSelector.MatchLabels, d.Spec.Template.Metadata.Labels) || len(np.Spec.Ingress) != 2 {
		t.Errorf("adapter NetworkPolicy: %+v", np.Spec)
	}
}

func TestChartSecretReferences(t *testing.T) {
	t.Parallel()
	m := render(t, map[string]any{
		"redis": map[string]any{"existingSecret": "redis-creds"},
		"auth": map[string]any{
			"jwksSecret": "idp-jwks",
			"issuer":     "https://idp.example",
			"tokenServer": map[string]any{
				"clientsSecret": "smart-clients", "signingKeySecret": "smart-signing-key",
				"tokenURL": "https://sp.example.nhs.uk/auth/token",
			},
		},
		"mappings": map[string]any{"existingConfigMap": "pcn-mappings"},
		"extraEnv": []any{map[string]any{"name": "RATE_LIMIT_PER_MINUTE", "value": "600"}},
		"env":      map[string]any{"CONSENT_HOLD_MAX_AGE": "480h"},
	})
	d, c := checkAdapter(t, m)
	pod := &d.Spec.Template.Spec
	e := env(c)

	url := e["REDIS_URL"]
	if url.Value != nil || url.ValueFrom == nil || url.ValueFrom.SecretKeyRef == nil ||
		url.ValueFrom.SecretKeyRef.Name != "redis-creds" || url.ValueFrom.SecretKeyRef.Key != "REDIS_URL" {
		t.Errorf("REDIS_URL is not from the Secret: %+v", url)
	}
	// Each file variable names a file in a read-only mount of its Secret.
	for variable, want := range map[string][2]string{
		"AUTH_JWKS_FILE":        {"idp-jwks", "jwks.json"},
		"AUTH_CLIENTS_FILE":     {"smart-clients", "clients.json"},
		"AUTH_SIGNING_KEY_FILE": {"smart-signing-key", "signing-key.pem"},
	} {
		path := envValue(t, c, variable)
		found := false
		for _, v := range pod.Volumes {
			if v.Secret == nil || v.Secret.SecretName != want[0] {
				continue
			}
			found = true
			if dir := mountFor(t, c, v.Name); path != dir+"/"+want[1] {
				t.Errorf("%s = %s, but Secret %s is mounted at %s", variable, path, want[0], dir)
			}
			if len(v.Secret.Items) != 1 || v.Secret.Items[0].Key != want[1] || v.Secret.Items[0].Path != want[1] {
				t.Errorf("Secret %s items %+v", want[0], v.Secret.Items)
			}
		}
		if !found {
			t.Errorf("no volume for Secret %s", want[0])
		}
	}
	if envValue(t, c, "AUTH_TOKEN_URL") != "https://sp.example.nhs.uk/auth/token" || envValue(t, c, "AUTH_ISSUER") != "https://idp.example" {
		t.Error("token server settings")
	}
	if vol := volumeNamed(t, pod, "mappings"); vol.ConfigMap == nil || vol.ConfigMap.Name != "pcn-mappings" {
		t.Errorf("mappings volume %+v", vol)
	}
	if envValue(t, c, "MAPPINGS_DIR") != mountFor(t, c, "mappings") {
		t.Error("MAPPINGS_DIR is not the mappings mount")
	}
	if m.count("ConfigMap") != 0 {
		t.Error("a mappings ConfigMap rendered beside the existing one")
	}
	if envValue(t, c, "RATE_LIMIT_PER_MINUTE") != "600" || envValue(t, c, "CONSENT_HOLD_MAX_AGE") != "480h" {
		t.Error("env and extraEnv not passed on")
	}

	// Sentinel: the password, optional, from the Secret.
	m = render(t, map[string]any{
		"redis": map[string]any{"existingSecret": "redis-creds", "sentinel": map[string]any{"master": "mymaster", "addrs": "s1:26379,s2:26379"}},
		"auth":  map[string]any{"jwksURL": "https://idp.example/jwks"},
	})
	_, c = checkAdapter(t, m)
	e = env(c)
	if pw := e["REDIS_PASSWORD"]; pw.ValueFrom == nil || pw.ValueFrom.SecretKeyRef == nil || pw.ValueFrom.SecretKeyRef.Key != "REDIS_PASSWORD" || !isTrue(pw.ValueFrom.SecretKeyRef.Optional) {
		t.Errorf("REDIS_PASSWORD: %+v", pw)
	}
	if _, ok := e["REDIS_URL"]; ok {
		t.Error("REDIS_URL set with Sentinel")
	}
	if envValue(t, c, "REDIS_SENTINEL_MASTER") != "mymaster" || envValue(t, c, "REDIS_SENTINEL_ADDRS") != "s1:26379,s2:26379" {
		t.Error("Sentinel settings")
	}
}

func TestChartMetricsOffSingleReplica(t *testing.T) {
	t.Parallel()
	m := render(t, base(map[string]any{"replicaCount": 1, "metrics": map[string]any{"enabled": false}, "preStopSleepSeconds": 0}))
	_, c := checkAdapter(t, m)
	if envValue(t, c, "METRICS_ADDR") != "off" || m.has("Service", fullname+"-metrics") {
		t.Error("metrics not off")
	}
	for _, p := range c.Ports {
		if p.Name == "metrics" {
			t.Error("metrics port declared")
		}
	}
	if m.has("PodDisruptionBudget", fullname) {
		t.Error("a PDB with minAvailable 1 over one replica blocks every node drain")
	}
	if c.Lifecycle != nil {
		t.Error("preStop hook rendered with preStopSleepSeconds 0")
	}

	// The sleep action exists from Kubernetes 1.30; before, no hook.
	if _, c := checkAdapter(t, renderFor(t, "1.29.4", base(nil))); c.Lifecycle != nil {
		t.Error("preStop sleep rendered for Kubernetes 1.29")
	}
	if _, c := checkAdapter(t, render(t, base(nil))); c.Lifecycle == nil || c.Lifecycle.PreStop.Sleep.Seconds != 5 {
		t.Error("no preStop sleep for Kubernetes 1.31")
	}
}

func TestChartRefusesBadValues(t *testing.T) {
	t.Parallel()
	jwks := map[string]any{"jwksURL": "https://idp.example/jwks"}
	cases := []struct {
		name, want string
		values     map[string]any
	}{
		{"replicaCount not a number", "replicaCount: Invalid type", base(map[string]any{"replicaCount": "two"})},
		{"unknown log level", "logLevel", base(map[string]any{"logLevel": "verbose"})},
		{"unknown key", "Additional property mappingsConfigMap", base(map[string]any{"mappingsConfigMap": "x"})},
		{"writable root filesystem", "readOnlyRootFilesystem", base(map[string]any{"securityContext": map[string]any{"readOnlyRootFilesystem": false}})},
		{"root", "runAsNonRoot", base(map[string]any{"podSecurityContext": map[string]any{"runAsNonRoot": false}})},
		{"no memory limit", "limits: memory is required", base(map[string]any{"resources": map[string]any{"limits": map[string]any{"memory": nil}}})},
		{"appendfsync no", "appendfsync", base(map[string]any{"redis": map[string]any{"embedded": map[string]any{"appendfsync": "no"}}})},
		{"no Redis", "redis: set one of", map[string]any{"auth": jwks}},
		{"two Redis", "redis: choose one", map[string]any{"auth": jwks, "redis": map[string]any{"url": "redis://r:6379", "embedded": map[string]any{"enabled": true}}}},
		{"password in the URL", "Secret", base(map[string]any{"redis": map[string]any{"url": "redis://:hunter2@r:6379/0"}})},
		{"URL and Secret", "redis.existingSecret", base(map[string]any{"redis": map[string]any{"existingSecret": "s"}})},
		{"sentinel without addresses", "sentinel.addrs", map[string]any{"auth": jwks, "redis": map[string]any{"sentinel": map[string]any{"master": "m"}}}},
		{"no token verification", "auth: set", map[string]any{"redis": map[string]any{"url": "redis://r:6379"}}},
		{"dev secret in env", "AUTH_DEV_HS256_SECRET", base(map[string]any{"env": map[string]any{"AUTH_DEV_HS256_SECRET": "dev-only-secret-change-me"}})},
		{"dev secret in extraEnv", "AUTH_DEV_HS256_SECRET", base(map[string]any{"extraEnv": []any{map[string]any{"name": "AUTH_DEV_HS256_SECRET", "value": "dev-only-secret-change-me"}}})},
		{"clients without signing key", "signingKeySecret", base(map[string]any{"auth": map[string]any{"tokenServer": map[string]any{"clientsSecret": "c", "tokenURL": "https://x/auth/token"}}})},
		{"two mapping sources", "mappings:", base(map[string]any{"mappings": map[string]any{"existingConfigMap": "m", "files": map[string]any{"a.yaml": "x: 1\n"}}})},
		{"mapping file not yaml", "rules.txt", base(map[string]any{"mappings": map[string]any{"files": map[string]any{"rules.txt": "x"}}})},
		{"grace within the shutdown", "terminationGracePeriodSeconds", base(map[string]any{"terminationGracePeriodSeconds": 20})},
		{"metrics on the API port", "metrics.port", base(map[string]any{"metrics": map[string]any{"port": 8080}})},
		{"ServiceMonitor without metrics", "serviceMonitor", base(map[string]any{"metrics": map[string]any{"enabled": false, "serviceMonitor": map[string]any{"enabled": true}}})},
		{"min above max replicas", "minReplicas", base(map[string]any{"autoscaling": map[string]any{"enabled": true, "minReplicas": 5, "maxReplicas": 2}})},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			mustFail(t, tc.want, tc.values)
		})
	}
}
