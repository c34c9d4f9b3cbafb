/**
 * LatencyAwareService under Pulumi mocks: the exact children (names, types, inputs), their
 * validity against the Kubernetes schemas, and the component's outputs.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Service } from "kubernetes-models/v1/Service";
import { parse } from "yaml";
import { parseManifests } from "../../lib/render/k8s";
import type { RoutingPlan } from "../../lib/routing/types";
import { recordingMocks } from "../support/recordingMocks";

interface Recorded {
  type: string;
  name: string;
  inputs: any;
}
const recorded: Recorded[] = [];
let outputs: { replicas: Record<string, number>; serviceName: string; url: string };
let artifact: { path: string; kind: string; resource: string; content: string };

const plan: RoutingPlan = {
  replicas: { cloud1: 1, cloud2: 0, edge: 5 },
  weights: { cloud1: { cloud1: 0.93, edge: 0.07 }, cloud2: { cloud1: 1 }, edge: { cloud1: 0.1, edge: 0.9 } },
  predicted: { meanMs: 8.7 },
};

beforeAll(async () => {
  const pulumi = await import("@pulumi/pulumi");
  await recordingMocks(recorded);
  const { LatencyAwareService } = await import("../../components/routing/latencyAwareService");
  const { ROUTING_DEFAULTS } = await import("../../stacks/config");
  const svc = new LatencyAwareService("fib", {
    plan: pulumi.output(plan),
    nodes: ["edge", "cloud2", "cloud1"],
    namespace: "apps",
    service: { image: "ghcr.io/kantai/fib:1.0.0", port: 3000 },
    serviceType: "NodePort",
  });
  // A second service with other ports and a header: its artifact must follow its own arguments.
  const api = new LatencyAwareService("api", {
    plan: pulumi.output(plan),
    nodes: ["edge", "cloud2", "cloud1"],
    namespace: ROUTING_DEFAULTS.namespace,
    service: { image: "ghcr.io/kantai/api:2.0.0", port: 3000 },
    serviceType: ROUTING_DEFAULTS.serviceType,
    proxyPort: 9090,
    servicePort: 8000,
    artifactHeader: pulumi.output("# where the plan came from\n"),
  });
  const get = <T>(o: import("@pulumi/pulumi").Output<T>) => new Promise<T>((resolve) => o.apply(resolve));
  outputs = { replicas: await get(svc.replicas), serviceName: await get(svc.serviceName), url: await get(svc.url) };
  expect(api.artifacts).toHaveLength(1);
  const [a] = api.artifacts;
  artifact = { ...a, content: await get(pulumi.output(a.content)) };
  // children whose inputs hold Outputs register once those resolve: wait until no more arrive
  for (let n = -1; n !== recorded.length;) {
    n = recorded.length;
    await new Promise((r) => setTimeout(r, 200));
  }
}, 120_000);

const ofFib = () => recorded.filter((r) => r.name === "fib" || r.name.startsWith("fib-"));
const find = (type: string, name: string) => {
  const r = recorded.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r;
};

describe("LatencyAwareService", () => {
  it("creates one workload, backend, proxy config and proxy per node, and one front Service, named from stable keys", () => {
    // Registration order depends on when each Output resolves; compare as a set.
    expect(
      ofFib()
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
    ).toEqual(
      [
        "kantai:routing:LatencyAwareService fib",
        "kubernetes:apps/v1:Deployment fib-cloud1",
        "kubernetes:core/v1:Service fib-cloud1",
        "kubernetes:core/v1:ConfigMap fib-proxy-cloud1",
        "kubernetes:apps/v1:Deployment fib-proxy-cloud1",
        "kubernetes:apps/v1:Deployment fib-cloud2",
        "kubernetes:core/v1:Service fib-cloud2",
        "kubernetes:core/v1:ConfigMap fib-proxy-cloud2",
        "kubernetes:apps/v1:Deployment fib-proxy-cloud2",
        "kubernetes:apps/v1:Deployment fib-edge",
        "kubernetes:core/v1:Service fib-edge",
        "kubernetes:core/v1:ConfigMap fib-proxy-edge",
        "kubernetes:apps/v1:Deployment fib-proxy-edge",
        "kubernetes:core/v1:Service fib-front",
      ].sort(),
    );
  });

  it("gives each node's Deployment exactly the planned replicas, pinned by kubernetes.io/hostname", () => {
    for (const [node, replicas] of Object.entries(plan.replicas)) {
      const d = find("kubernetes:apps/v1:Deployment", `fib-${node}`).inputs;
      expect(d.metadata.name).toBe(`fib-${node}`);
      expect(d.metadata.namespace).toBe("apps");
      expect(d.spec.replicas).toBe(replicas);
      expect(d.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": node });
      expect(d.spec.template.spec.containers).toEqual([
        {
          name: "app",
          image: "ghcr.io/kantai/fib:1.0.0",
          ports: [{ name: "http", containerPort: 3000 }],
          readinessProbe: { tcpSocket: { port: 3000 }, periodSeconds: 5 },
        },
      ]);
    }
  });

  it("configures each node's proxy with that node's weights", () => {
    const weightsOf = (node: string) => {
      // The weights are in the filesystem RDS file next to the bootstrap (lib/render/latencyAware.ts).
      const rds = parse(find("kubernetes:core/v1:ConfigMap", `fib-proxy-${node}`).inputs.data["rds.yaml"]);
      const route = rds.resources[0].virtual_hosts[0].routes[0].route;
      return route.weighted_clusters.clusters;
    };
    expect(weightsOf("edge")).toEqual([
      { name: "node-cloud1", weight: 1000 },
      { name: "node-edge", weight: 9000 },
    ]);
    expect(weightsOf("cloud1")).toEqual([
      { name: "node-cloud1", weight: 9300 },
      { name: "node-edge", weight: 700 },
    ]);
    expect(weightsOf("cloud2")).toEqual([{ name: "node-cloud1", weight: 10000 }]);
    const proxy = find("kubernetes:apps/v1:Deployment", "fib-proxy-edge").inputs;
    expect(proxy.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": "edge" });
    expect(proxy.spec.template.spec.containers[0].image).toBe("envoyproxy/envoy:v1.34.1");
  });

  it("keeps traffic on the ingress node's proxy", () => {
    expect(find("kubernetes:core/v1:Service", "fib-front").inputs.spec).toEqual({
      type: "NodePort",
      selector: { "app.kubernetes.io/name": "fib", "app.kubernetes.io/component": "proxy" },
      ports: [{ name: "http", port: 80, targetPort: 8080 }],
      internalTrafficPolicy: "Local",
      externalTrafficPolicy: "Local",
    });
  });

  it("registers objects that pass the Kubernetes schemas", () => {
    const models: Record<string, new (d: any) => unknown> = {
      "kubernetes:apps/v1:Deployment": Deployment,
      "kubernetes:core/v1:Service": Service,
      "kubernetes:core/v1:ConfigMap": ConfigMap,
    };
    const versions: Record<string, [string, string]> = {
      "kubernetes:apps/v1:Deployment": ["apps/v1", "Deployment"],
      "kubernetes:core/v1:Service": ["v1", "Service"],
      "kubernetes:core/v1:ConfigMap": ["v1", "ConfigMap"],
    };
    const children = ofFib().filter((r) => r.type.startsWith("kubernetes:"));
    expect(children).toHaveLength(13);
    for (const r of children) {
      const [apiVersion, kind] = versions[r.type];
      const { apiVersion: _a, kind: _k, ...rest } = r.inputs;
      const model = new models[r.type]({ apiVersion, kind, ...rest }) as { validate(): void };
      expect(() => model.validate()).not.toThrow();
    }
  });

  it("lists as its artifact exactly the objects it registers, after the header, with its own ports", () => {
    expect({ path: artifact.path, kind: artifact.kind, resource: artifact.resource }).toEqual({
      path: "routing/api.yaml",
      kind: "kubernetes",
      resource: "api",
    });
    expect(artifact.content.startsWith("# where the plan came from\n")).toBe(true);
    const objects = parseManifests(artifact.content);
    const childType: Record<string, string> = {
      Deployment: "kubernetes:apps/v1:Deployment",
      Service: "kubernetes:core/v1:Service",
      ConfigMap: "kubernetes:core/v1:ConfigMap",
    };
    const children = recorded.filter((r) => r.name.startsWith("api-") && r.type.startsWith("kubernetes:"));
    expect(objects).toHaveLength(children.length);
    for (const o of objects as any[]) {
      // The front Service's object is named `api`; its resource is `api-front`.
      const child = children.find((r) => r.type === childType[o.kind] && r.inputs.metadata.name === o.metadata.name);
      expect(child, `${o.kind} ${o.metadata.name}`).toBeDefined();
      expect(child!.inputs.metadata).toEqual(o.metadata);
      if (o.kind === "ConfigMap") expect(child!.inputs.data).toEqual(o.data);
      else expect(child!.inputs.spec).toEqual(o.spec);
    }
    const front = (objects as any[]).find((o) => o.kind === "Service" && o.metadata.name === "api");
    expect(front.spec.ports).toEqual([{ name: "http", port: 8000, targetPort: 9090 }]);
  });

  it("exposes the applied replicas, the Service name and its URL", () => {
    expect(outputs).toEqual({
      replicas: { cloud1: 1, cloud2: 0, edge: 5 },
      serviceName: "fib",
      url: "http://fib.apps.svc.cluster.local:80",
    });
  });
});
