{{/* Names, labels, policy exceptions and the pod spec parts master and workers share. */}}

{{/* The release-qualified name, 63 characters at most less room for "-master"/"-targets". */}}
{{- define "loadtest.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 55 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 55 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels every object carries. */}}
{{- define "loadtest.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "loadtest.selectorLabels" . }}
app.kubernetes.io/version: {{ include "loadtest.imageTag" . | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: items-api
{{- end -}}

{{/* Labels that identify the release's pods. */}}
{{- define "loadtest.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "loadtest.imageTag" -}}
{{- default .Chart.AppVersion .Values.image.tag -}}
{{- end -}}

{{/*
Policy exceptions (checkov and kube-score), each with its reason; `make lint-loadtest` runs
the main chart's scans and fails on anything not listed. usage: (dict "ctx" . "policy" (list ...))
*/}}
{{- define "loadtest.policyReasons" -}}
CKV_K8S_15: the Locust image is built locally and side-loaded (localhost/), so it cannot be pulled; its tag is the immutable Locust version
container-image-pull-policy: the Locust image is built locally and side-loaded (localhost/), so it cannot be pulled; its tag is the immutable Locust version
CKV_K8S_43: a locally built image has no registry digest
CKV_K8S_35: Locust reads the seeding account's password from ADMIN_PASSWORD (its documented configargparse variable)
CKV_K8S_8: a run-to-completion Job: restarting Locust on a failed liveness probe would restart the run and void its figures
CKV_K8S_9: workers accept no connections (they dial the master), so there is nothing to be ready for
service-targets-pod: it selects the items-api pods, which another release runs
{{- end -}}

{{- define "loadtest.annotations" -}}
{{- $reasons := include "loadtest.policyReasons" .ctx | fromYaml -}}
{{- $all := dict -}}
{{- $kubeScore := list -}}
{{- range $i, $id := .policy -}}
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
annotations:
  {{- toYaml $all | nindent 2 }}
{{- end -}}

{{/* The pod spec every Locust process runs with: hardened, no API token, the scenario mounted. */}}
{{- define "loadtest.podSpec" -}}
restartPolicy: Never
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
volumes:
  - name: scenario
    configMap:
      name: {{ include "loadtest.fullname" . }}
  - name: tmp
    emptyDir:
      sizeLimit: 64Mi
{{- end -}}

{{/* The container parts both share: image, hardening, the scenario and the account. */}}
{{- define "loadtest.container" -}}
image: {{ printf "%s:%s" .Values.image.repository (include "loadtest.imageTag" .) | quote }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  capabilities:
    drop: ["ALL"]
env:
  - name: HOME
    value: /tmp
  - name: ADMIN_EMAIL
    value: {{ .Values.run.adminEmail | quote }}
  - name: ADMIN_PASSWORD
    valueFrom:
      secretKeyRef:
        name: {{ .Values.run.adminPasswordSecret.name }}
        key: {{ .Values.run.adminPasswordSecret.key }}
volumeMounts:
  - name: scenario
    mountPath: /locust
    readOnly: true
  - name: tmp
    mountPath: /tmp
{{- end -}}
