/**
 * kantai's in-cluster re-planner (docs/concepts/measured-latency.md, docs/decisions/0017-weights-owner.md).
 * Bundled with esbuild at synth time into one file shipped in a ConfigMap and run on
 * node:22-alpine — lib/routing is bundled, not copied.
 *
 * Every `intervalMs`: read the RTT matrix (lib/routing/matrix.ts) and the per-node demand from
 * Prometheus, read the weights the proxies carry from their ConfigMaps (`rds.yaml`, the state
 * lives in the cluster: a restarted re-planner resumes), decide with lib/routing/replan.ts, and
 * merge-patch the changed ConfigMaps' `rds.yaml` (Envoy reloads it without a restart:
 * lib/render/envoyDynamic.ts). Any failure (Prometheus down, a pair missing, an API error) skips
 * the tick and leaves the weights as they are; it is logged as one JSON line.
 *
 * Kubernetes API: GET/PATCH /api/v1/namespaces/{ns}/configmaps/{name}, PATCH with
 * `Content-Type: application/merge-patch+json` (RFC 7386;
 * https://kubernetes.io/docs/reference/using-api/api-concepts/#patch-and-apply). In the cluster
 * the base URL is https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT with the service
 * account's token; NODE_EXTRA_CA_CERTS points Node at the service account's CA.
 */
import * as fs from "node:fs";
import * as http from "node:http";
import { parse } from "yaml";
import { parseRouteFile, renderRouteFile } from "../lib/render/envoyDynamic";
import { instantQuery, MatrixError, readMatrix } from "../lib/routing/matrix";
import { meanUnder } from "../lib/routing/hysteresis";
import {
  fixedReplicaInput,
  replanStep,
  type ReplanLimits,
  type ReplanNode,
  type ReplanState,
} from "../lib/routing/replan";

/** Annotations on each proxy ConfigMap: what its weights were written for, and when. */
export const BASIS_ANNOTATION = "routing.kantai.dev/replanner-basis";
export const WRITTEN_ANNOTATION = "routing.kantai.dev/replanner-written-at";

export interface ReplannerConfig extends ReplanLimits {
  /** The latency-aware service (virtual host name in rds.yaml). */
  readonly service: string;
  readonly namespace: string;
  readonly prometheus: string;
  /** Nodes with the replicas Pulumi placed and their service rate. */
  readonly nodes: readonly ReplanNode[];
  /** ConfigMap name of each node's proxy. */
  readonly configMaps: Readonly<Record<string, string>>;
  /** PromQL giving req/s entering at each node, one sample per node labelled `demandLabel`. */
  readonly demandQuery: string;
  readonly demandLabel: string;
  /** Time between ticks, ms. */
  readonly intervalMs: number;
  /** Write the weights (the service's `reweight.enabled`). false: observe-only — read, decide, export metrics, never PATCH. Defaults to true. */
  readonly write?: boolean;
  /** Port of the /metrics endpoint (kantai_routing_weight, kantai_routing_predicted_mean_seconds). Defaults to METRICS_PORT. */
  readonly metricsPort?: number;
}

/** Default port of the re-planner's /metrics. */
export const METRICS_PORT = 9471;

/** What the re-planner exports after a tick: the weights the proxies carry, and the mean the plan predicts for them now. */
export interface Observed {
  readonly weights: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Mean response time (ms) of the carried weights under the measured RTTs and demand; Infinity when unstable; undefined when not measurable. */
  readonly predictedMeanMs?: number;
  readonly atMs: number;
}

const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/"/g, '\\"');
const num = (x: number) => (x === Infinity ? "+Inf" : x === -Infinity ? "-Inf" : Number.isNaN(x) ? "NaN" : String(x));

/**
 * The Prometheus text exposition (format 0.0.4,
 * https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format) of the last
 * observation: one `kantai_routing_weight{service,namespace,from,to}` per pair of the service's
 * nodes (0 where no request goes), `kantai_routing_predicted_mean_seconds{service,namespace}`, and
 * `kantai_routing_replanner_writes{service,namespace}` (1 when the re-planner writes, 0 observe-only).
 * The ServiceMonitor scrapes with honorLabels, so `service` and `namespace` are these, not the target's.
 */
