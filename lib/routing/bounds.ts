/**
 * A proven lower bound on the optimum of the joint problem (replicas and weights), by Lagrangian
 * relaxation of the load-balance constraints Λ_j = Σ_i x_ij with node prices ν:
 *
 *   LB(ν) = Σ_i λ_i min_j (d_ij + ν_j) − max_{Σ n = R, n ≤ maxPods} Σ_j G*_j(ν_j; n_j)
 *
 * where G*_j(ν; c) = max_Λ (νΛ − H_j(Λ; c)) is the conjugate of a node's delay cost. LB(ν) is at
 * most the optimum for every ν (weak duality), whatever the integrality of n. The inner maximum is
 * over-estimated by the concave envelope in c (greedy over its increments), which keeps the bound
 * valid. The bound is maximised by a projected supergradient method with Polyak steps towards a
 * known upper bound. Pure.
 */
import { mmcConjugate } from "./erlang";
import { effectiveDemand } from "./flow";
import type { Problem } from "./types";

export interface LowerBoundResult {
  /** Lower bound on the optimal cost Σ d x + Σ H (ms · req/s). */
  readonly cost: number;
  /** The same as a mean response time (ms). */
  readonly meanMs: number;
  readonly iterations: number;
}

interface Evaluated {
  value: number;
  grad: Float64Array;
}

/** LB(ν) and a supergradient. */
function evaluate(p: Problem, lam: Float64Array, nu: Float64Array): Evaluated {
  const n = p.n;
  const grad = new Float64Array(n);
  let first = 0;
  for (let i = 0; i < n; i++) {
    if (lam[i] <= 0) continue;
    let best = Infinity;
    let arg = -1;
    for (let j = 0; j < n; j++) {
      if (p.maxPods[j] === 0) continue;
      const v = p.rtt[i * n + j] + nu[j];
      if (v < best) {
        best = v;
        arg = j;
      }
    }
    first += lam[i] * best;
    grad[arg] += lam[i];
  }
  // Concave envelope of G*_j(ν_j; c) over c, then the R largest increments.
  const incs: { slope: number; node: number; load: number }[] = [];
  for (let j = 0; j < n; j++) {
    const cap = p.maxPods[j];
    if (cap === 0) continue;
    const vals = [0];
    const loads = [0];
    for (let c = 1; c <= cap; c++) {
      const g = mmcConjugate(c, p.mu[j], nu[j]);
      vals.push(g.value);
      loads.push(g.load);
      if (g.value <= 0) {
        // ν ≤ 1000/μ: G* is 0 for every c.
        for (let k = c + 1; k <= cap; k++) {
          vals.push(0);
          loads.push(0);
        }
        break;
      }
    }
    const hull = concaveEnvelope(vals);
    for (let h = 1; h < hull.length; h++) {
      const slope = (vals[hull[h]] - vals[hull[h - 1]]) / (hull[h] - hull[h - 1]);
      const loadStep = (loads[hull[h]] - loads[hull[h - 1]]) / (hull[h] - hull[h - 1]);
      for (let c = hull[h - 1]; c < hull[h]; c++) incs.push({ slope, node: j, load: loadStep });
    }
  }
  incs.sort((a, b) => b.slope - a.slope || a.node - b.node);
  let second = 0;
  for (let k = 0; k < Math.min(p.replicas, incs.length); k++) {
    if (incs[k].slope <= 0) break;
    second += incs[k].slope;
    grad[incs[k].node] -= incs[k].load;
  }
  return { value: first - second, grad };
}

/**
 * Indices of the vertices of the concave (upper) envelope of the points (c, vals[c]),
 * c = 0 … vals.length − 1, from 0 to the last; points on a chord are dropped.
 */
export function concaveEnvelope(vals: ArrayLike<number>): number[] {
  const hull = [0];
  for (let c = 1; c < vals.length; c++) {
    while (hull.length >= 2) {
      const a = hull[hull.length - 2];
      const b = hull[hull.length - 1];
      if ((vals[b] - vals[a]) * (c - b) <= (vals[c] - vals[b]) * (b - a)) hull.pop();
      else break;
    }
    hull.push(c);
  }
  return hull;
}

/**
 * Maximise the Lagrangian bound from the starting prices `nu0` (e.g. the optimiser's marginal
 * delays), using `upperBound` (a known feasible cost) for Polyak steps.
 */
export function lagrangianLowerBound(
  p: Problem,
  nu0: Float64Array,
  upperBound: number,
  iterations = 150,
): LowerBoundResult {
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  const nu = Float64Array.from(nu0);
  let best = evaluate(p, lam, nu);
  let bestValue = best.value;
  let current = best;
  let alpha = 1;
  let stall = 0;
  let it = 0;
  for (; it < iterations; it++) {
    let norm = 0;
    for (let j = 0; j < p.n; j++) norm += current.grad[j] * current.grad[j];
    if (norm === 0) break;
    const step = (alpha * Math.max(upperBound - current.value, 1e-9 * upperBound)) / norm;
    for (let j = 0; j < p.n; j++) nu[j] += step * current.grad[j];
    current = evaluate(p, lam, nu);
    if (current.value > bestValue + 1e-12 * Math.abs(bestValue)) {
      bestValue = current.value;
      stall = 0;
    } else if (++stall >= 8) {
      alpha /= 2;
      stall = 0;
      if (alpha < 1e-4) break;
    }
  }
  return { cost: bestValue, meanMs: bestValue / total, iterations: it };
}
