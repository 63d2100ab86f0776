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

{{/*
The bundled NATS's client address, host:port, for the URLs the operator puts in the NATS Secrets (NOTES.txt); the
scheme is tls:// when its client TLS is on.
*/}}
{{- define "ttct.natsUrl" -}}
{{- $tls := dig "config" "nats" "tls" "enabled" false .Values.nats -}}
{{- $port := dig "config" "nats" "port" 4222 .Values.nats -}}
{{- printf "%s://<user>:<password>@%s.%s.svc:%v" (ternary "tls" "nats" $tls) (include "ttct.natsFullname" .) .Release.Namespace $port -}}
{{- end -}}

{{/*
The Secret holding NATS_URL (with the user's credentials) of a service or, for "admin", of the topology Job:
dict "root" "user" "conn" ({secretName, secretKey}) -> JSON {name, key}. Default name: <fullname>-nats-<user>.
*/}}
{{- define "ttct.natsSecret" -}}
{{- $conn := .conn | default dict -}}
{{- dict "name" ($conn.secretName | default (printf "%s-nats-%s" (include "ttct.fullname" .root) .user)) "key" ($conn.secretKey | default "url") | toJson -}}
{{- end -}}

{{/*
The NATS users and their permissions: files/nats-permissions.json (written by `python -m ttct.eventsourcing.nats_permissions
--province __PROVINCE__ --format json`), the placeholder replaced by this release's province. Output: JSON
{province, users: {<user>: {publish: {allow}, subscribe: {allow}, password_env}}}.
*/}}
{{- define "ttct.natsPermissions" -}}
{{- .Files.Get "files/nats-permissions.json" | replace "__PROVINCE__" .Values.province -}}
{{- end -}}

{{/*
With the bundled NATS, checks that its values load the users: the ConfigMap mounted into the NATS container, the
file included in nats.conf, and every user's password variable set from a Secret (never a literal). A missing
piece would otherwise show only as a NATS pod that does not start, or refuses the services.
*/}}
{{- define "ttct.checkNatsAuth" -}}
{{- if .Values.nats.enabled -}}
{{- $name := printf "%s-auth" (include "ttct.natsFullname" .) -}}
{{- $volume := "" -}}
{{- range (dig "podTemplate" "patch" list .Values.nats) -}}
{{- $configMap := dig "value" "configMap" "name" "" . -}}
{{- if or (eq (toJson $configMap) (toJson $name)) (eq (toJson $configMap) (include "ttct.natsAuthConfigMapTemplate" $)) -}}{{- $volume = .value.name -}}{{- end -}}
{{- end -}}
{{- if not $volume -}}
{{- fail (printf "nats.podTemplate.patch must add a volume of the ConfigMap %s (the NATS users; see values.yaml)" $name) -}}
{{- end -}}
{{- $mountPath := "" -}}
{{- range (dig "container" "patch" list .Values.nats) -}}
{{- if eq (dig "value" "name" "" .) $volume -}}{{- $mountPath = .value.mountPath -}}{{- end -}}
{{- end -}}
{{- if not $mountPath -}}
{{- fail (printf "nats.container.patch must mount the volume %s (the NATS users; see values.yaml)" $volume) -}}
{{- end -}}
{{- $included := false -}}
{{- range $key, $path := (dig "config" "merge" dict .Values.nats) -}}
{{- if and (hasSuffix "$include" $key) (eq (clean (printf "/etc/nats-config/%s" $path)) (printf "%s/auth.conf" (trimSuffix "/" $mountPath))) -}}{{- $included = true -}}{{- end -}}
{{- end -}}
{{- if not $included -}}
{{- fail (printf "nats.config.merge must include %s/auth.conf (a key ending in $include, relative to /etc/nats-config)" $mountPath) -}}
{{- end -}}
{{- $env := dig "container" "env" dict .Values.nats -}}
{{- range $user, $perms := (include "ttct.natsPermissions" . | fromJson).users -}}
{{- $var := get $env $perms.password_env -}}
{{- if not (and (kindIs "map" $var) (dig "valueFrom" "secretKeyRef" "name" "" ($var | default dict))) -}}
{{- fail (printf "nats.container.env.%s must take user %s's password from a Secret (valueFrom.secretKeyRef), never a literal" $perms.password_env $user) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The ConfigMap name as values.yaml gives it to the NATS chart: a template the NATS chart renders with its own
fullname, so the values need no release name. JSON of the {$tplYaml: ...} map.
*/}}
{{- define "ttct.natsAuthConfigMapTemplate" -}}
{{- dict "$tplYaml" "{{ include \"nats.fullname\" $ }}-auth" | toJson -}}
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
Environment from Secrets, for a service or the Job: NATS_URL from its own Secret (its NATS user's credentials),
then the global and the service's secretEnv (the service's win). dict "root" "secretEnv" (the service's, may be
empty) "nats" (JSON {name, key} of ttct.natsSecret; empty for a service without NATS).
*/}}
{{- define "ttct.secretEnv" -}}
{{- $root := .root -}}
{{- with .nats.name }}
- name: NATS_URL
  valueFrom:
    secretKeyRef:
      name: {{ . }}
      key: {{ $.nats.key }}
{{- end }}
{{- $secretEnv := include "ttct.deepMerge" (dict "base" $root.Values.secretEnv "over" (.secretEnv | default dict)) | fromJson }}
{{- if hasKey $secretEnv "NATS_URL" }}
{{- fail "secretEnv: NATS_URL comes from each service's natsConnection Secret (serviceDefaults/services.<name>.natsConnection, topology.natsConnection)" }}
{{- end }}
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

