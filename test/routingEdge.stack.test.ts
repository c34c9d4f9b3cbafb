/**
 * Latency-aware routing in the edge stack (stacks/edge.ts, stacks/parts/routing.ts), under Pulumi
 * mocks (SIMULATED: nothing is deployed): per kantai:routing service a RoutingPlan with exact
 * inputs — the RTTs from the monlat file for the sample service, inline for a second one — and a LatencyAwareService on the
 * edge cluster's provider with one workload, headless Service, proxy ConfigMap and proxy Deployment
 * per node; the synth's stand-in plan is exactly what the RoutingPlan provider computes on `pulumi up`.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { routingPlanProvider } from "../components/routing/routingPlanProvider";
import { parseManifests, type K8sObject } from "../lib/render/k8s";
import { synthMocks } from "../scripts/synth/mocks";
import { recordProgram, resolveDeep, type RecordedResource } from "../scripts/synth/recorder";
import { devStackConfig } from "./support/devConfig";

const PLAN_TYPE = "pulumi-nodejs:dynamic/kantai/routing:RoutingPlan";

/** A second service: RTTs inline in config, a baseline algorithm, two nodes, exposed as NodePort. */
const ECHO = {
  name: "echo",
  namespace: "apps",
  image: "hashicorp/http-echo:1.0.0",
  args: ["-listen=:5678", "-text=hello"],
  port: 5678,
  env: { TZ: "UTC" },
  resources: { requests: { cpu: "50m", memory: "16Mi" }, limits: { cpu: "200m", memory: "32Mi" } },
  serviceType: "NodePort",
  replicas: 3,
  algorithm: "ikukantai",
  nodes: { "pi-1": { maxPods: 2, serviceRate: 50 }, "edge-vm-2": { maxPods: 3, serviceRate: 120 } },
  demand: { "pi-1": 40, "edge-vm-2": 20 },
  rttMs: { "pi-1": { "edge-vm-2": 18.9 }, "edge-vm-2": { "pi-1": 19.3 } },
};

let resources: RecordedResource[] = [];
let outputs: any;
let artifacts: { path: string; kind: string; resource: string; content: string }[] = [];
/** Provider reference each Kubernetes resource was registered with, by type and name. */
const providers = new Map<string, string | undefined>();

beforeAll(async () => {
  const { config, secretKeys } = devStackConfig("Pulumi.edge.yaml");
  const routing = JSON.parse(config["kantai:routing"]);
  routing.services.push(ECHO);
  config["kantai:routing"] = JSON.stringify(routing);
  const newResource = synthMocks.newResource.bind(synthMocks);
  synthMocks.newResource = (args) => {
    if (args.type.startsWith("kubernetes:")) providers.set(`${args.type} ${args.name}`, args.provider);
    return newResource(args);
  };
  const { run } = await import("../stacks");
  const rec = await recordProgram(() => run(), { config, secretKeys, stack: "edge" });
  resources = rec.resources;
  outputs = await resolveDeep(rec.result.outputs);
  for (const a of rec.result.artifacts.filter((x) => x.path.startsWith("routing/"))) {
    artifacts.push({
      path: a.path,
      kind: a.kind,
      resource: a.resource,
      content: (await resolveDeep(a.content, true)) as string,
    });
  }
});

