// The Kubernetes layer through the REAL pulumi-kubernetes provider (tools/kubernetes-provider,
// built from github.com/pulumi/pulumi-kubernetes/provider/v4 at the v4.25.0 release commit)
// against a REAL Kubernetes v1.34.1 API server, controller-manager and scheduler whose nodes are
// SIMULATED by kwok (scripts/k8s-local.ts: no kubelet, no container runtime; pods are bound by
// the real scheduler and marked Running by kwok, nothing in them runs).
//
// Program: test/engine/fixtures/k8s — the edge stack's routing service (RoutingPlan +
// LatencyAwareService), a WebApp (Deployment, Service, Traefik IngressRoute) and the edge
// function's Knative Service, from the repository's components. The simulated nodes are the edge
// stack's cluster nodes with their labels and taints (Pulumi.edge.yaml). Traefik's, Knative
// Serving's and Eventing's and Tekton's CRDs are the upstream files shipped in their Go modules,
// laid out as a release mirror (support/mirror.ts; Knative 1.23.0 = knative.dev/serving v0.50.0,
// the commit tagged knative-v1.23.0 in github.com/knative/serving); no controller of theirs runs, so their objects are validated and stored,
// never reconciled (a Knative Service gets no revision and no Ready condition here).
import * as fs from "node:fs";
import * as path from "node:path";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLatencyAwareService, type LatencyAwareManifestOptions } from "../../lib/render/latencyAware";
import { basisPoints } from "../../lib/render/envoyDynamic";
import { planRouting } from "../../lib/routing";
import { NAMESPACE, NODES, REPLICAS, RTT_MS } from "./fixtures/k8s/scenario";
import { cleanup, FIXTURES, pulumi, REPO, standinCalls, workspace, type Workspace } from "./support/engine";
import { kubectlJson, startControlPlane, type ControlPlane } from "./support/k8s";
import { assembleMirror } from "./support/mirror";
import { spawnSync } from "node:child_process";

const FIXTURE = path.join(FIXTURES, "k8s");
const KEEP = ["tsconfig.json", "lib", "components", "stacks/config", "test/engine/fixtures/k8s"];
const DEMAND_1 = { "pi-1": 60, "pi-2": 40, "edge-vm-1": 150 };
// Pulumi resource type of each kind components/routing renders (its resource names are the object names)
const PULUMI_TYPE: Record<string, string> = {
  Deployment: "kubernetes:apps/v1:Deployment",
  Service: "kubernetes:core/v1:Service",
  ConfigMap: "kubernetes:core/v1:ConfigMap",
};
const DEMAND_2 = { "pi-1": 160, "pi-2": 40, "edge-vm-1": 20, "edge-vm-2": 30 };

let cp: ControlPlane;
let ws: Workspace;

const nameOf = (urn: string) => urn.split("::").pop()!;
const typeOf = (urn: string) => urn.split("::")[2].split("$").pop()!;
const previewSteps = () => {
  const run = pulumi(ws, ["preview", "--json", "--non-interactive"]);
  return (JSON.parse(run.stdout).steps ?? []) as {
    op: string;
    urn: string;
    detailedDiff?: Record<string, unknown>;
    diffReasons?: string[];
  }[];
};

/**
 * `up` with an engine event log: the op of every resource step as the engine applied it. A preview
 * cannot show this exactly: the RoutingPlan dynamic provider has no preview support (the Node.js
 * dynamic provider implements no Handshake and its Configure does not set supportsPreview), so
 * in a preview of a changed plan the engine hands back its inputs as outputs
 * (sdk/go/common/resource/plugin/provider_plugin.go, Update with req.Preview) and the plan is
 * unknown to every object rendered from it.
 */
