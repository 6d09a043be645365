{{- define "infra-mcp.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "infra-mcp.fullname" -}}
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

{{- define "infra-mcp.selectorLabels" -}}
app.kubernetes.io/name: {{ include "infra-mcp.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "infra-mcp.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "infra-mcp.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "infra-mcp.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "infra-mcp.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "infra-mcp.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{/* infra-mcp.yaml: the user's config plus what the chart decides (approval store prefix, audit sink). */}}
{{- define "infra-mcp.config" -}}
{{- $cfg := deepCopy (default dict .Values.config) }}
{{- if .Values.approvals.redis.enabled }}
{{- $approvals := default dict (get $cfg "approvals") }}
{{- $_ := set $approvals "store" (dict "redis" (dict "prefix" .Values.approvals.redis.prefix)) }}
{{- $_ := set $cfg "approvals" $approvals }}
{{- $tasks := default dict (get $cfg "tasks") }}
{{- $_ := set $tasks "store" (dict "redis" (dict "prefix" .Values.approvals.redis.prefix)) }}
{{- $_ := set $cfg "tasks" $tasks }}
{{- end }}
{{- toYaml $cfg }}
{{- end }}
