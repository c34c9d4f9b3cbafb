/**
 * Measured latencies with real parts (issue 14 §5): three RTT agents (web/rtt-agent.js, each its
 * own process) on distinct loopback addresses — `b` answers 40 ms late (DELAY_MS: the one
 * simulated part, standing in for a long link), `c` is frozen (SIGSTOP) half-way and becomes
 * silent — and a real Prometheus (Debian's package) scraping them every second.
 * `routing matrix` reads the matrix back through Prometheus's HTTP API; the silent node's pairs
 * are reported missing, never 0.
 *
 * Upstream rules relied on:
 * - Text exposition format 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/):
 *   checked by the real `promtool check metrics` and by Prometheus ingesting it.
 * - Instant query API, `{"status":"success","data":{"resultType":"vector","result":[{"metric",
 *   "value":[t,"v"]}]}}` and `{"status":"error","errorType":"bad_data",...}` with HTTP 400
 *   (https://prometheus.io/docs/prometheus/latest/querying/api/#instant-queries).
 * - Staleness: a series missing from a scrape, or every series of a target whose scrape fails, is
 *   marked stale and no longer returned by an instant query
 *   (https://prometheus.io/docs/prometheus/latest/querying/basics/#staleness,
 *   https://www.robustperception.io/staleness-and-promql).
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parseRouteFile, renderRouteFile } from "../lib/render/envoyDynamic";
import { parseMonlat } from "../lib/routing/monlat";
import { instantQuery, MatrixError, readMatrix, runMatrixCli } from "../lib/routing/matrix";
import { measuredPlan } from "../lib/routing/measured";
import { metricsText, tick, type Deps, type Observed, type ReplannerConfig } from "../web/replanner";
import { routingPlanProvider, type RoutingPlanOutputs } from "../components/routing/routingPlanProvider";
import { startDemandExporter, startFakeKube } from "./support/fakeKube";
import {
  freePort,
  sleep,
  startAgent,
  startPrometheus,
  waitFor,
  type AgentProcess,
  type PrometheusProcess,
} from "./support/prometheus";

const ROOT = path.resolve(__dirname, "..");
const WINDOW_MS = 1500;
let agents: AgentProcess[] = [];
let prom: PrometheusProcess;
let tmp: string;
let exporters: { address: string; close(): Promise<void> }[] = [];
let kube: Awaited<ReturnType<typeof startFakeKube>> | undefined;
/** Demand entering at each node (req/s), served by the stand-in Envoy stats endpoints. */
const DEMAND = { a: 300, b: 50, c: 100 } as const;

/** `npm run -s routing -- matrix …` as a user runs it: tsx on lib/routing/cli.ts in a subprocess. */
function cli(args: string[]) {
  return spawnSync(
    process.execPath,
    [
      path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
      path.join(ROOT, "lib", "routing", "cli.ts"),
      "matrix",
      ...args,
    ],
    { encoding: "utf8", cwd: ROOT, timeout: 60_000 },
  );
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-matrix-"));
  const hosts = { a: "127.0.0.11", b: "127.0.0.12", c: "127.0.0.13" } as const;
  const ports = { a: await freePort(hosts.a), b: await freePort(hosts.b), c: await freePort(hosts.c) };
  const peers = (Object.keys(hosts) as (keyof typeof hosts)[]).map((n) => `${n}=${hosts[n]}:${ports[n]}`).join(",");
  const common = { PEERS: peers, INTERVAL_MS: "200", WINDOW_MS: String(WINDOW_MS), TIMEOUT_MS: "300" };
  agents = [
    startAgent("a", hosts.a, ports.a, common),
    startAgent("b", hosts.b, ports.b, { ...common, DELAY_MS: "40" }),
    startAgent("c", hosts.c, ports.c, common),
  ];
  exporters = await Promise.all(
    (Object.keys(DEMAND) as (keyof typeof DEMAND)[]).map((n) => startDemandExporter(hosts[n], DEMAND[n])),
  );
  prom = await startPrometheus(
    [
      ...agents.map((a) => ({ job: "rtt-agent", address: `${a.host}:${a.port}` })),
      // The ServiceMonitor's podTargetLabels put the proxy's node on its samples as routing_kantai_dev_node.
      ...(Object.keys(DEMAND) as (keyof typeof DEMAND)[]).map((n, k) => ({
        job: "fib-proxy",
        address: exporters[k].address,
        labels: { routing_kantai_dev_node: n },
      })),
    ],
    1000,
  );
});

