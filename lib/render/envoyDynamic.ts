/**
 * A per-node routing proxy whose weights change without a restart (docs/decisions/0017-weights-owner.md):
 * the bootstrap (`envoy.yaml`: listeners, clusters) is static; the route with the weights is a
 * filesystem RDS resource (`rds.yaml`) in the same ConfigMap directory. Pure.
 *
 * Envoy rules relied on (https://www.envoyproxy.io/docs/envoy/v1.40.0/api-v3/config/core/v3/config_source.proto,
 * https://www.envoyproxy.io/docs/envoy/latest/start/quick-start/configuration-dynamic-filesystem):
 * - `ConfigSource.path_config_source` (PathConfigSource) names the file; it must exist at load time;
 * - Envoy reloads only on a *move*; a ConfigMap volume is updated by swapping the `..data` symlink
 *   in the mount directory, so `watched_directory` must be the mount directory (the
 *   PathConfigSource doc's Kubernetes ConfigMap example) — an in-place watch would never fire;
 * - the file is a DiscoveryResponse: `resources: [{"@type": ".../envoy.config.route.v3.RouteConfiguration", ...}]`.
 *
 * Besides the ingress listener there is a stats listener that serves only `/stats/prometheus`
 * from the admin interface (which stays on 127.0.0.1), for the ServiceMonitor (lib/render/latency.ts).
 */
import { stringify } from "yaml";
import { PROXY_STATS_PORT } from "./latency";

export const ROUTE_NAME = "weighted";
/** Weights are integers per row summing to this (basis points), as in lib/render/latencyAware.ts. */
export const WEIGHT_TOTAL = 10_000;

export interface DynamicProxyOptions {
  /** Service name (virtual host, Envoy --service-cluster). */
  readonly name: string;
  /** The node this proxy runs on (Envoy node id). */
  readonly node: string;
  readonly proxyPort: number;
  /** Where the ConfigMap is mounted: the watched directory. */
  readonly configDir: string;
  /** Every serving node the weights may point at, with its headless Service address and port. */
  readonly backends: readonly { readonly node: string; readonly address: string; readonly port: number }[];
}

const hcm = (stat: string, rest: Record<string, unknown>) => ({
  name: "envoy.filters.network.http_connection_manager",
  typed_config: {
    "@type": "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager",
    stat_prefix: stat,
    ...rest,
    http_filters: [
      {
        name: "envoy.filters.http.router",
        typed_config: { "@type": "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router" },
      },
    ],
  },
});

export const clusterName = (node: string) => `node-${node}`;

/** The bootstrap: node, admin on loopback, ingress listener with filesystem RDS, stats listener, one cluster per backend. */
export function renderDynamicBootstrap(o: DynamicProxyOptions): string {
  const dir = o.configDir.replace(/\/+$/, "");
  const config = {
    node: { id: o.node, cluster: o.name },
    admin: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } },
    static_resources: {
      listeners: [
        {
          name: "ingress",
          address: { socket_address: { address: "0.0.0.0", port_value: o.proxyPort } },
          filter_chains: [
            {
              filters: [
                hcm("ingress", {
                  rds: {
                    route_config_name: ROUTE_NAME,
                    config_source: {
                      resource_api_version: "V3",
                      path_config_source: { path: `${dir}/rds.yaml`, watched_directory: { path: dir } },
                    },
                  },
                }),
              ],
            },
          ],
        },
        {
          name: "stats",
          address: { socket_address: { address: "0.0.0.0", port_value: PROXY_STATS_PORT } },
          filter_chains: [
            {
              filters: [
                hcm("stats", {
                  route_config: {
                    name: "stats",
                    virtual_hosts: [
                      {
                        name: "stats",
                        domains: ["*"],
                        routes: [{ match: { path: "/stats/prometheus" }, route: { cluster: "admin" } }],
                      },
                    ],
                  },
                }),
              ],
            },
          ],
        },
      ],
      clusters: [
        ...[...o.backends]
          .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0))
          .map((b) => ({
            name: clusterName(b.node),
            type: "STRICT_DNS",
            connect_timeout: "1s",
            dns_refresh_rate: "5s",
            lb_policy: "LEAST_REQUEST",
            load_assignment: {
              cluster_name: clusterName(b.node),
              endpoints: [
                {
                  lb_endpoints: [
                    { endpoint: { address: { socket_address: { address: b.address, port_value: b.port } } } },
                  ],
                },
              ],
            },
          })),
        {
          name: "admin",
          type: "STATIC",
          connect_timeout: "1s",
          load_assignment: {
            cluster_name: "admin",
            endpoints: [
              {
                lb_endpoints: [
                  { endpoint: { address: { socket_address: { address: "127.0.0.1", port_value: 9901 } } } },
                ],
              },
            ],
          },
        },
      ],
    },
  };
  return stringify(config, { lineWidth: 0 });
}

/** Integer weights summing to WEIGHT_TOTAL by largest remainder; zeros dropped; sorted by node. */
export function basisPoints(row: Readonly<Record<string, number>>): [string, number][] {
  const entries = Object.entries(row)
    .filter(([, w]) => w > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) throw new Error("a weight row needs at least one positive weight");
  const sum = entries.reduce((s, [, w]) => s + w, 0);
  const exact = entries.map(([, w]) => (w * WEIGHT_TOTAL) / sum);
  const out = exact.map(Math.floor);
  let left = WEIGHT_TOTAL - out.reduce((a, b) => a + b, 0);
  const order = exact.map((v, k) => [v - out[k], k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let q = 0; left > 0; q = (q + 1) % order.length, left--) out[order[q][1]]++;
  return entries.map(([n], k) => [n, out[k]] as [string, number]).filter(([, w]) => w > 0);
}

/** The RDS file: one RouteConfiguration whose single route splits by `weights` (fractions per serving node). */
export function renderRouteFile(name: string, weights: Readonly<Record<string, number>>, version: string): string {
  const doc = {
    version_info: version,
    resources: [
      {
        "@type": "type.googleapis.com/envoy.config.route.v3.RouteConfiguration",
        name: ROUTE_NAME,
        virtual_hosts: [
          {
            name,
            domains: ["*"],
            routes: [
              {
                match: { prefix: "/" },
                route: {
                  weighted_clusters: {
                    clusters: basisPoints(weights).map(([n, w]) => ({ name: clusterName(n), weight: w })),
                  },
                },
              },
            ],
          },
        ],
      },
    ],
  };
  return stringify(doc, { lineWidth: 0 });
}

/** The weights (fractions) in an RDS file written by renderRouteFile; throws naming what is wrong. */
export function parseRouteFile(text: string, parse: (t: string) => unknown): Record<string, number> {
  const doc = parse(text) as {
    resources?: {
      virtual_hosts?: {
        routes?: { route?: { weighted_clusters?: { clusters?: { name: string; weight: number }[] } } }[];
      }[];
    }[];
  };
  const clusters = doc?.resources?.[0]?.virtual_hosts?.[0]?.routes?.[0]?.route?.weighted_clusters?.clusters;
  if (!Array.isArray(clusters) || clusters.length === 0)
    throw new Error("rds.yaml: no weighted_clusters in resources[0].virtual_hosts[0].routes[0]");
  const total = clusters.reduce((s, c) => s + c.weight, 0);
  return Object.fromEntries(clusters.map((c) => [c.name.replace(/^node-/, ""), c.weight / total]));
}
