/**
 * The library's front door: validate a RoutingInput, run an algorithm, return the plan JSON.
 */
import { evenPlan, ikukantaiPlan, nearestPlan } from "./baselines";
import { evaluatePlan } from "./evaluate";
import { optimise } from "./optimise";
import {
  type Algorithm,
  ALGORITHMS,
  type IndexedPlan,
  type Problem,
  type RoutingPlan,
  RoutingInputError,
  type SparseRow,
} from "./types";
import { buildProblem, parseRoutingInput } from "./validate";

/** Weights are printed in millionths: each row is rounded by largest remainder so it still sums to exactly 1. */
export const WEIGHT_RESOLUTION = 1_000_000;

/** Round a row to multiples of 1/WEIGHT_RESOLUTION keeping the sum exact; entries that round to 0 are dropped. */
export function roundRow(row: SparseRow): SparseRow {
  const scaled = row.w.map((w) => w * WEIGHT_RESOLUTION);
  const floors = scaled.map((v) => Math.floor(v));
  let left = WEIGHT_RESOLUTION - floors.reduce((a, b) => a + b, 0);
  const order = scaled.map((v, k) => [v - floors[k], k] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let q = 0; left > 0 && q < order.length; q++, left--) floors[order[q][1]]++;
  const to: number[] = [];
  const w: number[] = [];
  row.to.forEach((j, k) => {
    if (floors[k] > 0) {
      to.push(j);
      w.push(floors[k] / WEIGHT_RESOLUTION);
    }
  });
  return { to, w };
}

/** Run one algorithm on a validated problem; returns the plan in indexed form (weights not yet rounded). */
export function runAlgorithm(p: Problem, algorithm: Algorithm): IndexedPlan {
  switch (algorithm) {
    case "optimal":
      return optimise(p).plan;
    case "even":
      return evenPlan(p);
    case "nearest":
      return nearestPlan(p);
    case "ikukantai":
      return ikukantaiPlan(p);
  }
}

/** Convert an indexed plan to the JSON plan: keys sorted by node name, weights rounded, mean re-evaluated. */
export function toRoutingPlan(p: Problem, plan: IndexedPlan): RoutingPlan {
  const rounded: IndexedPlan = { replicas: plan.replicas, rows: plan.rows.map(roundRow) };
  const ev = evaluatePlan(p, rounded);
  const replicas: Record<string, number> = {};
  const weights: Record<string, Record<string, number>> = {};
  // p.names is sorted, so insertion order is sorted order.
  p.names.forEach((name, j) => {
    replicas[name] = plan.replicas[j];
  });
  p.names.forEach((name, i) => {
    const row: Record<string, number> = {};
    const r = rounded.rows[i];
    r.to.forEach((j, k) => {
      row[p.names[j]] = r.w[k];
    });
    weights[name] = row;
  });
  return { replicas, weights, predicted: { meanMs: Number.isFinite(ev.meanMs) ? round(ev.meanMs, 6) : ev.meanMs } };
}

const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

/** Is `s` one of the algorithm names? */
export function isAlgorithm(s: string): s is Algorithm {
  return (ALGORITHMS as readonly string[]).includes(s);
}

/**
 * Plan routing for `input` (an unparsed JSON value). Throws RoutingInputError naming the field for
 * invalid input, and for a baseline that cannot serve the demand stably.
 */
export function planRouting(input: unknown, algorithm: Algorithm = "optimal"): RoutingPlan {
  if (!isAlgorithm(algorithm))
    throw new RoutingInputError([{ path: "algorithm", message: `must be one of ${ALGORITHMS.join(", ")}` }]);
  const p = buildProblem(parseRoutingInput(input));
  const plan = toRoutingPlan(p, runAlgorithm(p, algorithm));
  if (!Number.isFinite(plan.predicted.meanMs)) {
    throw new RoutingInputError([
      {
        path: "demand",
        message: `the ${algorithm} algorithm cannot serve this demand stably (some node would be overloaded)`,
      },
    ]);
  }
  return plan;
}
