/**
 * The RoutingPlan dynamic provider: runs kantai's routing library (lib/routing) in check, diff,
 * create and update. The provider object is serialized into the state by closure serialization
 * (docs/reference/routing-plan.md), so it follows the rules of Pulumi's dynamic providers (https://www.pulumi.com/docs/iac/concepts/resources/dynamic-providers/; docs/how-to/engine.md):
 *
 * - nothing is read or required at module top level; the library is `require`d inside the
 *   methods (`loadRoutingLibrary`), resolved from the working directory the engine starts
 *   dynamic providers in (the directory of the program's `main`) or its nearest parent that
 *   holds lib/routing;
 * - `check` validates with property-level failures (`rttMs.edge.cloud1: must be …`) and returns
 *   canonical inputs (keys sorted, nodes sorted by name), so `diff` is a plain comparison;
 * - `create` and `update` return complete outputs: every input plus `plan`.
 *
 * This module imports only types; it is safe to load anywhere.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as Routing from "../../lib/routing";
import type * as Measured from "../../lib/routing/measured";
import type { RoutingNode, RoutingPlan as Plan } from "../../lib/routing/types";

/** Inputs as the provider sees them (plain values, after Pulumi resolved every Input). */
export interface RoutingPlanInputs {
  readonly nodes: readonly RoutingNode[];
  readonly rttMs: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly demand: Readonly<Record<string, number>>;
  readonly replicas: number;
  readonly algorithm: string;
  /**
   * Read the RTT matrix from this Prometheus in create/diff/update instead of `rttMs` (which then
   * only holds the outputs' measured matrix). The plan changes only when the hysteresis rule says so.
   */
  readonly latencyPrometheus?: string;
  readonly hysteresis?: { readonly improvementPct: number; readonly rttMoveMs: number };
}

/** Outputs: the canonical inputs and the plan (with latencyPrometheus: `rttMs` is the matrix the plan was made for). */
export interface RoutingPlanOutputs extends RoutingPlanInputs {
  readonly plan: Plan;
}

/** Pulumi's marker for a value not known during preview. */
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
const FIELDS = ["nodes", "rttMs", "demand", "replicas", "algorithm"] as const;

/**
 * Load lib/routing inside a provider method. The engine starts the dynamic-provider host in the
 * directory of the program's `main` (the project root, or a subdirectory when Pulumi.yaml's
 * `main` points into one): the library is looked for there, then in each parent directory. The
 * host is plain node with no TypeScript hook: fall back to tsx's `require`.
 */
export function loadRoutingLibrary(module = "index"): typeof Routing {
  const fs = require("node:fs") as typeof import("node:fs");
  const path = require("node:path") as typeof import("node:path");
  let dir = process.cwd();
  while (!["ts", "js"].some((ext) => fs.existsSync(path.join(dir, "lib", "routing", `index.${ext}`)))) {
    if (path.dirname(dir) === dir)
      throw new Error(`RoutingPlan: lib/routing not found in ${process.cwd()} or any parent directory`);
    dir = path.dirname(dir);
  }
  const entry = path.join(dir, "lib", "routing", module);
  try {
    return require(entry) as typeof Routing;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND") throw e;
  }
  const tsx = require("tsx/cjs/api") as { require: (id: string, from: string) => unknown };
  return tsx.require(`${entry}.ts`, path.join(dir, "index.ts")) as typeof Routing;
}

/** Deep copy with object keys sorted; `nodes` sorted by name. Arrays otherwise keep their order. */
export function canonicalInputs(raw: Record<string, unknown>): RoutingPlanInputs {
  const sortKeys = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) out[k] = sortKeys((v as Record<string, unknown>)[k]);
      return out;
    }
    return v;
  };
  const nodes = Array.isArray(raw.nodes)
    ? [...raw.nodes].sort((a, b) => {
        const x = String((a as { name?: unknown })?.name);
        const y = String((b as { name?: unknown })?.name);
        return x < y ? -1 : x > y ? 1 : 0;
      })
    : raw.nodes;
  return {
    nodes: sortKeys(nodes),
    rttMs: sortKeys(raw.rttMs),
    demand: sortKeys(raw.demand),
    replicas: raw.replicas,
    // State written before `algorithm` was an input has none: it was planned with config's default
    // (ROUTING_DEFAULTS.algorithm, stacks/config/routing.ts; test/routing/routingPlan.test.ts holds them equal).
    algorithm: raw.algorithm ?? "optimal",
    ...(raw.latencyPrometheus !== undefined
      ? { latencyPrometheus: raw.latencyPrometheus, hysteresis: sortKeys(raw.hysteresis ?? {}) }
      : {}),
  } as RoutingPlanInputs;
}

/** The fields whose change re-plans: with latencyPrometheus the matrix is measured, not an input. */
function planFields(i: RoutingPlanInputs): readonly (keyof RoutingPlanInputs)[] {
  return i.latencyPrometheus !== undefined
    ? ["nodes", "demand", "replicas", "algorithm", "latencyPrometheus", "hysteresis"]
    : FIELDS;
}

/** Zero RTTs over the nodes: what `check` validates a measured input with (the matrix is read later). */
function zeroMatrix(nodes: readonly RoutingNode[]): Record<string, Record<string, number>> {
  return Object.fromEntries(nodes.map((a) => [a.name, Object.fromEntries(nodes.map((b) => [b.name, 0]))]));
}

/**
 * The plan from Prometheus (lib/routing/measured.ts): with `applied` (the previous outputs, for the
 * same non-RTT inputs) the applied plan stays unless the hysteresis rule says re-plan. An
 * unreachable Prometheus, a query error or a missing pair throws a message naming the URL and the pair.
 */