function upOps(): { op: string; urn: string }[] {
  const log = path.join(ws.dir, `events-${Date.now()}.jsonl`);
  pulumi(ws, ["up", "--yes", "--skip-preview", "--non-interactive", "--event-log", log]);
  return fs
    .readFileSync(log, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l))
    .filter((e) => e.resOutputsEvent && !e.resOutputsEvent.metadata.urn.includes("::pulumi:pulumi:Stack::"))
    .map((e) => ({ op: e.resOutputsEvent.metadata.op as string, urn: e.resOutputsEvent.metadata.urn as string }));
}
const changedOf = (ops: { op: string; urn: string }[]) =>
  ops
    // provider resources left out: up's event log reports the default pulumi-nodejs (dynamic)
    // provider as "update" on every run (its preview shows it "same"; not explained here)
    .filter((s) => s.op !== "same" && !typeOf(s.urn).startsWith("pulumi:providers:"))
    .map((s) => `${s.op} ${typeOf(s.urn)} ${nameOf(s.urn)}`)
    .sort();

/** What components/routing renders for a plan: name -> manifest, for the objects that exist per plan. */
function rendered(demand: Record<string, number>) {
  const plan = planRouting({ nodes: NODES, rttMs: RTT_MS, demand, replicas: REPLICAS }, "optimal");
  const o: LatencyAwareManifestOptions = {
    name: "whoami",
    namespace: NAMESPACE,
    nodes: NODES.map((n) => n.name).sort(),
    service: {
      image: "traefik/whoami:v1.11.0",
      args: ["--port", "8080"],
      port: 8080,
      readinessPath: "/health",
      resources: { requests: { cpu: "100m", memory: "32Mi" }, limits: { cpu: "500m", memory: "64Mi" } },
    },
    proxyImage: "envoyproxy/envoy:v1.34.1",
    proxyPort: 8080,
    servicePort: 80,
    serviceType: "ClusterIP",
  };
  const m = renderLatencyAwareService(o, plan);
  const out: Record<string, unknown> = { [`Service/${m.frontend.metadata.name as string}`]: m.frontend };
  for (const n of Object.values(m.nodes))
    for (const obj of Object.values(n)) out[`${obj.kind}/${obj.metadata.name}`] = obj;
  return { plan, objects: out };
}

beforeAll(() => {
  cp = startControlPlane("edge");
  // CRDs from the release mirror assembled from the projects' Go modules (support/mirror.ts says
  // which files are upstream and which assembled); server-side: too large for client-side
  // apply's last-applied annotation
  const mirror = path.join(cp.dir, "mirror");
  for (const f of assembleMirror(mirror)) {
    const r = cp.kubectl(["apply", "--server-side", "-f", path.join(mirror, f)]);
    expect(r.status, `${f}: ${r.stderr}`).toBe(0);
  }
  for (const crd of [
    "ingressroutes.traefik.io",
    "services.serving.knative.dev",
    "brokers.eventing.knative.dev",
    "pipelines.tekton.dev",
  ]) {
    expect(cp.kubectl(["wait", "--for=condition=Established", `crd/${crd}`, "--timeout=60s"]).status).toBe(0);
  }

  ws = workspace(REPO, {
    passphrase: "kantai-engine-test",
    filter: (rel) =>
      KEEP.some((k) => rel === k || rel.startsWith(`${k}${path.sep}`) || k.startsWith(`${rel}${path.sep}`)),
  });
  for (const f of ["Pulumi.yaml", "package.json"]) fs.copyFileSync(path.join(FIXTURE, f), path.join(ws.program, f));
  // the REAL provider first on PATH: the engine takes the first pulumi-resource-kubernetes it finds
  const r = spawnSync("bash", [path.join(REPO, "scripts", "engine.sh"), "tool", "kubernetes-provider"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    timeout: 60 * 60_000,
  });
  expect(r.status).toBe(0);
  ws.env.PATH = `${r.stdout.trim().split("\n").pop()}:${ws.env.PATH}`;
  ws.netns = cp.netns;
  // `up --event-log` exists only with PULUMI_DEBUG_COMMANDS (pkg/cmd/pulumi/operations/up.go v3.274.1)
  ws.env.PULUMI_DEBUG_COMMANDS = "true";
  pulumi(ws, ["stack", "init", "k8s", "--non-interactive"]);
  pulumi(ws, ["config", "set", "--secret", "kubeconfig"], { input: fs.readFileSync(cp.kubeconfig, "utf8") });
  pulumi(ws, ["config", "set", "demand", JSON.stringify(DEMAND_1)]);
}, 60 * 60_000);

