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
