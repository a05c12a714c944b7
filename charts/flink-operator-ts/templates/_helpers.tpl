{{/* The release's objects are named after the chart unless the release says otherwise. */}}
{{- define "fot.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}{{ .Release.Name | trunc 63 | trimSuffix "-" }}{{ else }}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}{{ end }}
{{- end }}

{{- define "fot.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "fot.labels" -}}
{{ include "fot.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "fot.serviceAccountName" -}}
{{- default (include "fot.fullname" .) .Values.operatorServiceAccount.name }}
{{- end }}

{{- define "fot.image" -}}
{{ .Values.image.repository }}:{{ default .Chart.AppVersion .Values.image.tag }}
{{- end }}

{{/* Namespaces that get the flink ServiceAccount: the watched ones, else the release's. */}}
{{- define "fot.flinkNamespaces" -}}
{{- if .Values.watchNamespaces }}{{ join "," .Values.watchNamespaces }}{{ else }}{{ .Release.Namespace }}{{ end }}
{{- end }}

{{/* Names fixed by the RBAC rules file (resourceNames): one operator per cluster, as its CRDs are. */}}
{{- define "fot.webhookConfigurationName" -}}flink-operator-ts{{- end }}
{{- define "fot.webhookTlsSecretName" -}}flink-operator-ts-webhook-tls{{- end }}
{{- define "fot.webhookServiceName" -}}{{ include "fot.fullname" . }}-webhook{{- end }}

{{- define "fot.rules" -}}
{{- .Files.Get "files/rbac-rules.yaml" | fromYaml | toJson }}
{{- end }}

{{/* The pod securityContext and a container's, as Pod Security "restricted" asks. */}}
{{- define "fot.containerSecurityContext" -}}
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
runAsNonRoot: true
runAsUser: 65532
runAsGroup: 65532
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end }}
