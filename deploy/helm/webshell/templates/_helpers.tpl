{{/* The chart name, or nameOverride. */}}
{{- define "webshell.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's object names: the release name when it already contains the chart name. */}}
{{- define "webshell.fullname" -}}
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

{{- define "webshell.selectorLabels" -}}
app.kubernetes.io/name: {{ include "webshell.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/* The recommended labels. */}}
{{- define "webshell.labels" -}}
{{ include "webshell.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/component: server
app.kubernetes.io/part-of: webshell
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "webshell.serviceAccountName" -}}
{{- .Values.serviceAccount.name | default (include "webshell.fullname" .) }}
{{- end }}

{{- define "webshell.secretName" -}}
{{- .Values.existingSecret | default (include "webshell.fullname" .) }}
{{- end }}

{{- define "webshell.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* Refuses values the server would refuse, at render time rather than in a crash loop. */}}
{{- define "webshell.validate" -}}
{{- $mode := .Values.auth.mode }}
{{- if eq $mode "local" }}
{{- fail "auth.mode local serves the server's own Kubernetes identity and only listens on loopback; choose token, oidc or proxy" }}
{{- end }}
{{- if not (has $mode (list "token" "oidc" "proxy")) }}
{{- fail (printf "auth.mode must be token, oidc or proxy, not %q" $mode) }}
{{- end }}
{{- if not .Values.publicUrl }}
{{- fail "publicUrl is required: the URL browsers use, e.g. https://webshell.example.com" }}
{{- end }}
{{- if eq $mode "oidc" }}
{{- if not (and .Values.auth.oidc.issuer .Values.auth.oidc.clientId) }}
{{- fail "auth.mode oidc needs auth.oidc.issuer and auth.oidc.clientId" }}
{{- end }}
{{- if not (or .Values.auth.oidc.clientSecret .Values.existingSecret) }}
{{- fail "auth.mode oidc needs auth.oidc.clientSecret, or existingSecret with the key oidc-client-secret" }}
{{- end }}
{{- end }}
{{- if and (eq $mode "proxy") (empty .Values.auth.proxy.trustedSources) }}
{{- fail "auth.mode proxy needs auth.proxy.trustedSources: the addresses the authenticating proxy connects from" }}
{{- end }}
{{- end }}
