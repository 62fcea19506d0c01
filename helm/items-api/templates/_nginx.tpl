{{/* Placeholder until the nginx sidecar lands: a container listening on nginx.port as "proxy". */}}
{{- define "items-api.nginx.container" -}}
- name: nginx
  image: {{ printf "%s/%s:%s" .Values.nginx.image.registry .Values.nginx.image.repository .Values.nginx.image.tag }}
  imagePullPolicy: {{ .Values.nginx.image.pullPolicy }}
  securityContext:
    {{- toYaml .Values.nginx.securityContext | nindent 4 }}
  ports:
    - name: proxy
      containerPort: {{ .Values.nginx.port }}
      protocol: TCP
  livenessProbe:
    tcpSocket:
      port: proxy
  readinessProbe:
    tcpSocket:
      port: proxy
  resources:
    {{- toYaml .Values.nginx.resources | nindent 4 }}
{{- end -}}

{{/* Volumes of the nginx sidecar. */}}
{{- define "items-api.nginx.volumes" -}}
{{- end -}}
