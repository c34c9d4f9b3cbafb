/**
 * Config of latency-aware routing on the edge cluster: `kantai:routing` (docs/concepts/routing.md).
 *
 * Each service gets a RoutingPlan (replicas per node and per-source weights, computed by lib/routing
 * at deploy time) and a LatencyAwareService applying it. The RTT matrix comes from config
 * (`rttMs`) or from a measurement file in monlat's format (`latencyFile`, read here, relative to the
 * repository root). The routing input is checked here with the library's own validation and a trial
 * plan, so bad input is a ConfigError naming the key before any resource exists.
 *
 * stacks/config/load.ts stays the one place config is read: it spreads `routingKeys(...)` into its raw
 * schema and calls `parseRouting` after the clusters and the platform are parsed. Defaults live
 * here, once. Messages name the full key.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { z } from "zod";
import {
  ALGORITHMS,
  parseMonlat,
  planRouting,
  RoutingInputError,
  routingInputIssues,
  type Algorithm,
  type RoutingInput,
  type RoutingNode,
} from "../../lib/routing";
import { REPLANNER_DEFAULTS } from "../../lib/render/replanner";
import { DEFAULT_IMPROVEMENT_PCT, DEFAULT_RTT_MOVE_MS } from "../../lib/routing/hysteresis";
import { cpu, envName, k8sName, memory, quoted, type Fail } from "./primitives";

/** Where relative `latencyFile` paths start: the repository root (the Pulumi project directory). */
export const REPO_ROOT = path.resolve(__dirname, "../..");

const ms = z.number().finite().min(0, "must be a non-negative number of milliseconds");

/**
 * Defaults of kantai:routing.services[]: namespace, front Service type and algorithm (the RoutingPlan and
 * LatencyAwareService components take them as required args), and the measured-latency fields
 * (lib/routing/hysteresis.ts, lib/render/replanner.ts).
 */
export const ROUTING_DEFAULTS = {
  namespace: "default",
  serviceType: "ClusterIP",
  algorithm: "optimal",
  hysteresis: { improvementPct: DEFAULT_IMPROVEMENT_PCT, rttMoveMs: DEFAULT_RTT_MOVE_MS },
  reweight: {
    enabled: false,
    intervalMs: REPLANNER_DEFAULTS.intervalMs,
    minIntervalMs: REPLANNER_DEFAULTS.minIntervalMs,
    maxStep: REPLANNER_DEFAULTS.maxStep,
  },
} as const;

