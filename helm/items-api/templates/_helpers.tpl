{{/*
Names, labels and the derived figures (workers, connection budget) every template shares.
*/}}

{{/* The chart name, overridable with nameOverride. */}}
{{- define "items-api.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* The release-qualified name, 63 characters at most (the DNS label limit). */}}
{{- define "items-api.fullname" -}}
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

{{/*
A fullname with a suffix, within 63 characters (the DNS label limit) or a shorter "max":
usage (dict "ctx" . "suffix" "x" ["max" 52]).
*/}}
{{- define "items-api.suffixedName" -}}
{{- $suffix := printf "-%s" .suffix -}}
{{- $max := .max | default 63 | int -}}
{{- printf "%s%s" (include "items-api.fullname" .ctx | trunc (int (sub $max (len $suffix))) | trimSuffix "-") $suffix -}}
{{- end -}}

{{/* Chart name and version, as the helm.sh/chart label wants them. */}}
{{- define "items-api.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "items-api.labels" -}}
{{ include "items-api.ownLabels" . }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The chart's own labels; commonLabels and podLabels may not redefine them (validateValues). */}}
{{- define "items-api.ownLabels" -}}
helm.sh/chart: {{ include "items-api.chart" . }}
{{ include "items-api.selectorLabels" . }}
app.kubernetes.io/version: {{ include "items-api.imageTag" . | trunc 63 | trimSuffix "-" | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: items-api
{{- end -}}

{{/* Labels that identify the release's objects; never change them (selectors are immutable). */}}
{{- define "items-api.selectorLabels" -}}
app.kubernetes.io/name: {{ include "items-api.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{/* The pod label that lets a pod past the NetworkPolicy (given to the helm test pod too). */}}
{{- define "items-api.clientLabel" -}}
{{ include "items-api.fullname" . | trunc 56 | trimSuffix "-" }}-client: "true"
{{- end -}}

{{/*
Policy exceptions (checkov and kube-score), each with its reason. The scans in `make lint-chart`
fail on anything not listed here; objects opt in by id through items-api.annotations.
*/}}
{{- define "items-api.policyReasons" -}}
CKV_K8S_15: images carry immutable <version>-<gitsha> tags, and side-loaded localhost/ images cannot be pulled at all, so pullPolicy Always would only break starts
container-image-pull-policy: images carry immutable <version>-<gitsha> tags, and side-loaded localhost/ images cannot be pulled at all, so pullPolicy Always would only break starts
CKV_K8S_43: no image digest given (locally built images have no registry digest); the tag is immutable; set image.digest to pin by digest
CKV_K8S_35: the service reads its settings, secrets included, from environment variables (pydantic-settings), which is its documented interface
CKV_K8S_8: a run-to-completion helm test pod; probes do not apply
CKV_K8S_9: a run-to-completion helm test pod; probes do not apply
deployment-has-host-podantiaffinity: topologySpreadConstraints spread the pods over nodes and zones without making small clusters unschedulable
pod-networkpolicy: networkPolicy.enabled is false for this release
{{- end -}}

{{/*
An object's annotations: commonAnnotations, its own (extra) and its policy exceptions.
usage: (dict "ctx" . "extra" $map "pod" true "policy" (list "CKV_K8S_35") ["digest" $d])
"pod" adds the exceptions every pod needs (pull policy, NetworkPolicy when off, and the digest
exception unless "digest", default image.digest, is set).
*/}}
{{- define "items-api.annotations" -}}
{{- $ctx := .ctx -}}
{{- $all := merge (dict) (.extra | default dict) ($ctx.Values.commonAnnotations | default dict) -}}
{{- $ids := .policy | default list -}}
{{- if .pod -}}
{{- $ids = concat (list "CKV_K8S_15" "container-image-pull-policy") $ids -}}
{{- if not (ternary .digest $ctx.Values.image.digest (hasKey . "digest")) -}}
{{- $ids = append $ids "CKV_K8S_43" -}}
{{- end -}}
{{- if not $ctx.Values.networkPolicy.enabled -}}
{{- $ids = append $ids "pod-networkpolicy" -}}
{{- end -}}
{{- end -}}
{{- $ids = uniq $ids -}}
{{- $reasons := include "items-api.policyReasons" $ctx | fromYaml -}}
{{- $kubeScore := list -}}
{{- range $i, $id := $ids -}}
{{- if hasPrefix "CKV" $id -}}
{{- $_ := set $all (printf "checkov.io/skip%d" (add1 $i)) (printf "%s=%s" $id (get $reasons $id)) -}}
{{- else -}}
{{- $kubeScore = append $kubeScore $id -}}
{{- $_ := set $all (printf "items-api.policy/%s" $id) (get $reasons $id) -}}
{{- end -}}
{{- end -}}
{{- if $kubeScore -}}
{{- $_ := set $all "kube-score/ignore" (join "," $kubeScore) -}}
{{- end -}}
{{- if $all }}
annotations:
  {{- toYaml $all | nindent 2 }}
{{- end }}
{{- end -}}

{{/* The ServiceAccount the pods run as. */}}
{{- define "items-api.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "items-api.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The image tag: image.tag, else the chart's appVersion. */}}
{{- define "items-api.imageTag" -}}
{{- .Values.image.tag | default .Chart.AppVersion -}}
{{- end -}}

{{/* The app image's reference (items-api.imageRef), its tag defaulting to appVersion. */}}
{{- define "items-api.image" -}}
{{- include "items-api.imageRef" (set (deepCopy .Values.image) "tag" (include "items-api.imageTag" .)) -}}
{{- end -}}

{{/* The Secret holding DATABASE_URL and JWT_SECRET: existingSecret, else the chart's own. */}}
{{- define "items-api.secretName" -}}
{{- .Values.secrets.existingSecret | default (include "items-api.fullname" .) -}}
{{- end -}}

{{/* Any resource quantity ("250m", "1.5", "512Mi", "1G", 536870912) as a float. */}}
{{- define "items-api.quantity" -}}
{{- $q := toString . -}}
{{- $units := dict "m" 0.001 "k" 1e3 "M" 1e6 "G" 1e9 "T" 1e12 "P" 1e15 "E" 1e18 "Ki" 1024.0 "Mi" 1048576.0 "Gi" 1073741824.0 "Ti" 1099511627776.0 "Pi" 1125899906842624.0 "Ei" 1152921504606846976.0 -}}
{{- $unit := regexFind "([kMGTPE]i?|Ki|m)$" $q -}}
{{- if $unit -}}
{{- mulf (trimSuffix $unit $q | float64) (get $units $unit) -}}
{{- else -}}
{{- $q | float64 -}}
{{- end -}}
{{- end -}}

{{/* A memory quantity ("512Mi", "1G", 536870912) in whole MiB, as the service reads memory.max. */}}
{{- define "items-api.memoryMiB" -}}
{{- floor (divf (include "items-api.quantity" . | float64) 1048576) | int -}}
{{- end -}}

{{/*
Requests above limits, which the API server refuses: one message per quantity.
usage: (dict "resources" $map "name" "nginx.resources")
*/}}
{{- define "items-api.resourceErrors" -}}
{{- $r := .resources | default dict -}}
{{- $limits := $r.limits | default dict -}}
{{- range $kind, $request := ($r.requests | default dict) -}}
{{- $limit := get $limits $kind -}}
{{- if and $limit (gt (include "items-api.quantity" $request | float64) (include "items-api.quantity" $limit | float64)) }}
- {{ printf "%s.requests.%s (%v) is above %s.limits.%s (%v); the API server refuses a request above its limit" $.name $kind $request $.name $kind $limit | quote }}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
The memory model of a pod: a 60 MiB gunicorn master plus workers.memoryPerWorkerMb per worker
(WORKER_MEMORY_MB; the service caps its workers with the same model). The number of workers
that fit resources.limits.memory, or "" without a memory limit; 0 when not even one does.
*/}}
{{- define "items-api.workersFittingMemory" -}}
{{- $mem := dig "limits" "memory" "" (.Values.resources | default dict) -}}
{{- if $mem -}}
{{- max 0 (div (sub (include "items-api.memoryMiB" $mem | int) 60) (int .Values.workers.memoryPerWorkerMb)) -}}
{{- end -}}
{{- end -}}

{{/*
The most gunicorn workers a pod can start, the figure of the connection budget. How many it
does start is the service's to decide (app/core/workers.py, from the CPU quota the kubelet sets):
never more than workers.max nor more than fit the memory limit; workers.webConcurrency fixes it.
*/}}
{{- define "items-api.workers" -}}
{{- $w := .Values.workers -}}
{{- if $w.webConcurrency -}}
{{- int $w.webConcurrency -}}
{{- else -}}
{{- $n := int $w.max -}}
{{- $fits := include "items-api.workersFittingMemory" . -}}
{{- if $fits -}}
{{- $n = max 1 (min $n (int $fits)) -}}
{{- end -}}
{{- $n -}}
{{- end -}}
{{- end -}}

{{/* The most app pods that can run at once: replicas (or the HPA maximum) plus the rollout surge. */}}
{{- define "items-api.maxPods" -}}
{{- $replicas := ternary .Values.autoscaling.maxReplicas .Values.replicaCount .Values.autoscaling.enabled -}}
{{- add (int $replicas) (int .Values.rollingUpdate.maxSurge) -}}
{{- end -}}

{{/* Database connections the release can open at worst: max pods x workers x (pool + overflow). */}}
{{- define "items-api.connectionBudget" -}}
{{- $perWorker := add .Values.database.poolSize .Values.database.maxOverflow -}}
{{- mul (include "items-api.maxPods" . | int) (include "items-api.workers" . | int) $perWorker -}}
{{- end -}}

{{/* The DATABASE_URL: the bundled PostgreSQL's when it is on, else secrets.databaseUrl. */}}
{{- define "items-api.databaseUrl" -}}
{{- if .Values.postgresql.enabled -}}
{{- $pg := .Values.postgresql -}}
{{- printf "postgresql+asyncpg://%s:%s@%s:%d/%s" $pg.auth.username $pg.auth.password (include "items-api.postgresql.fullname" .) (int $pg.service.port) $pg.auth.database -}}
{{- else -}}
{{- .Values.secrets.databaseUrl -}}
{{- end -}}
{{- end -}}

{{/*
The bundled PostgreSQL's name (StatefulSet, Service, headless DNS). 52 characters at most: the
StatefulSet controller labels each revision "<name>-<10-character hash>", a 63-character label.
*/}}
{{- define "items-api.postgresql.fullname" -}}
{{- include "items-api.suffixedName" (dict "ctx" . "suffix" "postgresql" "max" 52) -}}
{{- end -}}

{{/*
An image block's reference (registry, repository, tag, digest): registry/repository:tag, or
@digest when a digest is given (it wins over the tag). usage: include "items-api.imageRef" $image
*/}}
{{- define "items-api.imageRef" -}}
{{- $repo := .registry | empty | ternary .repository (printf "%s/%s" .registry .repository) -}}
{{- .digest | empty | ternary (printf "%s:%s" $repo .tag) (printf "%s@%s" $repo .digest) -}}
{{- end -}}

{{/* The Secret's data, shared by the release's Secret and the migration hook's copy. */}}
{{- define "items-api.secretData" -}}
DATABASE_URL: {{ include "items-api.databaseUrl" . | b64enc | quote }}
JWT_SECRET: {{ .Values.secrets.jwtSecret | b64enc | quote }}
{{- end -}}

{{/*
The service's non-secret settings (contract: pydantic-settings names) and config.extraEnv. The
ConfigMap holds them; the migration hook gets them inline because it runs before the ConfigMap
exists.
*/}}
{{- define "items-api.configData" -}}
{{ include "items-api.ownConfigData" . }}
{{- range $k, $v := .Values.config.extraEnv }}
{{ $k }}: {{ $v | quote }}
{{- end }}
{{- end -}}

{{/* The settings the chart sets itself; config.extraEnv may not redefine them (validateValues). */}}
{{- define "items-api.ownConfigData" -}}
{{- $c := .Values.config -}}
{{- $db := .Values.database -}}
ENVIRONMENT: {{ $c.environment | quote }}
LOG_LEVEL: {{ $c.logLevel | quote }}
DEBUG: {{ $c.debug | quote }}
HOST: "0.0.0.0"
PORT: {{ .Values.containerPorts.http | quote }}
METRICS_PORT: {{ .Values.containerPorts.metrics | quote }}
ACCESS_TOKEN_EXPIRE_MINUTES: {{ $c.accessTokenExpireMinutes | quote }}
CORS_ORIGINS: {{ join "," $c.corsOrigins | quote }}
TRUSTED_HOSTS: {{ include "items-api.trustedHosts" . | quote }}
IDEMPOTENCY_RETENTION_S: {{ $c.idempotencyRetentionSeconds | quote }}
FORWARDED_ALLOW_IPS: {{ $c.forwardedAllowIps | quote }}
GRACEFUL_TIMEOUT_S: {{ $c.gracefulTimeoutSeconds | quote }}
KEEPALIVE_S: {{ $c.keepaliveSeconds | quote }}
MAX_REQUESTS: {{ $c.maxRequests | quote }}
MAX_REQUESTS_JITTER: {{ $c.maxRequestsJitter | quote }}
WORKERS_PER_CPU: {{ .Values.workers.perCpu | quote }}
MAX_WORKERS: {{ .Values.workers.max | quote }}
WORKER_MEMORY_MB: {{ .Values.workers.memoryPerWorkerMb | quote }}
{{- if .Values.workers.webConcurrency }}
WEB_CONCURRENCY: {{ .Values.workers.webConcurrency | quote }}
{{- end }}
DB_POOL_SIZE: {{ $db.poolSize | quote }}
DB_MAX_OVERFLOW: {{ $db.maxOverflow | quote }}
DB_POOL_TIMEOUT_S: {{ $db.poolTimeoutSeconds | quote }}
DB_CONNECT_TIMEOUT_S: {{ $db.connectTimeoutSeconds | quote }}
DB_STATEMENT_TIMEOUT_MS: {{ $db.statementTimeoutMs | quote }}
DB_PREPARED_STATEMENT_CACHE: {{ $db.preparedStatementCache | quote }}
READINESS_DB_TIMEOUT_S: {{ $db.readinessTimeoutSeconds | quote }}
PROMETHEUS_MULTIPROC_DIR: "/tmp/metrics"
APP_VERSION: {{ include "items-api.imageTag" . | quote }}
{{- end -}}

{{/* Pod and container security contexts: the values block minus its "enabled" switch. */}}
{{- define "items-api.securityContext" -}}
{{- if .enabled -}}
{{- toYaml (omit . "enabled") -}}
{{- end -}}
{{- end -}}

{{/* The pull secrets, when any. */}}
{{- define "items-api.imagePullSecrets" -}}
{{- with .Values.image.pullSecrets -}}
imagePullSecrets:
{{- range . }}
  - name: {{ . }}
{{- end }}
{{- end }}
{{- end -}}

{{/* The preStop pause: kubelet's native sleep from Kubernetes 1.30, an exec'd sleep before it. */}}
{{- define "items-api.preStop" -}}
{{- if semverCompare ">=1.30-0" .ctx.Capabilities.KubeVersion.Version -}}
preStop:
  sleep:
    seconds: {{ .seconds }}
{{- else -}}
preStop:
  exec:
    command: ["sleep", {{ .seconds | quote }}]
{{- end }}
{{- end -}}

{{/* The app container's pause: behind the nginx sidecar it outlasts nginx's, so nginx has
drained before gunicorn stops accepting (both get their signal when their pause ends). */}}
{{- define "items-api.appPreStopSeconds" -}}
{{- add .Values.lifecycle.preStopSleepSeconds (ternary .Values.nginx.drainSeconds 0 .Values.nginx.enabled) -}}
{{- end -}}

{{/* Fails the render with every inconsistency found, each naming the values to change. */}}
{{- define "items-api.validateValues" -}}
{{- $msgs := list -}}
{{- if eq (int .Values.containerPorts.http) (int .Values.containerPorts.metrics) -}}
{{- $msgs = append $msgs (printf "containerPorts.metrics (%d) must differ from containerPorts.http: /metrics has a listener of its own" (int .Values.containerPorts.metrics)) -}}
{{- end -}}
{{- $grace := int .Values.terminationGracePeriodSeconds -}}
{{- $needed := add (include "items-api.appPreStopSeconds" . | int) .Values.config.gracefulTimeoutSeconds -}}
{{- if le $grace (int $needed) -}}
{{- $msgs = append $msgs (printf "terminationGracePeriodSeconds (%d) must exceed lifecycle.preStopSleepSeconds + config.gracefulTimeoutSeconds%s (%d), or in-flight requests are killed during rollouts" $grace (ternary " + nginx.drainSeconds" "" .Values.nginx.enabled) (int $needed)) -}}
{{- end -}}
{{- if and (eq .Values.config.environment "production") (eq (include "items-api.imageTag" .) "latest") (not .Values.image.digest) -}}
{{- $msgs = append $msgs "image.tag: \"latest\" is not allowed when config.environment is production; pin a version (or set image.digest)" -}}
{{- end -}}
{{- $fits := include "items-api.workersFittingMemory" . -}}
{{- if and $fits (lt (int $fits) 1) -}}
{{- $msgs = append $msgs (printf "resources.limits.memory %s (%d MiB) is below what one worker needs: 60 MiB for the gunicorn master + workers.memoryPerWorkerMb %d; raise the limit or lower workers.memoryPerWorkerMb" (toString .Values.resources.limits.memory) (include "items-api.memoryMiB" .Values.resources.limits.memory | int) (int .Values.workers.memoryPerWorkerMb)) -}}
{{- end -}}
{{- if and .Values.workers.webConcurrency $fits (gt (int .Values.workers.webConcurrency) (int $fits)) -}}
{{- $msgs = append $msgs (printf "workers.webConcurrency %d does not fit resources.limits.memory %s at workers.memoryPerWorkerMb %d (at most %s workers): the service would refuse to start" (int .Values.workers.webConcurrency) (toString .Values.resources.limits.memory) (int .Values.workers.memoryPerWorkerMb) $fits) -}}
{{- end -}}
{{- $locked := has .Values.config.environment (list "staging" "production") -}}
{{- if and $locked .Values.config.debug -}}
{{- $msgs = append $msgs (printf "config.debug is refused when config.environment is %s" .Values.config.environment) -}}
{{- end -}}
{{- if not .Values.secrets.existingSecret -}}
{{- if and $locked .Values.secrets.jwtSecret (lt (len .Values.secrets.jwtSecret) 32) -}}
{{- $msgs = append $msgs (printf "secrets.jwtSecret must be at least 32 characters when config.environment is %s (openssl rand -hex 32)" .Values.config.environment) -}}
{{- end -}}
{{- if and (not .Values.postgresql.enabled) (not .Values.secrets.databaseUrl) -}}
{{- $msgs = append $msgs "secrets.databaseUrl is empty: set it, enable postgresql (dev/e2e only), or name a Secret with DATABASE_URL and JWT_SECRET in secrets.existingSecret" -}}
{{- end -}}
{{- if not .Values.secrets.jwtSecret -}}
{{- $msgs = append $msgs "secrets.jwtSecret is empty: set it (e.g. --set secrets.jwtSecret=$(openssl rand -hex 32)) or use secrets.existingSecret" -}}
{{- end -}}
{{- end -}}
{{- if and .Values.postgresql.enabled (not .Values.postgresql.auth.password) -}}
{{- $msgs = append $msgs "postgresql.auth.password is empty: the bundled PostgreSQL needs one" -}}
{{- end -}}
{{- if and .Values.postgresql.enabled (eq .Values.config.environment "production") -}}
{{- $msgs = append $msgs "postgresql.enabled is for dev and e2e only; production uses a managed database (secrets.databaseUrl or secrets.existingSecret)" -}}
{{- end -}}
{{- if and .Values.autoscaling.enabled (lt (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) -}}
{{- $msgs = append $msgs (printf "autoscaling.maxReplicas (%d) is below autoscaling.minReplicas (%d)" (int .Values.autoscaling.maxReplicas) (int .Values.autoscaling.minReplicas)) -}}
{{- end -}}
{{- $maxConn := int .Values.database.maxConnections -}}
{{- $budget := include "items-api.connectionBudget" . | int -}}
{{- if and $maxConn (gt $budget $maxConn) -}}
{{- $msgs = append $msgs (printf "connection budget %d exceeds database.maxConnections %d: %s pods (replicas or autoscaling.maxReplicas, plus rollingUpdate.maxSurge) x %s workers (workers.webConcurrency, else workers.max or what resources.limits.memory fits) x (database.poolSize %d + database.maxOverflow %d); lower one of them or raise database.maxConnections" $budget $maxConn (include "items-api.maxPods" .) (include "items-api.workers" .) (int .Values.database.poolSize) (int .Values.database.maxOverflow)) -}}
{{- end -}}
{{- $msgs = concat $msgs (include "items-api.ownedKeyErrors" . | fromYamlArray) (include "items-api.portErrors" . | fromYamlArray) (include "items-api.allResourceErrors" . | fromYamlArray) -}}
{{- if $msgs -}}
{{- fail (printf "\nVALUES VALIDATION:\n  - %s" (join "\n  - " $msgs)) -}}
{{- end -}}
{{- end -}}

{{/*
User maps that would redefine what the chart sets: YAML keeps the last duplicate key, so a
selector label would change (the API server rejects the Deployment) or PORT would differ from
the port the probes and the Service use. A YAML list of messages.
*/}}
{{- define "items-api.ownedKeyErrors" -}}
{{- $labels := append (keys (include "items-api.ownLabels" . | fromYaml)) "app.kubernetes.io/component" | sortAlpha -}}
{{- range $map := list "commonLabels" "podLabels" }}
{{- range $key, $_ := (get $.Values $map | default dict) }}
{{- if has $key $labels }}
- {{ printf "%s.%s: the chart sets this label itself (%s); choose another key" $map $key (join ", " $labels) | quote }}
{{- end }}
{{- end }}
{{- end }}
{{- /* Every setting the chart may set, also those it sets only for some values. */ -}}
{{- $probe := deepCopy .Values -}}
{{- $_ := set $probe.workers "webConcurrency" 1 -}}
{{- $probeCtx := dict "Values" $probe "Chart" .Chart "Release" .Release "Capabilities" .Capabilities "Template" .Template -}}
{{- $env := concat (keys (include "items-api.ownConfigData" $probeCtx | fromYaml)) (keys (include "items-api.secretData" . | fromYaml)) | uniq | sortAlpha -}}
{{- range $key, $_ := .Values.config.extraEnv }}
{{- if has $key $env }}
- {{ printf "config.extraEnv.%s: the chart sets %s itself; set the chart value for it instead (values.yaml's @param lines name each one's variable)" $key $key | quote }}
{{- end }}
{{- end }}
{{- $seen := keys .Values.config.extraEnv -}}
{{- range $i, $var := .Values.extraEnvVars }}
{{- if has $var.name $env }}
- {{ printf "extraEnvVars[%d].name %s: the chart sets %s itself; set the chart value for it instead (values.yaml's @param lines name each one's variable)" $i $var.name $var.name | quote }}
{{- else if has $var.name $seen }}
- {{ printf "extraEnvVars[%d].name %s is set twice (config.extraEnv or extraEnvVars)" $i $var.name | quote }}
{{- end }}
{{- $seen = append $seen $var.name }}
{{- end }}
{{- /* Names and paths in the app pod the chart uses; the API server refuses duplicates. */ -}}
{{- $volumes := list "tmp" "metrics" -}}
{{- $containers := list .Chart.Name -}}
{{- if .Values.nginx.enabled -}}
{{- range (include "items-api.nginx.volumes" . | fromYamlArray) -}}
{{- $volumes = append $volumes .name -}}
{{- end -}}
{{- $containers = append $containers "nginx" -}}
{{- end -}}
{{- if and .Values.postgresql.enabled .Values.migrations.enabled -}}
{{- $containers = append $containers "migrate" -}}
{{- end -}}
{{- $chartVolumes := $volumes -}}
{{- $chartContainers := $containers -}}
{{- range $i, $v := .Values.extraVolumes }}
{{- if has $v.name $volumes }}
- {{ printf "extraVolumes[%d].name %s: the pod already has a volume of that name (the chart's: %s)" $i $v.name (join ", " $chartVolumes) | quote }}
{{- end }}
{{- $volumes = append $volumes $v.name }}
{{- end }}
{{- $paths := list "/tmp" "/tmp/metrics" -}}
{{- range $i, $m := .Values.extraVolumeMounts }}
{{- if has $m.mountPath $paths }}
- {{ printf "extraVolumeMounts[%d].mountPath %s: the app container already mounts a volume there" $i $m.mountPath | quote }}
{{- end }}
{{- $paths = append $paths $m.mountPath }}
{{- end }}
{{- range $list := list "sidecars" "initContainers" }}
{{- range $i, $c := (get $.Values $list) }}
{{- if has $c.name $containers }}
- {{ printf "%s[%d].name %s: the pod already has a container of that name (the chart's: %s)" $list $i $c.name (join ", " $chartContainers) | quote }}
{{- end }}
{{- $containers = append $containers $c.name }}
{{- end }}
{{- end }}
{{- end -}}

{{/*
Ports two containers of one pod (or two ports of one Service) would share: the second
container could not bind. A YAML list of messages.
*/}}
{{- define "items-api.portErrors" -}}
{{- $ports := list (list "containerPorts.http" .Values.containerPorts.http) -}}
{{- if .Values.nginx.enabled -}}
{{- $ports = concat $ports (list (list "nginx.port" .Values.nginx.port) (list "nginx.statusPort" .Values.nginx.statusPort)) -}}
{{- end -}}
{{- range $i, $c := .Values.sidecars -}}
{{- range $j, $p := $c.ports -}}
{{- $ports = append $ports (list (printf "sidecars[%d].ports[%d].containerPort" $i $j) $p.containerPort) -}}
{{- end -}}
{{- end -}}
{{- $owner := dict -}}
{{- range $ports }}
{{- $port := toString (index . 1) }}
{{- if hasKey $owner $port }}
- {{ printf "%s and %s are both %s: two containers of a pod cannot listen on one port" (get $owner $port) (index . 0) $port | quote }}
{{- else }}
{{- $_ := set $owner $port (index . 0) }}
{{- end }}
{{- end }}
{{- if eq (int .Values.service.ports.http) (int .Values.service.ports.metrics) }}
- {{ printf "service.ports.http and service.ports.metrics are both %v: a Service cannot expose one port twice" .Values.service.ports.http | quote }}
{{- end }}
{{- end -}}

{{/* Requests above limits in any container the chart renders. A YAML list of messages. */}}
{{- define "items-api.allResourceErrors" -}}
{{- $all := list (list "resources" .Values.resources) (list "migrations.resources" .Values.migrations.resources) (list "tests.resources" .Values.tests.resources) -}}
{{- if .Values.nginx.enabled -}}
{{- $all = append $all (list "nginx.resources" .Values.nginx.resources) -}}
{{- end -}}
{{- if .Values.postgresql.enabled -}}
{{- $all = append $all (list "postgresql.resources" .Values.postgresql.resources) -}}
{{- end -}}
{{- range $i, $c := .Values.sidecars -}}
{{- $all = append $all (list (printf "sidecars[%d].resources" $i) $c.resources) -}}
{{- end -}}
{{- range $i, $c := .Values.initContainers -}}
{{- $all = append $all (list (printf "initContainers[%d].resources" $i) $c.resources) -}}
{{- end -}}
{{- range $all }}
{{- include "items-api.resourceErrors" (dict "name" (index . 0) "resources" (index . 1)) }}
{{- end }}
{{- end -}}

{{/*
The `items-api migrate` container body, shared by the hook Job and the init container.
usage: (dict "ctx" . "inlineConfig" bool); the hook gets the settings inline because on install
it runs before the ConfigMap exists.
*/}}
{{- define "items-api.migrateContainer" -}}
{{- $ctx := .ctx -}}
image: {{ include "items-api.image" $ctx }}
imagePullPolicy: {{ $ctx.Values.image.pullPolicy }}
command: ["items-api", "migrate"]
{{- with (include "items-api.securityContext" $ctx.Values.containerSecurityContext) }}
securityContext:
  {{- . | nindent 2 }}
{{- end }}
env:
  # /tmp/metrics is the app pods' in-memory volume; migrate keeps its metric files in its /tmp.
  - name: PROMETHEUS_MULTIPROC_DIR
    value: /tmp
  {{- if .inlineConfig }}
  {{- range $name, $value := include "items-api.configData" $ctx | fromYaml }}
  {{- if ne $name "PROMETHEUS_MULTIPROC_DIR" }}
  - name: {{ $name }}
    value: {{ $value | toString | quote }}
  {{- end }}
  {{- end }}
  {{- end }}
resources:
  {{- toYaml $ctx.Values.migrations.resources | nindent 2 }}
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{/*
TRUSTED_HOSTS: the Host names the service answers (others get a 400, so no absolute redirect
can point elsewhere). config.trustedHosts, the ingress hosts, the httpRoute hostnames, the
Service's in-cluster names (the helm test pod, in-cluster clients) and localhost (kubectl
port-forward). Probes and scrapes send the pod IP; the service exempts their paths.
*/}}
{{- define "items-api.trustedHosts" -}}
{{- $name := include "items-api.fullname" . -}}
{{- $ns := .Release.Namespace -}}
{{- $hosts := concat (.Values.config.trustedHosts | default list) (list
    $name (printf "%s.%s" $name $ns) (printf "%s.%s.svc" $name $ns)
    (printf "%s.%s.svc.cluster.local" $name $ns) "localhost" "127.0.0.1" "::1") -}}
{{- if .Values.ingress.enabled -}}
{{- range .Values.ingress.hosts }}{{ $hosts = append $hosts .host }}{{ end -}}
{{- range .Values.ingress.tls }}{{ $hosts = concat $hosts (.hosts | default list) }}{{ end -}}
{{- end -}}
{{- $route := .Values.httpRoute | default dict -}}
{{- if $route.enabled -}}
{{- $hosts = concat $hosts ($route.hostnames | default list) -}}
{{- end -}}
{{- join "," (uniq $hosts) -}}
{{- end -}}