export function metricsText(c: ReplannerConfig, o: Observed | undefined): string {
  const base = `service="${esc(c.service)}",namespace="${esc(c.namespace)}"`;
  const names = c.nodes.map((n) => n.name).sort();
  const lines = [
    "# HELP kantai_routing_weight Fraction of the requests entering at node `from` that its proxy sends to node `to`.",
    "# TYPE kantai_routing_weight gauge",
  ];
  if (o)
    for (const from of names)
      for (const to of names)
        lines.push(
          `kantai_routing_weight{${base},from="${esc(from)}",to="${esc(to)}"} ${num(o.weights[from]?.[to] ?? 0)}`,
        );
  // Base unit seconds (https://prometheus.io/docs/practices/naming/#base-units; `promtool check metrics` rejects "_ms").
  lines.push(
    "# HELP kantai_routing_predicted_mean_seconds Mean response time the routing model predicts for the carried weights under the measured RTTs and demand.",
    "# TYPE kantai_routing_predicted_mean_seconds gauge",
  );
  if (o?.predictedMeanMs !== undefined)
    lines.push(`kantai_routing_predicted_mean_seconds{${base}} ${num(o.predictedMeanMs / 1000)}`);
  lines.push(
    "# HELP kantai_routing_replanner_writes 1 when the re-planner writes weights, 0 when it only observes.",
    "# TYPE kantai_routing_replanner_writes gauge",
    `kantai_routing_replanner_writes{${base}} ${c.write === false ? 0 : 1}`,
  );
  return `${lines.join("\n")}\n`;
}

export interface Deps {
  readonly fetch: typeof fetch;
  /** Kubernetes API base URL, e.g. https://10.43.0.1:443. */
  readonly kubeApi: string;
  readonly token?: string;
  readonly now: () => number;
  readonly log: (line: Record<string, unknown>) => void;
  /** Receives what the tick observed (for /metrics). */
  readonly observe?: (o: Observed) => void;
}

/** A ConfigMap as the API returns it, as far as the re-planner reads it. */
interface ConfigMapBody {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>> };
  readonly data?: Readonly<Record<string, unknown>>;
}

