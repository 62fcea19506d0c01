{{/*
The nginx sidecar. Its config is nginx/templates/*.conf (files/nginx links there): every
brace-wrapped upper-case placeholder is replaced exactly as nginx/render.py does, so the
chart never holds a second copy of the config.
*/}}

{{/* Placeholder name -> value, from the nginx values (the "sidecar" profile of render.py). */}}
{{- define "items-api.nginx.placeholders" -}}
{{- $n := .Values.nginx -}}
WORKER_PROCESSES: {{ $n.workerProcesses | quote }}
LISTEN_ADDR: "0.0.0.0"
HTTP_PORT: {{ $n.port | quote }}
HTTPS_PORT: "8443"
STATUS_LISTEN: {{ $n.statusPort | quote }}
PUBLIC_SCHEME: "http"
RUN_DIR: "/tmp/nginx"
ACCESS_LOG: "/dev/stdout"
ERROR_LOG: "stderr"
TLS_CERT: "/etc/nginx/tls/tls.crt"
TLS_KEY: "/etc/nginx/tls/tls.key"
SERVER_NAME: {{ $n.serverName | quote }}
TRUSTED_PROXY_CIDR: {{ $n.trustedProxyCidr | quote }}
UPSTREAM: {{ printf "127.0.0.1:%v" .Values.containerPorts.http | quote }}
UPSTREAM_KEEPALIVE: {{ $n.upstreamKeepalive.connections | quote }}
UPSTREAM_KEEPALIVE_TIMEOUT: {{ printf "%vs" $n.upstreamKeepalive.timeoutSeconds | quote }}
CLIENT_MAX_BODY_SIZE: {{ $n.clientMaxBodySize | quote }}
CLIENT_BODY_BUFFER_SIZE: {{ $n.clientBodyBufferSize | quote }}
PROXY_CONNECT_TIMEOUT: {{ $n.proxy.connectTimeout | quote }}
PROXY_SEND_TIMEOUT: {{ $n.proxy.sendTimeout | quote }}
PROXY_READ_TIMEOUT: {{ $n.proxy.readTimeout | quote }}
WEBSOCKET_TIMEOUT: {{ $n.proxy.websocketTimeout | quote }}
PROXY_BUFFERING: {{ ternary "on" "off" $n.proxy.buffering | quote }}
PROXY_REQUEST_BUFFERING: {{ ternary "on" "off" $n.proxy.requestBuffering | quote }}
PROXY_BUFFER_SIZE: {{ $n.proxy.bufferSize | quote }}
PROXY_BUFFERS: {{ $n.proxy.buffers | quote }}
RATE_LIMIT: {{ $n.rateLimit.rate | quote }}
RATE_LIMIT_BURST: {{ $n.rateLimit.burst | quote }}
{{- end -}}

{{/* The rendered config files as ConfigMap data (file name: text); fails on a placeholder left over. */}}
{{- define "items-api.nginx.files" -}}
{{- $values := include "items-api.nginx.placeholders" . | fromYaml -}}
{{- $files := dict -}}
{{- range $path, $_ := .Files.Glob "files/nginx/*.conf" -}}
{{- $text := $.Files.Get $path -}}
{{- range $name, $value := $values -}}
{{- $text = replace (printf "${%s}" $name) (toString $value) $text -}}
{{- end -}}
{{- with regexFind "\\$\\{[A-Z][A-Z0-9_]*\\}" $text -}}
{{- fail (printf "nginx: %s in %s has no value in items-api.nginx.placeholders" . (base $path)) -}}
{{- end -}}
{{- $_ := set $files (base $path) $text -}}
{{- end -}}
{{- if not $files -}}
{{- fail "nginx: files/nginx/*.conf is empty; package the chart from the repository (files/nginx links to nginx/templates)" -}}
{{- end -}}
{{- toYaml $files -}}
{{- end -}}

{{/* The ConfigMap's name carries a hash of the config, so a changed config rolls the pods. */}}
{{- define "items-api.nginx.configMapName" -}}
{{- $hash := include "items-api.nginx.files" . | sha256sum | trunc 10 -}}
{{- include "items-api.suffixedName" (dict "ctx" . "suffix" (printf "nginx-%s" $hash)) -}}
{{- end -}}

{{/* Fails the render when the sidecar would reuse connections the service has closed. */}}
{{- define "items-api.nginx.validate" -}}
{{- if ge (int .Values.nginx.upstreamKeepalive.timeoutSeconds) (int .Values.config.keepaliveSeconds) -}}
{{- fail (printf "nginx.upstreamKeepalive.timeoutSeconds (%v) must be below config.keepaliveSeconds (%v), or nginx reuses connections gunicorn has closed and answers 502" .Values.nginx.upstreamKeepalive.timeoutSeconds .Values.config.keepaliveSeconds) -}}
{{- end -}}
{{- end -}}

{{/* The sidecar container: in front of gunicorn on loopback, probed on its own listeners. */}}
{{- define "items-api.nginx.container" -}}
{{- include "items-api.nginx.validate" . -}}
{{- $n := .Values.nginx -}}
- name: nginx
  image: {{ include "items-api.imageRef" .Values.nginx.image }}
  imagePullPolicy: {{ $n.image.pullPolicy }}
  command: ["nginx", "-c", "/etc/nginx/items-api/nginx.conf", "-e", "stderr", "-g", "daemon off;"]
  securityContext:
    {{- toYaml $n.securityContext | nindent 4 }}
  ports:
    - name: proxy
      containerPort: {{ $n.port }}
      protocol: TCP
    - name: nginx-status
      containerPort: {{ $n.statusPort }}
      protocol: TCP
  {{- if $n.livenessProbe.enabled }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: nginx-status
    {{- omit $n.livenessProbe "enabled" | toYaml | nindent 4 }}
  {{- end }}
  {{- if $n.readinessProbe.enabled }}
  # Ready once the public listener accepts; whether gunicorn is ready is its own probe's say.
  readinessProbe:
    tcpSocket:
      port: proxy
    {{- omit $n.readinessProbe "enabled" | toYaml | nindent 4 }}
  {{- end }}
  lifecycle:
    # Accept connections until the endpoint is gone; the image's STOPSIGNAL (SIGQUIT)
    # then lets in-flight requests finish, while gunicorn still pauses (nginx.drainSeconds).
    {{- include "items-api.preStop" (dict "ctx" . "seconds" .Values.lifecycle.preStopSleepSeconds) | nindent 4 }}
  resources:
    {{- toYaml $n.resources | nindent 4 }}
  volumeMounts:
    - name: nginx-config
      mountPath: /etc/nginx/items-api
      readOnly: true
    - name: nginx-run
      mountPath: /tmp/nginx
{{- end -}}

{{/* The sidecar's volumes: its rendered config and a writable run dir (pid, temp files). */}}
{{- define "items-api.nginx.volumes" -}}
- name: nginx-config
  configMap:
    name: {{ include "items-api.nginx.configMapName" . }}
- name: nginx-run
  emptyDir:
    sizeLimit: {{ .Values.nginx.runVolume.sizeLimit }}
{{- end -}}