async function measured(inputs: RoutingPlanInputs, applied?: RoutingPlanOutputs): Promise<Measured.MeasuredPlan> {
  const m = loadRoutingLibrary("measured") as unknown as typeof Measured;
  const { nodes, demand, replicas, algorithm } = inputs;
  try {
    return await m.measuredPlan({
      base: { nodes, demand, replicas },
      algorithm: algorithm as Routing.Algorithm,
      prometheus: inputs.latencyPrometheus!,
      ...(applied ? { applied: { input: { nodes, demand, replicas, rttMs: applied.rttMs }, plan: applied.plan } } : {}),
      ...inputs.hysteresis,
    });
  } catch (e) {
    // (No `{ cause }` option: the engine compiles this file for the dynamic provider with an ES2020 lib.)
    throw Object.assign(new Error(`RoutingPlan: latencies from ${inputs.latencyPrometheus}: ${(e as Error).message}`), {
      cause: e,
    });
  }
}

const sameFields = (a: RoutingPlanInputs, b: RoutingPlanInputs) =>
  planFields(b).every((f) => JSON.stringify(a[f]) === JSON.stringify(b[f]));

/** True when `v` holds a value unknown during preview. */
export function containsUnknown(v: unknown): boolean {
  if (v === UNKNOWN) return true;
  if (Array.isArray(v)) return v.some(containsUnknown);
  if (v !== null && typeof v === "object") return Object.values(v).some(containsUnknown);
  return false;
}

/** Stable identity of an input: used as the resource id. */
export function inputsDigest(inputs: RoutingPlanInputs): string {
  const crypto = require("node:crypto") as typeof import("node:crypto");
  return crypto
    .createHash("sha256")
    .update(JSON.stringify(canonicalInputs(inputs as unknown as Record<string, unknown>)))
    .digest("hex")
    .slice(0, 16);
}

/** Compute the plan for canonical inputs; throws with every problem listed. */
function computePlan(inputs: RoutingPlanInputs): Plan {
  const lib = loadRoutingLibrary();
  const { nodes, rttMs, demand, replicas, algorithm } = inputs;
  return lib.planRouting({ nodes, rttMs, demand, replicas }, algorithm as Routing.Algorithm);
}

export const routingPlanProvider: pulumi.dynamic.ResourceProvider<RoutingPlanInputs, RoutingPlanOutputs> = {
  async check(_olds, news) {
    const inputs = canonicalInputs(news as unknown as Record<string, unknown>);
    if (containsUnknown(inputs)) return { inputs };
    const lib = loadRoutingLibrary();
    const { nodes, demand, replicas, algorithm } = inputs;
    const rttMs = inputs.latencyPrometheus !== undefined ? zeroMatrix(nodes) : inputs.rttMs;
    const failures = lib
      .routingInputIssues({ nodes, rttMs, demand, replicas })
      .map((i) => ({ property: i.path, reason: i.message }));
    if (typeof algorithm !== "string" || !lib.isAlgorithm(algorithm)) {
      failures.push({ property: "algorithm", reason: `must be one of ${lib.ALGORITHMS.join(", ")}` });
    }
    return failures.length > 0 ? { inputs, failures } : { inputs };
  },

  async diff(_id, olds, news) {
    if (containsUnknown(news)) return { changes: true };
    const a = canonicalInputs(olds as unknown as Record<string, unknown>);
    const b = canonicalInputs(news as unknown as Record<string, unknown>);
    if (b.latencyPrometheus === undefined) {
      const changed = FIELDS.filter((f) => JSON.stringify(a[f]) !== JSON.stringify(b[f])) as string[];
      if (a.latencyPrometheus !== undefined) changed.push("latencyPrometheus");
      return { changes: changed.length > 0, replaces: [], deleteBeforeReplace: false };
    }
    if (!sameFields(a, b)) return { changes: true, replaces: [], deleteBeforeReplace: false };
    // Same inputs: measure now; only a real change (hysteresis) is a diff, so noise never rolls anything.
    const m = await measured(b, olds as RoutingPlanOutputs);
    return { changes: m.decision.replan, replaces: [], deleteBeforeReplace: false };
  },

  async create(news) {
    const inputs = canonicalInputs(news as unknown as Record<string, unknown>);
    if (inputs.latencyPrometheus !== undefined) {
      const m = await measured(inputs);
      return { id: `routingplan-${inputsDigest(inputs)}`, outs: { ...inputs, rttMs: m.input.rttMs, plan: m.plan } };
    }
    const plan = computePlan(inputs);
    return { id: `routingplan-${inputsDigest(inputs)}`, outs: { ...inputs, plan } };
  },

  async update(_id, olds, news) {
    const inputs = canonicalInputs(news as unknown as Record<string, unknown>);
    if (inputs.latencyPrometheus !== undefined) {
      const prev = olds as RoutingPlanOutputs;
      const same =
        prev.latencyPrometheus !== undefined &&
        sameFields(canonicalInputs(prev as unknown as Record<string, unknown>), inputs);
      const m = await measured(inputs, same ? prev : undefined);
      return { outs: { ...inputs, rttMs: m.input.rttMs, plan: m.plan } };
    }
    return { outs: { ...inputs, plan: computePlan(inputs) } };
  },

  async read(id, props) {
    // Nothing lives outside the state: a refresh keeps what is recorded.
    return { id, props };
  },

  async delete() {
    // Nothing to delete: the plan is a computed value.
  },
};
