{{/* Chart name, truncated to Kubernetes' 63-character label limit. */}}
{{- define "peregrine.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Full name: the release name, suffixed with the chart name unless it contains it. */}}
{{- define "peregrine.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "peregrine.namespace" -}}
{{- default .Release.Namespace .Values.namespaceOverride }}
{{- end }}

{{- define "peregrine.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "peregrine.selectorLabels" -}}
app.kubernetes.io/name: {{ include "peregrine.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "peregrine.labels" -}}
helm.sh/chart: {{ include "peregrine.chart" . }}
{{ include "peregrine.selectorLabels" . }}
app.kubernetes.io/version: {{ .Values.image.tag | default .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "peregrine.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "peregrine.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "peregrine.image" -}}
{{- with .Values.image.registry }}{{ . }}/{{ end }}
{{- .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end }}

{{- define "peregrine.priorityClassName" -}}
{{- .Values.priorityClassName | default .Values.podPriorityClassName }}
{{- end }}

{{/* The falcosidekick URL: explicit, else the conventional in-namespace service. */}}
{{- define "peregrine.falcosidekickURL" -}}
{{- .Values.falcosidekick.url | default "http://falcosidekick:2801" }}
{{- end }}

{{/*
Container engines enabled by the values, in a fixed order, each with its
sockets. Empty unless the syscall source and the collectors are on.
Returns YAML: a list of {engine, sockets}.
*/}}
{{- define "peregrine.containerEngines" -}}
{{- $engines := list }}
{{- if and .Values.driver.enabled .Values.collectors.enabled .Values.collectors.containerEngine.enabled }}
{{- range $name := list "docker" "podman" "containerd" "cri" }}
{{- $engine := index $.Values.collectors.containerEngine.engines $name }}
{{- if and $engine $engine.enabled }}
{{- $engines = append $engines (dict "engine" $name "sockets" $engine.sockets) }}
{{- end }}
{{- end }}
{{- end }}
{{- toYaml (dict "engines" $engines) }}
{{- end }}

{{/* Distinct host socket paths of the enabled engines, as a YAML list. */}}
{{- define "peregrine.runtimeSockets" -}}
{{- $sockets := list }}
{{- range (include "peregrine.containerEngines" . | fromYaml).engines }}
{{- range .sockets }}
{{- $sockets = append $sockets . }}
{{- end }}
{{- end }}
{{- toYaml (dict "sockets" ($sockets | uniq)) }}
{{- end }}

{{/*
The agent's peregrine.yaml. Precedence, lowest first: what the chart derives
from `driver` and `collectors`; `config` (the chart defaults merged with the
user's); Falco's `falco` section; then the keys the `falcosidekick` and
`metrics` toggles own. `customRules` always end up in `rules_files`.
*/}}
{{- define "peregrine.config" -}}
{{- $derived := dict }}
{{- if .Values.driver.enabled }}
{{- $modern := dict "buf_size_preset" .Values.driver.modernEbpf.bufSizePreset "cpus_for_each_buffer" .Values.driver.modernEbpf.cpusForEachBuffer "drop_failed_exit" .Values.driver.modernEbpf.dropFailedExit }}
{{- $_ := set $derived "engine" (dict "kind" "modern_ebpf" "modern_ebpf" $modern) }}
{{- /* Every engine is listed, enabled or not, so none falls back to a default. */}}
{{- $enabled := dict }}
{{- range (include "peregrine.containerEngines" . | fromYaml).engines }}
{{- $_ := set $enabled .engine true }}
{{- end }}
{{- $engineConfig := dict }}
{{- range $name := list "docker" "podman" "containerd" "cri" }}
{{- $engine := index $.Values.collectors.containerEngine.engines $name | default dict }}
{{- $_ := set $engineConfig $name (dict "enabled" (hasKey $enabled $name) "sockets" ($engine.sockets | default list)) }}
{{- end }}
{{- $cfg := .Values.collectors.containerEngine }}
{{- $init := dict "label_max_len" $cfg.labelMaxLen "with_size" $cfg.withSize "hooks" $cfg.hooks "engines" $engineConfig }}
{{- $_ := set $derived "load_plugins" (list "container") }}
{{- $_ := set $derived "plugins" (list (dict "name" "container" "library_path" "libcontainer.so" "init_config" $init)) }}
{{- end }}
{{- $config := mustMergeOverwrite $derived (deepCopy .Values.config) (deepCopy .Values.falco) }}
{{- if .Values.falcosidekick.enabled }}
{{- $http := get $config "http_output" | default dict }}
{{- $_ := set $http "enabled" true }}
{{- $_ := set $http "url" (include "peregrine.falcosidekickURL" .) }}
{{- $_ := set $config "http_output" $http }}
{{- $_ := set $config "json_output" true }}
{{- $_ := set $config "json_include_output_property" true }}
{{- end }}
{{- if .Values.metrics.enabled }}
{{- $metrics := get $config "metrics" | default dict }}
{{- $_ := set $metrics "enabled" true }}
{{- $_ := set $metrics "interval" .Values.metrics.interval }}
{{- $_ := set $metrics "output_rule" .Values.metrics.outputRule }}
{{- $_ := set $config "metrics" $metrics }}
{{- $web := get $config "webserver" | default dict }}
{{- $_ := set $web "enabled" true }}
{{- $_ := set $web "prometheus_metrics_enabled" true }}
{{- $_ := set $config "webserver" $web }}
{{- end }}
{{- if .Values.customRules }}
{{- $rules := get $config "rules_files" | default list }}
{{- if not (has "/etc/peregrine/rules.d" $rules) }}
{{- $_ := set $config "rules_files" (append $rules "/etc/peregrine/rules.d") }}
{{- end }}
{{- end }}
{{- toYaml $config }}
{{- end }}

{{/* The web server settings the probes, ports and scrape annotations use. */}}
{{- define "peregrine.webserver" -}}
{{- $web := (include "peregrine.config" . | fromYaml).webserver | default dict }}
{{- toYaml (dict "enabled" ($web.enabled | default false) "port" ($web.listen_port | default 8765) "healthz" ($web.k8s_healthz_endpoint | default "/healthz") "tls" ($web.ssl_enabled | default false) "metrics" ($web.prometheus_metrics_enabled | default false)) }}
{{- end }}

{{/* Cross-value checks the JSON schema cannot express with a clear message. */}}
{{- define "peregrine.validate" -}}
{{- if and (eq .Values.controller.kind "deployment") .Values.driver.enabled }}
{{- fail "controller.kind=deployment runs the agent on some nodes only, but the syscall source (driver.enabled=true) must run on every node: use controller.kind=daemonset, or set driver.enabled=false for sources that are not per node" }}
{{- end }}
{{- if and .Values.serviceMonitor.create (not (and .Values.metrics.enabled .Values.metrics.service.create)) }}
{{- fail "serviceMonitor.create=true scrapes the metrics Service: set metrics.enabled=true and metrics.service.create=true" }}
{{- end }}
{{- $security := .Values.containerSecurityContext | default dict }}
{{- if and $security.privileged (eq (toString $security.allowPrivilegeEscalation) "false") }}
{{- fail "containerSecurityContext.privileged=true with allowPrivilegeEscalation=false is rejected by Kubernetes: set containerSecurityContext.allowPrivilegeEscalation=true (or null)" }}
{{- end }}
{{- end }}
