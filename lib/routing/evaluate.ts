/**
 * Analytic evaluator: mean response time (RTT + M/M/c sojourn), per-node load and utilisation,
 * remote share and response-time quantiles of any plan. Pure.
 */
import { mmcSojournMs, mmcSojournTail } from "./erlang";
import { effectiveDemand } from "./flow";
import type { IndexedPlan, InputIssue, Problem } from "./types";

export interface Evaluation {
  /** Mean response time over all requests, ms. Infinity when some node is unstable. */
  readonly meanMs: number;
  /** True when every node that receives load has load < replicas × μ. */
  readonly stable: boolean;
  /** Mean RTT and mean sojourn parts of meanMs (ms). */
  readonly meanRttMs: number;
  readonly meanSojournMs: number;
  /** Load Λ_j (req/s), utilisation Λ_j / (n_j μ_j) and mean sojourn (ms) per node. */
  readonly load: Float64Array;
  readonly utilisation: Float64Array;
  readonly sojournMs: Float64Array;
  readonly maxUtilisation: number;
  /** Fraction of requests served on a node other than their ingress node. */
  readonly remoteShare: number;
}

/** Evaluate a plan analytically (Erlang C per node). */
export function evaluatePlan(p: Problem, plan: IndexedPlan): Evaluation {
  const n = p.n;
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < n; i++) total += lam[i];
  const load = new Float64Array(n);
  let rttSum = 0;
  let remote = 0;
  for (let i = 0; i < n; i++) {
    if (lam[i] <= 0) continue;
    const row = plan.rows[i];
    for (let q = 0; q < row.to.length; q++) {
      const j = row.to[q];
      const f = lam[i] * row.w[q];
      load[j] += f;
      rttSum += f * p.rtt[i * n + j];
      if (j !== i) remote += f;
    }
  }
  const utilisation = new Float64Array(n);
  const sojournMs = new Float64Array(n);
  let stable = true;
  let sojournSum = 0;
  let maxU = 0;
  for (let j = 0; j < n; j++) {
    const c = plan.replicas[j];
    const cap = c * p.mu[j];
    utilisation[j] = load[j] > 0 ? (cap > 0 ? load[j] / cap : Infinity) : 0;
    sojournMs[j] = c > 0 ? mmcSojournMs(load[j], c, p.mu[j]) : load[j] > 0 ? Infinity : 0;
    if (load[j] > 0) {
      if (!(load[j] < cap)) stable = false;
      sojournSum += load[j] * sojournMs[j];
    }
    if (utilisation[j] > maxU) maxU = utilisation[j];
  }
  const meanRttMs = rttSum / total;
  const meanSojournMs = stable ? sojournSum / total : Infinity;
  return {
    meanMs: stable ? meanRttMs + meanSojournMs : Infinity,
    stable,
    meanRttMs,
    meanSojournMs,
    load,
    utilisation,
    sojournMs,
    maxUtilisation: maxU,
    remoteShare: remote / total,
  };
}

/**
 * Analytic response-time quantile (ms) for fixed RTTs: the mixture over (ingress, server) pairs of
 * RTT + M/M/c FCFS sojourn. `q` in (0, 1). Infinity when the plan is unstable.
 */
export function responseQuantileMs(p: Problem, plan: IndexedPlan, q: number): number {
  const ev = evaluatePlan(p, plan);
  if (!ev.stable) return Infinity;
  const n = p.n;
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < n; i++) total += lam[i];
  const arcs: [number, number, number][] = []; // share, rtt, server
  for (let i = 0; i < n; i++) {
    if (lam[i] <= 0) continue;
    const row = plan.rows[i];
    for (let k = 0; k < row.to.length; k++)
      arcs.push([(lam[i] * row.w[k]) / total, p.rtt[i * n + row.to[k]], row.to[k]]);
  }
  const tail = (tMs: number) => {
    let s = 0;
    for (const [share, rtt, j] of arcs) {
      if (tMs <= rtt) s += share;
      else s += share * mmcSojournTail(ev.load[j], plan.replicas[j], p.mu[j], (tMs - rtt) / 1000);
    }
    return s;
  };
  let lo = 0;
  let hi = 1;
  while (tail(hi) > 1 - q) hi *= 2;
  for (let it = 0; it < 80 && hi - lo > 1e-9 * hi; it++) {
    const mid = (lo + hi) / 2;
    if (tail(mid) > 1 - q) lo = mid;
    else hi = mid;
  }
  return hi;
}

/**
 * Structural problems of a plan: replicas not summing to R or above maxPods, rows not summing to
 * 1, negative weights, weight toward nodes without replicas. Empty for a well-formed plan.
 */
export function planIssues(p: Problem, plan: IndexedPlan, tolerance = 1e-9): InputIssue[] {
  const issues: InputIssue[] = [];
  let sum = 0;
  for (let j = 0; j < p.n; j++) {
    const r = plan.replicas[j];
    sum += r;
    if (!Number.isInteger(r) || r < 0)
      issues.push({ path: `replicas.${p.names[j]}`, message: "must be a non-negative integer" });
    if (r > p.maxPods[j])
      issues.push({ path: `replicas.${p.names[j]}`, message: `${r} exceeds maxPods ${p.maxPods[j]}` });
  }
  if (sum !== p.replicas)
    issues.push({ path: "replicas", message: `sum ${sum} differs from the budget ${p.replicas}` });
  for (let i = 0; i < p.n; i++) {
    const row = plan.rows[i];
    let s = 0;
    for (let k = 0; k < row.to.length; k++) {
      const at = `weights.${p.names[i]}.${p.names[row.to[k]]}`;
      if (!(row.w[k] >= 0)) issues.push({ path: at, message: "must be non-negative" });
      if (row.w[k] > 0 && plan.replicas[row.to[k]] === 0)
        issues.push({ path: at, message: "weight toward a node without replicas" });
      s += row.w[k];
    }
    if (Math.abs(s - 1) > tolerance) issues.push({ path: `weights.${p.names[i]}`, message: `row sums to ${s}, not 1` });
  }
  return issues;
}
