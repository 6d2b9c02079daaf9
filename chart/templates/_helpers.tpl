{{/*
Names, labels and shared fragments. Every role (api, mcp, recurrence,
reminders, sse, webhooks) is rendered from the same templates with its own
block of values; "taskflow.roles" is the one list of roles and what each
consumes.
*/}}

{{- define "taskflow.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "taskflow.fullname" -}}
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

{{- define "taskflow.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "taskflow.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: taskflow
{{- end -}}

{{/* Selector labels of one component: (dict "root" $ "component" "api"). */}}
{{- define "taskflow.selectorLabels" -}}
app.kubernetes.io/name: {{ include "taskflow.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
The roles as YAML: binary, which pub/sub component it publishes and
consumes with (app = one consumer group per app, broadcast = one per pod),
its subscriptions (topic -> route), whether it may autoscale.
This table is the chart's copy of the binaries' contract (README.md);
.ci/deploy-check compares it, rendered, with dapr/ and its own copy.
*/}}
{{- define "taskflow.roles" -}}
api:
  binary: taskflow-api
  pubsub: app
  subscriptions: {}
mcp:
  binary: taskflow-mcp
  pubsub: broadcast
  subscriptions:
    task-events: /api/events/task-events
recurrence:
  binary: taskflow-recurrence
  pubsub: app
  subscriptions:
    task-events: /api/events/task-events
reminders:
  binary: taskflow-reminders
  pubsub: app
  subscriptions:
    task-events: /api/events/task-events
    reminders: /api/events/reminders
sse:
  binary: taskflow-sse
  pubsub: broadcast
  subscriptions:
    task-updates: /api/events/task-updates
webhooks:
  binary: taskflow-webhooks
  pubsub: app
  subscriptions:
    task-events: /api/events/task-events
{{- end -}}

{{- define "taskflow.appId" -}}
{{- printf "%s%s" .root.Values.dapr.appIdPrefix .role -}}
{{- end -}}

{{/* App ids of the enabled roles whose pub/sub is (dict "root" $ "kind" "app"|"broadcast"|"any"). */}}
{{- define "taskflow.appIds" -}}
{{- $root := .root -}}
{{- $kind := .kind -}}
{{- $ids := list -}}
{{- range $role, $spec := include "taskflow.roles" $root | fromYaml -}}
{{- if and (index $root.Values $role).enabled (or (eq $kind "any") (eq $kind $spec.pubsub)) -}}
{{- $ids = append $ids (include "taskflow.appId" (dict "root" $root "role" $role)) -}}
{{- end -}}
{{- end -}}
{{- toYaml $ids -}}
{{- end -}}

{{/* Component names. */}}
{{- define "taskflow.pubsubName" -}}{{ .Values.dapr.componentPrefix }}pubsub{{- end -}}
{{- define "taskflow.broadcastPubsubName" -}}{{ .Values.dapr.componentPrefix }}pubsub-broadcast{{- end -}}
{{- define "taskflow.stateStoreName" -}}{{ .Values.dapr.componentPrefix }}statestore{{- end -}}
{{- define "taskflow.sweepName" -}}{{ .Values.dapr.componentPrefix }}reminder-sweep{{- end -}}
{{- define "taskflow.secretStoreName" -}}{{ .Values.dapr.componentPrefix }}secretstore{{- end -}}
{{- define "taskflow.configurationName" -}}{{ include "taskflow.fullname" . }}{{- end -}}

{{/* The pub/sub component a role uses: (dict "root" $ "kind" "app"|"broadcast"). */}}
{{- define "taskflow.pubsubFor" -}}
{{- if eq .kind "broadcast" -}}{{ include "taskflow.broadcastPubsubName" .root }}{{- else -}}{{ include "taskflow.pubsubName" .root }}{{- end -}}
{{- end -}}

{{- define "taskflow.image" -}}
{{- if .Values.image.digest -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- else -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}
{{- end -}}

{{- define "taskflow.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "taskflow.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* Secrets the release reads. */}}
{{- define "taskflow.appSecretName" -}}
{{- default (include "taskflow.fullname" .) .Values.secrets.existingSecret -}}
{{- end -}}
{{- define "taskflow.appTokenSecretName" -}}
{{- default (printf "%s-app-token" (include "taskflow.fullname" .)) .Values.dapr.appToken.existingSecret -}}
{{- end -}}
{{- define "taskflow.apiTokenSecretName" -}}
{{- default (printf "%s-dapr-api-token" (include "taskflow.fullname" .)) .Values.dapr.apiToken.existingSecret -}}
{{- end -}}

{{/* Bundled dependencies' service names and addresses. */}}
{{- define "taskflow.redpandaName" -}}{{ include "taskflow.fullname" . }}-redpanda{{- end -}}
{{- define "taskflow.redisName" -}}{{ include "taskflow.fullname" . }}-redis{{- end -}}
{{- define "taskflow.postgresqlName" -}}{{ include "taskflow.fullname" . }}-postgresql{{- end -}}

{{- define "taskflow.kafkaBrokers" -}}
{{- if .Values.dapr.kafka.brokers -}}
{{- .Values.dapr.kafka.brokers -}}
{{- else if .Values.redpanda.enabled -}}
{{- printf "%s.%s.svc.cluster.local:9092" (include "taskflow.redpandaName" .) .Release.Namespace -}}
{{- else -}}
{{- fail "set dapr.kafka.brokers, or redpanda.enabled=true for the bundled Redpanda" -}}
{{- end -}}
{{- end -}}

{{- define "taskflow.redisHost" -}}
{{- if .Values.dapr.redis.host -}}
{{- .Values.dapr.redis.host -}}
{{- else if .Values.redis.enabled -}}
{{- printf "%s.%s.svc.cluster.local:6379" (include "taskflow.redisName" .) .Release.Namespace -}}
{{- else -}}
{{- fail "set dapr.redis.host, redis.enabled=true, or dapr.stateStore=false" -}}
{{- end -}}
{{- end -}}

{{/* When the migration hook runs: the bundled database exists only after install. */}}
{{- define "taskflow.migrationHook" -}}
{{- if .Values.postgresql.enabled -}}post-install,pre-upgrade{{- else -}}pre-install,pre-upgrade{{- end -}}
{{- end -}}

{{/* The environment every Taskflow container gets: (dict "root" $ "role" "api"). */}}
{{- define "taskflow.env" -}}
{{- $root := .root -}}
{{- $spec := index (include "taskflow.roles" $root | fromYaml) .role -}}
- name: TASKFLOW_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ include "taskflow.appSecretName" $root }}
      key: database-url
- name: TASKFLOW_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ include "taskflow.appSecretName" $root }}
      key: jwt-secret
{{- with $root.Values.auth.jwksUrl }}
- name: TASKFLOW_JWKS_URL
  value: {{ . | quote }}
{{- end }}
{{- with $root.Values.auth.jwtAudience }}
- name: TASKFLOW_JWT_AUDIENCE
  value: {{ . | quote }}
{{- end }}
{{- with $root.Values.auth.jwtIssuer }}
- name: TASKFLOW_JWT_ISSUER
  value: {{ . | quote }}
{{- end }}
- name: TASKFLOW_LISTEN
  value: {{ printf "0.0.0.0:%d" (int $root.Values.config.port) | quote }}
- name: TASKFLOW_PUBLIC_URL
  value: {{ $root.Values.config.publicUrl | default (printf "%s://%s" (ternary "https" "http" (ne $root.Values.ingress.tlsSecretName "")) $root.Values.ingress.host) | quote }}
- name: TASKFLOW_SHUTDOWN_TIMEOUT
  value: {{ printf "%ds" (int $root.Values.config.shutdownTimeoutSeconds) | quote }}
- name: TASKFLOW_PUBSUB
  value: {{ include "taskflow.pubsubFor" (dict "root" $root "kind" $spec.pubsub) | quote }}
- name: TASKFLOW_SUBSCRIPTIONS
  value: "declarative"
- name: APP_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "taskflow.appTokenSecretName" $root }}
      key: token
{{- if $root.Values.dapr.apiToken.enabled }}
- name: DAPR_API_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "taskflow.apiTokenSecretName" $root }}
      key: token
{{- end }}
{{- if eq .role "mcp" }}
{{- $svc := printf "%s-mcp" (include "taskflow.fullname" $root) }}
- name: TASKFLOW_MCP_ALLOWED_HOSTS
  value: {{ join "," (compact (list $root.Values.ingress.host $svc (printf "%s.%s" $svc $root.Release.Namespace) (printf "%s.%s.svc" $svc $root.Release.Namespace) (printf "%s.%s.svc.cluster.local" $svc $root.Release.Namespace) "localhost" "127.0.0.1")) | quote }}
{{- end }}
- name: RUST_LOG
  value: {{ $root.Values.config.logLevel | quote }}
- name: TASKFLOW_LOG_FORMAT
  value: {{ $root.Values.config.logFormat | quote }}
{{- with $root.Values.config.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- with (index $root.Values .role).extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Dapr resources are Helm hooks created before install and upgrade: a sidecar
reads its components and subscriptions once at start-up, so they must exist
before any pod of the release starts (Helm would otherwise create custom
resources after the Deployments). Hooks are not deleted by `helm uninstall`:
see README.md.
*/}}
{{- define "taskflow.daprHook" -}}
helm.sh/hook: pre-install,pre-upgrade
helm.sh/hook-weight: "-10"
helm.sh/hook-delete-policy: before-hook-creation
{{- end -}}