const byName = (type: string, name: string) => {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name}`);
  return r as RecordedResource & { inputs: any };
};
const planInputs = (name: string) => {
  const { __provider, ...rest } = byName(PLAN_TYPE, name).inputs;
  expect(typeof __provider).toBe("string");
  return rest;
};

const WHOAMI_INPUTS = {
  nodes: [
    { name: "edge-vm-1", maxPods: 3, serviceRate: 100 },
    { name: "edge-vm-2", maxPods: 4, serviceRate: 100 },
    { name: "pi-1", maxPods: 2, serviceRate: 60 },
    { name: "pi-2", maxPods: 2, serviceRate: 60 },
  ],
  rttMs: {
    "edge-vm-1": { "edge-vm-1": 0, "edge-vm-2": 0.3, "pi-1": 18.4, "pi-2": 19.6 },
    "edge-vm-2": { "edge-vm-1": 0.3, "edge-vm-2": 0, "pi-1": 18.9, "pi-2": 20.8 },
    "pi-1": { "edge-vm-1": 18.4, "edge-vm-2": 18.9, "pi-1": 0, "pi-2": 0.6 },
    "pi-2": { "edge-vm-1": 19.6, "edge-vm-2": 20.8, "pi-1": 0.6, "pi-2": 0 },
  },
  demand: { "pi-1": 60, "pi-2": 40, "edge-vm-1": 150 },
  replicas: 6,
  algorithm: "optimal",
};
const ECHO_INPUTS = {
  nodes: [
    { name: "edge-vm-2", maxPods: 3, serviceRate: 120 },
    { name: "pi-1", maxPods: 2, serviceRate: 50 },
  ],
  rttMs: { "edge-vm-2": { "pi-1": 19.3 }, "pi-1": { "edge-vm-2": 18.9 } },
  demand: { "pi-1": 40, "edge-vm-2": 20 },
  replicas: 3,
  algorithm: "ikukantai",
};

describe("edge stack: RoutingPlan per kantai:routing service", () => {
  it("registers one RoutingPlan per service, after the cluster", () => {
    expect(
      resources.filter((r) => r.type === PLAN_TYPE).map((r) => `${r.name} ${r.parent ?? "-"} ${r.dependsOn.join(",")}`),
    ).toEqual(["whoami-plan - edge", "echo-plan - edge"]);
  });

  it("the sample's inputs: nodes sorted by name, the RTT matrix parsed from stacks/data/edge-latency.prom, demand, budget, algorithm", () => {
    expect(planInputs("whoami-plan")).toEqual(WHOAMI_INPUTS);
  });

  it("the second service's inputs: the RTT matrix from config as given (the missing diagonal is 0 to the library)", () => {
    expect(planInputs("echo-plan")).toEqual(ECHO_INPUTS);
  });

  it("the provider accepts exactly these inputs and computes the plan the synth shows (the stand-in is no different from `pulumi up`)", async () => {
    for (const [name, inputs] of [
      ["whoami", WHOAMI_INPUTS],
      ["echo", ECHO_INPUTS],
    ] as const) {
      const checked = await routingPlanProvider.check!({} as any, inputs as any);
      expect(checked.failures ?? []).toEqual([]);
      const created = await routingPlanProvider.create(checked.inputs as any);
      expect({ replicas: created.outs!.plan.replicas, predictedMeanMs: created.outs!.plan.predicted.meanMs }).toEqual({
        replicas: outputs.routing[name].replicas,
        predictedMeanMs: outputs.routing[name].predictedMeanMs,
      });
      const objs = parseManifests(artifacts.find((a) => a.path === `routing/${name}.yaml`)!.content);
      for (const [node, replicas] of Object.entries(created.outs!.plan.replicas)) {
        const d = objs.find((o) => o.kind === "Deployment" && o.metadata.name === `${name}-${node}`) as any;
        expect(d.spec.replicas, `${name}-${node}`).toBe(replicas);
      }
    }
  });
});

describe("edge stack: LatencyAwareService per service", () => {
  const children = (svc: string, nodes: string[], ns: string) => [
    ...nodes.flatMap((n) => [
      `kubernetes:apps/v1:Deployment ${svc}-${n} ${ns}/${svc}-${n}`,
      `kubernetes:core/v1:Service ${svc}-${n} ${ns}/${svc}-${n}`,
      `kubernetes:core/v1:ConfigMap ${svc}-proxy-${n} ${ns}/${svc}-proxy-${n}`,
      `kubernetes:apps/v1:Deployment ${svc}-proxy-${n} ${ns}/${svc}-proxy-${n}`,
    ]),
    `kubernetes:core/v1:Service ${svc}-front ${ns}/${svc}`,
  ];

  it("is a component after the cluster, its children per node named from stable keys", () => {
    for (const [svc, nodes, ns] of [
      ["whoami", ["edge-vm-1", "edge-vm-2", "pi-1", "pi-2"], "default"],
      ["echo", ["edge-vm-2", "pi-1"], "apps"],
    ] as const) {
      const c = byName("kantai:routing:LatencyAwareService", svc);
      expect(c.dependsOn).toEqual(["edge"]);
      expect(c.parent).toBeUndefined();
      const got = resources
        .filter((r) => r.parent === svc)
        .map((r) => `${r.type} ${r.name} ${(r.inputs as any).metadata.namespace}/${(r.inputs as any).metadata.name}`);
      expect(got.sort()).toEqual(children(svc, [...nodes], ns).sort());
    }
  });

  it("every child runs on the edge cluster's Kubernetes provider", () => {
    const refs = resources
      .filter((r) => r.parent === "whoami" || r.parent === "echo")
      .map((r) => providers.get(`${r.type} ${r.name}`));
    expect(refs.length).toBe(26);
    for (const ref of refs)
      expect(ref).toMatch(
        /^urn:pulumi:edge::kantai::kantai:k8s:K3sCluster\$pulumi:providers:kubernetes::edge-k8s::edge-k8s-id$/,
      );
  });

  it("workloads carry the plan's replicas, pinned by hostname, with the configured container", () => {
    const d = (n: string) => byName("kubernetes:apps/v1:Deployment", n).inputs.spec;
    expect(
      Object.fromEntries(["edge-vm-1", "edge-vm-2", "pi-1", "pi-2"].map((n) => [n, d(`whoami-${n}`).replicas])),
    ).toEqual({
      "edge-vm-1": 0,
      "edge-vm-2": 4,
      "pi-1": 0,
      "pi-2": 2,
    });
    expect(d("whoami-pi-2").template.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": "pi-2" });
    expect(d("whoami-pi-2").template.spec.containers).toEqual([
      {
        name: "app",
        image: "traefik/whoami:v1.11.0",
        ports: [{ name: "http", containerPort: 8080 }],
        readinessProbe: { httpGet: { path: "/health", port: 8080 }, periodSeconds: 5 },
        args: ["--port", "8080"],
        resources: { requests: { cpu: "100m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } },
      },
    ]);
    expect(d("echo-edge-vm-2").template.spec.containers[0]).toEqual({
      name: "app",
      image: "hashicorp/http-echo:1.0.0",
      ports: [{ name: "http", containerPort: 5678 }],
      readinessProbe: { tcpSocket: { port: 5678 }, periodSeconds: 5 },
      args: ["-listen=:5678", "-text=hello"],
      env: [{ name: "TZ", value: "UTC" }],
      resources: { requests: { cpu: "50m", memory: "16Mi" }, limits: { cpu: "200m", memory: "32Mi" } },
    });
    expect(byName("kubernetes:core/v1:Service", "echo-front").inputs.spec.type).toBe("NodePort");
    expect(byName("kubernetes:core/v1:Service", "echo-front").inputs.spec.externalTrafficPolicy).toBe("Local");
  });

  it("each node's proxy config routes by that node's weights (basis points)", () => {
    // The weights live in the proxy's filesystem RDS file (rds.yaml), beside the bootstrap.
    const envoy = (n: string) =>
      byName("kubernetes:core/v1:ConfigMap", `whoami-proxy-${n}`).inputs.data["rds.yaml"] as string;
    const weights = (n: string) =>
      [...envoy(n).matchAll(/- name: (node-[a-z0-9-]+)\n\s+weight: (\d+)/g)].map((m) => `${m[1]}=${m[2]}`);
    expect(weights("pi-1")).toEqual(["node-edge-vm-2=7543", "node-pi-2=2457"]);
    expect(weights("pi-2")).toEqual(["node-pi-2=10000"]);
    expect(weights("edge-vm-1")).toEqual(["node-edge-vm-2=10000"]);
  });

  it("writes each service's objects as one kubernetes artifact — the registered objects, labelled as the synth's own plan", () => {
    expect(artifacts.map((a) => `${a.path} ${a.kind} ${a.resource}`)).toEqual([
      "routing/whoami.yaml kubernetes whoami",
      "routing/echo.yaml kubernetes echo",
    ]);
    for (const a of artifacts) {
      const objs = parseManifests(a.content);
      const registered = resources
        .filter((r) => r.parent === a.resource)
        .map((r) => {
          const { apiVersion, kind, metadata, spec, data } = r.inputs as any;
          return { apiVersion, kind, metadata, ...(spec ? { spec } : {}), ...(data ? { data } : {}) } as K8sObject;
        });
      const key = (o: K8sObject) => `${o.kind}/${o.metadata.name}`;
      expect(objs.map(key).sort()).toEqual(registered.map(key).sort());
      for (const o of registered) expect(objs.find((x) => key(x) === key(o))).toEqual(o);
    }
    expect(artifacts[0].content.split("\n").slice(0, 3)).toEqual([
      "# SIMULATED plan: computed by lib/routing at synth time (Pulumi mocks run no dynamic provider); on",
      '# `pulumi up` the RoutingPlan "whoami-plan" computes it from the same input.',
      "# optimal plan, predicted mean 16.6755 ms; replicas edge-vm-1=0 edge-vm-2=4 pi-1=0 pi-2=2; RTTs from stacks/data/edge-latency.prom.",
    ]);
  });

  it("exports the plans under `routing`", () => {
    expect(outputs.routing.whoami).toEqual({
      namespace: "default",
      algorithm: "optimal",
      replicas: { "edge-vm-1": 0, "edge-vm-2": 4, "pi-1": 0, "pi-2": 2 },
      predictedMeanMs: 16.6755,
      url: "http://whoami.default.svc.cluster.local:80",
    });
    expect(Object.keys(outputs.routing)).toEqual(["whoami", "echo"]);
    expect(outputs.routing.echo.url).toBe("http://echo.apps.svc.cluster.local:80");
  });
});
