{{/*
Expand the name of the chart.
*/}}
{{- define "cron-connector.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Create a default fully qualified app name.
Truncated at 63 chars because some Kubernetes name fields are limited to this (DNS-1123 label).
If the release name contains the chart name it is used as the full name.
*/}}
{{- define "cron-connector.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Chart name and version as used by the helm.sh/chart label.
*/}}
{{- define "cron-connector.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Selector labels: stable for the lifetime of a release.
*/}}
{{- define "cron-connector.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cron-connector.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
Common labels.
*/}}
{{- define "cron-connector.labels" -}}
helm.sh/chart: {{ include "cron-connector.chart" . }}
{{ include "cron-connector.selectorLabels" . }}
app.kubernetes.io/component: connector
app.kubernetes.io/part-of: openfaas
{{- if .Chart.AppVersion }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
{{- end }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/*
Labels of the IAM objects. They live in iam.namespace, away from the release, so they also
record the release namespace: `kubectl get policies -n openfaas -l <label>=<namespace>` finds
the objects of every release in a tenant namespace.
*/}}
{{- define "cron-connector.iamLabels" -}}
{{ include "cron-connector.labels" . }}
cron-connector.openfaas.com/release-namespace: {{ .Release.Namespace }}
{{- end }}

{{/*
The number of replicas, as an integer (checked by "cron-connector.validate").
*/}}
{{- define "cron-connector.replicas" -}}
{{- .Values.replicas | int64 }}
{{- end }}

{{/*
Leader election on a coordination.k8s.io/v1 Lease: leaderElection.enabled when it is a boolean,
else (null, the default) on exactly when replicas > 1. Renders "true" or "false".
*/}}
{{- define "cron-connector.leaderElection" -}}
{{- $enabled := .Values.leaderElection.enabled }}
{{- if kindIs "bool" $enabled }}
{{- $enabled | toString }}
{{- else }}
{{- gt (include "cron-connector.replicas" . | int64) 1 | toString }}
{{- end }}
{{- end }}

{{/*
Name of the Lease: leaderElection.leaseName, or the full name, so that two releases in one
namespace never share a Lease.
*/}}
{{- define "cron-connector.leaseName" -}}
{{- default (include "cron-connector.fullname" .) .Values.leaderElection.leaseName }}
{{- end }}

{{/*
The PodDisruptionBudget: podDisruptionBudget.enabled when it is a boolean, else (null, the
default) on exactly when replicas > 1. Renders "true" or "false".
*/}}
{{- define "cron-connector.podDisruptionBudget" -}}
{{- $enabled := .Values.podDisruptionBudget.enabled }}
{{- if kindIs "bool" $enabled }}
{{- $enabled | toString }}
{{- else }}
{{- gt (include "cron-connector.replicas" . | int64) 1 | toString }}
{{- end }}
{{- end }}

{{/*
Whether the chart creates the ServiceAccount: with serviceAccount.create, when something is bound
to it (the IAM Role, or the leader-election RoleBinding). Renders "true" or "false".
*/}}
{{- define "cron-connector.createServiceAccount" -}}
{{- and .Values.serviceAccount.create (or .Values.iam.enabled (eq (include "cron-connector.leaderElection" .) "true")) | toString }}
{{- end }}

