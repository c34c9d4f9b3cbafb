/**
 * Measured latencies on the cluster (docs/concepts/measured-latency.md), as plain objects. Pure.
 *
 * - RTT agents (web/rtt-agent.js): ConfigMap with the script, headless Service (peer discovery
 *   by DNS; `publishNotReadyAddresses` so agents find each other before they are ready), a
 *   DaemonSet on node:22-alpine (one agent per node, `hostNetwork` by default so the RTT is the
 *   node's, not the overlay's), and a ServiceMonitor.
 * - kube-prometheus-stack Helm values (Prometheus Operator) for a lean Prometheus that selects
 *   every ServiceMonitor in the cluster.
 * - A metrics Service and a ServiceMonitor per latency-aware service (its per-node proxies).
 *
 * ServiceMonitor fields follow the monitoring.coreos.com/v1 CRD shipped by kube-prometheus-stack
 * (charts/kube-prometheus-stack/charts/crds/crds/crd-servicemonitors.yaml: `spec.selector` and
 * `spec.endpoints` required; endpoint `port` is the Service port's *name*; `interval` and
 * `scrapeTimeout` are Prometheus durations; `podTargetLabels` copies pod labels onto the samples).
 */
import * as crypto from "node:crypto";
import { kantaiLabels, type K8sObject } from "./k8s";
import type { ReleaseMirror } from "./knative";

/** kube-prometheus-stack, pinned (prometheus-community/helm-charts Chart.yaml: version 88.5.3, Prometheus Operator v0.93.1). */
export const PROMETHEUS_STACK_CHART = {
  chart: "kube-prometheus-stack",
  repo: "https://prometheus-community.github.io/helm-charts",
  version: "88.5.3",
} as const;

/**
 * Where kube-prometheus-stack is installed from: its chart repository, or under a release mirror
 * (`kantai:releases.mirror`) the packaged chart `helm pull` writes,
 * `kube-prometheus-stack/v<version>/kube-prometheus-stack-<version>.tgz` (a path or URL, which
 * carries its own version: Helm takes a chart archive's path or URL as the chart reference).
 */
export function prometheusStackChart(
  version: string,
  mirror?: ReleaseMirror,
): { readonly chart: string; readonly repo?: string; readonly mirrorPath: string } {
  const c = PROMETHEUS_STACK_CHART.chart;
  const mirrorPath = `${c}/v${version}/${c}-${version}.tgz`;
  if (!mirror) return { chart: c, repo: PROMETHEUS_STACK_CHART.repo, mirrorPath };
  const base = mirror.kind === "url" ? mirror.base : mirror.path;
  return { chart: `${base.replace(/\/+$/, "")}/${mirrorPath}`, mirrorPath };
}

export interface Resources {
  readonly requests: { readonly cpu: string; readonly memory: string };
  readonly limits: { readonly cpu: string; readonly memory: string };
}

export interface RttAgentOptions {
  /** Base name of every object. */
  readonly name: string;
  readonly namespace: string;
  /** The agent's source (web/rtt-agent.js), shipped in the ConfigMap. */
  readonly source: string;
  readonly image: string;
  readonly port: number;
  readonly intervalMs: number;
  readonly windowMs: number;
  readonly timeoutMs: number;
  /** Run in the node's network namespace (the RTT between nodes, not between pod overlays). */
  readonly hostNetwork: boolean;
  readonly resources: Resources;
  /** ServiceMonitor scrape interval, a Prometheus duration ("5s"). */
  readonly scrapeInterval: string;
}

export const RTT_AGENT_DEFAULTS = {
  name: "rtt-agent",
  namespace: "monitoring",
  image: "node:22-alpine",
  port: 9470,
  intervalMs: 5000,
  windowMs: 10_000,
  timeoutMs: 1000,
  hostNetwork: true,
  resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } },
  scrapeInterval: "5s",
} as const satisfies Omit<RttAgentOptions, "source">;

const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/** The agents' DNS name peers resolve (the headless Service). */
export const agentDns = (o: Pick<RttAgentOptions, "name" | "namespace">) =>
  `${o.name}.${o.namespace}.svc.cluster.local`;