/** The `routing` key of the raw schema (spread into stacks/config/load.ts's). */
export function routingKeys() {
  const quantities = (what: string) =>
    z.strictObject(
      { cpu, memory },
      { message: `is required: {cpu, memory} ${what} (the policy pack demands them on every container)` },
    );
  const service = z.strictObject({
    /** Component name and base of every object name (`<name>-<node>`, `<name>-proxy-<node>`, Service `<name>`). */
    name: k8sName,
    /** Namespace of every object; it must exist. */
    namespace: k8sName.default(ROUTING_DEFAULTS.namespace),
    image: z.string().min(1, "is required"),
    /** Port the container listens on. */
    port: z.number().int().min(1).max(65535),
    args: z.array(z.string()).optional(),
    env: z.record(envName, z.string()).default({}),
    /** Requests and limits, both with cpu and memory (policy pack: every container). */
    resources: z.strictObject(
      { requests: quantities("requests"), limits: quantities("limits") },
      { message: "is required: {requests: {cpu, memory}, limits: {cpu, memory}}" },
    ),
    /** HTTP path of the readiness probe; a TCP probe on `port` when unset. */
    readinessPath: z
      .string()
      .regex(/^\/\S*$/, 'must be an absolute URL path like "/healthz"')
      .optional(),
    /** Type of the front Service. */
    serviceType: z
      .enum(["ClusterIP", "NodePort", "LoadBalancer"], { message: 'must be "ClusterIP", "NodePort" or "LoadBalancer"' })
      .default(ROUTING_DEFAULTS.serviceType),
    /** Replica budget R: the plan's replicas sum to exactly R. */
    replicas: z.number().int("must be a whole number").min(1, "at least 1 replica"),
    algorithm: z
      .enum(ALGORITHMS, { message: `must be one of ${ALGORITHMS.map((a) => `"${a}"`).join(", ")}` })
      .default(ROUTING_DEFAULTS.algorithm),
    /** Nodes (K3s node names) that run a proxy and may run replicas. */
    nodes: z.record(
      z.string(),
      z.strictObject({
        maxPods: z.number().int("must be a whole number").min(0, "must be 0 or more"),
        /** Requests per second one replica serves (μ). */
        serviceRate: z.number().finite().positive("must be a positive number of requests per second per replica"),
      }),
    ),
    /** Requests per second entering at each node. */
    demand: z.record(z.string(), z.number().finite().min(0, "must be a non-negative number of requests per second")),
    /** RTT in ms, `rttMs[from][to]`; a missing diagonal is 0. Exactly one of rttMs and latencyFile. */
    rttMs: z.record(z.string(), z.record(z.string(), ms)).optional(),
    /** monlat measurements (`latency_between_nodes{from="a",to="b"} 12.3`), relative to the repository root. */
    latencyFile: z.string().min(1, "must be a file path").optional(),
    /** Prometheus the RoutingPlan reads the matrix from at `pulumi up` (reachable from where pulumi runs). */
    latencyPrometheus: z
      .url({ protocol: /^https?$/, message: "must be an http(s) URL of a Prometheus, e.g. http://127.0.0.1:9090" })
      .optional(),
    /** Hysteresis for measured matrices (latencyPrometheus, the re-planner): lib/routing/hysteresis.ts. */
    hysteresis: z
      .strictObject({
        improvementPct: z
          .number()
          .finite()
          .min(0, "must be a non-negative percentage")
          .default(ROUTING_DEFAULTS.hysteresis.improvementPct),
        rttMoveMs: ms.default(ROUTING_DEFAULTS.hysteresis.rttMoveMs),
      })
      .default({ ...ROUTING_DEFAULTS.hysteresis }),
    /** The in-cluster re-planner (web/replanner.ts); off: it runs observe-only (exports the plan's metrics, writes nothing). */
    reweight: z
      .strictObject({
        enabled: z.boolean().default(ROUTING_DEFAULTS.reweight.enabled),
        intervalMs: z
          .number()
          .int("must be a whole number of milliseconds")
          .min(1000, "must be at least 1000 ms")
          .default(ROUTING_DEFAULTS.reweight.intervalMs),
        minIntervalMs: z
          .number()
          .int("must be a whole number of milliseconds")
          .min(0, "must be 0 or more ms")
          .default(ROUTING_DEFAULTS.reweight.minIntervalMs),
        maxStep: z
          .number()
          .gt(0, "must be in (0, 1]")
          .max(1, "must be in (0, 1]")
          .default(ROUTING_DEFAULTS.reweight.maxStep),
      })
      .default({ ...ROUTING_DEFAULTS.reweight }),
  });
  return {
    routing: z.strictObject({ services: z.array(service).min(1, "needs at least one service") }).optional(),
  };
}

type RawRouting = NonNullable<z.output<ReturnType<typeof routingKeys>["routing"]>>;

// ---------------------------------------------------------------------------------------------
// Typed result.

export interface RoutingServiceConfig {
  readonly name: string;
  readonly namespace: string;
  readonly image: string;
  readonly port: number;
  readonly args?: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly resources: {
    readonly requests: { readonly cpu: string; readonly memory: string };
    readonly limits: { readonly cpu: string; readonly memory: string };
  };
  readonly readinessPath?: string;
  readonly serviceType: "ClusterIP" | "NodePort" | "LoadBalancer";
  readonly algorithm: Algorithm;
  /** The RoutingPlan's input: nodes sorted by name, the RTT matrix over exactly those nodes (from config or the file), demand, budget. */
  readonly input: RoutingInput;
  /** Where the RTT matrix came from: "config", the latency file's path as configured, or "prometheus <url>". */
  readonly latencySource: string;
  /** Prometheus the RoutingPlan reads the matrix from at `pulumi up`; `input.rttMs` is then all zeros, a stand-in for the synth. */
  readonly latencyPrometheus?: string;
  readonly hysteresis: { readonly improvementPct: number; readonly rttMoveMs: number };
  /** The re-planner; enabled false: observe-only. */
  readonly reweight: {
    readonly enabled: boolean;
    readonly intervalMs: number;
    readonly minIntervalMs: number;
    readonly maxStep: number;
  };
}

export interface RoutingConfig {
  /** Latency-aware services on the platform cluster (kantai:routing), when configured. */
  readonly routing?: { readonly services: readonly RoutingServiceConfig[] };
}

