/**
 * One step of the in-cluster re-planner (docs/concepts/measured-latency.md), pure: from the
 * measured RTT matrix and per-node demand, the weights the per-node proxies should carry now.
 *
 * - Replicas are not the re-planner's: Pulumi places them. The weights are re-optimised for the
 *   replicas as they are, with the library's own planner (`planRouting` with every node's
 *   maxPods set to its current replicas and the budget to their sum, so the only feasible
 *   placement is the current one).
 * - Hysteresis (lib/routing/hysteresis.ts) decides whether the new weights are worth a write.
 * - Limits: at most one write per `minIntervalMs`, and no weight moves by more than `maxStep` in
 *   one write (the step towards the new weights is scaled down; a convex combination of two
 *   stable routings is stable, because node loads are linear in the weights). When the current
 *   weights are unstable under the measured demand the full step is taken at once.
 */
import { decideReplan, type HysteresisOptions } from "./hysteresis";
import { planRouting } from "./plan";
import type { RoutingInput, RoutingPlan } from "./types";

export interface ReplanLimits extends HysteresisOptions {
  /** Least time between two writes, ms. Defaults to 60000. */
  readonly minIntervalMs?: number;
  /** Largest change of any single weight (a fraction) in one write. Defaults to 0.25. */
  readonly maxStep?: number;
}

export const REPLAN_DEFAULTS = { minIntervalMs: 60_000, maxStep: 0.25 } as const;

export interface ReplanNode {
  readonly name: string;
  /** Replicas running on the node now (Pulumi's). */
  readonly replicas: number;
  /** req/s one replica serves. */
  readonly serviceRate: number;
}

export interface ReplanState {
  /** Weights the proxies carry now: weights[from][to], rows summing to 1. */
  readonly weights: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** The measurements the current weights were written for (undefined: written by Pulumi from config). */
  readonly basis?: { readonly rttMs: Record<string, Record<string, number>>; readonly demand: Record<string, number> };
  /** When the re-planner last wrote, ms since the epoch. */
  readonly lastWriteMs?: number;
}

export type ReplanResult =
  | { readonly write: false; readonly reason: string }
  | {
      readonly write: true;
      readonly reason: string;
      readonly weights: Record<string, Record<string, number>>;
      /** The optimum the step moves towards (equal to `weights` when the step was not limited). */
      readonly target: Record<string, Record<string, number>>;
      readonly basis: { rttMs: Record<string, Record<string, number>>; demand: Record<string, number> };
      readonly predictedMeanMs: number;
    };

/** The routing input for fixed replicas (see the module comment). */
export function fixedReplicaInput(
  nodes: readonly ReplanNode[],
  rttMs: Record<string, Record<string, number>>,
  demand: Record<string, number>,
): RoutingInput {
  return {
    nodes: nodes.map((n) => ({ name: n.name, maxPods: n.replicas, serviceRate: n.serviceRate })),
    rttMs,
    demand,
    replicas: nodes.reduce((s, n) => s + n.replicas, 0),
  };
}

export function replanStep(
  state: ReplanState,
  inputs: {
    readonly nodes: readonly ReplanNode[];
    readonly rttMs: Record<string, Record<string, number>>;
    readonly demand: Record<string, number>;
    readonly nowMs: number;
  },
  limits: ReplanLimits = {},
): ReplanResult {
  const minInterval = limits.minIntervalMs ?? REPLAN_DEFAULTS.minIntervalMs;
  const maxStep = limits.maxStep ?? REPLAN_DEFAULTS.maxStep;
  if (!(maxStep > 0 && maxStep <= 1)) throw new Error(`replanner: maxStep must be in (0, 1], got ${maxStep}`);
  if (state.lastWriteMs !== undefined && inputs.nowMs - state.lastWriteMs < minInterval) {
    return {
      write: false,
      reason: `rate limit: last write ${Math.round((inputs.nowMs - state.lastWriteMs) / 1000)} s ago (< ${minInterval / 1000} s)`,
    };
  }
  const next = fixedReplicaInput(inputs.nodes, inputs.rttMs, inputs.demand);
  const candidate = planRouting(next);
  const replicas = Object.fromEntries(inputs.nodes.map((n) => [n.name, n.replicas]));
  const current: RoutingPlan = {
    replicas,
    weights: state.weights as Record<string, Record<string, number>>,
    predicted: { meanMs: NaN },
  };
  const appliedInput = state.basis ? fixedReplicaInput(inputs.nodes, state.basis.rttMs, state.basis.demand) : undefined;
  // Without a basis (weights from Pulumi's plan), moves are measured against the new matrix itself: only the mean rule applies.
  const decision = decideReplan({ input: appliedInput ?? next, plan: current }, next, candidate, limits);
  if (!decision.replan) return { write: false, reason: decision.reason };
  const target = candidate.weights as Record<string, Record<string, number>>;
  const unstable = decision.appliedMeanMs === undefined || !Number.isFinite(decision.appliedMeanMs);
  const weights: Record<string, Record<string, number>> = {};
  let limited = false;
  for (const from of Object.keys(target).sort()) {
    const cur = state.weights[from] ?? {};
    const tgt = target[from];
    const keys = [...new Set([...Object.keys(cur), ...Object.keys(tgt)])].sort();
    const diff = Math.max(...keys.map((k) => Math.abs((tgt[k] ?? 0) - (cur[k] ?? 0))));
    const a = unstable || diff <= maxStep ? 1 : maxStep / diff;
    if (a < 1) limited = true;
    const row: Record<string, number> = {};
    for (const k of keys) {
      const v = (cur[k] ?? 0) + a * ((tgt[k] ?? 0) - (cur[k] ?? 0));
      if (v > 1e-9 && replicas[k] > 0) row[k] = v;
    }
    const sum = Object.values(row).reduce((s, v) => s + v, 0);
    for (const k of Object.keys(row)) row[k] /= sum;
    weights[from] = row;
  }
  return {
    write: true,
    reason: `${decision.reason}${limited ? `; step limited to ${maxStep} per weight` : ""}`,
    weights,
    target,
    basis: { rttMs: inputs.rttMs, demand: inputs.demand },
    predictedMeanMs: candidate.predicted.meanMs,
  };
}