/** Every object of the RTT agents: ConfigMap, headless Service, DaemonSet, ServiceMonitor. */
export function renderRttAgents(o: RttAgentOptions): K8sObject[] {
  if (o.windowMs < o.intervalMs)
    throw new Error(`rtt agents ${o.name}: windowMs (${o.windowMs}) must be at least intervalMs (${o.intervalMs})`);
  if (o.timeoutMs >= o.intervalMs)
    throw new Error(`rtt agents ${o.name}: timeoutMs (${o.timeoutMs}) must be below intervalMs (${o.intervalMs})`);
  const labels = kantaiLabels(o.name, { "app.kubernetes.io/name": o.name, "app.kubernetes.io/component": "rtt-agent" });
  const selector = { "app.kubernetes.io/name": o.name, "app.kubernetes.io/component": "rtt-agent" };
  const meta = (name: string) => ({ name, namespace: o.namespace, labels });
  const configMap: K8sObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: meta(o.name),
    data: { "rtt-agent.js": o.source },
  };
  const service: K8sObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: meta(o.name),
    spec: {
      clusterIP: "None",
      publishNotReadyAddresses: true,
      selector,
      ports: [{ name: "metrics", port: o.port, targetPort: o.port, protocol: "TCP" }],
    },
  };
  const env = [
    { name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } },
    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    { name: "PORT", value: String(o.port) },
    { name: "PEER_DNS", value: agentDns(o) },
    { name: "PEER_PORT", value: String(o.port) },
    { name: "INTERVAL_MS", value: String(o.intervalMs) },
    { name: "WINDOW_MS", value: String(o.windowMs) },
    { name: "TIMEOUT_MS", value: String(o.timeoutMs) },
  ];
  const daemonSet: K8sObject = {
    apiVersion: "apps/v1",
    kind: "DaemonSet",
    metadata: meta(o.name),
    spec: {
      selector: { matchLabels: selector },
      updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
      template: {
        metadata: {
          labels: { ...labels, ...selector },
          annotations: { "latency.kantai.dev/agent-sha256": sha(o.source) },
        },
        spec: {
          ...(o.hostNetwork ? { hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" } : {}),
          // Every node is measured, control-plane and tainted nodes included.
          tolerations: [{ operator: "Exists" }],
          automountServiceAccountToken: false,
          containers: [
            {
              name: "agent",
              image: o.image,
              command: ["node", "/opt/rtt-agent/rtt-agent.js"],
              env,
              ports: [{ name: "metrics", containerPort: o.port, protocol: "TCP" }],
              readinessProbe: { httpGet: { path: "/ping", port: o.port }, periodSeconds: 10 },
              livenessProbe: { httpGet: { path: "/ping", port: o.port }, periodSeconds: 20, failureThreshold: 3 },
              resources: structuredClone(o.resources),
              securityContext: {
                runAsNonRoot: true,
                runAsUser: 1000,
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ["ALL"] },
              },
              volumeMounts: [{ name: "agent", mountPath: "/opt/rtt-agent", readOnly: true }],
            },
          ],
          volumes: [{ name: "agent", configMap: { name: o.name } }],
        },
      },
    },
  };
  const monitor = serviceMonitor({
    name: o.name,
    namespace: o.namespace,
    labels,
    selector: labels,
    port: "metrics",
    path: "/metrics",
    interval: o.scrapeInterval,
  });
  return [configMap, service, daemonSet, monitor];
}

export interface ServiceMonitorOptions {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Labels of the Service(s) to scrape. */
  readonly selector: Readonly<Record<string, string>>;
  /** Name of the Service port. */
  readonly port: string;
  readonly path: string;
  /** Prometheus duration, e.g. "5s". */
  readonly interval: string;
  /** Pod labels copied onto every sample (e.g. the node a proxy runs on). */
  readonly podTargetLabels?: readonly string[];
  /** Keep the scraped labels where they clash with the target's (`service`, `namespace`). Defaults to false. */
  readonly honorLabels?: boolean;
}

const DURATION = /^(0|(([0-9]+)y)?(([0-9]+)w)?(([0-9]+)d)?(([0-9]+)h)?(([0-9]+)m)?(([0-9]+)s)?(([0-9]+)ms)?)$/;

/** A monitoring.coreos.com/v1 ServiceMonitor scraping one named port of the selected Services. */
export function serviceMonitor(o: ServiceMonitorOptions): K8sObject {
  if (!DURATION.test(o.interval) || o.interval === "")
    throw new Error(`ServiceMonitor ${o.name}: interval "${o.interval}" is not a Prometheus duration like "5s"`);
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: o.name, namespace: o.namespace, labels: { ...o.labels } },
    spec: {
      selector: { matchLabels: { ...o.selector } },
      namespaceSelector: { matchNames: [o.namespace] },
      endpoints: [
        {
          port: o.port,
          path: o.path,
          interval: o.interval,
          scheme: "http",
          ...(o.honorLabels ? { honorLabels: true } : {}),
        },
      ],
      ...(o.podTargetLabels?.length ? { podTargetLabels: [...o.podTargetLabels] } : {}),
    },
  };
}

/** Label of the per-node proxies carrying their node (lib/render/latencyAware.ts NODE_LABEL; a test keeps them equal). */
export const ROUTING_NODE_LABEL = "routing.kantai.dev/node";
/** Port of the proxies' stats listener (lib/render/envoyDynamic.ts) that serves only /stats/prometheus. */
export const PROXY_STATS_PORT = 9902;

/**
 * The metrics Service (headless, selecting every proxy of the service) and the ServiceMonitor of
 * one latency-aware service: Prometheus scrapes each node's Envoy, and `podTargetLabels` puts the
 * node on the samples (label `routing_kantai_dev_node`), which is what the re-planner's demand
 * query groups by.
 */
