{{/* Names: the release's full name, cut to the 63 characters a DNS label allows. */}}
{{- define "autostack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "autostack.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "autostack.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "autostack.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "autostack.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "autostack.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "autostack.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
app.kubernetes.io/name: {{ include "autostack.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* Selector labels of one process role: (dict "root" $ "role" "web") */}}
{{- define "autostack.selectorLabels" -}}
app.kubernetes.io/name: {{ include "autostack.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .role }}
{{- end }}

{{- define "autostack.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "autostack.webhookPath" -}}
{{- default "/api/github/webhooks" .Values.settings.WEBHOOK_PATH }}
{{- end }}

{{/* The environment every process shares: plain settings from the ConfigMap, the App's Secret,
and the database and Redis URLs from their Secrets (references only). */}}
{{- define "autostack.env" -}}
envFrom:
  - configMapRef:
      name: {{ include "autostack.fullname" . }}
  - secretRef:
      name: {{ .Values.secrets.app.existingSecret }}
env:
  - name: DATABASE_URL
    valueFrom:
      secretKeyRef:
        name: {{ .Values.secrets.database.existingSecret }}
        key: {{ .Values.secrets.database.key }}
  - name: REDIS_URL
    valueFrom:
      secretKeyRef:
        name: {{ .Values.secrets.redis.existingSecret }}
        key: {{ .Values.secrets.redis.key }}
{{- end }}

{{/* What every AutoStack pod has: service account, security contexts, scratch volumes. The
root filesystem is read-only, so /tmp and the data folder are emptyDirs. */}}
{{- define "autostack.podSpec" -}}
serviceAccountName: {{ include "autostack.serviceAccountName" . }}
securityContext:
  {{- toYaml .Values.podSecurityContext | nindent 2 }}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
volumes:
  - name: tmp
    emptyDir:
      sizeLimit: {{ .Values.scratch.tmpSize }}
  - name: data
    emptyDir:
      sizeLimit: {{ .Values.scratch.dataSize }}
{{- end }}

{{- define "autostack.volumeMounts" -}}
volumeMounts:
  - name: tmp
    mountPath: /tmp
  - name: data
    mountPath: /var/lib/autostack
{{- end }}

{{/* Pod metadata: role labels, and the ConfigMap's checksum so a settings change rolls the pods. */}}
{{- define "autostack.podMetadata" -}}
labels:
  {{- include "autostack.selectorLabels" . | nindent 2 }}
  {{- with .root.Values.podLabels }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
annotations:
  checksum/settings: {{ include (print .root.Template.BasePath "/configmap.yaml") .root | sha256sum }}
  {{- with .root.Values.podAnnotations }}
  {{- toYaml . | nindent 2 }}
  {{- end }}
{{- end }}

{{/* One worker-style Deployment: (dict "root" $ "role" "worker" "values" .Values.worker "args" (list "worker")) */}}
{{- define "autostack.workerDeployment" -}}
{{- $root := .root }}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ include "autostack.fullname" $root }}-{{ .role }}
  labels:
    {{- include "autostack.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  replicas: {{ .values.replicas }}
  {{- with .values.strategy }}
  strategy:
    {{- toYaml . | nindent 4 }}
  {{- end }}
  selector:
    matchLabels:
      {{- include "autostack.selectorLabels" . | nindent 6 }}
  template:
    metadata:
      {{- include "autostack.podMetadata" . | nindent 6 }}
    spec:
      {{- include "autostack.podSpec" $root | nindent 6 }}
      terminationGracePeriodSeconds: {{ .values.terminationGracePeriodSeconds | default 30 }}
      {{- with $root.Values.topologySpreadConstraints }}
      topologySpreadConstraints:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      containers:
        - name: {{ .role }}
          image: {{ include "autostack.image" $root }}
          imagePullPolicy: {{ $root.Values.image.pullPolicy }}
          args: {{ toJson .args }}
          ports:
            - name: metrics
              containerPort: {{ $root.Values.metrics.port }}
              protocol: TCP
          {{- include "autostack.env" $root | nindent 10 }}
            # /metrics, /healthz and /readyz of a process without a web page (bot/metrics_server.py)
            - name: HOST
              value: "0.0.0.0"
            - name: AUTOSTACK_METRICS_PORT
              value: {{ $root.Values.metrics.port | quote }}
          livenessProbe:
            httpGet: {path: /healthz, port: metrics}
            periodSeconds: 10
            timeoutSeconds: 3
          readinessProbe:
            httpGet: {path: /readyz, port: metrics}
            periodSeconds: 10
            timeoutSeconds: 3
          securityContext:
            {{- toYaml $root.Values.securityContext | nindent 12 }}
          resources:
            {{- toYaml .values.resources | nindent 12 }}
          {{- include "autostack.volumeMounts" $root | nindent 10 }}
---
# headless: only for the ServiceMonitor to find the role's pods by their metrics port
apiVersion: v1
kind: Service
metadata:
  name: {{ include "autostack.fullname" $root }}-{{ .role }}-metrics
  labels:
    {{- include "autostack.labels" $root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  clusterIP: None
  selector:
    {{- include "autostack.selectorLabels" . | nindent 4 }}
  ports:
    - name: metrics
      port: {{ $root.Values.metrics.port }}
      targetPort: metrics
      protocol: TCP
{{- end }}

{{/* A PodDisruptionBudget for one role when enabled and more than one replica can run. */}}
{{- define "autostack.pdb" -}}
{{- if and .values.pdb.enabled (or (gt (int .values.replicas) 1) (and .autoscaling .autoscaling.enabled)) }}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "autostack.fullname" .root }}-{{ .role }}
  labels:
    {{- include "autostack.labels" .root | nindent 4 }}
    app.kubernetes.io/component: {{ .role }}
spec:
  minAvailable: {{ .values.pdb.minAvailable }}
  selector:
    matchLabels:
      {{- include "autostack.selectorLabels" . | nindent 6 }}
{{- end }}
{{- end }}