afterAll(() => {
  cp?.down();
  cleanup(ws);
});

describe("the Kubernetes layer on a real API server (SIMULATED nodes), through the real provider", () => {
  it("the simulated nodes are the edge cluster's, with zone, labels and taints, and Ready (kwok)", () => {
    const nodes = kubectlJson(cp, ["get", "nodes"]).items;
    const byName = Object.fromEntries(nodes.map((n: any) => [n.metadata.name, n]));
    expect(Object.keys(byName).sort()).toEqual(["edge-vm-1", "edge-vm-2", "pi-1", "pi-2", "pi-3"]);
    expect(byName["pi-1"].metadata.labels["topology.kubernetes.io/zone"]).toBe("home");
    expect(byName["edge-vm-1"].metadata.labels["topology.kubernetes.io/zone"]).toBe("lab");
    expect(byName["pi-3"].metadata.labels["kantai.dev/storage"]).toBe("hdd");
    expect(byName["pi-3"].spec.taints).toEqual([{ key: "kantai.dev/storage", value: "hdd", effect: "NoSchedule" }]);
    for (const n of nodes) {
      expect(n.metadata.labels["kantai.dev/simulated-node"]).toBe("kwok");
      expect(n.status.conditions.find((c: any) => c.type === "Ready").status).toBe("True");
    }
  });

  it("up creates every object through the real provider (no stand-in), in the API server", () => {
    const run = pulumi(ws, ["up", "--yes", "--skip-preview", "--non-interactive"]);
    expect(run.stdout).toMatch(/\d+ created/);
    // the kubernetes stand-in was never started: no call of it in the log
    expect(standinCalls(ws).filter((c) => c.provider === "kubernetes")).toEqual([]);
    const state = JSON.parse(pulumi(ws, ["stack", "export"]).stdout).deployment;
    const prov = state.resources.find((r: any) => r.type === "pulumi:providers:kubernetes");
    expect(prov.inputs.version).toBe("4.34.2"); // what the SDK asks for; served by the v4.25.0 build
    const k8sObjects = state.resources.filter((r: any) => r.type.startsWith("kubernetes:"));
    // 4 nodes x (workload Deployment, headless Service, proxy ConfigMap, proxy Deployment) + front
    // Service, the WebApp's Deployment, Service and IngressRoute, the Knative Service, the Namespace
    expect(k8sObjects.length).toBe(4 * 4 + 1 + 3 + 1 + 1);
    for (const r of k8sObjects) {
      const { apiVersion, kind, metadata } = r.outputs;
      const group = (apiVersion as string).includes("/") ? `.${(apiVersion as string).split("/")[0]}` : "";
      const live = cp.kubectl([
        "get",
        `${kind}${group}`,
        metadata.name,
        ...(metadata.namespace ? ["-n", metadata.namespace] : []),
        "-o",
        "name",
      ]);
      expect(live.status, `${kind} ${metadata.name}: ${live.stderr}`).toBe(0);
    }
  });

  it("the per-node Deployments sit on the planned nodes with the planned replicas; proxies carry the plan's weights", () => {
    const { plan } = rendered(DEMAND_1);
    const outputs = JSON.parse(pulumi(ws, ["stack", "output", "--json"]).stdout);
    expect(outputs.plannedReplicas).toEqual(plan.replicas);
    for (const n of NODES.map((x) => x.name)) {
      const d = kubectlJson(cp, ["-n", NAMESPACE, "get", "deployment", `whoami-${n}`]);
      expect(d.spec.replicas).toBe(plan.replicas[n] ?? 0);
      expect(d.spec.template.spec.nodeSelector).toEqual({ "kubernetes.io/hostname": n });
      const cm = kubectlJson(cp, ["-n", NAMESPACE, "get", "configmap", `whoami-proxy-${n}`]);
      // The proxies read their route from rds.yaml (Envoy's filesystem RDS, lib/render/envoyDynamic.ts).
      const clusters = parse(cm.data["rds.yaml"]).resources[0].virtual_hosts[0].routes[0].route.weighted_clusters
        .clusters;
      expect(clusters).toEqual(basisPoints(plan.weights[n]).map(([to, weight]) => ({ name: `node-${to}`, weight })));
    }
    // the real scheduler placed every pod on its Deployment's node; kwok reports them Running
    const want = Object.values(plan.replicas).reduce((a, b) => a + b, 0);
    const until = Date.now() + 120_000;
    let pods: any[] = [];
    while (Date.now() < until) {
      pods = kubectlJson(cp, ["-n", NAMESPACE, "get", "pods", "-l", "app.kubernetes.io/component=workload"]).items;
      if (pods.length === want && pods.every((p) => p.status.phase === "Running")) break;
      spawnSync("sleep", ["1"]);
    }
    expect(pods.length).toBe(want);
    for (const p of pods) {
      expect(p.status.phase).toBe("Running");
      expect(p.spec.nodeName).toBe(p.metadata.labels["routing.kantai.dev/node"]);
    }
    const perNode: Record<string, number> = {};
    for (const p of pods) perNode[p.spec.nodeName] = (perNode[p.spec.nodeName] ?? 0) + 1;
    expect(perNode).toEqual(Object.fromEntries(Object.entries(plan.replicas).filter(([, r]) => r > 0)));
    const front = kubectlJson(cp, ["-n", NAMESPACE, "get", "service", "whoami"]);
    expect(front.spec.internalTrafficPolicy).toBe("Local");
  });

  it("the WebApp's IngressRoute was accepted by Traefik's real CRD schema, and a wrong one is refused by it", () => {
    const route = kubectlJson(cp, ["-n", NAMESPACE, "get", "ingressroutes.traefik.io", "blog"]);
    expect(route.spec.routes[0].match).toBe("Host(`blog.example.com`)");
    // the schema is not a formality: an entryPoints string instead of a list is rejected
    const bad = {
      apiVersion: "traefik.io/v1alpha1",
      kind: "IngressRoute",
      metadata: { name: "bad", namespace: NAMESPACE },
      spec: { entryPoints: "web", routes: [] },
    };
    const r = cp.kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(bad));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(
      /spec\.entryPoints: Invalid value: "string": spec\.entryPoints in body must be of type array/,
    );
  });

  it("the Knative Service was accepted by Knative Serving's CRD schema (stored, not reconciled: no Knative controller runs)", () => {
    const ksvc = kubectlJson(cp, ["-n", NAMESPACE, "get", "services.serving.knative.dev", "fibonacci"]);
    expect(ksvc.spec.template.metadata.annotations["autoscaling.knative.dev/target"]).toBe("200");
    // no controller: no Ready condition, no revision — what the suite cannot check here
    expect(ksvc.status?.conditions ?? []).toEqual([]);
    const bad = {
      apiVersion: "serving.knative.dev/v1",
      kind: "Service",
      metadata: { name: "bad", namespace: NAMESPACE },
      spec: { template: { spec: { containerConcurrency: "many", containers: [{ image: "x" }] } } },
    };
    const r = cp.kubectl(["apply", "--dry-run=server", "-f", "-"], JSON.stringify(bad));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/containerConcurrency: Invalid value: "string"/);
  });

  it("up --expect-no-changes right after: nothing", () => {
    const run = pulumi(ws, ["up", "--yes", "--expect-no-changes", "--non-interactive"]);
    expect(run.stdout).not.toMatch(/\d+ (created|updated|deleted|replaced)/);
  });

  it("a demand change updates exactly the plan and the objects whose manifests change; up applies it", () => {
    const before = rendered(DEMAND_1).objects;
    const after = rendered(DEMAND_2);
    const changed = Object.keys(after.objects)
      .filter((k) => JSON.stringify(after.objects[k]) !== JSON.stringify(before[k]))
      .map((k) => `update ${PULUMI_TYPE[k.split("/")[0]]} ${k.split("/")[1]}`);
    expect(changed.length).toBeGreaterThan(0);
    expect(changed.length).toBeLessThan(Object.keys(after.objects).length); // some objects stay as they are
    pulumi(ws, ["config", "set", "demand", JSON.stringify(DEMAND_2)]);
    // the preview: in-place updates only (never a replace: the object names do not depend on the plan)
    const steps = previewSteps().filter((s) => s.op !== "same");
    expect(
      steps.every((s) => s.op === "update"),
      JSON.stringify(steps.map((s) => [s.op, s.urn])),
    ).toBe(true);
    // what up did: exactly the plan and the objects whose rendered manifests differ
    expect(changedOf(upOps())).toEqual(
      ["update pulumi-nodejs:dynamic/kantai/routing:RoutingPlan whoami-routing", ...changed].sort(),
    );
    for (const n of NODES.map((x) => x.name)) {
      expect(kubectlJson(cp, ["-n", NAMESPACE, "get", "deployment", `whoami-${n}`]).spec.replicas).toBe(
        after.plan.replicas[n] ?? 0,
      );
    }
  });

  it("a WebApp replicas change updates only its Deployment", () => {
    pulumi(ws, ["config", "set", "webappReplicas", "3"]);
    const steps = previewSteps().filter((s) => s.op !== "same");
    expect(steps.map((s) => [s.op, typeOf(s.urn), nameOf(s.urn)])).toEqual([
      ["update", "kubernetes:apps/v1:Deployment", "blog-deployment"],
    ]);
    expect(changedOf(upOps())).toEqual(["update kubernetes:apps/v1:Deployment blog-deployment"]);
    expect(kubectlJson(cp, ["-n", NAMESPACE, "get", "deployment", "blog"]).spec.replicas).toBe(3);
  });

  it("a Knative autoscaling change updates only the Knative Service", () => {
    pulumi(ws, ["config", "set", "knativeTarget", "50"]);
    const steps = previewSteps().filter((s) => s.op !== "same");
    expect(steps.map((s) => [s.op, typeOf(s.urn), nameOf(s.urn)])).toEqual([
      ["update", "kubernetes:serving.knative.dev/v1:Service", "fibonacci-service"],
    ]);
    expect(changedOf(upOps())).toEqual(["update kubernetes:serving.knative.dev/v1:Service fibonacci-service"]);
    const ksvc = kubectlJson(cp, ["-n", NAMESPACE, "get", "services.serving.knative.dev", "fibonacci"]);
    expect(ksvc.spec.template.metadata.annotations["autoscaling.knative.dev/target"]).toBe("50");
  });

  it("destroy leaves none of kantai's objects behind", () => {
    pulumi(ws, ["destroy", "--yes", "--skip-preview", "--non-interactive"]);
    const state = JSON.parse(pulumi(ws, ["stack", "export"]).stdout).deployment;
    expect(state.resources ?? []).toEqual([]);
    const until = Date.now() + 120_000;
    let left = "";
    while (Date.now() < until) {
      const r = cp.kubectl(["get", "namespace", NAMESPACE, "--ignore-not-found", "-o", "name"]);
      left = r.stdout.trim();
      if (left === "") break;
      spawnSync("sleep", ["1"]);
    }
    expect(left).toBe("");
    const managed = cp.kubectl([
      "get",
      "deployments,services,configmaps,ingressroutes.traefik.io,services.serving.knative.dev",
      "-A",
      "-l",
      "app.kubernetes.io/managed-by=kantai",
      "-o",
      "name",
    ]);
    expect(managed.status, managed.stderr).toBe(0);
    expect(managed.stdout.trim()).toBe("");
  });
});