export function renderLatencyAwareMonitor(o: {
  readonly name: string;
  readonly namespace: string;
  readonly interval: string;
}): K8sObject[] {
  const labels = {
    "app.kubernetes.io/name": o.name,
    "app.kubernetes.io/managed-by": "kantai",
    "app.kubernetes.io/part-of": o.name,
    "app.kubernetes.io/component": "proxy-metrics",
  };
  const service: K8sObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: `${o.name}-proxy-metrics`, namespace: o.namespace, labels },
    spec: {
      clusterIP: "None",
      selector: { "app.kubernetes.io/name": o.name, "app.kubernetes.io/component": "proxy" },
      ports: [{ name: "metrics", port: PROXY_STATS_PORT, targetPort: PROXY_STATS_PORT, protocol: "TCP" }],
    },
  };
  return [
    service,
    serviceMonitor({
      name: `${o.name}-proxy`,
      namespace: o.namespace,
      labels,
      selector: labels,
      port: "metrics",
      path: "/stats/prometheus",
      interval: o.interval,
      podTargetLabels: [ROUTING_NODE_LABEL],
    }),
  ];
}

export interface PrometheusStackOptions {
  /** The chart's `fullnameOverride`: prefix of every object (≤ 26 characters: the chart truncates it there). */
  readonly fullname: string;
  /** How long Prometheus keeps samples, e.g. "2d". */
  readonly retention: string;
  /** Default scrape interval, e.g. "15s" (ServiceMonitors may set their own). */
  readonly scrapeInterval: string;
  readonly prometheusResources: Resources;
  readonly operatorResources: Resources;
  /** Size of a PersistentVolumeClaim for the TSDB; undefined keeps it in an emptyDir. */
  readonly storage?: { readonly size: string; readonly storageClass?: string };
}

export const PROMETHEUS_STACK_DEFAULTS = {
  fullname: "kantai-prometheus",
  retention: "2d",
  scrapeInterval: "15s",
  prometheusResources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "1", memory: "1Gi" } },
  operatorResources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "256Mi" } },
} as const satisfies PrometheusStackOptions;

/** Resources of the small helper containers (config reloader, admission-webhook cert jobs). */
const SIDECAR: Resources = { requests: { cpu: "10m", memory: "32Mi" }, limits: { cpu: "100m", memory: "64Mi" } };

/**
 * Values for kube-prometheus-stack (keys as in the chart's values.yaml at 88.5.3): only the
 * Operator and one Prometheus; it selects every ServiceMonitor in every namespace
 * (`serviceMonitorSelectorNilUsesHelmValues: false`, empty selectors), so kantai's monitors need
 * no `release` label. Grafana, Alertmanager, node-exporter, kube-state-metrics, the default rules
 * and the control-plane monitors K3s does not expose (controller-manager, scheduler, proxy,
 * etcd) are off. Every container the chart or the Operator creates has requests and limits
 * (the policy pack's k8s-resources rule).
 */
export function prometheusStackValues(o: PrometheusStackOptions): Record<string, unknown> {
  if (o.fullname.length > 26 || !/^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(o.fullname))
    throw new Error(
      `kube-prometheus-stack: fullname "${o.fullname}" must be a DNS label of at most 26 characters (the chart truncates fullnameOverride to 26)`,
    );
  return {
    fullnameOverride: o.fullname,
    crds: { enabled: true },
    defaultRules: { create: false },
    alertmanager: { enabled: false },
    grafana: { enabled: false },
    kubeStateMetrics: { enabled: false },
    nodeExporter: { enabled: false },
    kubeControllerManager: { enabled: false },
    kubeScheduler: { enabled: false },
    kubeProxy: { enabled: false },
    kubeEtcd: { enabled: false },
    prometheusOperator: {
      resources: structuredClone(o.operatorResources),
      admissionWebhooks: { patch: { resources: structuredClone(SIDECAR) } },
      prometheusConfigReloader: { resources: structuredClone(SIDECAR) },
    },
    prometheus: {
      prometheusSpec: {
        retention: o.retention,
        scrapeInterval: o.scrapeInterval,
        serviceMonitorSelectorNilUsesHelmValues: false,
        serviceMonitorSelector: {},
        serviceMonitorNamespaceSelector: {},
        podMonitorSelectorNilUsesHelmValues: false,
        resources: structuredClone(o.prometheusResources),
        ...(o.storage
          ? {
              storageSpec: {
                volumeClaimTemplate: {
                  spec: {
                    accessModes: ["ReadWriteOnce"],
                    resources: { requests: { storage: o.storage.size } },
                    ...(o.storage.storageClass ? { storageClassName: o.storage.storageClass } : {}),
                  },
                },
              },
            }
          : {}),
      },
    },
  };
}

/**
 * In-cluster URL of the chart's Prometheus Service: templates/prometheus/service.yaml names it
 * `<fullname>-prometheus`, port 9090 (`prometheus.service.port`), fullname being fullnameOverride.
 */
export const prometheusUrl = (fullname: string, namespace: string) =>
  `http://${fullname}-prometheus.${namespace}.svc.cluster.local:9090`;
