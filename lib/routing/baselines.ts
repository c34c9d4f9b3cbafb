/**
 * The baselines of docs/concepts/routing.md, as complete placement + weight algorithms. Pure and deterministic
 * (nodes are indexed in name order; ties go to the lower index).
 */
import { effectiveDemand } from "./flow";
import type { IndexedPlan, Problem, SparseRow } from "./types";

/** Split `total` integer units in proportion to `shares` (largest remainder; ties by index). */
export function largestRemainder(shares: ArrayLike<number>, total: number): Int32Array {
  const n = shares.length;
  const out = new Int32Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += shares[i];
  if (sum <= 0 || total <= 0) return out;
  const rema: [number, number][] = [];
  let given = 0;
  for (let i = 0; i < n; i++) {
    const exact = (shares[i] * total) / sum;
    const f = Math.floor(exact + 1e-12);
    out[i] = f;
    given += f;
    rema.push([exact - f, i]);
  }
  rema.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (let k = 0; given < total; k++, given++) out[rema[k % n][1]]++;
  return out;
}

/** Even spread: round-robin over nodes in name order, one replica per pass, skipping full nodes. */
export function evenReplicas(p: Problem): Int32Array {
  const n = new Int32Array(p.n);
  let left = p.replicas;
  while (left > 0) {
    let progressed = false;
    for (let j = 0; j < p.n && left > 0; j++) {
      if (n[j] < p.maxPods[j]) {
        n[j]++;
        left--;
        progressed = true;
      }
    }
    if (!progressed) throw new Error("evenReplicas: replicas exceed the sum of maxPods");
  }
  return n;
}

/** Rows in which every ingress node splits over all replicas in proportion to their count (kube-proxy). */
export function proportionalRows(p: Problem, replicas: Int32Array): SparseRow[] {
  let total = 0;
  for (let j = 0; j < p.n; j++) total += replicas[j];
  const to: number[] = [];
  const w: number[] = [];
  for (let j = 0; j < p.n; j++) {
    if (replicas[j] > 0) {
      to.push(j);
      w.push(replicas[j] / total);
    }
  }
  return Array.from({ length: p.n }, () => ({ to: [...to], w: [...w] }));
}

/** Kubernetes default: even spread, every request to a uniformly random replica. */
export function evenPlan(p: Problem): IndexedPlan {
  const replicas = evenReplicas(p);
  return { replicas, rows: proportionalRows(p, replicas) };
}

/**
 * Replicas in proportion to demand (largest remainder), each ingress node's share placed on the
 * nearest nodes (by RTT) that still have room — locality-first placement.
 */
export function demandProportionalReplicas(p: Problem): Int32Array {
  if (p.totalDemand <= 0) return evenReplicas(p);
  const quota = largestRemainder(p.demand, p.replicas);
  const n = new Int32Array(p.n);
  const order = Array.from({ length: p.n }, (_, i) => i).sort((a, b) => quota[b] - quota[a] || a - b);
  // Nearest first (the node itself before any other node at the same RTT, then by index); a lazy
  // selection, since a quota is usually filled by the first few nodes.
  const before = (i: number, a: number, b: number) => {
    const da = p.rtt[i * p.n + a];
    const db = p.rtt[i * p.n + b];
    return da < db || (da === db && (a === i || (b !== i && a < b)));
  };
  for (const i of order) {
    let left = quota[i];
    const taken = new Uint8Array(p.n);
    while (left > 0) {
      let best = -1;
      for (let j = 0; j < p.n; j++) if (!taken[j] && n[j] < p.maxPods[j] && (best < 0 || before(i, j, best))) best = j;
      if (best < 0) throw new Error("demandProportionalReplicas: replicas exceed the sum of maxPods");
      taken[best] = 1;
      const take = Math.min(left, p.maxPods[best] - n[best]);
      n[best] += take;
      left -= take;
    }
  }
  return n;
}

/** Nearest-only: demand-proportional placement; each ingress node sends everything to its nearest node with replicas. */
export function nearestPlan(p: Problem): IndexedPlan {
  const replicas = demandProportionalReplicas(p);
  const rows: SparseRow[] = [];
  for (let i = 0; i < p.n; i++) {
    let best = -1;
    for (let j = 0; j < p.n; j++) {
      if (replicas[j] === 0) continue;
      if (best < 0) best = j;
      else {
        const dj = p.rtt[i * p.n + j];
        const db = p.rtt[i * p.n + best];
        if (dj < db || (dj === db && j === i)) best = j;
      }
    }
    rows.push({ to: [best], w: [1] });
  }
  return { replicas, rows };
}

/** ikukantai's response-time estimate r_ij = D_ij + P_j, with P_j the bare serving time 1000/μ_j (ms). */
function ikuR(p: Problem, i: number, j: number): number {
  return p.rtt[i * p.n + j] + 1000 / p.mu[j];
}

