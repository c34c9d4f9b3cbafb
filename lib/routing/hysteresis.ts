/**
 * Hysteresis for plans made from measurements (docs/concepts/measured-latency.md): measured RTTs
 * jitter, and re-planning on every jitter would roll or re-weight the proxies on every
 * `pulumi up` and every re-planner tick. The rule, pure:
 *
 *   keep the applied plan unless
 *     (a) the node set changed, or the applied plan is invalid or unstable under the new input, or
 *     (b) some RTT moved by more than `rttMoveMs` from the RTTs the applied plan was made for, or
 *     (c) the new plan's predicted mean is more than `improvementPct` % below the applied plan's
 *         mean *re-evaluated under the new input* (same RTTs and demand for both).
 *
 * (b) compares against the RTTs recorded with the applied plan, not the previous measurement, so a
 * slow drift accumulates and eventually triggers; (c) compares like with like, so noise that
 * changes both means equally never triggers.
 */
import { evaluatePlan } from "./evaluate";
import { buildProblem, routingInputIssues } from "./validate";
import type { IndexedPlan, RoutingInput, RoutingPlan } from "./types";

export interface HysteresisOptions {
  /** Re-plan when the new plan's mean is lower by more than this percentage. Defaults to 5. */
  readonly improvementPct?: number;
  /** Re-plan when any RTT moved by more than this many ms. Defaults to 10. */
  readonly rttMoveMs?: number;
}

export const DEFAULT_IMPROVEMENT_PCT = 5;
export const DEFAULT_RTT_MOVE_MS = 10;

export interface ReplanDecision {
  readonly replan: boolean;
  /** One sentence: which rule fired, or why the applied plan stays. */
  readonly reason: string;
  /** The applied plan's mean under the new input (Infinity when unstable); undefined when not evaluable. */
  readonly appliedMeanMs?: number;
  readonly candidateMeanMs: number;
  /** The largest RTT move (ms) and its pair. */
  readonly maxRttMove?: { readonly from: string; readonly to: string; readonly ms: number };
}

/** The largest |new − old| over the ordered pairs both matrices have (diagonal ignored). */
export function maxRttMove(
  oldRtt: Readonly<Record<string, Readonly<Record<string, number>>>>,
  newRtt: Readonly<Record<string, Readonly<Record<string, number>>>>,
): { from: string; to: string; ms: number } | undefined {
  let best: { from: string; to: string; ms: number } | undefined;
  for (const from of Object.keys(newRtt).sort()) {
    for (const to of Object.keys(newRtt[from]).sort()) {
      if (from === to) continue;
      const a = oldRtt[from]?.[to];
      if (a === undefined) continue;
      const d = Math.abs(newRtt[from][to] - a);
      if (!best || d > best.ms) best = { from, to, ms: d };
    }
  }
  return best;
}

/** Mean response time (ms) of `plan` under `input`; Infinity when unstable; undefined when the plan does not fit the input's nodes. */
export function meanUnder(input: RoutingInput, plan: RoutingPlan): number | undefined {
  const p = buildProblem(input);
  const index = new Map(p.names.map((n, i) => [n, i]));
  const replicas = new Int32Array(p.n);
  for (const [node, r] of Object.entries(plan.replicas)) {
    const i = index.get(node);
    if (i === undefined) {
      if (r > 0) return undefined;
      continue;
    }
    replicas[i] = r;
  }
  const rows = p.names.map((from) => {
    const row = plan.weights[from];
    const entries = Object.entries(row ?? {})
      .map(([to, w]) => [index.get(to), w] as const)
      .filter((e): e is readonly [number, number] => e[0] !== undefined && e[1] > 0)
      .sort((a, b) => a[0] - b[0]);
    return { to: entries.map((e) => e[0]), w: entries.map((e) => e[1]) };
  });
  if (rows.some((r) => r.to.length === 0)) return undefined;
  const plan2: IndexedPlan = { replicas, rows };
  return evaluatePlan(p, plan2).meanMs;
}

const sameNodes = (a: RoutingInput, b: RoutingInput) =>
  a.nodes.length === b.nodes.length &&
  a.nodes
    .map((n) => n.name)
    .sort()
    .join("\u0000") ===
    b.nodes
      .map((n) => n.name)
      .sort()
      .join("\u0000");

/**
 * Decide whether to replace the applied plan (made for `applied.input`) by `candidate` (made for
 * `next`). Throws when `next` is not a valid routing input (the caller validates first).
 */
export function decideReplan(
  applied: { readonly input: RoutingInput; readonly plan: RoutingPlan } | undefined,
  next: RoutingInput,
  candidate: RoutingPlan,
  opts: HysteresisOptions = {},
): ReplanDecision {
  const pct = opts.improvementPct ?? DEFAULT_IMPROVEMENT_PCT;
  const move = opts.rttMoveMs ?? DEFAULT_RTT_MOVE_MS;
  if (!(pct >= 0) || !(move >= 0))
    throw new Error("hysteresis: improvementPct and rttMoveMs must be non-negative numbers");
  const issues = routingInputIssues(next);
  if (issues.length > 0)
    throw new Error(`hysteresis: the new input is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join("; ")}`);
  const candidateMeanMs = candidate.predicted.meanMs;
  if (!applied) return { replan: true, reason: "no plan applied yet", candidateMeanMs };
  if (!sameNodes(applied.input, next)) return { replan: true, reason: "the set of nodes changed", candidateMeanMs };
  if (applied.input.replicas !== next.replicas)
    return {
      replan: true,
      reason: `the replica budget changed (${applied.input.replicas} → ${next.replicas})`,
      candidateMeanMs,
    };
  const changedNode = next.nodes.find((n) => {
    const old = applied.input.nodes.find((m) => m.name === n.name)!;
    return old.maxPods !== n.maxPods || old.serviceRate !== n.serviceRate;
  });
  if (changedNode)
    return { replan: true, reason: `node "${changedNode.name}" changed maxPods or serviceRate`, candidateMeanMs };
  const appliedMeanMs = meanUnder(next, applied.plan);
  const maxMove = maxRttMove(applied.input.rttMs, next.rttMs);
  const base = { appliedMeanMs, candidateMeanMs, ...(maxMove ? { maxRttMove: maxMove } : {}) };
  if (appliedMeanMs === undefined)
    return { replan: true, reason: "the applied plan does not fit the new input", ...base };
  if (!Number.isFinite(appliedMeanMs))
    return { replan: true, reason: "the applied plan is unstable under the new demand", ...base };
  if (maxMove && maxMove.ms > move) {
    return {
      replan: true,
      reason: `RTT ${maxMove.from}→${maxMove.to} moved by ${round(maxMove.ms)} ms (> ${move} ms)`,
      ...base,
    };
  }
  const gain = appliedMeanMs > 0 ? (100 * (appliedMeanMs - candidateMeanMs)) / appliedMeanMs : 0;
  if (gain > pct)
    return {
      replan: true,
      reason: `the new plan is ${round(gain)}% faster (> ${pct}%): ${round(appliedMeanMs)} → ${round(candidateMeanMs)} ms`,
      ...base,
    };
  return {
    replan: false,
    reason: `kept: the new plan is ${round(gain)}% faster (≤ ${pct}%) and RTTs moved at most ${round(maxMove?.ms ?? 0)} ms (≤ ${move} ms)`,
    ...base,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
