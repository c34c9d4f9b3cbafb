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
import { parse } from "yaml";
import { parseRouteFile, renderRouteFile } from "../lib/render/envoyDynamic";
import { instantQuery, MatrixError, readMatrix } from "../lib/routing/matrix";
import { replanStep, type ReplanLimits, type ReplanNode, type ReplanState } from "../lib/routing/replan";

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
}

export interface Deps {
  readonly fetch: typeof fetch;
  /** Kubernetes API base URL, e.g. https://10.43.0.1:443. */
  readonly kubeApi: string;
  readonly token?: string;
  readonly now: () => number;
  readonly log: (line: Record<string, unknown>) => void;
}

async function kube(d: Deps, method: "GET" | "PATCH", p: string, body?: unknown): Promise<any> {
  const res = await d.fetch(`${d.kubeApi.replace(/\/+$/, "")}${p}`, {
    method,
    headers: { accept: "application/json", ...(d.token ? { authorization: `Bearer ${d.token}` } : {}), ...(body ? { "content-type": "application/merge-patch+json" } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`kubernetes ${method} ${p}: HTTP ${res.status}: ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

const cmPath = (ns: string, name: string) => `/api/v1/namespaces/${encodeURIComponent(ns)}/configmaps/${encodeURIComponent(name)}`;

/** Read the proxies' current weights and the re-planner's bookkeeping from their ConfigMaps. */
export async function readState(c: ReplannerConfig, d: Deps): Promise<ReplanState> {
  const weights: Record<string, Record<string, number>> = {};
  let basis: ReplanState["basis"];
  let lastWriteMs: number | undefined;
  for (const n of c.nodes) {
    const cm = await kube(d, "GET", cmPath(c.namespace, c.configMaps[n.name]));
    const rds = cm?.data?.["rds.yaml"];
    if (typeof rds !== "string") throw new Error(`ConfigMap ${c.namespace}/${c.configMaps[n.name]} has no data["rds.yaml"]`);
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
    return done({ action: "skip", reason: e instanceof MatrixError ? e.message.split("\n").join("; ") : (e as Error).message });
  }
  let result;
  try {
    result = replanStep(state, { nodes: c.nodes, rttMs, demand, nowMs: d.now() }, c);
  } catch (e) {
    return done({ action: "skip", reason: (e as Error).message });
  }
  if (!result.write) return done({ action: "keep", reason: result.reason });
  const written: string[] = [];
  for (const n of c.nodes) {
    const row = result.weights[n.name];
    if (!row) continue;
    const same = Object.keys({ ...row, ...state.weights[n.name] }).every((k) => Math.abs((row[k] ?? 0) - (state.weights[n.name]?.[k] ?? 0)) < 1e-4);
    const patch = {
      metadata: { annotations: { [BASIS_ANNOTATION]: JSON.stringify(result.basis), [WRITTEN_ANNOTATION]: at } },
      ...(same ? {} : { data: { "rds.yaml": renderRouteFile(c.service, row, at) } }),
    };
    try {
      await kube(d, "PATCH", cmPath(c.namespace, c.configMaps[n.name]), patch);
      if (!same) written.push(n.name);
    } catch (e) {
      return done({ action: "partial", written, failedAt: n.name, reason: (e as Error).message });
    }
  }
  return done({ action: "write", written, reason: result.reason, predictedMeanMs: result.predictedMeanMs, weights: result.weights });
}

/** Read the config file (JSON) the Deployment mounts; errors name the key. */
export function loadConfig(text: string): ReplannerConfig {
  const c = JSON.parse(text) as ReplannerConfig;
  const missing = ["service", "namespace", "prometheus", "nodes", "configMaps", "demandQuery", "demandLabel", "intervalMs"].filter((k) => (c as any)[k] === undefined);
  if (missing.length) throw new Error(`replanner config: missing ${missing.join(", ")}`);
  for (const n of c.nodes) if (!c.configMaps[n.name]) throw new Error(`replanner config: configMaps.${n.name}: no ConfigMap for node "${n.name}"`);
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
  const deps: Deps = {
    fetch,
    kubeApi: process.env.KUBE_API_URL ?? `https://${process.env.KUBERNETES_SERVICE_HOST}:${process.env.KUBERNETES_SERVICE_PORT}`,
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
