/**
 * Seeded discrete-event simulator of a plan: Poisson arrivals at every ingress node, each request
 * sent to a serving node drawn from the ingress node's weights, an RTT drawn around the matrix
 * value (mean-preserving lognormal jitter), FCFS service by the node's replicas (a shared queue per
 * node: M/M/c with exponential service, M/G/c with lognormal service). Requests in the warm-up
 * prefix are discarded. Pure and deterministic for a given seed.
 */
import { effectiveDemand } from "./flow";
import { createRng } from "./rng";
import type { IndexedPlan, Problem } from "./types";

export interface SimulationOptions {
  /** Seed of the pseudo-random streams. Defaults to 1. */
  readonly seed?: number;
  /** Requests simulated, warm-up included. Defaults to 200 000. */
  readonly requests?: number;
  /** Fraction of the requests discarded as warm-up. Defaults to 0.1. */
  readonly warmupFraction?: number;
  /** Service-time distribution: exponential (M/M/c) or lognormal with this coefficient of variation. Defaults to exponential. */
  readonly service?: "exponential" | { readonly lognormalCv: number };
  /** Coefficient of variation of the per-request RTT (lognormal, mean preserved). 0 = fixed RTT. Defaults to 0. */
  readonly jitterCv?: number;
}

export interface SimulationResult {
  /** Requests measured (after warm-up). */
  readonly count: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly p99Ms: number;
  /** Mean RTT part of the response time (ms). */
  readonly meanRttMs: number;
  /** Fraction of measured requests served on another node than their ingress node. */
  readonly remoteShare: number;
}

/** Walker's alias table for O(1) sampling from a discrete distribution. */
function aliasTable(weights: ArrayLike<number>): { prob: Float64Array; alias: Int32Array } {
  const n = weights.length;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += weights[i];
  const prob = new Float64Array(n);
  const alias = new Int32Array(n);
  const scaled = Array.from({ length: n }, (_, i) => (weights[i] * n) / sum);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((v, i) => (v < 1 ? small : large).push(i));
  while (small.length > 0 && large.length > 0) {
    const s = small.pop() as number;
    const l = large.pop() as number;
    prob[s] = scaled[s];
    alias[s] = l;
    scaled[l] += scaled[s] - 1;
    (scaled[l] < 1 ? small : large).push(l);
  }
  for (const i of [...small, ...large]) {
    prob[i] = 1;
    alias[i] = i;
  }
  return { prob, alias };
}

/** Simulate `plan` on `p`. */
export function simulatePlan(p: Problem, plan: IndexedPlan, opts: SimulationOptions = {}): SimulationResult {
  const total = opts.requests ?? 200_000;
  const warm = Math.floor(total * (opts.warmupFraction ?? 0.1));
  const jitterCv = opts.jitterCv ?? 0;
  const service = opts.service ?? "exponential";
  const rngArrival = createRng((opts.seed ?? 1) * 4 + 1);
  const rngRoute = createRng((opts.seed ?? 1) * 4 + 2);
  const rngService = createRng((opts.seed ?? 1) * 4 + 3);
  const rngRtt = createRng((opts.seed ?? 1) * 4 + 4);
  const lam = effectiveDemand(p);
  let rate = 0;
  for (let i = 0; i < p.n; i++) rate += lam[i];
  const src = aliasTable(lam);
  // Cumulative weights per ingress row.
  const cum = plan.rows.map((row) => {
    const c = new Float64Array(row.w.length);
    let s = 0;
    row.w.forEach((w, k) => {
      s += w;
      c[k] = s;
    });
    return c;
  });
  // Per-node min-heaps of server free times.
  const heaps = Array.from({ length: p.n }, (_, j) => new Float64Array(Math.max(1, plan.replicas[j])));
  const jitterSigma = Math.sqrt(Math.log(1 + jitterCv * jitterCv));
  const serviceSigma = typeof service === "object" ? Math.sqrt(Math.log(1 + service.lognormalCv ** 2)) : 0;
  const out = new Float64Array(total - warm);
  let rttSum = 0;
  let remote = 0;
  let t = 0;
  for (let r = 0; r < total; r++) {
    t += rngArrival.exponential(rate);
    // Ingress node (alias method) and serving node (inverse CDF over the row).
    const u = rngRoute.next() * p.n;
    const col = Math.floor(u);
    const i = u - col < src.prob[col] ? col : src.alias[col];
    const row = plan.rows[i];
    const c = cum[i];
    const v = rngRoute.next() * c[c.length - 1];
    let k = 0;
    while (k < c.length - 1 && c[k] <= v) k++;
    const j = row.to[k];
    const mu = p.mu[j];
    const sv =
      serviceSigma > 0
        ? Math.exp(Math.log(1 / mu) - serviceSigma ** 2 / 2 + serviceSigma * rngService.normal())
        : rngService.exponential(mu);
    const heap = heaps[j];
    const start = heap[0] > t ? heap[0] : t;
    const finish = start + sv;
    // Replace the root (earliest free server) and sift down.
    let q = 0;
    const size = heap.length;
    for (;;) {
      const l = 2 * q + 1;
      if (l >= size) break;
      const rr = l + 1;
      const m = rr < size && heap[rr] < heap[l] ? rr : l;
      if (heap[m] >= finish) break;
      heap[q] = heap[m];
      q = m;
    }
    heap[q] = finish;
    const base = p.rtt[i * p.n + j];
    const rtt =
      jitterSigma > 0 && base > 0
        ? base * Math.exp(jitterSigma * rngRtt.normal() - (jitterSigma * jitterSigma) / 2)
        : base;
    if (r >= warm) {
      out[r - warm] = rtt + 1000 * (finish - t);
      rttSum += rtt;
      if (i !== j) remote++;
    }
  }
  const n = out.length;
  let sum = 0;
  for (let k = 0; k < n; k++) sum += out[k];
  out.sort();
  const q = (f: number) => out[Math.min(n - 1, Math.max(0, Math.ceil(f * n) - 1))];
  return {
    count: n,
    meanMs: sum / n,
    p50Ms: q(0.5),
    p95Ms: q(0.95),
    p99Ms: q(0.99),
    meanRttMs: rttSum / n,
    remoteShare: remote / n,
  };
}
