/**
 * Plain Kubernetes manifests of a LatencyAwareService (docs/decisions/0007-routing-dataplane.md).
 * Pure: no @pulumi imports; the component hands these objects to the Kubernetes provider and a
 * synth tool can write them as artifacts.
 *
 * For every node n of the cluster:
 * - `Deployment <name>-<n>`: the workload, pinned by `kubernetes.io/hostname: n`, with exactly the
 *   plan's replicas for n (0 keeps the object, so a plan change never creates or deletes it);
 * - `Service <name>-<n>` (headless): that node's pods, so the proxies see every pod address;
 * - `ConfigMap <name>-proxy-<n>` and `Deployment <name>-proxy-<n>`: one Envoy on node n whose only
 *   route is `weighted_clusters` with the plan's weights from n (basis points) — in `rds.yaml`, a
 *   filesystem RDS file Envoy reloads without a restart, next to the bootstrap `envoy.yaml` —, each
 *   cluster being a serving node's headless Service, balanced by least-request among its pods; a
 *   stats listener on PROXY_STATS_PORT serves /stats/prometheus (the proxy's `metrics` port);
 * and one `Service <name>` in front of the proxies with `internalTrafficPolicy: Local` (and
 * `externalTrafficPolicy: Local` when exposed), so a request entering at node n is routed by n's
 * proxy — the per-source weights of the plan.
 */
import * as crypto from "node:crypto";
import { stringify } from "yaml";
import { renderDynamicBootstrap, renderRouteFile } from "./envoyDynamic";
import type { K8sObject } from "./k8s";
import { PROXY_STATS_PORT } from "./latency";
import type { RoutingPlan } from "../routing/types";

/** One Kubernetes object as plain data: the project's K8sObject. */
export type K8sManifest = K8sObject;

/** The workload a LatencyAwareService runs on every node. */
export interface ServiceSpec {
  /** Container image. */
  readonly image: string;
  /** Port the container listens on. */
  readonly port: number;
  /** Environment variables. Defaults to none. */
  readonly env?: Readonly<Record<string, string>>;
  /** Container arguments. Defaults to the image's. */
  readonly args?: readonly string[];
  /** CPU/memory requests and limits, e.g. `{requests: {cpu: "250m", memory: "64Mi"}}`. Defaults to none. */
  readonly resources?: {
    readonly requests?: Readonly<Record<string, string>>;
    readonly limits?: Readonly<Record<string, string>>;
  };
  /** HTTP path of the readiness probe. Defaults to a TCP probe on `port`. */
  readonly readinessPath?: string;
}

export interface LatencyAwareManifestOptions {
  /** Base name: the component name; every object name derives from it. */
  readonly name: string;
  readonly namespace: string;
  /** Node names (kubernetes.io/hostname values): one workload and one proxy per node. */
  readonly nodes: readonly string[];
  readonly service: ServiceSpec;
  readonly proxyImage: string;
  /** Port the proxies listen on. */
  readonly proxyPort: number;
  /** Port of the front Service. */
  readonly servicePort: number;
  readonly serviceType: "ClusterIP" | "NodePort" | "LoadBalancer";
}

export const DEFAULT_PROXY_IMAGE = "envoyproxy/envoy:v1.34.1";
/** Label carrying the node an object belongs to. */
export const NODE_LABEL = "routing.kantai.dev/node";
/** Pod annotation with the hash of the proxy's bootstrap (envoy.yaml): listeners or clusters changing roll the proxy; weights (rds.yaml) do not. */
export const CONFIG_HASH_ANNOTATION = "routing.kantai.dev/config-sha256";
/** Where the proxy's ConfigMap is mounted: Envoy watches this directory for rds.yaml. */
export const PROXY_CONFIG_DIR = "/etc/envoy";
/** Integer weights per row (basis points) in the proxy config. */
export const PROXY_WEIGHT_TOTAL = 10_000;

const sha = (s: string) => crypto.createHash("sha256").update(s).digest("hex");

/**
 * A DNS-1035 label (Service names are the strictest) from parts: lowercase, invalid characters to
 * "-". When that changed anything or the result is too long, an 8-hex digest of the original is
 * appended, so distinct node names never collide.
 */
export function objectName(...parts: string[]): string {
  const raw = parts.join("-");
  let label = raw
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/-+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (!/^[a-z]/.test(label)) label = `x-${label}`;
  if (label === raw && label.length <= 63) return label;
  return `${label.slice(0, 54).replace(/-+$/, "")}-${sha(raw).slice(0, 8)}`;
}

