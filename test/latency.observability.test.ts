/**
 * The measured-latency platform objects: the MeasuredLatency component under Pulumi mocks (what
 * it registers; mocks run no Helm or API server — SIMULATED cluster), the re-planner's objects
 * against their schemas and the policy pack, and the esbuild bundle of web/replanner.ts run as a
 * real node process against the recorded fake Kubernetes API (test/support/fakeKube.ts).
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderRouteFile } from "../lib/render/envoyDynamic";
import { parseManifests } from "../lib/render/k8s";
import { PROMETHEUS_STACK_CHART } from "../lib/render/latency";
import { REPLANNER_DEFAULTS, renderReplanner } from "../lib/render/replanner";
import { manifestKind, workloadResourceFindings } from "../policy/rules";
import { replannerBundle } from "../components/observability/bundle";
import { startFakeKube } from "./support/fakeKube";
import { validateAll } from "./support/k8sSchemas";
import { freePort } from "./support/prometheus";
import { recordingMocks } from "./support/recordingMocks";

const recorded: { type: string; name: string; inputs: any }[] = [];
let artifacts: { path: string; kind: string; content: string }[] = [];
let promUrl = "";

beforeAll(async () => {
  const pulumi = await import("@pulumi/pulumi");
  await recordingMocks(recorded);
  const { MeasuredLatency } = await import("../components/observability/measuredLatency");
  const { OBSERVABILITY_DEFAULTS } = await import("../stacks/config");
  const m = new MeasuredLatency("latency", {
    namespace: OBSERVABILITY_DEFAULTS.namespace,
    prometheus: { enabled: OBSERVABILITY_DEFAULTS.prometheus.enabled },
    services: [
      {
        name: "fib",
        namespace: "apps",
        replanner: {
          nodes: pulumi.output([
            { name: "edge", replicas: 2, serviceRate: 250, configMap: "fib-proxy-edge" },
            { name: "cloud1", replicas: 1, serviceRate: 250, configMap: "fib-proxy-cloud1" },
          ]),
        },
      },
      { name: "static", namespace: "apps" },
    ],
  });
  promUrl = m.prometheusUrl;
  const text = (c: unknown) =>
    typeof c === "string"
      ? Promise.resolve(c)
      : new Promise<string>((r) => (c as import("@pulumi/pulumi").Output<string>).apply(r));
  artifacts = await Promise.all(
    m.artifacts.map(async (a) => ({ path: a.path, kind: a.kind, content: await text(a.content) })),
  );
  await new Promise((r) => setTimeout(r, 200));
}, 120_000);

describe("MeasuredLatency (Pulumi mocks)", () => {
  it("registers Prometheus from the pinned chart, the agents, the monitors and one re-planner", () => {
    const chart = recorded.find((r) => r.type === "kubernetes:helm.sh/v4:Chart");
    expect(chart?.name).toBe("latency-prometheus");
    expect(chart?.inputs).toMatchObject({
      chart: "kube-prometheus-stack",
      version: PROMETHEUS_STACK_CHART.version,
      namespace: "monitoring",
      repositoryOpts: { repo: "https://prometheus-community.github.io/helm-charts" },
    });
    expect(chart?.inputs.values.prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    const groups = recorded
      .filter((r) => r.type === "kubernetes:yaml/v2:ConfigGroup")
      .map((r) => r.name)
      .sort();
    expect(groups).toEqual(["latency-agents", "latency-monitors", "latency-replanner-fib"]);
    expect(promUrl).toBe("http://kantai-prometheus-prometheus.monitoring.svc.cluster.local:9090");
  });

  it("lists artifacts whose objects pass their schemas and the policy pack", async () => {
    expect(artifacts.map((a) => a.path).sort()).toEqual([
      "observability/fib-replanner.yaml",
      "observability/latency-agents.yaml",
      "observability/latency-monitors.yaml",
      "observability/latency-namespace.yaml",
      "observability/latency-prometheus-values.yaml",
    ]);
    const objs = artifacts.filter((a) => a.kind === "kubernetes").flatMap((a) => parseManifests(a.content));
    expect(
      objs
        .filter((o) => o.kind === "ServiceMonitor")
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(["fib-proxy", "fib-replanner", "rtt-agent", "static-proxy"]);
    const config = JSON.parse(
      (objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === "fib-replanner") as any).data["config.json"],
    );
    expect(config).toMatchObject({
      prometheus: promUrl,
      nodes: [
        { name: "edge", replicas: 2, serviceRate: 250 },
        { name: "cloud1", replicas: 1, serviceRate: 250 },
      ],
      configMaps: { edge: "fib-proxy-edge", cloud1: "fib-proxy-cloud1" },
      minIntervalMs: 60000,
      maxStep: 0.25,
    });
    expect(await validateAll(objs)).toEqual([]);
    for (const o of objs) {
      const kind = manifestKind(o as any);
      if (kind) expect(workloadResourceFindings(kind, o as any), `${o.kind}/${o.metadata.name}`).toEqual([]);
    }
  });
});

describe("re-planner objects", () => {
  const objs = () =>
    renderReplanner({
      service: "fib",
      namespace: "apps",
      bundle: "// bundle",
      config: { configMaps: { a: "fib-proxy-a", b: "fib-proxy-b" } },
      image: REPLANNER_DEFAULTS.image,
      resources: REPLANNER_DEFAULTS.resources,
    });

  it("may only get and patch the service's proxy ConfigMaps", () => {
    const role: any = objs().find((o) => o.kind === "Role");
    expect(role.rules).toEqual([
      {
        apiGroups: [""],
        resources: ["configmaps"],
        resourceNames: ["fib-proxy-a", "fib-proxy-b"],
        verbs: ["get", "patch"],
      },
    ]);
    const binding: any = objs().find((o) => o.kind === "RoleBinding");
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "fib-replanner", namespace: "apps" }]);
    const dep: any = objs().find((o) => o.kind === "Deployment");
    expect(dep.spec.strategy).toEqual({ type: "Recreate" });
    expect(dep.spec.template.spec.serviceAccountName).toBe("fib-replanner");
  });
});

describe("the re-planner bundle (esbuild) runs as a real process", () => {
  let dir: string;
  let kube: Awaited<ReturnType<typeof startFakeKube>>;
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-replanner-"));
    fs.writeFileSync(path.join(dir, "replanner.js"), replannerBundle());
    kube = await startFakeKube({
      "apps/fib-proxy-a": {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "fib-proxy-a", namespace: "apps" },
        data: { "rds.yaml": renderRouteFile("fib", { a: 1 }, "pulumi") },
      },
    });
  });
  afterAll(async () => {
    await kube?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const run = (config: unknown, extraEnv: Record<string, string> = {}) => {
    fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify(config));
    return spawnSync(process.execPath, [path.join(dir, "replanner.js")], {
      encoding: "utf8",
      timeout: 20_000,
      killSignal: "SIGTERM",
      env: {
        PATH: process.env.PATH ?? "",
        REPLANNER_CONFIG: path.join(dir, "config.json"),
        KUBE_API_URL: kube.url,
        ...extraEnv,
      },
    });
  };

  it("reads the cluster state, skips the tick when Prometheus is down, and leaves the weights alone", async () => {
    const closed = await freePort();
    fs.writeFileSync(
      path.join(dir, "config.json"),
      JSON.stringify({
        service: "fib",
        namespace: "apps",
        prometheus: `http://127.0.0.1:${closed}`,
        nodes: [{ name: "a", replicas: 1, serviceRate: 100 }],
        configMaps: { a: "fib-proxy-a" },
        demandQuery: "x",
        demandLabel: "n",
        intervalMs: 60_000,
      }),
    );
    // Asynchronously: the fake API answers from this process. One tick, then stop it.
    const child = spawn(process.execPath, [path.join(dir, "replanner.js")], {
      env: { PATH: process.env.PATH ?? "", REPLANNER_CONFIG: path.join(dir, "config.json"), KUBE_API_URL: kube.url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const first = await new Promise<string>((resolve, reject) => {
      let out = "";
      let err = "";
      child.stdout.on("data", (c) => {
        out += c;
        if (out.includes("\n")) resolve(out.split("\n")[0]);
      });
      child.stderr.on("data", (c) => (err += c));
      child.on("exit", (code) => reject(new Error(`replanner exited ${code}: ${err}`)));
      setTimeout(() => reject(new Error(`no tick within 15 s: ${err}`)), 15_000).unref();
    });
    child.kill("SIGTERM");
    const line = JSON.parse(first);
    expect(line).toMatchObject({
      service: "apps/fib",
      action: "skip",
      reason: `prometheus: cannot reach http://127.0.0.1:${closed} (ECONNREFUSED)`,
    });
    expect(kube.requests.map((q) => `${q.method} ${q.path}`)).toEqual([
      "GET /api/v1/namespaces/apps/configmaps/fib-proxy-a",
    ]);
  }, 30_000);

  it("refuses a config without its keys, naming them", () => {
    const r = run({ service: "fib" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(
      "replanner config: missing namespace, prometheus, nodes, configMaps, demandQuery, demandLabel, intervalMs",
    );
  });
});
