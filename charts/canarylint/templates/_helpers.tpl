{{/* The chart's name, and the release's name for its objects (at most 55 characters, so that
"<fullname>-webhook" stays within the 63 of a label value and a DNS label). */}}
{{- define "canarylint.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 55 | trimSuffix "-" }}
{{- end }}

{{- define "canarylint.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 55 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 55 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/* The Deployment, Service, ServiceAccount and ClusterRole: "<fullname>-webhook". */}}
{{- define "canarylint.webhookName" -}}
{{- printf "%s-webhook" (include "canarylint.fullname" .) }}
{{- end }}

{{- define "canarylint.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "canarylint.webhookName" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret holding the serving certificate and key. */}}
{{- define "canarylint.tlsSecretName" -}}
{{- if and (not .Values.tls.certManager.enabled) .Values.tls.existingSecret }}
{{- .Values.tls.existingSecret }}
{{- else }}
{{- printf "%s-tls" (include "canarylint.webhookName" .) }}
{{- end }}
{{- end }}

{{- define "canarylint.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Labels of every object. */}}
{{- define "canarylint.labels" -}}
helm.sh/chart: {{ include "canarylint.chart" . }}
app.kubernetes.io/name: {{ include "canarylint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: canarylint
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Labels that select the webhook's pods. */}}
{{- define "canarylint.selectorLabels" -}}
app.kubernetes.io/name: {{ include "canarylint.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: webhook
{{- end }}

{{- define "canarylint.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{/* The namespaces the webhook never reviews: kube-system, its own and the configured ones by
name (the kubernetes.io/metadata.name label exists from Kubernetes 1.21 on; before, this
expression matches every namespace), and any namespace labelled canarylint.io/webhook=disabled,
which works on every version. A namespace must pass both. */}}
{{- define "canarylint.namespaceSelector" -}}
namespaceSelector:
  matchExpressions:
    - key: kubernetes.io/metadata.name
      operator: NotIn
      values: {{ concat (list "kube-system" .Release.Namespace) .Values.webhook.excludeNamespaces | uniq | toJson }}
    - key: canarylint.io/webhook
      operator: NotIn
      values: ["disabled"]
{{- end }}

{{/* How the API server reaches the webhook. */}}
{{- define "canarylint.clientConfig" -}}
clientConfig:
  service:
    name: {{ include "canarylint.webhookName" . }}
    namespace: {{ .Release.Namespace }}
    path: /validate
    port: 443
  {{- if not .Values.tls.certManager.enabled }}
  caBundle: {{ required "tls.caBundle is required when tls.certManager.enabled is false" .Values.tls.caBundle | b64enc }}
  {{- end }}
{{- end }}