/** What parseRouting needs from the rest of the config. */
export interface RoutingParseContext {
  readonly fail: Fail;
  /** The cluster the platform runs on (stacks/config/compositions.ts resolvePlatformCluster), when there is one. */
  readonly cluster?: {
    readonly name: string;
    readonly nodes: readonly { readonly name: string; readonly taints: readonly string[] }[];
  };
  /** The Services other platform keys create. */
  readonly platform: {
    readonly knative?: { readonly services: readonly { readonly name: string; readonly namespace: string }[] };
    readonly webapps: readonly { readonly serviceName: string; readonly namespace: string }[];
  };
  /** Directory relative latencyFile paths start from. Defaults to REPO_ROOT. */
  readonly root?: string;
}

/** Read and parse a monlat file over `nodes`; problems go to `fail` with the line number or the missing pair. */
function readLatencyFile(
  file: string,
  nodes: readonly string[],
  root: string,
  k: string,
  fail: RoutingParseContext["fail"],
): Record<string, Record<string, number>> | undefined {
  let text: string;
  try {
    text = fs.readFileSync(path.resolve(root, file), "utf8");
  } catch (e) {
    fail(
      k,
      `cannot read "${file}" (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; relative paths start at the repository root)`,
    );
    return undefined;
  }
  try {
    return parseMonlat(text, { nodes });
  } catch (e) {
    if (!(e instanceof RoutingInputError)) throw e;
    for (const i of e.issues) {
      const line = /^monlat:(\d+)$/.exec(i.path);
      fail(k, line ? `${file} line ${line[1]}: ${i.message}` : `${file}: ${i.message}`);
    }
    return undefined;
  }
}