{{/*
Volumes for the global and a service's `mounts`, plus the writable /tmp and, for a service ("auth" true) without
a JWKS URL, the identity provider's public key. dict "root" "mounts" "auth".
*/}}
{{- define "ttct.volumes" -}}
- name: tmp
  emptyDir:
    sizeLimit: {{ .root.Values.tmpVolume.sizeLimit }}
{{- if and .auth (not .root.Values.auth.jwksUrl) }}
- name: auth-public-key
  secret:
    secretName: {{ .root.Values.auth.publicKeySecret.name | default (printf "%s-auth" (include "ttct.fullname" .root)) }}
    items:
      - key: {{ .root.Values.auth.publicKeySecret.key }}
        path: {{ .root.Values.auth.publicKeySecret.key }}
{{- end }}
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
{{- if and .auth (not .root.Values.auth.jwksUrl) }}
- name: auth-public-key
  mountPath: {{ include "ttct.authKeyDir" . }}
  readOnly: true
{{- end }}
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

{{/* NetworkPolicy egress rules shared by the services and the Job: DNS, and NATS for those that use it. */}}
{{- define "ttct.egressDns" -}}
# DNS: every name the pods resolve.
- to: {{- toYaml .Values.networkPolicy.dns.to | nindent 4 }}
  ports: {{- toYaml .Values.networkPolicy.dns.ports | nindent 4 }}
{{- end -}}

{{- define "ttct.egressNats" -}}
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
{{- $env := merge (include "ttct.streamEnv" $root | fromJson) (dict
  "PROVINCE_CODE" $root.Values.province
  "HTTP_HOST" "0.0.0.0"
  "HTTP_PORT" ($root.Values.http.port | toString)
  "MAX_BODY_BYTES" ($root.Values.http.maxBodyBytes | int64 | toString)
  "PROVISION" ($root.Values.provision | toString)
  "DATABASE_APP_ROLE" $root.Values.postgresql.appRole
  "AUTH_ISSUER" $root.Values.auth.issuer
  "AUTH_AUDIENCE" $root.Values.auth.audience
  "OTEL_SERVICE_NAME" .name
  "OTEL_TRACES_EXPORTER" (ternary "otlp" "none" (not (empty $otlp.endpoint)))
  "OTEL_TRACES_SAMPLER" $root.Values.telemetry.sampler
  "OTEL_TRACES_SAMPLER_ARG" ($root.Values.telemetry.samplerArg | toString)
  "OTEL_METRICS_EXPORTER" "none"
  "OTEL_LOGS_EXPORTER" "none"
) -}}
{{- if $root.Values.auth.jwksUrl -}}
{{- $_ := set $env "AUTH_JWKS_URL" $root.Values.auth.jwksUrl -}}
{{- else -}}
{{- $_ := set $env "AUTH_PUBLIC_KEY_FILE" (printf "%s/%s" (include "ttct.authKeyDir" .) $root.Values.auth.publicKeySecret.key) -}}
{{- end -}}
{{- /* Metrics are scraped from /metrics and logs go to stdout, so only traces are exported over OTLP. */ -}}
{{- with $otlp.endpoint -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- $_ := set $env "OTEL_EXPORTER_OTLP_PROTOCOL" $otlp.protocol -}}
{{- end -}}
{{- /* The services it calls (the console), by their Services' in-cluster names. */ -}}
{{- $enabled := include "ttct.services" $root | fromJson -}}
{{- range $callee := .svc.calls | default list -}}
{{- if not (hasKey $enabled $callee) -}}
{{- fail (printf "services.%s.calls: %s is not an enabled service of this release" $.name $callee) -}}
{{- end -}}
{{- $_ := set $env (printf "%s_URL" (upper $callee)) (printf "http://%s-%s.%s.svc" (include "ttct.fullname" $root) $callee $root.Release.Namespace) -}}
{{- end -}}
{{- $env = include "ttct.deepMerge" (dict "base" $env "over" $root.Values.env) | fromJson -}}
{{- $env = include "ttct.deepMerge" (dict "base" $env "over" (.svc.env | default dict)) | fromJson -}}
{{- if hasKey $env "NATS_URL" -}}
{{- fail "env: NATS_URL holds credentials, so it comes from each service's natsConnection Secret, not from env" -}}
{{- end -}}
{{- range $key := list "AUTH_JWKS_URL" "AUTH_PUBLIC_KEY_FILE" "AUTH_ISSUER" "AUTH_AUDIENCE" "MAX_BODY_BYTES" -}}
{{- if or (hasKey $root.Values.env $key) (hasKey ($.svc.env | default dict) $key) -}}
{{- fail (printf "env: %s comes from the chart's own values (auth, http); set it there, where the NetworkPolicy and the routes follow it" $key) -}}
{{- end -}}
{{- end -}}
{{- toJson $env -}}
{{- end -}}

