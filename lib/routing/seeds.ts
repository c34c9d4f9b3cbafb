/**
 * Placements the optimiser starts from that look at speed and capacity. Pure and deterministic.
 */
import type { Problem } from "./types";

/**
 * The placement of largest capacity: pods by speed, fastest first, each node up to its cap —
 * the greedy behind `maxStableCapacity`. Among nodes of equal speed the one with more demand
 * (then the lower index) fills first, so the capacity goes where requests enter.
 */
export function fastestFirstReplicas(p: Problem): Int32Array {
  const order = Array.from({ length: p.n }, (_, j) => j).sort(
    (a, b) => p.mu[b] - p.mu[a] || p.demand[b] - p.demand[a] || a - b,
  );
  const n = new Int32Array(p.n);
  let left = p.replicas;
  for (const j of order) {
    if (left === 0) break;
    const take = Math.min(left, p.maxPods[j]);
    n[j] = take;
    left -= take;
  }
  return n;
}

/** Capacity Σ n_j μ_j of a placement (req/s). */
export function placementCapacity(p: Problem, replicas: ArrayLike<number>): number {
  let c = 0;
  for (let j = 0; j < p.n; j++) c += replicas[j] * p.mu[j];
  return c;
}