{{/*
Name of the ServiceAccount the Pod runs as. With IAM it is the Role's principal; with leader
election, the subject of the RoleBinding.
*/}}
{{- define "cron-connector.serviceAccountName" -}}
{{- if eq (include "cron-connector.createServiceAccount" .) "true" }}
{{- default (include "cron-connector.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
The Deployment strategy: .Values.strategy when set; else Recreate for a single connector without
leader election (two connectors side by side would both fire), and with leader election a
RollingUpdate that starts the new Pod (a standby) before stopping an old one, so a leader is
always there to take over.
*/}}
{{- define "cron-connector.strategy" -}}
{{- if .Values.strategy }}
{{- toYaml .Values.strategy }}
{{- else if eq (include "cron-connector.leaderElection" .) "true" }}
type: RollingUpdate
rollingUpdate:
  maxSurge: 1
  maxUnavailable: 0
{{- else }}
type: Recreate
{{- end }}
{{- end }}

{{/*
topologySpreadConstraints: .Values.topologySpreadConstraints when it is a list ([] for none);
else (null, the default) with replicas > 1, spread the release's Pods over nodes, preferably.
Renders YAML, or nothing.
*/}}
{{- define "cron-connector.topologySpreadConstraints" -}}
{{- $given := .Values.topologySpreadConstraints }}
{{- if kindIs "slice" $given }}
{{- with $given }}
{{- toYaml . }}
{{- end }}
{{- else if gt (include "cron-connector.replicas" . | int64) 1 }}
- maxSkew: 1
  topologyKey: kubernetes.io/hostname
  whenUnsatisfiable: ScheduleAnyway
  labelSelector:
    matchLabels:
      {{- include "cron-connector.selectorLabels" . | nindent 6 }}
  # Count only the Pods of the same ReplicaSet, so a rollout spreads the new Pods too.
  matchLabelKeys:
    - pod-template-hash
{{- end }}
{{- end }}

{{/*
Name of the IAM Policy and Role. They are created in iam.namespace, shared by every tenant,
so the name is built from the release namespace and the full name, plus a short hash of both:
"<namespace>-<fullname>" alone is ambiguous ("team-a" + "x-cron-connector" and
"team" + "a-x-cron-connector" give the same string), the hash is not. At most 63 characters.
*/}}
{{- define "cron-connector.iamName" -}}
{{- $fullname := include "cron-connector.fullname" . }}
{{- $hash := printf "%s/%s" .Release.Namespace $fullname | sha256sum | trunc 8 }}
{{- $prefix := printf "%s-%s" .Release.Namespace $fullname | trunc 54 | trimSuffix "-" }}
{{- printf "%s-%s" $prefix $hash }}
{{- end }}

{{/*
Image reference. `image` is a map (repository, tag, digest) or, as in the upstream chart,
a plain "repository:tag" string.
*/}}
{{- define "cron-connector.image" -}}
{{- if kindIs "string" .Values.image }}
{{- .Values.image }}
{{- else if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "cron-connector.imagePullPolicy" -}}
{{- if kindIs "map" .Values.image }}
{{- default "IfNotPresent" .Values.image.pullPolicy }}
{{- else }}
{{- "IfNotPresent" }}
{{- end }}
{{- end }}

{{/*
Basic auth is used only without IAM: with IAM the admin secret is never mounted.
Renders "true" or "false".
*/}}
{{- define "cron-connector.basicAuth" -}}
{{- and .Values.basicAuth (not .Values.iam.enabled) | toString }}
{{- end }}

{{/*
The Policy's resources: iam.resource, or the release namespace only when it is empty (the
default). Renders a JSON list; use with fromJsonArray.
*/}}
{{- define "cron-connector.iamResources" -}}
{{- if .Values.iam.resource }}
{{- toJson .Values.iam.resource }}
{{- else }}
{{- list (printf "%s:*" .Release.Namespace) | toJson }}
{{- end }}
{{- end }}

{{/*
The PromQL label matchers that select this release's series, in every alert rule (and what the
dashboard's $namespace and $release variables stand for): namespace is the release namespace and
job the full name. These are the labels the Prometheus Operator gives the targets of the
chart's ServiceMonitor: job is the name of the Service it scrapes, which is the full name, and
namespace that of the Service. A Prometheus scraping the connector otherwise must set the same
two labels on its targets.
*/}}
{{- define "cron-connector.promSelector" -}}
namespace="{{ .Release.Namespace }}",job="{{ include "cron-connector.fullname" . }}"
{{- end }}

{{/*
A Prometheus duration (1m, 1h30m, 0) in milliseconds (a float), or "" when unparsable. Units in
Prometheus's order (y, w, d, h, m, s, ms), each at most once, as Prometheus parses them.
*/}}
{{- define "cron-connector.promDurationMs" -}}
{{- if kindIs "string" . }}
{{- if eq . "0" }}
{{- "0" }}
{{- else if and . (regexMatch "^([0-9]+y)?([0-9]+w)?([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?([0-9]+ms)?$" .) }}
{{- $unitMs := dict "ms" 1.0 "s" 1000.0 "m" 60000.0 "h" 3600000.0 "d" 86400000.0 "w" 604800000.0 "y" 31536000000.0 }}
{{- $total := 0.0 }}
{{- range regexFindAll "[0-9]+(ms|s|m|h|d|w|y)" . -1 }}
{{- $amount := regexFind "^[0-9]+" . }}
{{- $total = addf $total (mulf (float64 $amount) (get $unitMs (trimPrefix $amount .))) }}
{{- end }}
{{- printf "%v" $total }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The range of CronConnectorDiscoveryFailing: its window, or (empty, the default)
max(5m, 5 x rebuildInterval), so that several passes must have failed, whatever the interval.
Call after rebuildInterval is checked.
*/}}
{{- define "cron-connector.discoveryAlertWindow" -}}
{{- $window := .Values.metrics.prometheusRule.alerts.CronConnectorDiscoveryFailing.window }}
{{- if $window }}
{{- $window }}
{{- else }}
{{- $seconds := ceil (divf (mulf (include "cron-connector.durationMs" .Values.rebuildInterval | float64) 5.0) 1000.0) | int64 }}
{{- $seconds = max 300 $seconds }}
{{- if eq (mod $seconds 60) 0 }}{{ div $seconds 60 }}m{{ else }}{{ $seconds }}s{{ end }}
{{- end }}
{{- end }}

{{/*
PromQL: the series of counter .metric matching .matchers that went up within .window: by
increase(), or by appearing within the window. prom-client creates a labelled series at its first
increment, with value 1, and increase() never sees that first step: without the second term the
first skipped slot, or the first token exchange of a Pod, would go unnoticed. dict: metric,
matchers, window.
*/}}
{{- define "cron-connector.promIncreased" -}}
{{- $series := printf "%s{%s}" .metric .matchers -}}
(increase({{ $series }}[{{ .window }}]) > 0 or ({{ $series }} unless {{ $series }} offset {{ .window }}))
{{- end }}

{{/*
Name of the dashboard ConfigMap: "<fullname>-dashboard", at most 63 characters.
*/}}
{{- define "cron-connector.dashboardName" -}}
{{- printf "%s-dashboard" (include "cron-connector.fullname" . | trunc 53 | trimSuffix "-") }}
{{- end }}
