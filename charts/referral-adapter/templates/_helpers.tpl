{{- define "referral-adapter.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "referral-adapter.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* Names of the other objects: the base name leaves room for the suffix. */}}
{{- define "referral-adapter.metricsName" -}}
{{- printf "%s-metrics" (include "referral-adapter.fullname" . | trunc 55 | trimSuffix "-") -}}
{{- end -}}
{{- define "referral-adapter.mappingsName" -}}
{{- printf "%s-mappings" (include "referral-adapter.fullname" . | trunc 54 | trimSuffix "-") -}}
{{- end -}}
{{- define "referral-adapter.redisName" -}}
{{- printf "%s-redis" (include "referral-adapter.fullname" . | trunc 46 | trimSuffix "-") -}}
{{- end -}}

{{- define "referral-adapter.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "referral-adapter.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "referral-adapter.labels" -}}
app.kubernetes.io/name: {{ include "referral-adapter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end -}}

{{/* Pods of the adapter itself (the embedded Redis has component=redis). */}}
{{- define "referral-adapter.selectorLabels" -}}
app.kubernetes.io/name: {{ include "referral-adapter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: adapter
{{- end -}}

{{- define "referral-adapter.redisSelectorLabels" -}}
app.kubernetes.io/name: {{ include "referral-adapter.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: redis
{{- end -}}

{{- define "referral-adapter.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) -}}
{{- end -}}
{{- end -}}

{{- define "referral-adapter.redisImage" -}}
{{- $i := .Values.redis.embedded.image -}}
{{- if $i.digest -}}
{{- printf "%s@%s" $i.repository $i.digest -}}
{{- else -}}
{{- printf "%s:%s" $i.repository $i.tag -}}
{{- end -}}
{{- end -}}

{{/*
GOMEMLIMIT: 90% of the container memory limit, in bytes, when the limit is
a plain number of bytes or uses Ki, Mi or Gi; empty otherwise.
*/}}
{{- define "referral-adapter.goMemLimit" -}}
{{- $l := "" -}}
{{- with .Values.resources.limits -}}{{- with .memory -}}{{- $l = toString . -}}{{- end -}}{{- end -}}
{{- $bytes := 0 -}}
{{- if regexMatch "^[0-9]+Ki$" $l -}}{{- $bytes = mul (trimSuffix "Ki" $l | int64) 1024 -}}
{{- else if regexMatch "^[0-9]+Mi$" $l -}}{{- $bytes = mul (trimSuffix "Mi" $l | int64) 1048576 -}}
{{- else if regexMatch "^[0-9]+Gi$" $l -}}{{- $bytes = mul (trimSuffix "Gi" $l | int64) 1073741824 -}}
{{- else if regexMatch "^[0-9]+$" $l -}}{{- $bytes = $l | int64 -}}
{{- end -}}
{{- if gt (int64 $bytes) 0 -}}{{- div (mul $bytes 9) 10 -}}{{- end -}}
{{- end -}}

{{/* The Redis mode, after checking exactly one is chosen. */}}
{{- define "referral-adapter.redisMode" -}}
{{- $r := .Values.redis -}}
{{- $modes := list -}}
{{- if $r.url }}{{ $modes = append $modes "url" }}{{ end -}}
{{- if $r.clusterAddrs }}{{ $modes = append $modes "cluster" }}{{ end -}}
{{- if $r.sentinel.master }}{{ $modes = append $modes "sentinel" }}{{ end -}}
{{- if $r.embedded.enabled }}{{ $modes = append $modes "embedded" }}{{ end -}}
{{- if and $r.existingSecret (not $modes) }}{{ $modes = append $modes "secret" }}{{ end -}}
{{- if not $modes -}}
{{- fail "redis: set one of redis.url, redis.existingSecret, redis.clusterAddrs, redis.sentinel.master or redis.embedded.enabled (without Redis the adapter keeps everything in memory and loses it on restart)" -}}
{{- end -}}
{{- if gt (len $modes) 1 -}}
{{- fail (printf "redis: choose one of redis.url, redis.clusterAddrs, redis.sentinel.master, redis.embedded.enabled; got %s" (join ", " $modes)) -}}
{{- end -}}
{{- $mode := first $modes -}}
{{- if and $r.existingSecret (eq $mode "url") -}}
{{- fail "redis: redis.url and redis.existingSecret: put the whole URL in the Secret (key redis.existingSecretURLKey) and leave redis.url empty" -}}
{{- end -}}
{{- if and $r.existingSecret (eq $mode "embedded") -}}
{{- fail "redis: the embedded Redis has no password; leave redis.existingSecret empty" -}}
{{- end -}}
{{- if contains "@" $r.url -}}
{{- fail "redis: redis.url carries credentials; put the whole URL in a Secret and name it in redis.existingSecret" -}}
{{- end -}}
{{- if and $r.sentinel.master (not $r.sentinel.addrs) -}}
{{- fail "redis: redis.sentinel.master needs redis.sentinel.addrs" -}}
{{- end -}}
{{- $mode -}}
{{- end -}}

{{/* Checks that do not belong to one template. */}}
{{- define "referral-adapter.validate" -}}
{{- $ts := .Values.auth.tokenServer -}}
{{- if and (not .Values.auth.jwksURL) (not .Values.auth.jwksSecret) (not $ts.clientsSecret) -}}
{{- fail "auth: set auth.jwksURL, auth.jwksSecret or auth.tokenServer.clientsSecret (the development HS256 secret is not for clusters)" -}}
{{- end -}}
{{- if and $ts.clientsSecret (or (not $ts.signingKeySecret) (not $ts.tokenURL)) -}}
{{- fail "auth: auth.tokenServer.clientsSecret needs auth.tokenServer.signingKeySecret and auth.tokenServer.tokenURL" -}}
{{- end -}}
{{- if and (not $ts.clientsSecret) (or $ts.signingKeySecret $ts.tokenURL) -}}
{{- fail "auth: auth.tokenServer.signingKeySecret and tokenURL need auth.tokenServer.clientsSecret" -}}
{{- end -}}
{{- if hasKey .Values.env "AUTH_DEV_HS256_SECRET" -}}
{{- fail "auth: AUTH_DEV_HS256_SECRET is for development only and is never set by this chart" -}}
{{- end -}}
{{- range .Values.extraEnv -}}
{{- if eq .name "AUTH_DEV_HS256_SECRET" -}}
{{- fail "auth: AUTH_DEV_HS256_SECRET is for development only and is never set by this chart" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.mappings.existingConfigMap .Values.mappings.files -}}
{{- fail "mappings: set mappings.existingConfigMap or mappings.files, not both" -}}
{{- end -}}
{{- if le (int .Values.terminationGracePeriodSeconds) (add .Values.preStopSleepSeconds .Values.shutdownTimeoutSeconds | int) -}}
{{- fail (printf "terminationGracePeriodSeconds (%v) must exceed preStopSleepSeconds + shutdownTimeoutSeconds (%v): the kubelet would kill the adapter mid-drain" .Values.terminationGracePeriodSeconds (add .Values.preStopSleepSeconds .Values.shutdownTimeoutSeconds)) -}}
{{- end -}}
{{- if and .Values.metrics.serviceMonitor.enabled (not .Values.metrics.enabled) -}}
{{- fail "metrics: metrics.serviceMonitor.enabled needs metrics.enabled" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (gt (int .Values.autoscaling.minReplicas) (int .Values.autoscaling.maxReplicas)) -}}
{{- fail "autoscaling: minReplicas must not exceed maxReplicas" -}}
{{- end -}}
{{- end -}}

{{- define "referral-adapter.minReplicas" -}}
{{- if .Values.autoscaling.enabled -}}{{ .Values.autoscaling.minReplicas }}{{- else -}}{{ .Values.replicaCount }}{{- end -}}
{{- end -}}

{{/* The embedded Redis's redis.conf: deploy/redis.conf's durability settings. */}}
{{- define "referral-adapter.redisConf" -}}
port 6379
bind * -::*
protected-mode no
dir /data
# Durability: an acknowledged referral must survive a crash.
appendonly yes
appendfsync {{ .Values.redis.embedded.appendfsync }}
save 900 1
save 300 100
# Never evict: a referral is not a cache entry. Writes fail instead (503).
maxmemory {{ .Values.redis.embedded.maxmemoryMB }}mb
maxmemory-policy noeviction
# Keep Task hashes in the compact encoding (see deploy/redis.conf).
hash-max-listpack-value 256
{{ end -}}
