{{- /* Names and labels every object of the chart shares. */}}
{{- define "iot-security-operator.fullname" -}}
{{- if contains .Chart.Name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "iot-security-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ .Chart.Name }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "iot-security-operator.labels" -}}
{{ include "iot-security-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end }}

{{- define "iot-security-operator.image" -}}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion | toString) }}
{{- end }}

{{- /*
The container's memory limit in MiB, from resources.limits.memory in Gi, Mi, G, M or bytes (0 when unset or in
another unit): the heap check below compares it with heapMiB.
*/}}
{{- define "iot-security-operator.memoryLimitMiB" -}}
{{- $limit := dig "limits" "memory" "" (.Values.resources | default dict) | toString }}
{{- if hasSuffix "Gi" $limit }}{{ mulf (trimSuffix "Gi" $limit | float64) 1024 }}
{{- else if hasSuffix "Mi" $limit }}{{ trimSuffix "Mi" $limit | float64 }}
{{- else if hasSuffix "G" $limit }}{{ divf (mulf (trimSuffix "G" $limit | float64) 1000000000) 1048576 }}
{{- else if hasSuffix "M" $limit }}{{ divf (mulf (trimSuffix "M" $limit | float64) 1000000) 1048576 }}
{{- else if regexMatch "^[0-9]+$" $limit }}{{ divf ($limit | float64) 1048576 }}
{{- else }}0{{ end }}
{{- end }}

{{- /*
A container killed for memory before V8 would collect restarts and loses its caches: the limit must leave room above
the heap cap for what is not heap (the node binary, compiled code, malloc; about 250 MB measured).
*/}}
{{- define "iot-security-operator.checkHeap" -}}
{{- $limit := include "iot-security-operator.memoryLimitMiB" . | float64 }}
{{- if and (gt $limit 0.0) (lt $limit (addf .Values.heapMiB 256)) }}
{{- fail (printf "resources.limits.memory %s leaves too little above the heap cap heapMiB %v: give the container at least %v Mi (heapMiB + 256), or lower heapMiB" (toString .Values.resources.limits.memory) .Values.heapMiB (addf .Values.heapMiB 256)) }}
{{- end }}
{{- end }}

{{- /* The Lease its replicas elect a leader with (and that --sharding watches for an old leader): the release's own, so
two releases in one namespace never share one. Named iot-security-operator-leader for the release iot-security-operator,
as kustomize's manifests name it. */}}
{{- define "iot-security-operator.leaderLease" -}}
{{- printf "%s-leader" (include "iot-security-operator.fullname" .) }}
{{- end }}

{{- /* The repository values.yaml names: no image is published there, so an install that keeps it cannot pull. */}}
{{- define "iot-security-operator.unpublishedRepository" -}}
ghcr.io/iot-security-operator/iot-security-operator
{{- end }}

{{- /*
The flags the chart writes itself, each with what to do instead: the same flag again in extraArgs would override
it (and the RBAC, probes or grace period written for it) or, for --namespace, watch a namespace the chart grants
nothing in.
*/}}
{{- define "iot-security-operator.checkExtraArgs" -}}
{{- $owned := dict
  "--leader-elect" "set leaderElection.enabled instead"
  "--leader-elect-resource-name" "it names the Lease after the release, and its Role grants that name only"
  "--leader-elect-resource-namespace" "the Leases are in the release's namespace, where its Role grants them"
  "--metrics-bind-address" "set metrics.enabled and metrics.port instead"
  "--metrics-secure" "set metrics.secure instead, which also grants the reviews it makes"
  "--health-probe-bind-address" "the pod's probes call port 8081"
  "--graceful-shutdown-timeout" "20s, within the pod's terminationGracePeriodSeconds of 30"
  "--log-level" "set logLevel instead"
  "--namespace" "set watchNamespaces instead, which also grants the rights there"
  "--metrics-cert-path" "set metrics.certSecret instead, which mounts the Secret there"
  "--entra-hub-hosts" "set entra.hubHosts instead"
  "--entra-namespaces" "set entra.namespaces instead"
  "--entra-authority-host" "set entra.authorityHost instead" }}
{{- range .Values.extraArgs }}
{{- $arg := toString . }}
{{- $flag := regexReplaceAll "=.*$" $arg "" }}
{{- if hasKey $owned $flag }}
{{- fail (printf "extraArgs %s: the chart sets %s itself: %s" $arg $flag (get $owned $flag)) }}
{{- end }}
{{- if hasPrefix "--sharding=" $arg }}
{{- fail (printf "extraArgs %s: --sharding takes no value (the operator refuses one); write --sharding, with leaderElection.enabled=false" $arg) }}
{{- end }}
{{- end }}
{{- end }}

{{- /*
Replicas that neither elect a leader nor shard would all write the same twins; --sharding and --leader-elect are
two ways of sharing the work, and the operator refuses both at once.
*/}}
{{- define "iot-security-operator.checkReplicas" -}}
{{- include "iot-security-operator.checkExtraArgs" . }}
{{- $sharding := has "--sharding" (.Values.extraArgs | default list) }}
{{- if and .Values.leaderElection.enabled $sharding }}
{{- fail "extraArgs --sharding and leaderElection.enabled are two ways of sharing the work: set leaderElection.enabled=false to shard" }}
{{- end }}
{{- if and (gt (int .Values.replicas) 1) (not .Values.leaderElection.enabled) (not $sharding) }}
{{- fail (printf "replicas %v without leader election would all reconcile the same hubs: keep leaderElection.enabled, or add --sharding to extraArgs" .Values.replicas) }}
{{- end }}
{{- end }}
