{{/*
Names. The release's objects are <fullname>-<service>; fullname is the release name when it already contains the
chart name (release "ttct" gives ttct-scheduling), else <release>-ttct.
*/}}
{{- define "ttct.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "ttct.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels of every object; `component` is the service name, or "topology" for the Job. */}}
{{- define "ttct.labels" -}}
helm.sh/chart: {{ include "ttct.chart" .root }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: ttct
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
{{ include "ttct.selectorLabels" . }}
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The labels a Deployment selects its pods by; never change them in an upgrade (selectors are immutable). */}}
{{- define "ttct.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{- define "ttct.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- .Values.serviceAccount.name | default (include "ttct.fullname" .) -}}
{{- else -}}
{{- .Values.serviceAccount.name | default "default" -}}
{{- end -}}
{{- end -}}

{{/*
A deep merge where `over` wins key by key, including false, 0 and "" (sprig's merge and mergeOverwrite treat
those as "unset", so services.x.autoscaling.enabled=false could not switch off a default of true).
Lists are replaced, not concatenated. Input: dict "base" "over"; output: JSON.
*/}}
{{- define "ttct.deepMerge" -}}
{{- $out := deepCopy .base -}}
{{- range $key, $value := .over -}}
{{- $current := get $out $key -}}
{{- if and (kindIs "map" $value) (kindIs "map" $current) -}}
{{- $_ := set $out $key (include "ttct.deepMerge" (dict "base" $current "over" $value) | fromJson) -}}
{{- else -}}
{{- $_ := set $out $key $value -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/*
The enabled services, each being serviceDefaults merged with services.<name>, as JSON: every template ranges over
`include "ttct.services" . | fromJson`, so no template knows a service by name.
*/}}
{{- define "ttct.services" -}}
{{- $out := dict -}}
{{- range $name, $svc := .Values.services -}}
{{- $merged := include "ttct.deepMerge" (dict "base" $.Values.serviceDefaults "over" ($svc | default dict)) | fromJson -}}
{{- if $merged.enabled -}}
{{- $_ := set $out $name $merged -}}
{{- end -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The image of a service: dict "root" "name" "svc". Refuses `latest` whatever the source of the tag. */}}
{{- define "ttct.image" -}}
{{- $root := .root -}}
{{- $repository := .svc.image.repository | default (printf "%s%s" $root.Values.image.repositoryPrefix .name) -}}
{{- $tag := .svc.image.tag | default $root.Values.image.tag | default $root.Chart.AppVersion | toString -}}
{{- if eq (lower $tag) "latest" -}}
{{- fail (printf "services.%s: the image tag must be a release, not %q" .name $tag) -}}
{{- end -}}
{{- if .svc.image.digest -}}
{{- printf "%s:%s@%s" $repository $tag .svc.image.digest -}}
{{- else -}}
{{- printf "%s:%s" $repository $tag -}}
{{- end -}}
{{- end -}}

{{/*
The bundled NATS chart's Service name: the NATS chart's own fullname rule, applied to its values.
*/}}
{{- define "ttct.natsFullname" -}}
{{- if .Values.nats.fullnameOverride -}}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := .Values.nats.nameOverride | default "nats" -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/* The NATS URL without credentials: the bundled NATS (tls:// when its client TLS is on), else natsConnection.url. */}}
{{- define "ttct.natsUrl" -}}
{{- if .Values.nats.enabled -}}
{{- $tls := dig "config" "nats" "tls" "enabled" false .Values.nats -}}
{{- $port := dig "config" "nats" "port" 4222 .Values.nats -}}
{{- printf "%s://%s.%s.svc:%v" (ternary "tls" "nats" $tls) (include "ttct.natsFullname" .) .Release.Namespace $port -}}
{{- else -}}
{{- .Values.natsConnection.url -}}
{{- end -}}
{{- end -}}

{{/* The Secret holding a service's DATABASE_URL: dict "root" "name" -> JSON {name, key}. */}}
{{- define "ttct.databaseSecret" -}}
{{- $root := .root -}}
{{- if $root.Values.postgresql.cnpg.enabled -}}
{{- /* The CloudNativePG operator writes the application user's credentials, including a full URL, here. */ -}}
{{- dict "name" (printf "%s-app" (include "ttct.cnpgClusterName" .)) "key" "uri" | toJson -}}
{{- else -}}
{{- $db := .svc.database -}}
{{- dict "name" ($db.secretName | default (printf "%s-%s-database" (include "ttct.fullname" $root) .name)) "key" $db.secretKey | toJson -}}
{{- end -}}
{{- end -}}

{{- define "ttct.cnpgClusterName" -}}
{{- printf "%s-%s-db" (include "ttct.fullname" .root) .name -}}
{{- end -}}

