/**
 * The in-cluster re-planner of one latency-aware service (web/replanner.ts, bundled), as plain
 * objects. Pure: the bundle text comes in. docs/decisions/0017-weights-owner.md.
 *
 * ServiceAccount, a Role allowing exactly `get` and `patch` on the service's proxy ConfigMaps
 * (resourceNames), its RoleBinding, a ConfigMap with the bundle and config.json, and a
 * one-replica Deployment on node:22-alpine (Recreate: never two re-planners at once).
 */
import * as crypto from "node:crypto";
import type { K8sObject } from "./k8s";
import { serviceMonitor, type Resources } from "./latency";

export interface ReplannerObjectsOptions {
  /** The latency-aware service. */
  readonly service: string;
  readonly namespace: string;
  /** The bundled web/replanner.ts. */
  readonly bundle: string;
  /** The controller's config (web/replanner.ts ReplannerConfig), written as config.json. */
  readonly config: {
    readonly configMaps: Readonly<Record<string, string>>;
    readonly write?: boolean;
    readonly metricsPort?: number;
  } & Record<string, unknown>;
  /** ServiceMonitor scrape interval of the re-planner's /metrics. Defaults to "15s". */
  readonly scrapeInterval?: string;
  readonly image: string;
  readonly resources: Resources;
}

export const REPLANNER_DEFAULTS = {
  image: "node:22-alpine",
  resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { cpu: "500m", memory: "192Mi" } },
  intervalMs: 15_000,
  minIntervalMs: 60_000,
  maxStep: 0.25,
  improvementPct: 5,
  rttMoveMs: 10,
  /** web/replanner.ts METRICS_PORT. */
  metricsPort: 9471,
} as const;

const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

export function renderReplanner(o: ReplannerObjectsOptions): K8sObject[] {
  const name = `${o.service}-replanner`;
  const labels = {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/managed-by": "kantai",
    "app.kubernetes.io/part-of": o.service,
    "app.kubernetes.io/component": "replanner",
  };
  const selector = { "app.kubernetes.io/name": name, "app.kubernetes.io/component": "replanner" };
  const meta = { name, namespace: o.namespace, labels };
  const configJson = `${JSON.stringify(o.config, null, 2)}\n`;
  const configMaps = [...new Set(Object.values(o.config.configMaps))].sort();
  const port = o.config.metricsPort ?? REPLANNER_DEFAULTS.metricsPort;
  // Observe-only (write: false) needs to read the proxies' ConfigMaps, never to patch them.
  const verbs = o.config.write === false ? ["get"] : ["get", "patch"];
  return [
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "Role",
      metadata: meta,
      rules: [{ apiGroups: [""], resources: ["configmaps"], resourceNames: configMaps, verbs }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: meta,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
      subjects: [{ kind: "ServiceAccount", name, namespace: o.namespace }],
    },
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta,
      data: { "replanner.js": o.bundle, "config.json": configJson },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta,
      spec: {
        replicas: 1,
        strategy: { type: "Recreate" },
        selector: { matchLabels: selector },
        template: {
          metadata: {
            labels: { ...labels, ...selector },
            annotations: { "latency.kantai.dev/replanner-sha256": sha(o.bundle + configJson) },
          },
          spec: {
            serviceAccountName: name,
            containers: [
              {
                name: "replanner",
                image: o.image,
                command: ["node", "/opt/replanner/replanner.js"],
                env: [
                  { name: "REPLANNER_CONFIG", value: "/opt/replanner/config.json" },
                  { name: "NODE_EXTRA_CA_CERTS", value: "/var/run/secrets/kubernetes.io/serviceaccount/ca.crt" },
                ],
                ports: [{ name: "metrics", containerPort: port, protocol: "TCP" }],
                readinessProbe: { httpGet: { path: "/healthz", port }, periodSeconds: 10 },
                resources: structuredClone(o.resources),
                securityContext: {
                  runAsNonRoot: true,
                  runAsUser: 1000,
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ["ALL"] },
                },
                volumeMounts: [{ name: "replanner", mountPath: "/opt/replanner", readOnly: true }],
              },
            ],
            volumes: [{ name: "replanner", configMap: { name } }],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta,
      spec: { selector, ports: [{ name: "metrics", port, targetPort: port, protocol: "TCP" }] },
    },
    // honorLabels: the re-planner's own `service`/`namespace` labels name the routed service (not the Service scraped).
    serviceMonitor({
      name,
      namespace: o.namespace,
      labels,
      selector: labels,
      port: "metrics",
      path: "/metrics",
      interval: o.scrapeInterval ?? "15s",
      honorLabels: true,
    }),
  ];
}
