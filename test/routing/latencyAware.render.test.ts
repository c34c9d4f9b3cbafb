import { describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { parse } from "yaml";
import { planRouting } from "../../lib/routing";
import type { RoutingPlan } from "../../lib/routing/types";
import {
  CONFIG_HASH_ANNOTATION,
  integerWeights,
  type K8sManifest,
  latencyAwareServiceManifests,
  type LatencyAwareManifestOptions,
  objectName,
  renderLatencyAwareService,
} from "../../lib/render/latencyAware";
import { faastNodes, faastRttMs } from "./fixtures";

const options = (over: Partial<LatencyAwareManifestOptions> = {}): LatencyAwareManifestOptions => ({
  name: "fib",
  namespace: "apps",
  nodes: ["cloud1", "cloud2", "edge"],
  service: { image: "ghcr.io/kantai/fib:1.0.0", port: 3000, env: { PORT: "3000" }, readinessPath: "/healthz" },
  proxyImage: "envoyproxy/envoy:v1.34.1",
  proxyPort: 8080,
  servicePort: 80,
  serviceType: "ClusterIP",
  ...over,
});

const plan: RoutingPlan = {
  replicas: { cloud1: 1, cloud2: 0, edge: 5 },
  weights: { cloud1: { cloud1: 0.93, edge: 0.07 }, cloud2: { cloud1: 1 }, edge: { cloud1: 0.123457, edge: 0.876543 } },
  predicted: { meanMs: 8.7 },
};

/** Validate with the kubernetes-models JSON schemas (throws on any violation; `validate` is not in their typings). */
function validate(o: K8sManifest): void {
  const model =
    o.kind === "Deployment"
      ? new Deployment(o as any)
      : o.kind === "Service"
        ? new Service(o as any)
        : new ConfigMap(o as any);
  (model as unknown as { validate(): void }).validate();
}

describe("LatencyAwareService manifests", () => {
  it("derives DNS-1035 object names, hashing anything it had to change", () => {
    expect(objectName("fib", "edge")).toBe("fib-edge");
    expect(objectName("fib", "proxy", "pi-1")).toBe("fib-proxy-pi-1");
    expect(objectName("fib", "node.lan")).toMatch(/^fib-node-lan-[0-9a-f]{8}$/);
    expect(objectName("fib", "node_lan")).not.toBe(objectName("fib", "node.lan"));
    expect(objectName("fib", "x".repeat(80))).toHaveLength(63);
  });

  it("turns fractions into integer weights summing to 10000 (largest remainder)", () => {
    expect(integerWeights({ edge: 0.876543, cloud1: 0.123457 })).toEqual([
      ["cloud1", 1235],
      ["edge", 8765],
    ]);
    expect(integerWeights({ a: 1 / 3, b: 1 / 3, c: 1 / 3 })).toEqual([
      ["a", 3334],
      ["b", 3333],
      ["c", 3333],
    ]);
    expect(integerWeights({ a: 0.99999, b: 0.00001 })).toEqual([["a", 10000]]);
  });

  it("renders the workload of a node pinned by hostname with exactly the planned replicas", () => {
    const r = renderLatencyAwareService(options(), plan);
    expect(r.nodes.edge.workload).toEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: {
        name: "fib-edge",
        namespace: "apps",
        labels: {
          "app.kubernetes.io/name": "fib",
          "app.kubernetes.io/managed-by": "kantai",
          "app.kubernetes.io/part-of": "fib",
          "app.kubernetes.io/component": "workload",
          "routing.kantai.dev/node": "edge",
        },
      },
      spec: {
        replicas: 5,
        selector: {
          matchLabels: {
            "app.kubernetes.io/name": "fib",
            "app.kubernetes.io/component": "workload",
            "routing.kantai.dev/node": "edge",
          },
        },
        template: {
          metadata: {
            labels: {
              "app.kubernetes.io/name": "fib",
              "app.kubernetes.io/managed-by": "kantai",
              "app.kubernetes.io/part-of": "fib",
              "app.kubernetes.io/component": "workload",
              "routing.kantai.dev/node": "edge",
            },
          },
          spec: {
            nodeSelector: { "kubernetes.io/hostname": "edge" },
            containers: [
              {
                name: "app",
                image: "ghcr.io/kantai/fib:1.0.0",
                ports: [{ name: "http", containerPort: 3000 }],
                readinessProbe: { httpGet: { path: "/healthz", port: 3000 }, periodSeconds: 5 },
                env: [{ name: "PORT", value: "3000" }],
              },
            ],
          },
        },
      },
    });
    expect((r.nodes.cloud2.workload.spec as any).replicas).toBe(0);
    expect(r.nodes.edge.backend.spec).toEqual({
      clusterIP: "None",
      selector: {
        "app.kubernetes.io/name": "fib",
        "app.kubernetes.io/component": "workload",
        "routing.kantai.dev/node": "edge",
      },
      ports: [{ name: "http", port: 3000, targetPort: 3000 }],
    });
  });

  it("gives every node an Envoy whose only route, a filesystem RDS file, carries that node's weights", () => {
    const r = renderLatencyAwareService(options(), plan);
    const data = (r.nodes.edge.proxyConfig as any).data;
    expect(Object.keys(data).sort()).toEqual(["envoy.yaml", "rds.yaml"]);
    const cfg = parse(data["envoy.yaml"]);
    const hcm = cfg.static_resources.listeners[0].filter_chains[0].filters[0].typed_config;
    expect(cfg.static_resources.listeners[0].address).toEqual({
      socket_address: { address: "0.0.0.0", port_value: 8080 },
    });
    // The route comes from rds.yaml in the mounted directory, watched by directory: a ConfigMap
    // volume update swaps the ..data symlink (lib/render/envoyDynamic.ts cites Envoy's PathConfigSource).
    expect(hcm.rds).toEqual({
      route_config_name: "weighted",
      config_source: {
        resource_api_version: "V3",
        path_config_source: { path: "/etc/envoy/rds.yaml", watched_directory: { path: "/etc/envoy" } },
      },
    });
    const rds = parse(data["rds.yaml"]);
    expect(rds.resources[0]["@type"]).toBe("type.googleapis.com/envoy.config.route.v3.RouteConfiguration");
    expect(rds.resources[0].virtual_hosts[0].routes).toEqual([
      {
        match: { prefix: "/" },
        route: {
          weighted_clusters: {
            clusters: [
              { name: "node-cloud1", weight: 1235 },
              { name: "node-edge", weight: 8765 },
            ],
          },
        },
      },
    ]);
    // Every node of the service has a cluster, so new weights (the re-planner's) can point anywhere without a restart.
    const backends = cfg.static_resources.clusters.filter((c: any) => c.name !== "admin");
    expect(
      backends.map((c: any) => [
        c.name,
        c.type,
        c.lb_policy,
        c.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address,
      ]),
    ).toEqual([
      [
        "node-cloud1",
        "STRICT_DNS",
        "LEAST_REQUEST",
        { address: "fib-cloud1.apps.svc.cluster.local", port_value: 3000 },
      ],
      [
        "node-cloud2",
        "STRICT_DNS",
        "LEAST_REQUEST",
        { address: "fib-cloud2.apps.svc.cluster.local", port_value: 3000 },
      ],
      ["node-edge", "STRICT_DNS", "LEAST_REQUEST", { address: "fib-edge.apps.svc.cluster.local", port_value: 3000 }],
    ]);
    const cloud2 = parse((r.nodes.cloud2.proxyConfig as any).data["rds.yaml"]);
    expect(cloud2.resources[0].virtual_hosts[0].routes[0].route.weighted_clusters.clusters).toEqual([
      { name: "node-cloud1", weight: 10000 },
    ]);
    const proxy = r.nodes.edge.proxy as any;
    expect(proxy.metadata.name).toBe("fib-proxy-edge");
    expect(proxy.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": "edge" });
    expect(proxy.spec.template.spec.volumes).toEqual([{ name: "config", configMap: { name: "fib-proxy-edge" } }]);
    expect(proxy.spec.template.spec.containers[0].args).toEqual([
      "-c",
      "/etc/envoy/envoy.yaml",
      "--service-cluster",
      "fib",
      "--service-node",
      "edge",
    ]);
    // The stats listener the ServiceMonitor scrapes (lib/render/latency.ts PROXY_STATS_PORT).
    expect(proxy.spec.template.spec.containers[0].ports).toEqual([
      { name: "http", containerPort: 8080 },
      { name: "metrics", containerPort: 9902 },
    ]);
  });

  it("changes only rds.yaml when weights change: the proxy is not rolled (Envoy reloads the route file)", () => {
    const a = renderLatencyAwareService(options(), plan);
    const b = renderLatencyAwareService(options(), { ...plan, weights: { ...plan.weights, edge: { edge: 1 } } });
    const hash = (r: typeof a, n: string) =>
      (r.nodes[n].proxy as any).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    const data = (r: typeof a, n: string) => (r.nodes[n].proxyConfig as any).data;
    expect(hash(a, "edge")).toBe(hash(b, "edge"));
    expect(data(a, "edge")["envoy.yaml"]).toBe(data(b, "edge")["envoy.yaml"]);
    expect(data(a, "edge")["rds.yaml"]).not.toBe(data(b, "edge")["rds.yaml"]);
    expect(data(a, "cloud1")).toEqual(data(b, "cloud1"));
  });

  it("rolls every proxy when the bootstrap changes (the service's nodes change its clusters)", () => {
    const a = renderLatencyAwareService(options(), plan);
    const b = renderLatencyAwareService(
      { ...options(), nodes: [...options().nodes, "cloud3"] },
      { ...plan, weights: { ...plan.weights, cloud3: { cloud1: 1 } } },
    );
    const hash = (r: typeof a, n: string) =>
      (r.nodes[n].proxy as any).spec.template.metadata.annotations[CONFIG_HASH_ANNOTATION];
    expect(hash(a, "edge")).not.toBe(hash(b, "edge"));
  });

  it("keeps requests on the node they entered: internalTrafficPolicy Local, and externalTrafficPolicy Local when exposed", () => {
    expect(renderLatencyAwareService(options(), plan).frontend.spec).toEqual({
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": "fib", "app.kubernetes.io/component": "proxy" },
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      internalTrafficPolicy: "Local",
    });
    expect(
      (renderLatencyAwareService(options({ serviceType: "NodePort" }), plan).frontend.spec as any)
        .externalTrafficPolicy,
    ).toBe("Local");
  });

  it("produces objects that pass the Kubernetes schemas, in a stable order", () => {
    const all = latencyAwareServiceManifests(
      options({
        serviceType: "LoadBalancer",
        service: { image: "x:1", port: 80, resources: { requests: { cpu: "250m", memory: "64Mi" } } },
      }),
      plan,
    );
    expect(all.map((o) => `${o.kind}/${o.metadata.name}`)).toEqual([
      "Deployment/fib-cloud1",
      "Service/fib-cloud1",
      "ConfigMap/fib-proxy-cloud1",
      "Deployment/fib-proxy-cloud1",
      "Deployment/fib-cloud2",
      "Service/fib-cloud2",
      "ConfigMap/fib-proxy-cloud2",
      "Deployment/fib-proxy-cloud2",
      "Deployment/fib-edge",
      "Service/fib-edge",
      "ConfigMap/fib-proxy-edge",
      "Deployment/fib-proxy-edge",
      "Service/fib",
    ]);
    for (const o of all) expect(() => validate(o)).not.toThrow();
  });

  it("applies a plan computed by the library end to end", () => {
    const computed = planRouting({
      nodes: faastNodes(),
      rttMs: faastRttMs(),
      demand: { edge: 1100, cloud1: 100, cloud2: 100 },
      replicas: 7,
    });
    const r = renderLatencyAwareService(options(), computed);
    const total = Object.values(r.nodes).reduce((s, n) => s + (n.workload.spec as any).replicas, 0);
    expect(total).toBe(7);
  });

  it("refuses a plan that does not match the nodes", () => {
    expect(() =>
      renderLatencyAwareService(options(), { ...plan, weights: { ...plan.weights, edge: { mars: 1 } } }),
    ).toThrow('LatencyAwareService fib: node "edge" sends requests to "mars", which is not in nodes');
    expect(() => renderLatencyAwareService(options({ nodes: ["cloud1", "cloud2"] }), plan)).toThrow(
      'the plan puts 5 replicas on "edge", which is not in nodes',
    );
    expect(() => renderLatencyAwareService(options({ nodes: ["cloud1", "cloud2", "edge", "pi"] }), plan)).toThrow(
      'the plan has no weights for node "pi"',
    );
  });
});