/** Validate kantai:routing (edge only: stacks/config/compositions.ts) against the platform's cluster and the library; resolve the RoutingPlan inputs. */
export function parseRouting(r: { readonly routing?: RawRouting }, ctx: RoutingParseContext): RoutingConfig {
  if (r.routing === undefined) return {};
  const { fail, cluster } = ctx;
  const others = new Map<string, string>();
  ctx.platform.knative?.services.forEach((f, i) =>
    others.set(`${f.namespace}/${f.name}`, `kantai:knative.services[${i}]`),
  );
  ctx.platform.webapps.forEach((w, i) => others.set(`${w.namespace}/${w.serviceName}`, `kantai:webapps[${i}]`));
  // Without a cluster the edge composition already fails with "kantai:k3s: is required" (or platformCluster: unknown).
  if (!cluster) return {};
  const clusterNodes = new Map(cluster.nodes.map((n) => [n.name, n]));
  const unknown = (k: string, node: string) =>
    fail(k, `unknown node "${node}" (cluster "${cluster.name}" has ${quoted(clusterNodes.keys())})`);

  const services: RoutingServiceConfig[] = [];
  const names = new Map<string, number>();
  r.routing.services.forEach((s, i) => {
    const base = `routing.services[${i}]`;
    let ok = true;
    const bad = (k: string, message: string) => {
      fail(k, message);
      ok = false;
    };
    if (names.has(s.name))
      bad(
        `${base}.name`,
        `"${s.name}" is already used by kantai:routing.services[${names.get(s.name)}] (names are unique across namespaces: they name the Pulumi components)`,
      );
    else names.set(s.name, i);
    const owner = others.get(`${s.namespace}/${s.name}`);
    if (owner) bad(`${base}.name`, `Service "${s.namespace}/${s.name}" is already created by ${owner}`);

    // Nodes: in the cluster and schedulable (the workload and the proxy carry no tolerations).
    const nodeNames = Object.keys(s.nodes).sort();
    if (nodeNames.length === 0) bad(`${base}.nodes`, "needs at least one node");
    for (const n of nodeNames) {
      const node = clusterNodes.get(n);
      if (!node) {
        unknown(`${base}.nodes.${n}`, n);
        ok = false;
        continue;
      }
      const blocking = node.taints.filter((t) => /:(NoSchedule|NoExecute)$/.test(t));
      if (blocking.length > 0)
        bad(
          `${base}.nodes.${n}`,
          `node "${n}" is tainted ${blocking.join(", ")}: the routing workload and proxy have no tolerations`,
        );
    }
    for (const n of Object.keys(s.demand)) {
      if (!clusterNodes.has(n)) {
        unknown(`${base}.demand.${n}`, n);
        ok = false;
      } else if (!(n in s.nodes)) {
        bad(
          `${base}.demand.${n}`,
          `node "${n}" has demand but no entry in kantai:${base}.nodes (its proxy routes the requests entering there: give it maxPods, 0 or more, and serviceRate)`,
        );
      }
    }

    // The RTT matrix: exactly one source.
    let rttMs: Record<string, Record<string, number>> | undefined;
    const sources = [s.rttMs, s.latencyFile, s.latencyPrometheus].filter((x) => x !== undefined).length;
    if (sources > 1) bad(base, "set exactly one of rttMs, latencyFile and latencyPrometheus");
    else if (sources === 0)
      bad(
        base,
        "needs the RTT matrix: set rttMs ({from: {to: ms}}), latencyFile (monlat measurements) or latencyPrometheus (a Prometheus URL)",
      );
    else if (s.latencyPrometheus !== undefined) {
      // Measured at `pulumi up` by the RoutingPlan provider; zeros stand in here so the rest of the
      // input (nodes, demand, budget, stability) is validated now.
      rttMs = Object.fromEntries(nodeNames.map((from) => [from, Object.fromEntries(nodeNames.map((to) => [to, 0]))]));
    } else if (s.rttMs !== undefined) {
      for (const [from, row] of Object.entries(s.rttMs)) {
        if (!clusterNodes.has(from)) {
          unknown(`${base}.rttMs.${from}`, from);
          ok = false;
        }
        for (const to of Object.keys(row)) {
          if (!clusterNodes.has(to)) {
            unknown(`${base}.rttMs.${from}.${to}`, to);
            ok = false;
          }
        }
      }
      // Only the routing nodes' entries: a matrix over the whole cluster is fine.
      rttMs = {};
      for (const from of nodeNames) {
        const row = s.rttMs[from];
        if (row === undefined) continue;
        rttMs[from] = Object.fromEntries(nodeNames.filter((to) => row[to] !== undefined).map((to) => [to, row[to]]));
      }
    } else if (ok && nodeNames.length > 0) {
      rttMs = readLatencyFile(s.latencyFile!, nodeNames, ctx.root ?? REPO_ROOT, `${base}.latencyFile`, fail);
      if (!rttMs) ok = false;
    }
    if (!ok || !rttMs) return;

    // The library's validation (paths name fields: rttMs.a.b, demand.x, replicas), then a trial plan
    // (a baseline may be unable to serve the demand stably).
    const nodes: RoutingNode[] = nodeNames.map((name) => ({
      name,
      maxPods: s.nodes[name].maxPods,
      serviceRate: s.nodes[name].serviceRate,
    }));
    const input: RoutingInput = { nodes, rttMs, demand: s.demand, replicas: s.replicas };
    const issues = routingInputIssues(input);
    for (const issue of issues) {
      const m = /^nodes\[(\d+)\](.*)$/.exec(issue.path);
      const at = m ? `nodes.${nodeNames[Number(m[1])]}${m[2]}` : issue.path;
      fail(
        s.latencyFile !== undefined && at.startsWith("rttMs") ? `${base}.latencyFile` : `${base}.${at}`,
        s.latencyFile !== undefined && at.startsWith("rttMs")
          ? `${s.latencyFile}: ${at}: ${issue.message}`
          : issue.message,
      );
    }
    if (issues.length > 0) return;
    try {
      planRouting(input, s.algorithm);
    } catch (e) {
      if (!(e instanceof RoutingInputError)) throw e;
      for (const issue of e.issues) fail(`${base}.${issue.path}`, issue.message);
      return;
    }
    services.push({
      name: s.name,
      namespace: s.namespace,
      image: s.image,
      port: s.port,
      ...(s.args ? { args: s.args } : {}),
      env: s.env,
      resources: s.resources,
      ...(s.readinessPath ? { readinessPath: s.readinessPath } : {}),
      serviceType: s.serviceType,
      algorithm: s.algorithm,
      input,
      latencySource:
        s.latencyPrometheus !== undefined ? `prometheus ${s.latencyPrometheus}` : (s.latencyFile ?? "config"),
      ...(s.latencyPrometheus !== undefined ? { latencyPrometheus: s.latencyPrometheus } : {}),
      hysteresis: s.hysteresis,
      reweight: s.reweight,
    });
  });
  return { routing: { services } };
}