afterAll(async () => {
  for (const a of agents) {
    a.proc.kill("SIGCONT");
    a.proc.kill("SIGTERM");
  }
  await prom?.stop();
  for (const e of exporters) await e.close();
  await kube?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe("RTT agents → Prometheus → routing matrix (real processes on loopback)", () => {
  it("serves metrics the real promtool accepts", async () => {
    const text = await waitFor("agent a's first measurement", async () => {
      const t = await (await fetch(`http://${agents[0].host}:${agents[0].port}/metrics`)).text();
      return /latency_between_nodes\{from="a",to="b"\}/.test(t) ? t : undefined;
    });
    const r = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    expect(r.error, "promtool is installed with Debian's prometheus package (scripts/setup.sh)").toBeUndefined();
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
    // A broken exposition is rejected by the same tool (the check can fail).
    const bad = spawnSync("promtool", ["check", "metrics"], {
      input: text.replace(
        /^# TYPE latency_between_nodes gauge$/m,
        "# TYPE latency_between_nodes gauge\n# TYPE latency_between_nodes counter",
      ),
      encoding: "utf8",
    });
    expect(bad.status).not.toBe(0);
  });

  it("reads the full matrix back from Prometheus, the slow agent's pairs slow", async () => {
    const m = await waitFor(
      "a 3×3 matrix in Prometheus",
      () => readMatrix({ prometheus: prom.url }).catch(() => undefined),
      30_000,
    );
    expect(m.nodes).toEqual(["a", "b", "c"]);
    // b answers 40 ms late: every pair towards b is ≥ 40 ms, every other pair far below.
    for (const from of ["a", "c"]) {
      expect(m.rttMs[from].b).toBeGreaterThanOrEqual(40);
      expect(m.rttMs[from].b).toBeLessThan(200);
    }
    for (const [from, to] of [
      ["a", "c"],
      ["b", "a"],
      ["b", "c"],
      ["c", "a"],
    ])
      expect(m.rttMs[from][to]).toBeLessThan(40);
    expect(m.rttMs.a.a).toBe(0);
    // The monlat text round-trips through the parser the stack uses.
    expect(parseMonlat(m.monlat, { symmetric: false })).toEqual(m.rttMs);

    const out = path.join(tmp, "latency.prom");
    const r = cli(["--prometheus", prom.url, "--out", out]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("");
    expect(Object.keys(parseMonlat(fs.readFileSync(out, "utf8"), { symmetric: false }))).toEqual(["a", "b", "c"]);
  });

  it("plans from Prometheus at deploy time, and keeps the applied plan through measurement noise", async () => {
    const base = {
      nodes: ["a", "b", "c"].map((name) => ({ name, maxPods: 3, serviceRate: 150 })),
      demand: { a: 200, b: 50, c: 100 },
      replicas: 4,
    };
    const first = await measuredPlan({ base, prometheus: prom.url });
    expect(first.decision.reason).toBe("no plan applied yet");
    // Everything towards b costs 40 ms: a and c keep their requests away from it.
    expect(first.plan.weights.a.b ?? 0).toBeLessThan(0.05);
    expect(first.plan.weights.c.b ?? 0).toBeLessThan(0.05);
    expect(Object.values(first.plan.replicas).reduce((x, y) => x + y, 0)).toBe(4);
    // A second `pulumi up` a moment later: new samples, same plan, same input (no diff). Loopback
    // RTTs on a loaded 2-core machine jitter by tens of ms (b's 40 ms delay is a timer), so the
    // thresholds here are sized for that noise, not the defaults.
    const noise = { rttMoveMs: 40, improvementPct: 25 };
    await sleep(1500);
    const second = await measuredPlan({
      base,
      prometheus: prom.url,
      applied: { input: first.input, plan: first.plan },
      ...noise,
    });
    expect(second.decision.replan, second.decision.reason).toBe(false);
    expect(second.plan).toBe(first.plan);
    expect(second.input).toBe(first.input);
    // An RTT that really moved (the applied plan was made for a→b 100 ms shorter) re-plans.
    const moved = {
      ...first.input,
      rttMs: { ...first.input.rttMs, a: { ...first.input.rttMs.a, b: first.input.rttMs.a.b + 100 } },
    };
    const third = await measuredPlan({
      base,
      prometheus: prom.url,
      applied: { input: moved, plan: first.plan },
      ...noise,
    });
    expect(third.decision.replan).toBe(true);
    expect(third.decision.reason).toMatch(/^RTT a→b moved by \d+(\.\d+)? ms \(> 40 ms\)$/);
  });

  const NAMES = { a: "fib-proxy-a", b: "fib-proxy-b", c: "fib-proxy-c" };
  const INITIAL = { a: 0.5, b: 1 / 3, c: 1 / 6 }; // Pulumi's "even" weights ∝ replicas, in every row
  const config = (): ReplannerConfig => ({
    service: "fib",
    namespace: "apps",
    prometheus: prom.url,
    nodes: [
      { name: "a", replicas: 3, serviceRate: 150 },
      { name: "b", replicas: 2, serviceRate: 150 },
      { name: "c", replicas: 1, serviceRate: 150 },
    ],
    configMaps: NAMES,
    demandQuery: "sum by (routing_kantai_dev_node) (rate(envoy_http_downstream_rq_total[10s]))",
    demandLabel: "routing_kantai_dev_node",
    intervalMs: 1000,
    minIntervalMs: 0,
    maxStep: 0.25,
  });
  let now = Date.parse("2026-12-01T00:00:00Z");
  const logs: Record<string, unknown>[] = [];
  const deps = (): Deps => ({
    fetch,
    kubeApi: kube!.url,
    token: "test-token",
    now: () => now,
    log: (l) => logs.push(l),
  });
  const weightsOf = (n: keyof typeof NAMES) => parseRouteFile(kube!.store[`apps/${NAMES[n]}`].data["rds.yaml"], parse);

  it("re-plans the proxies' weights from Prometheus within its step and rate limits (FAKE Kubernetes API, recorded)", async () => {
    kube = await startFakeKube(
      Object.fromEntries(
        Object.values(NAMES).map((cm) => [
          `apps/${cm}`,
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: cm, namespace: "apps" },
            data: { "envoy.yaml": "# bootstrap", "rds.yaml": renderRouteFile("fib", INITIAL, "pulumi") },
          },
        ]),
      ),
    );
    await waitFor("demand of every node in Prometheus", async () =>
      (await instantQuery(prom.url, config().demandQuery)).length === 3 ? true : undefined,
    );
    const first = await tick(config(), deps());
    expect(first.action, JSON.stringify(first)).toBe("write");
    expect(first.reason).toMatch(/; step limited to 0\.25 per weight$/);
    expect(first.written).toEqual(["a", "b", "c"]);
    const gets = kube.requests.filter((r) => r.method === "GET").map((r) => r.path);
    expect(gets).toEqual([
      "/api/v1/namespaces/apps/configmaps/fib-proxy-a",
      "/api/v1/namespaces/apps/configmaps/fib-proxy-b",
      "/api/v1/namespaces/apps/configmaps/fib-proxy-c",
    ]);
    const patches = kube.requests.filter((r) => r.method === "PATCH");
    expect(patches.map((p) => [p.path, p.contentType, p.authorization])).toEqual(
      Object.values(NAMES).map((cm) => [
        `/api/v1/namespaces/apps/configmaps/${cm}`,
        "application/merge-patch+json",
        "Bearer test-token",
      ]),
    );
    // The bootstrap is never touched: only rds.yaml and the bookkeeping annotations.
    for (const p of patches) expect(Object.keys(p.body.data)).toEqual(["rds.yaml"]);
    expect(kube.store["apps/fib-proxy-a"].data["envoy.yaml"]).toBe("# bootstrap");
    // No weight moved by more than maxStep (± one basis point of rounding).
    for (const n of ["a", "b", "c"] as const) {
      const w = weightsOf(n);
      for (const k of ["a", "b", "c"] as const)
        expect(Math.abs((w[k] ?? 0) - INITIAL[k])).toBeLessThanOrEqual(0.25 + 1e-4);
    }
    // Further ticks converge, then hysteresis keeps the weights.
    let last: Record<string, unknown> = first;
    for (let k = 0; k < 10 && last.action !== "keep"; k++) {
      now += 1000;
      last = await tick(config(), deps());
    }
    expect(last.action, JSON.stringify(logs)).toBe("keep");
    // b is 40 ms away from everyone: a and c stop sending there; b keeps most of its own demand.
    expect(weightsOf("a").b ?? 0).toBeLessThan(0.05);
    expect(weightsOf("c").b ?? 0).toBeLessThan(0.05);
    expect(weightsOf("b").b).toBeGreaterThan(0.5);
    // The rate limit: with a 60 s minimum interval, a tick 1 s after the last write does nothing.
    now += 1000;
    const before = kube.requests.length;
    const limited = await tick({ ...config(), minIntervalMs: 60_000 }, deps());
    expect(limited).toMatchObject({ action: "keep" });
    expect(String(limited.reason)).toMatch(/^rate limit: last write [12] s ago \(< 60 s\)$/);
    expect(kube.requests.slice(before).filter((r) => r.method === "PATCH")).toEqual([]);
  });

  it("observe-only (reweight off): reads and decides, never patches, and exports the weights and predicted mean (FAKE Kubernetes API, recorded)", async () => {
    const observeKube = await startFakeKube(
      Object.fromEntries(
        Object.values(NAMES).map((cm) => [
          `apps/${cm}`,
          {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: cm, namespace: "apps" },
            data: { "envoy.yaml": "# bootstrap", "rds.yaml": renderRouteFile("fib", INITIAL, "pulumi") },
          },
        ]),
      ),
    );
    try {
      let seen: Observed | undefined;
      const c = { ...config(), write: false };
      const r = await tick(c, {
        fetch,
        kubeApi: observeKube.url,
        now: () => now,
        log: () => {},
        observe: (o) => (seen = o),
      });
      // The same measurements make the writing re-planner write (previous test); observe-only only says so.
      expect(r.action, JSON.stringify(r)).toBe("observe");
      expect(String(r.reason)).toMatch(/^would write: /);
      expect(observeKube.requests.filter((q) => q.method !== "GET")).toEqual([]);
      expect(seen!.weights.a).toEqual(parseRouteFile(renderRouteFile("fib", INITIAL, "x"), parse));
      expect(Number.isFinite(seen!.predictedMeanMs)).toBe(true);
      expect(r.predictedMeanMs).toBe(seen!.predictedMeanMs);
      const text = metricsText(c, seen);
      expect(text).toContain(
        `kantai_routing_weight{service="fib",namespace="apps",from="a",to="b"} ${seen!.weights.a.b}`,
      );
      expect(text).toContain(
        `kantai_routing_predicted_mean_seconds{service="fib",namespace="apps"} ${seen!.predictedMeanMs! / 1000}`,
      );
      expect(text).toContain('kantai_routing_replanner_writes{service="fib",namespace="apps"} 0');
      expect(text.match(/^kantai_routing_weight\{/gm)).toHaveLength(9);
      // The real promtool accepts the exposition (format 0.0.4).
      const lint = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
      expect(lint.status, lint.stderr + lint.stdout).toBe(0);
    } finally {
      await observeKube.close();
    }
  });

  it("the RoutingPlan provider plans from Prometheus (latencyPrometheus), and only a real change is a diff", async () => {
    const base = {
      nodes: ["a", "b", "c"].map((name) => ({ name, maxPods: 3, serviceRate: 150 })),
      demand: { a: 200, b: 50, c: 100 },
      replicas: 4,
      algorithm: "optimal",
    };
    // Thresholds sized for loopback jitter on a loaded machine (see the measuredPlan test above).
    const news = { ...base, rttMs: {}, latencyPrometheus: prom.url, hysteresis: { improvementPct: 25, rttMoveMs: 40 } };
    const checked = await routingPlanProvider.check!({} as never, news as never);
    expect(checked.failures ?? []).toEqual([]);
    const created = await routingPlanProvider.create!(checked.inputs as never);
    const outs = created.outs as RoutingPlanOutputs;
    // The measured matrix is recorded with the plan: b is 40 ms away from a and c.
    expect(outs.rttMs.a.b).toBeGreaterThan(30);
    expect(outs.plan.weights.a.b ?? 0).toBeLessThan(0.05);
    // A second `pulumi up`: new samples, noise only → no diff.
    await sleep(1200);
    const same = await routingPlanProvider.diff!(created.id, outs as never, checked.inputs as never);
    expect(same.changes).toBe(false);
    // The plan was made for an a→b 100 ms shorter than measured now → a diff, and update re-plans.
    const stale = { ...outs, rttMs: { ...outs.rttMs, a: { ...outs.rttMs.a, b: outs.rttMs.a.b - 100 } } };
    expect((await routingPlanProvider.diff!(created.id, stale as never, checked.inputs as never)).changes).toBe(true);
    // A changed input (demand) is always a diff, and update plans for it without hysteresis.
    const more = { ...checked.inputs, demand: { a: 200, b: 50, c: 250 } };
    expect((await routingPlanProvider.diff!(created.id, outs as never, more as never)).changes).toBe(true);
    const updated = (await routingPlanProvider.update!(created.id, outs as never, more as never))
      .outs as RoutingPlanOutputs;
    expect(updated.demand).toEqual({ a: 200, b: 50, c: 250 });
    // An unreachable Prometheus fails with its URL.
    const closed = await freePort();
    await expect(
      routingPlanProvider.create!({
        ...(checked.inputs as object),
        latencyPrometheus: `http://127.0.0.1:${closed}`,
      } as never),
    ).rejects.toThrow(
      `RoutingPlan: latencies from http://127.0.0.1:${closed}: prometheus: cannot reach http://127.0.0.1:${closed} (ECONNREFUSED)`,
    );
  }, 60_000);

  it("drops a silent node after the window and reports its pairs missing, never 0", async () => {
    const c = agents[2];
    c.proc.kill("SIGSTOP"); // c stops answering probes and scrapes
    await waitFor(
      "c's pairs to leave Prometheus",
      async () => {
        const r = (await (
          await fetch(
            `${prom.url}/api/v1/query?query=${encodeURIComponent('latency_between_nodes{to="c"} or latency_between_nodes{from="c"}')}`,
          )
        ).json()) as { data: { result: unknown[] } };
        return r.data.result.length === 0 ? true : undefined;
      },
      WINDOW_MS + 15_000,
    );
    // Nothing anywhere says 0 ms for c.
    const zero = (await (
      await fetch(`${prom.url}/api/v1/query?query=${encodeURIComponent("latency_between_nodes == 0")}`)
    ).json()) as { data: { result: unknown[] } };
    expect(zero.data.result).toEqual([]);

    const err = await readMatrix({ prometheus: prom.url }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MatrixError);
    expect((err as MatrixError).kind).toBe("data");
    expect((err as MatrixError).issues.map((i) => i.path)).toEqual([
      "rttMs.a.c",
      "rttMs.b.c",
      "rttMs.c.a",
      "rttMs.c.b",
    ]);

    const r = cli(["--prometheus", prom.url]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr.split("\n")[0]).toBe(
      'rttMs.a.c: no measurement in Prometheus from "a" to "c" (a silent or missing RTT agent; nothing is filled in)',
    );

    // The re-planner skips the tick and leaves the weights as they are.
    const before = kube!.requests.length;
    const weights = weightsOf("a");
    now += 120_000;
    const skipped = await tick(config(), deps());
    expect(skipped.action).toBe("skip");
    expect(String(skipped.reason)).toContain('rttMs.a.c: no measurement in Prometheus from "a" to "c"');
    expect(kube!.requests.slice(before).filter((r) => r.method === "PATCH")).toEqual([]);
    expect(weightsOf("a")).toEqual(weights);

    // The nodes still answering form a complete matrix.
    const ok = cli(["--prometheus", prom.url, "--nodes", "a,b"]);
    expect(ok.stderr).toBe("");
    expect(ok.status).toBe(0);
    expect(Object.keys(parseMonlat(ok.stdout, { symmetric: false }))).toEqual(["a", "b"]);
  });

  it("fails clearly on a query Prometheus rejects and on an unreachable Prometheus", async () => {
    const q = cli(["--prometheus", prom.url, "--query", "max by (from"]);
    expect(q.status).toBe(65);
    expect(q.stderr).toMatch(/^prometheus: query "max by \(from" failed \(HTTP 400, bad_data\): .+\n$/);

    const closed = await freePort();
    const u = cli(["--prometheus", `http://127.0.0.1:${closed}`]);
    expect(u.status).toBe(69);
    expect(u.stderr).toBe(`prometheus: cannot reach http://127.0.0.1:${closed} (ECONNREFUSED)\n`);

    // In-process, with the same real Prometheus: an unknown metric is an empty matrix, not zeros.
    const none = await runMatrixCli([
      "--prometheus",
      prom.url,
      "--query",
      "max by (from, to) (no_such_metric)",
      "--nodes",
      "a,b",
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('rttMs.a.b: no measurement in Prometheus from "a" to "b"');
    await sleep(0);
  });
});