{{/* Where the identity provider's public key is mounted when auth.jwksUrl is empty. */}}
{{- define "ttct.authKeyDir" -}}/etc/ttct/auth{{- end -}}

{{/*
The streams' settings, for the topology Job that creates them and the services (which would, with provision):
replicas follow the bundled NATS's cluster unless streams.replicas says otherwise. JSON.
*/}}
{{- define "ttct.streamEnv" -}}
{{- $replicas := 3 -}}
{{- if not (kindIs "invalid" .Values.streams.replicas) -}}
{{- $replicas = .Values.streams.replicas | int -}}
{{- else if .Values.nats.enabled -}}
{{- $replicas = ternary (dig "config" "cluster" "replicas" 3 .Values.nats | int) 1 (dig "config" "cluster" "enabled" false .Values.nats) -}}
{{- end -}}
{{- if and .Values.nats.enabled (gt $replicas (ternary (dig "config" "cluster" "replicas" 3 .Values.nats | int) 1 (dig "config" "cluster" "enabled" false .Values.nats))) -}}
{{- fail (printf "streams.replicas: %d is more than the bundled NATS's servers" $replicas) -}}
{{- end -}}
{{- dict "NATS_STREAM_REPLICAS" ($replicas | toString) "NATS_STREAM_MAX_BYTES" (.Values.streams.maxBytes | int64 | toString) | toJson -}}
{{- end -}}

{{/* The port a URL names, or its scheme's default (http 80, https 443). */}}
{{- define "ttct.urlPort" -}}
{{- $url := urlParse . -}}
{{- $hostPort := splitList ":" $url.host -}}
{{- if gt (len $hostPort) 1 -}}{{ last $hostPort }}{{- else -}}{{ ternary 443 80 (eq $url.scheme "https") }}{{- end -}}
{{- end -}}

{{/*
The Secret holding KEY_VAULT_URL: dict "root" "svc" -> JSON {name, key}. With CloudNativePG the operator's Secret
of the key vault's cluster, else the service's keyVault Secret (default <fullname>-key-vault).
*/}}
{{- define "ttct.keyVaultSecret" -}}
{{- if .root.Values.postgresql.cnpg.enabled -}}
{{- dict "name" (printf "%s-app" (include "ttct.cnpgClusterName" (dict "root" .root "name" "key-vault"))) "key" "uri" | toJson -}}
{{- else -}}
{{- dict "name" (.svc.keyVault.secretName | default (printf "%s-key-vault" (include "ttct.fullname" .root))) "key" .svc.keyVault.secretKey | toJson -}}
{{- end -}}
{{- end -}}

{{/* Whether any enabled service uses the key vault ("true" or ""). */}}
{{- define "ttct.keyVaultUsed" -}}
{{- range $name, $svc := include "ttct.services" . | fromJson -}}{{- if $svc.keyVault.enabled -}}true{{- end -}}{{- end -}}
{{- end -}}

{{/*
The public internet for egress: any address but the private, shared, loopback and link-local ranges, so a URL
from outside cannot reach into the cluster or a cloud metadata endpoint.
*/}}
{{- define "ttct.publicInternet" -}}
- ipBlock:
    cidr: 0.0.0.0/0
    except: [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 169.254.0.0/16, 100.64.0.0/10, 127.0.0.0/8]
{{- end -}}