/**
 * yukari placement: pods are requested per ingress node in proportion to its demand; each pod for
 * demand at node k goes to argmin_j r_kj among nodes below their cap (maxPods), ties to the lower
 * index. (miporin's pkg/yukari checks the cap of the demand node k instead of the target j — a
 * pod can then exceed a node's cap or be dropped; docs/concepts/routing.md's "capped per node" is followed.)
 */
export function yukariReplicas(p: Problem): Int32Array {
  const lam = effectiveDemand(p);
  const perIngress = largestRemainder(lam, p.replicas);
  const n = new Int32Array(p.n);
  for (let k = 0; k < p.n; k++) {
    for (let pod = 0; pod < perIngress[k]; pod++) {
      let best = -1;
      for (let j = 0; j < p.n; j++) {
        if (n[j] >= p.maxPods[j]) continue;
        if (best < 0 || ikuR(p, k, j) < ikuR(p, k, best)) best = j;
      }
      if (best < 0) throw new Error("yukariReplicas: replicas exceed the sum of maxPods");
      n[best]++;
    }
  }
  return n;
}

/** Go's math.Round: half away from zero. */
const goRound = (v: number) => Math.sign(v) * Math.round(Math.abs(v));

/** Integer percentages summing to 100 by largest remainder over the given entries (fallback). */
function hamilton100(values: number[], eligible: boolean[]): number[] {
  const shares = values.map((v, k) => (eligible[k] ? Math.max(v, 0) : 0));
  return Array.from(largestRemainder(shares, 100));
}

/**
 * miporin's weight row for ingress node i, in percent:
 *  1. w_ij = round(100 · (1/r_ij) / Σ_k 1/r_ik) over all nodes, the last node taking the remainder;
 *  2. nodes without pods → 0, nodes with pods whose weight is 0 → 1;
 *  3. renormalise to 100: round(100 · w_ij / Σ w), the last node with pods taking the remainder.
 * miporin (pkg/scraper/utils.go) gives step 3's remainder to the last node even when it has no
 * pods, which would route requests to a node without replicas: kantai gives it to the last node
 * with pods. A negative step-1 remainder (possible only with many nodes) counts as 0 (then 1 if
 * the node has pods), and where step 3's remainder would be negative the row is renormalised by
 * largest remainder.
 */
export function ikukantaiPercentRow(p: Problem, i: number, replicas: Int32Array): number[] {
  const n = p.n;
  let s = 0;
  for (let j = 0; j < n; j++) {
    const r = ikuR(p, i, j);
    s += 1 / (r === 0 ? 0.1 : r);
  }
  const w: number[] = new Array(n).fill(0);
  let rest = 100;
  for (let j = 0; j < n - 1; j++) {
    const r = ikuR(p, i, j);
    w[j] = goRound((100 * (1 / (r === 0 ? 0.1 : r))) / s);
    rest -= w[j];
  }
  w[n - 1] = rest;
  const has = Array.from(replicas, (c) => c > 0);
  for (let j = 0; j < n; j++) {
    if (!has[j]) w[j] = 0;
    else if (w[j] <= 0) w[j] = 1;
  }
  const total = w.reduce((a, b) => a + b, 0);
  let last = -1;
  for (let j = n - 1; j >= 0; j--) {
    if (has[j]) {
      last = j;
      break;
    }
  }
  const out: number[] = new Array(n).fill(0);
  let remain = 100;
  for (let j = 0; j < n; j++) {
    if (j === last) continue;
    out[j] = goRound((100 * w[j]) / total);
    remain -= out[j];
  }
  out[last] = remain;
  if (remain < 0 || out.some((v, j) => v < 0 || (v > 0 && !has[j]))) return hamilton100(w, has);
  return out;
}

/** ikukantai's weight row for ingress node i as fractions (the non-zero percentages of ikukantaiPercentRow). */
export function ikukantaiRow(p: Problem, i: number, replicas: Int32Array): SparseRow {
  const pct = ikukantaiPercentRow(p, i, replicas);
  const to: number[] = [];
  const w: number[] = [];
  for (let j = 0; j < p.n; j++) {
    if (pct[j] > 0) {
      to.push(j);
      w.push(pct[j] / 100);
    }
  }
  return { to, w };
}

/** ikukantai / FaaSt: yukari placement and miporin's integer-percent weights ∝ 1/(D + P). */
export function ikukantaiPlan(p: Problem): IndexedPlan {
  const replicas = yukariReplicas(p);
  const rows: SparseRow[] = [];
  for (let i = 0; i < p.n; i++) rows.push(ikukantaiRow(p, i, replicas));
  return { replicas, rows };
}
