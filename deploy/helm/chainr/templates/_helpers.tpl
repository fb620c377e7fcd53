{{/* Names and labels. */}}
{{- define "chainr.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}{{ .Release.Name | trunc 40 | trimSuffix "-" }}{{- else -}}{{ printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" }}{{- end -}}
{{- end -}}

{{- define "chainr.labels" -}}
app.kubernetes.io/name: chainr
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: chainr
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{- define "chainr.selector" -}}
app.kubernetes.io/name: chainr
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* The chaos monkey's pod: not part-of=chainr, so that it is never among its own victims. */}}
{{- define "chainr.chaosSelector" -}}
app.kubernetes.io/name: chainr-chaos
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: chaos
{{- end -}}

{{- define "chainr.tokensSecret" -}}
{{- if .Values.auth.existingSecret -}}{{ .Values.auth.existingSecret }}{{- else -}}{{ include "chainr.fullname" . }}-tokens{{- end -}}
{{- end -}}

{{- define "chainr.redisSecret" -}}
{{- if .Values.redis.existingSecret -}}{{ .Values.redis.existingSecret }}{{- else -}}{{ include "chainr.fullname" . }}-redis{{- end -}}
{{- end -}}

{{/* Redis settings of every chainr service (docs/CONFIGURATION.md, "Redis"). */}}
{{- define "chainr.redisEnv" -}}
{{- $r := .Values.redis -}}
{{- if $r.enabled }}
- name: REDIS_ADDR
  value: {{ include "chainr.fullname" . }}-redis:6379
- name: REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ include "chainr.redisSecret" . }}, key: password } }
{{- else if $r.external.url }}
- name: REDIS_URL
  value: {{ $r.external.url | quote }}
{{- else }}
{{- if $r.external.sentinels }}
- name: REDIS_ADDRS
  value: {{ join "," $r.external.sentinels | quote }}
- name: REDIS_MASTER
  value: {{ required "redis.external.master is required with sentinels" $r.external.master | quote }}
{{- else }}
- name: REDIS_ADDR
  value: {{ required "set redis.enabled, or redis.external.url, addr or sentinels" $r.external.addr | quote }}
{{- end }}
- name: REDIS_DB
  value: {{ $r.external.db | quote }}
{{- if $r.external.passwordSecret }}
- name: REDIS_PASSWORD
  valueFrom: { secretKeyRef: { name: {{ $r.external.passwordSecret }}, key: password } }
{{- end }}
{{- end }}
{{- if ne (toString $r.waitReplicas) "" }}
- name: CHAINR_WAIT_REPLICAS
  value: {{ $r.waitReplicas | quote }}
{{- end }}
{{- if $r.waitTimeout }}
- name: CHAINR_WAIT_TIMEOUT
  value: {{ $r.waitTimeout | quote }}
{{- end }}
{{- end -}}

{{/*
The archive's PostgreSQL URL, refused unless it is one: SQLite is a file on one machine, which
the chart's replicas cannot share.
*/}}
{{- define "chainr.archiveUrl" -}}
{{- $url := .Values.archive.url -}}
{{- if not (regexMatch "^postgres(ql)?://" $url) -}}
{{- fail "archive.url: expected a postgres:// or postgresql:// URL (SQLite is for one machine: replicas in pods cannot share its file)" -}}
{{- end -}}
{{- $url -}}
{{- end -}}

{{/* CHAINR_ARCHIVE_URL from the chart's Secret or yours; nothing when the archive is off. */}}
{{- define "chainr.archiveEnv" -}}
{{- $a := .root.Values.archive -}}
{{- if or $a.url $a.existingSecret }}
- name: CHAINR_ARCHIVE_URL
  valueFrom:
    secretKeyRef:
      name: {{ ternary $a.existingSecret (printf "%s-archive" (include "chainr.fullname" .root)) (ne $a.existingSecret "") }}
      key: {{ ternary $a.existingSecretKey "url" (ne $a.existingSecret "") }}
{{- /* What recycle does with the archive: when runs move there, how long they stay. */}}
{{- if eq .service "recycle" }}
{{- range $field, $variable := dict "window" "CHAINR_ARCHIVE_WINDOW" "maxAge" "CHAINR_ARCHIVE_MAX_AGE" "keep" "CHAINR_ARCHIVE_KEEP" }}
{{- $set := index $a $field }}
{{- if ne (toString $set) "" }}
- name: {{ $variable }}
  value: {{ $set | toString | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
The S3 artifact store's settings, for sched and work (`work`: true adds the Secret the artifact
steps of jobs' pods read their credentials from).
*/}}
{{- define "chainr.artifactsEnv" -}}
{{- $s3 := .root.Values.artifacts.s3 -}}
{{- if $s3.bucket }}
- name: CHAINR_ARTIFACTS_S3_BUCKET
  value: {{ $s3.bucket | quote }}
- name: CHAINR_ARTIFACTS_S3_PREFIX
  value: {{ $s3.prefix | quote }}
- name: CHAINR_ARTIFACTS_S3_REGION
  value: {{ $s3.region | quote }}
{{- if $s3.endpoint }}
- name: CHAINR_ARTIFACTS_S3_ENDPOINT
  value: {{ $s3.endpoint | quote }}
{{- end }}
{{- if $s3.credentialsSecret }}
{{- range list "AWS_ACCESS_KEY_ID" "AWS_SECRET_ACCESS_KEY" }}
- name: {{ . }}
  valueFrom:
    secretKeyRef:
      name: {{ $s3.credentialsSecret | quote }}
      key: {{ . }}
{{- end }}
{{- if .work }}
- name: CHAINR_KUBERNETES_ARTIFACTS_SECRET
  value: {{ $s3.credentialsSecret | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}
