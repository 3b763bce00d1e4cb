{{/*
The agent's pod template, shared by the DaemonSet and the Deployment.

Host access (only with driver.enabled): the host PID namespace, so the probe's
pids and /proc agree; the host's /proc and /etc read-only under /host, which
the agent finds through HOST_ROOT=/host (as Falco does); each container
runtime socket read-only at /host<socket path>.
*/}}
{{- define "peregrine.podTemplate" -}}
{{- $web := include "peregrine.webserver" . | fromYaml }}
{{- $sockets := (include "peregrine.runtimeSockets" . | fromYaml).sockets -}}
metadata:
  labels:
    {{- include "peregrine.selectorLabels" . | nindent 4 }}
    {{- with .Values.podLabels }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  annotations:
    {{- /* Config changes restart the agent; rules changes reload without a restart (watch_config_files). */}}
    checksum/config: {{ include "peregrine.config" . | sha256sum }}
    {{- if and .Values.driver.enabled .Values.appArmorProfile }}
    container.apparmor.security.beta.kubernetes.io/{{ .Chart.Name }}: {{ .Values.appArmorProfile }}
    {{- end }}
    {{- if and $web.metrics .Values.metrics.scrapeAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ $web.port | quote }}
    prometheus.io/path: /metrics
    {{- if $web.tls }}
    prometheus.io/scheme: https
    {{- end }}
    {{- end }}
    {{- with .Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  serviceAccountName: {{ include "peregrine.serviceAccountName" . }}
  automountServiceAccountToken: {{ .Values.serviceAccount.automountToken }}
  {{- if .Values.driver.enabled }}
  hostPID: true
  {{- end }}
  {{- with include "peregrine.priorityClassName" . }}
  priorityClassName: {{ . }}
  {{- end }}
  {{- with .Values.podSecurityContext }}
  securityContext:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.nodeSelector }}
  nodeSelector:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.affinity }}
  affinity:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.tolerations }}
  tolerations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.imagePullSecrets }}
  imagePullSecrets:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  {{- with .Values.extra.initContainers }}
  initContainers:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  containers:
    - name: {{ .Chart.Name }}
      image: {{ include "peregrine.image" . }}
      imagePullPolicy: {{ .Values.image.pullPolicy }}
      command:
        - /usr/bin/peregrine
      args:
        - -c
        - /etc/peregrine/config/peregrine.yaml
        {{- if not .Values.driver.enabled }}
        - --disable-source
        - syscall
        {{- end }}
        {{- with .Values.extra.args }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      env:
        {{- if .Values.driver.enabled }}
        - name: HOST_ROOT
          value: /host
        {{- end }}
        {{- /* Falco's names: the node name becomes the alerts' hostname. */}}
        - name: FALCO_HOSTNAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        - name: FALCO_K8S_NODE_NAME
          valueFrom:
            fieldRef:
              fieldPath: spec.nodeName
        {{- with .Values.extra.env }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      {{- with .Values.containerSecurityContext }}
      securityContext:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.resources }}
      resources:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- if $web.enabled }}
      ports:
        - name: web
          containerPort: {{ $web.port }}
          protocol: TCP
      {{- range $probe := list "startupProbe" "livenessProbe" "readinessProbe" }}
      {{- with index $.Values.healthChecks $probe }}
      {{ $probe }}:
        httpGet:
          path: {{ $web.healthz }}
          port: web
          {{- if $web.tls }}
          scheme: HTTPS
          {{- end }}
        initialDelaySeconds: {{ .initialDelaySeconds }}
        timeoutSeconds: {{ .timeoutSeconds }}
        periodSeconds: {{ .periodSeconds }}
        failureThreshold: {{ .failureThreshold }}
      {{- end }}
      {{- end }}
      {{- end }}
      volumeMounts:
        - name: config
          mountPath: /etc/peregrine/config
          readOnly: true
        {{- if .Values.customRules }}
        - name: custom-rules
          mountPath: /etc/peregrine/rules.d
          readOnly: true
        {{- end }}
        {{- /* Writable scratch space on a read-only root filesystem (capture files). */}}
        - name: tmp
          mountPath: /tmp
        {{- if .Values.driver.enabled }}
        - name: host-proc
          mountPath: /host/proc
          readOnly: true
        - name: host-etc
          mountPath: /host/etc
          readOnly: true
        {{- range $index, $socket := $sockets }}
        - name: runtime-socket-{{ $index }}
          mountPath: /host{{ $socket }}
          readOnly: true
        {{- end }}
        {{- end }}
        {{- with .Values.mounts.volumeMounts }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
  volumes:
    - name: config
      configMap:
        name: {{ include "peregrine.fullname" . }}
    {{- if .Values.customRules }}
    - name: custom-rules
      configMap:
        name: {{ include "peregrine.fullname" . }}-rules
    {{- end }}
    - name: tmp
      emptyDir: {}
    {{- if .Values.driver.enabled }}
    - name: host-proc
      hostPath:
        path: /proc
        type: Directory
    - name: host-etc
      hostPath:
        path: /etc
        type: Directory
    {{- range $index, $socket := $sockets }}
    - name: runtime-socket-{{ $index }}
      hostPath:
        path: {{ $socket }}
    {{- end }}
    {{- end }}
    {{- with .Values.mounts.volumes }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}