async function kube(d: Deps, method: "GET" | "PATCH", p: string, body?: unknown): Promise<unknown> {
  const res = await d.fetch(`${d.kubeApi.replace(/\/+$/, "")}${p}`, {
    method,
    headers: {
      accept: "application/json",
      ...(d.token ? { authorization: `Bearer ${d.token}` } : {}),
      ...(body ? { "content-type": "application/merge-patch+json" } : {}),
    },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`kubernetes ${method} ${p}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

const cmPath = (ns: string, name: string) =>
  `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(name)}`;

/** Read the proxies' current weights and the re-planner's bookkeeping from their ConfigMaps. */
export async function readState(c: ReplannerConfig, d: Deps): Promise<ReplanState> {
  const weights: Record<string, Record<string, number>> = {};
  let basis: ReplanState["basis"];
  let lastWriteMs: number | undefined;
  for (const n of c.nodes) {
    const cm = (await kube(d, "GET", cmPath(c.namespace, c.configMaps[n.name]))) as ConfigMapBody;
    const rds = cm?.data?.["rds.yaml"];
    if (typeof rds !== "string")
      throw new Error(`ConfigMap ${c.namespace}/${c.configMaps[n.name]} has no data["rds.yaml"]`);
    weights[n.name] = parseRouteFile(rds, parse);
    const a = cm.metadata?.annotations ?? {};
    if (a[BASIS_ANNOTATION]) basis = JSON.parse(a[BASIS_ANNOTATION]);
    if (a[WRITTEN_ANNOTATION]) lastWriteMs = Math.max(lastWriteMs ?? 0, Date.parse(a[WRITTEN_ANNOTATION]));
  }
  return { weights, ...(basis ? { basis } : {}), ...(lastWriteMs !== undefined ? { lastWriteMs } : {}) };
}

/** One tick. Returns what it did (also logged). Never throws for an input or network problem. */
export async function tick(c: ReplannerConfig, d: Deps): Promise<Record<string, unknown>> {
  const at = new Date(d.now()).toISOString();
  const done = (line: Record<string, unknown>) => {
    const out = { at, service: `${c.namespace}/${c.service}`, ...line };
    d.log(out);
    return out;
  };
  const names = c.nodes.map((n) => n.name);
  let state: ReplanState;
  let rttMs: Record<string, Record<string, number>>;
  const demand: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  try {
    state = await readState(c, d);
    rttMs = (await readMatrix({ prometheus: c.prometheus, nodes: names, fetch: d.fetch })).rttMs;
    for (const s of await instantQuery(c.prometheus, c.demandQuery, 10_000, d.fetch)) {
      const node = s.metric[c.demandLabel];
      const v = Number(s.value[1]);
      if (node !== undefined && node in demand && Number.isFinite(v) && v >= 0) demand[node] += v;
    }
  } catch (e) {
    return done({
      action: "skip",
      reason: e instanceof MatrixError ? e.message.split("\n").join("; ") : (e as Error).message,
    });
  }
  const replicas = Object.fromEntries(c.nodes.map((n) => [n.name, n.replicas]));
  const observed = (weights: Readonly<Record<string, Readonly<Record<string, number>>>>) => {
    let predictedMeanMs: number | undefined;
    try {
      predictedMeanMs = meanUnder(fixedReplicaInput(c.nodes, rttMs, demand), {
        replicas,
        weights: weights as Record<string, Record<string, number>>,
        predicted: { meanMs: NaN },
      });
    } catch {
      predictedMeanMs = undefined;
    }
    d.observe?.({ weights, ...(predictedMeanMs !== undefined ? { predictedMeanMs } : {}), atMs: d.now() });
    return predictedMeanMs;
  };
  let result;
  try {
    result = replanStep(state, { nodes: c.nodes, rttMs, demand, nowMs: d.now() }, c);
  } catch (e) {
    observed(state.weights);
    return done({ action: "skip", reason: (e as Error).message });
  }
  if (!result.write) {
    const predictedMeanMs = observed(state.weights);
    return done({
      action: "keep",
      reason: result.reason,
      ...(predictedMeanMs !== undefined ? { predictedMeanMs } : {}),
    });
  }
  if (c.write === false) {
    // Observe-only: the decision is logged, the proxies keep Pulumi's weights.
    const predictedMeanMs = observed(state.weights);
    return done({
      action: "observe",
      reason: `would write: ${result.reason}`,
      wouldWrite: result.weights,
      ...(predictedMeanMs !== undefined ? { predictedMeanMs } : {}),
    });
  }
  const written: string[] = [];
  for (const n of c.nodes) {
    const row = result.weights[n.name];
    if (!row) continue;
    const same = Object.keys({ ...row, ...state.weights[n.name] }).every(
      (k) => Math.abs((row[k] ?? 0) - (state.weights[n.name]?.[k] ?? 0)) < 1e-4,
    );
    const patch = {
      metadata: { annotations: { [BASIS_ANNOTATION]: JSON.stringify(result.basis), [WRITTEN_ANNOTATION]: at } },
      ...(same ? {} : { data: { "rds.yaml": renderRouteFile(c.service, row, at) } }),
    };
    try {
      await kube(d, "PATCH", cmPath(c.namespace, c.configMaps[n.name]), patch);
      if (!same) written.push(n.name);
    } catch (e) {
      // What the proxies carry now: the rows written so far, the old rows after.
      observed(
        Object.fromEntries(
          c.nodes.map((m) => [
            m.name,
            (written.includes(m.name) ? result.weights[m.name] : undefined) ?? state.weights[m.name],
          ]),
        ),
      );
      return done({ action: "partial", written, failedAt: n.name, reason: (e as Error).message });
    }
  }
  observed(Object.fromEntries(c.nodes.map((m) => [m.name, result.weights[m.name] ?? state.weights[m.name]])));
  return done({
    action: "write",
    written,
    reason: result.reason,
    predictedMeanMs: result.predictedMeanMs,
    weights: result.weights,
  });
}

/** Read the config file (JSON) the Deployment mounts; errors name the key. */
export function loadConfig(text: string): ReplannerConfig {
  const c = JSON.parse(text) as ReplannerConfig;
  const missing = [
    "service",
    "namespace",
    "prometheus",
    "nodes",
    "configMaps",
    "demandQuery",
    "demandLabel",
    "intervalMs",
  ].filter((k) => (c as unknown as Record<string, unknown>)[k] === undefined);
  if (missing.length) throw new Error(`replanner config: missing ${missing.join(", ")}`);
  for (const n of c.nodes)
    if (!c.configMaps[n.name])
      throw new Error(`replanner config: configMaps.${n.name}: no ConfigMap for node "${n.name}"`);
  return c;
}

/* c8 ignore start */
if (require.main === module) {
  const file = process.env.REPLANNER_CONFIG ?? "/etc/replanner/config.json";
  let config: ReplannerConfig;
  try {
    config = loadConfig(fs.readFileSync(file, "utf8"));
  } catch (e) {
    console.error(`replanner: ${file}: ${(e as Error).message}`);
    process.exit(2);
  }
  const sa = "/var/run/secrets/kubernetes.io/serviceaccount/token";
  let last: Observed | undefined;
  http
    .createServer((req, res) => {
      if (req.url === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
        res.end(metricsText(config, last));
      } else if (req.url === "/healthz") {
        res.writeHead(200).end("ok\n");
      } else res.writeHead(404).end();
    })
    .listen(config.metricsPort ?? METRICS_PORT, "0.0.0.0");
  const deps: Deps = {
    observe: (o) => (last = o),
    fetch,
    kubeApi:
      process.env.KUBE_API_URL ??
      `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT}`,
    ...(fs.existsSync(sa) ? { token: fs.readFileSync(sa, "utf8").trim() } : {}),
    now: Date.now,
    log: (l) => console.log(JSON.stringify(l)),
  };
  let running = false;
  const run = () => {
    if (running) return;
    running = true;
    void tick(config, deps).finally(() => (running = false));
  };
  run();
  const timer = setInterval(run, config.intervalMs);
  const stop = () => {
    clearInterval(timer);
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
}
/* c8 ignore stop */
