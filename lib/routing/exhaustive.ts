/**
 * Exact optimum by enumeration of every replica vector (Σ n_j = R, n_j ≤ maxPods_j, stable),
 * each routed optimally. Exponential: for tests and small benchmark instances only.
 */
import { FlowSolver, effectiveDemand } from "./flow";
import type { IndexedPlan, Problem } from "./types";

/** Number of replica vectors with Σ = R within the caps (stops counting at `limit`). */
export function countPlacements(p: Problem, limit = Number.MAX_SAFE_INTEGER): number {
  // ways[r] = number of ways to place r replicas on the nodes processed so far.
  let ways = new Float64Array(p.replicas + 1);
  ways[0] = 1;
  for (let j = 0; j < p.n; j++) {
    const next = new Float64Array(p.replicas + 1);
    for (let r = 0; r <= p.replicas; r++) {
      if (ways[r] === 0) continue;
      for (let c = 0; c <= p.maxPods[j] && r + c <= p.replicas; c++) next[r + c] += ways[r];
    }
    ways = next;
  }
  return Math.min(ways[p.replicas], limit);
}

export interface ExhaustiveResult {
  readonly plan: IndexedPlan;
  readonly cost: number;
  readonly meanMs: number;
  readonly placements: number;
}

/** Enumerate all placements; throws if there are more than `maxPlacements`. */
export function exhaustiveOptimum(p: Problem, maxPlacements = 20_000): ExhaustiveResult {
  const count = countPlacements(p, maxPlacements + 1);
  if (count > maxPlacements)
    throw new Error(`exhaustiveOptimum: ${count}+ placements exceed the limit ${maxPlacements}`);
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  const r = new Int32Array(p.n);
  let best: { cost: number; plan: IndexedPlan } | undefined;
  let placements = 0;
  const visit = (j: number, left: number) => {
    if (j === p.n - 1) {
      if (left > p.maxPods[j]) return;
      r[j] = left;
      let cap = 0;
      for (let k = 0; k < p.n; k++) cap += r[k] * p.mu[k];
      if (!(cap > total)) return;
      placements++;
      const solver = new FlowSolver(p, { tolerance: 1e-9 });
      solver.setReplicas(r);
      const { cost } = solver.solve();
      if (cost < (best?.cost ?? Infinity)) best = { cost, plan: { replicas: Int32Array.from(r), rows: solver.rows() } };
      return;
    }
    for (let c = Math.min(left, p.maxPods[j]); c >= 0; c--) {
      r[j] = c;
      visit(j + 1, left - c);
    }
    r[j] = 0;
  };
  visit(0, p.replicas);
  if (!best) throw new Error("exhaustiveOptimum: no stable placement");
  const b = best as { cost: number; plan: IndexedPlan };
  return { plan: b.plan, cost: b.cost, meanMs: b.cost / total, placements };
}