{{/*
Environment from Secrets, for a service or the Job: NATS_URL when it carries credentials, then the global and the
service's secretEnv (the service's win). dict "root" "secretEnv" (the service's, may be empty).
*/}}
{{- define "ttct.secretEnv" -}}
{{- $root := .root -}}
{{- with $root.Values.natsConnection.urlSecret.name }}
- name: NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $root.Values.natsConnection.urlSecret.key }}
{{- end }}
{{- $secretEnv := include "ttct.deepMerge" (dict "base" $root.Values.secretEnv "over" (.secretEnv | default dict)) | fromJson }}
{{- range $name := keys $secretEnv | sortAlpha }}
{{- $ref := get $secretEnv $name }}
- name: {{ $name }}
  valueFrom:
    secretKeyRef:
      name: {{ $ref.secretName }}
      key: {{ $ref.key }}
      {{- if $ref.optional }}
      optional: true
      {{- end }}
{{- end }}
{{- end -}}

{{/* The Kubernetes facts every span carries, through the downward API (expanded by the kubelet, not Helm). */}}
{{- define "ttct.podEnv" -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
- name: NODE_NAME
  valueFrom:
    fieldRef:
      fieldPath: spec.nodeName
{{- end -}}

{{/* Volumes for the global and a service's `mounts`, plus the writable /tmp. dict "root" "mounts". */}}
{{- define "ttct.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpVolume.sizeLimit }}
{{- range $mount := concat .root.Values.mounts (.mounts | default list) }}
- name: {{ $mount.name }}
  {{- if $mount.secretName }}
  secret:
    secretName: {{ $mount.secretName }}
    {{- with $mount.items }}
    items: {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- else }}
  configMap:
    name: {{ $mount.configMapName }}
    {{- with $mount.items }}
    items: {{- toYaml . | nindent 6 }}
    {{- end }}
  {{- end }}
{{- end }}
{{- end -}}

{{- define "ttct.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
{{- range $mount := concat .root.Values.mounts (.mounts | default list) }}
- name: {{ $mount.name }}
  mountPath: {{ $mount.mountPath }}
  readOnly: true
{{- end }}
{{- end -}}

{{/*
Security contexts. Fixed here rather than in values so no values file can weaken them; only the numeric user
and group are configurable.
*/}}
{{- define "ttct.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.runAsUser }}
runAsGroup: {{ .Values.securityContext.runAsGroup }}
fsGroup: {{ .Values.securityContext.fsGroup }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "ttct.containerSecurityContext" -}}
runAsNonRoot: true
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
privileged: false
capabilities:
  drop: [ALL]
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{/* NetworkPolicy egress rules shared by the services and the Job: DNS and NATS. */}}
{{- define "ttct.egressDnsAndNats" -}}
{{- $root := . -}}
# DNS: every name the pods resolve.
- to: {{- toYaml .Values.networkPolicy.dns.to | nindent 4 }}
  ports: {{- toYaml .Values.networkPolicy.dns.ports | nindent 4 }}
# NATS: client connections only.
{{- if .Values.nats.enabled }}
- to:
    - podSelector:
        matchLabels:
          app.kubernetes.io/name: {{ .Values.nats.nameOverride | default "nats" }}
          app.kubernetes.io/instance: {{ .Release.Name }}
          app.kubernetes.io/component: nats
  ports:
    - port: {{ dig "config" "nats" "port" 4222 .Values.nats }}
      protocol: TCP
{{- else }}
- ports:
    {{- range .Values.natsConnection.ports }}
    - port: {{ . }}
      protocol: TCP
    {{- end }}
  {{- with .Values.natsConnection.networkPolicyPeers }}
  to: {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end }}
{{- end -}}

{{/*
A service's plain environment (its ConfigMap): the chart's settings, then the global `env`, then the service's
`env` (later wins). dict "root" "name" "svc"; output: JSON. The Deployment hashes it, so a change rolls the pods.
*/}}
{{- define "ttct.configEnv" -}}
{{- $root := .root -}}
{{- $otlp := $root.Values.telemetry.otlp -}}
{{- $env := dict
  "PROVINCE_CODE" $root.Values.province
  "HTTP_HOST" "0.0.0.0"
  "HTTP_PORT" ($root.Values.http.port | toString)
  "PROVISION" ($root.Values.provision | toString)
  "OTEL_SERVICE_NAME" .name
  "OTEL_TRACES_EXPORTER" (ternary "otlp" "none" (not (empty $otlp.endpoint)))
  "OTEL_TRACES_SAMPLER" $root.Values.telemetry.sampler
  "OTEL_TRACES_SAMPLER_ARG" ($root.Values.telemetry.samplerArg | toString)
  "OTEL_METRICS_EXPORTER" "none"
  "OTEL_LOGS_EXPORTER" "none"
-}}
{{- /* Metrics are scraped from /metrics and logs go to stdout, so only traces are exported over OTLP. */ -}}
{{- if not $root.Values.natsConnection.urlSecret.name -}}
{{- $_ := set $env "NATS_URL" (include "ttct.natsUrl" $root) -}}
{{- end -}}
{{- with $otlp.endpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_PROTOCOL" $otlp.protocol -}}
{{- end -}}
{{- $env = include "ttct.deepMerge" (dict "base" $env "over" $root.Values.env) | fromJson -}}
{{- $env = include "ttct.deepMerge" (dict "base" $env "over" (.svc.env | default dict)) | fromJson -}}
{{- toJson $env -}}
{{- end -}}