/** Integer weights summing to `total` by largest remainder; zero entries dropped; sorted by node name. */
export function integerWeights(row: Readonly<Record<string, number>>, total = PROXY_WEIGHT_TOTAL): [string, number][] {
  const entries = Object.entries(row)
    .filter(([, w]) => w > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  const exact = entries.map(([, w]) => (w * total) / sum);
  const out = exact.map((v) => Math.floor(v));
  let left = total - out.reduce((a, b) => a + b, 0);
  const order = exact.map((v, k) => [v - out[k], k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let q = 0; left > 0; q = (q + 1) % order.length, left--) out[order[q][1]]++;
  return entries.map(([node], k) => [node, out[k]] as [string, number]).filter(([, w]) => w > 0);
}

/**
 * A static Envoy bootstrap of node `from`'s proxy (one listener, the weighted route inline, one
 * cluster per serving node). The manifests use the dynamic bootstrap and route file instead
 * (renderLatencyAwareService); this stays for tools that want one self-contained file.
 */
export function renderProxyConfig(
  o: LatencyAwareManifestOptions,
  from: string,
  weights: Readonly<Record<string, number>>,
): string {
  const targets = integerWeights(weights);
  const config = {
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } },
    static_resources: {
      listeners: [
        {
          name: "ingress",
          address: { socket_address: { address: "0.0.0.0", port_value: o.proxyPort } },
          filter_chains: [
            {
              filters: [
                {
                  name: "envoy.filters.network.http_connection_manager",
                  typed_config: {
                    "@type":
                      "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
                    stat_prefix: "ingress",
                    route_config: {
                      name: "weighted",
                      virtual_hosts: [
                        {
                          name: o.name,
                          domains: ["*"],
                          routes: [
                            {
                              match: { prefix: "/" },
                              route: {
                                weighted_clusters: {
                                  clusters: targets.map(([to, weight]) => ({ name: `node-${to}`, weight })),
                                },
                              },
                            },
                          ],
                        },
                      ],
                    },
                    http_filters: [
                      {
                        name: "envoy.filters.http.router",
                        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
                      },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: targets.map(([to]) => ({
        name: `node-${to}`,
        type: "STRICT_DNS",
        connect_timeout: "1s",
        dns_refresh_rate: "5s",
        lb_policy: "LEAST_REQUEST",
        load_assignment: {
          cluster_name: `node-${to}`,
          endpoints: [
            {
              lb_endpoints: [
                {
                  endpoint: {
                    address: {
                      socket_address: {
                        address: `${objectName(o.name, to)}.${o.namespace}.svc.cluster.local`,
                        port_value: o.service.port,
                      },
                    },
                  },
                },
              ],
            },
          ],
        },
      })),
    },
  };
  return stringify(config, { lineWidth: 0 });
}

export interface LatencyAwareManifests {
  /** Per node: the workload Deployment, its headless Service, the proxy's ConfigMap and Deployment. */
  readonly nodes: Readonly<
    Record<
      string,
      {
        readonly workload: K8sManifest;
        readonly backend: K8sManifest;
        readonly proxyConfig: K8sManifest;
        readonly proxy: K8sManifest;
      }
    >
  >;
  /** The Service clients use. */
  readonly frontend: K8sManifest;
}

/**
 * Render every object for `plan`. Throws when the plan and `nodes` disagree: a node in `nodes`
 * without a weight row, or replicas planned on a node that is not in `nodes`.
 */
export function renderLatencyAwareService(o: LatencyAwareManifestOptions, plan: RoutingPlan): LatencyAwareManifests {
  const known = new Set(o.nodes);
  for (const [node, r] of Object.entries(plan.replicas)) {
    if (r > 0 && !known.has(node))
      throw new Error(`LatencyAwareService ${o.name}: the plan puts ${r} replicas on "${node}", which is not in nodes`);
  }
  for (const node of o.nodes) {
    if (!plan.weights[node])
      throw new Error(`LatencyAwareService ${o.name}: the plan has no weights for node "${node}"`);
    for (const to of Object.keys(plan.weights[node])) {
      if (!known.has(to))
        throw new Error(
          `LatencyAwareService ${o.name}: node "${node}" sends requests to "${to}", which is not in nodes`,
        );
    }
  }
  const base = {
    "app.kubernetes.io/name": o.name,
    "app.kubernetes.io/managed-by": "kantai",
    "app.kubernetes.io/part-of": o.name,
  };
  const workloadSelector = (node: string) => ({
    "app.kubernetes.io/name": o.name,
    "app.kubernetes.io/component": "workload",
    [NODE_LABEL]: node,
  });
  const proxySelector = (node: string) => ({
    "app.kubernetes.io/name": o.name,
    "app.kubernetes.io/component": "proxy",
    [NODE_LABEL]: node,
  });
  const s = o.service;
  const nodes: Record<string, LatencyAwareManifests["nodes"][string]> = {};
  for (const node of [...o.nodes].sort()) {
    const workloadName = objectName(o.name, node);
    const proxyName = objectName(o.name, "proxy", node);
    const container: Record<string, unknown> = {
      name: "app",
      image: s.image,
      ports: [{ name: "http", containerPort: s.port }],
      readinessProbe: s.readinessPath
        ? { httpGet: { path: s.readinessPath, port: s.port }, periodSeconds: 5 }
        : { tcpSocket: { port: s.port }, periodSeconds: 5 },
    };
    if (s.args) container.args = [...s.args];
    if (s.env)
      container.env = Object.keys(s.env)
        .sort()
        .map((k) => ({ name: k, value: s.env![k] }));
    if (s.resources) container.resources = JSON.parse(JSON.stringify(s.resources));
    const workload: K8sManifest = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: workloadName,
        namespace: o.namespace,
        labels: { ...base, "app.kubernetes.io/component": "workload", [NODE_LABEL]: node },
      },
      spec: {
        replicas: plan.replicas[node] ?? 0,
        selector: { matchLabels: workloadSelector(node) },
        template: {
          metadata: { labels: { ...base, ...workloadSelector(node) } },
          spec: { nodeSelector: { "kubernetes.io/hostname": node }, containers: [container] },
        },
      },
    };
    const backend: K8sManifest = {
      apiVersion: "v1",
      kind: "Service",
      metadata: {
        name: workloadName,
        namespace: o.namespace,
        labels: { ...base, "app.kubernetes.io/component": "workload", [NODE_LABEL]: node },
      },
      spec: {
        clusterIP: "None",
        selector: workloadSelector(node),
        ports: [{ name: "http", port: s.port, targetPort: s.port }],
      },
    };
    // The bootstrap (listeners, one cluster per node of the service) and the route with this
    // node's weights as a filesystem RDS file: Envoy reloads rds.yaml when the kubelet swaps the
    // ConfigMap volume, without a restart (lib/render/envoyDynamic.ts). Pulumi writes rds.yaml
    // from the plan; the re-planner may rewrite it (docs/decisions/0017-weights-owner.md).
    const envoy = renderDynamicBootstrap({
      name: o.name,
      node,
      proxyPort: o.proxyPort,
      configDir: PROXY_CONFIG_DIR,
      backends: [...o.nodes].sort().map((to) => ({
        node: to,
        address: `${objectName(o.name, to)}.${o.namespace}.svc.cluster.local`,
        port: s.port,
      })),
    });
    const proxyConfig: K8sManifest = {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: proxyName,
        namespace: o.namespace,
        labels: { ...base, "app.kubernetes.io/component": "proxy", [NODE_LABEL]: node },
      },
      data: { "envoy.yaml": envoy, "rds.yaml": renderRouteFile(o.name, plan.weights[node], "pulumi") },
    };
    const proxy: K8sManifest = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: proxyName,
        namespace: o.namespace,
        labels: { ...base, "app.kubernetes.io/component": "proxy", [NODE_LABEL]: node },
      },
      spec: {
        replicas: 1,
        selector: { matchLabels: proxySelector(node) },
        template: {
          metadata: {
            labels: { ...base, ...proxySelector(node) },
            annotations: { [CONFIG_HASH_ANNOTATION]: sha(envoy) },
          },
          spec: {
            nodeSelector: { "kubernetes.io/hostname": node },
            containers: [
              {
                name: "envoy",
                image: o.proxyImage,
                args: ["-c", "/etc/envoy/envoy.yaml", "--service-cluster", o.name, "--service-node", node],
                ports: [
                  { name: "http", containerPort: o.proxyPort },
                  { name: "metrics", containerPort: PROXY_STATS_PORT },
                ],
                readinessProbe: { tcpSocket: { port: o.proxyPort }, periodSeconds: 5 },
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "500m", memory: "256Mi" } },
                volumeMounts: [{ name: "config", mountPath: PROXY_CONFIG_DIR, readOnly: true }],
              },
            ],
            volumes: [{ name: "config", configMap: { name: proxyName } }],
          },
        },
      },
    };
    nodes[node] = { workload, backend, proxyConfig, proxy };
  }
  const frontendSpec: Record<string, unknown> = {
    type: o.serviceType,
    selector: { "app.kubernetes.io/name": o.name, "app.kubernetes.io/component": "proxy" },
    ports: [{ name: "http", port: o.servicePort, targetPort: o.proxyPort }],
    internalTrafficPolicy: "Local",
  };
  if (o.serviceType !== "ClusterIP") frontendSpec.externalTrafficPolicy = "Local";
  const frontend: K8sManifest = {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: objectName(o.name),
      namespace: o.namespace,
      labels: { ...base, "app.kubernetes.io/component": "frontend" },
    },
    spec: frontendSpec,
  };
  return { nodes, frontend };
}

/** Every object of `renderLatencyAwareService` as a list, in a stable order (by node, then kind; the frontend last). */
export function latencyAwareServiceManifests(o: LatencyAwareManifestOptions, plan: RoutingPlan): K8sManifest[] {
  return latencyAwareManifestList(renderLatencyAwareService(o, plan));
}

/** The objects of one render as a list, in a stable order (by node, then kind; the frontend last). */
export function latencyAwareManifestList(r: LatencyAwareManifests): K8sManifest[] {
  const out: K8sManifest[] = [];
  for (const node of Object.keys(r.nodes).sort()) {
    const n = r.nodes[node];
    out.push(n.workload, n.backend, n.proxyConfig, n.proxy);
  }
  out.push(r.frontend);
  return out;
}
