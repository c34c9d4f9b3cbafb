/**
 * Optimal routing for fixed replicas: a separable convex-cost flow.
 *
 *   minimise  Σ_ij d_ij x_ij + Σ_j H_j(Λ_j)      H_j(Λ) = 1000 · L(Λ/μ_j; c_j)  (ms · req/s)
 *   s.t.      Σ_j x_ij = λ_i,  x ≥ 0,  x_ij = 0 where c_j = 0,  Λ_j = Σ_i x_ij
 *
 * `L` (mean number in an M/M/c system) is convex in the load, so this is a convex program whose
 * optimum equalises the marginal delay `d_ij + H'_j(Λ_j)` over the nodes a source uses (Tantawi &
 * Towsley). Two exact steps alternate (the transportation solver is transport.ts):
 *
 * - Newton block step per source: source i's second-order model (a quadratic knapsack over its
 *   candidate nodes) is solved exactly, then an exact line search on the true objective; every
 *   step decreases the objective. This moves load between nodes.
 * - Assignment at fixed loads: with every node's load held, the cheapest way to route is a
 *   transportation problem, solved exactly by successive shortest paths. This finds the
 *   load-neutral exchanges (source a moves to node k while source b moves to node j) that
 *   per-source steps can only approach slowly.
 *
 * Stopping uses the Frank–Wolfe gap, Σ_i (Σ_j x_ij g_ij − λ_i min_j g_ij) with g_ij = d_ij + H'_j,
 * taken over every node with replicas: it bounds `cost − optimum` from above, so the answer is
 * certified, not just converged.
 *
 * Scale: source i starts with a candidate list (its K cheapest nodes by `d_ij + 1000/μ_j`). Every
 * omitted arc is then priced (reduced cost `d_ij + H'_j − π_i`); arcs with a negative reduced cost
 * are added and the solve continues, so the pruning never changes the optimum.
 *
 * Near saturation `H` is continued quadratically beyond utilisation ρ_knot (C² at the knot), so
 * overloaded intermediate states stay finite; final costs are evaluated with the true `H`.
 */
import { mmcLJet } from "../erlang";
import type { Problem, SparseRow } from "../types";
import { kSmallest } from "./heap";
import { Transportation } from "./transport";

export interface FlowOptions {
  /** Candidate nodes per source before reduced-cost verification. Defaults to 16. */
  readonly candidates?: number;
  /** Stop when the certified gap is below this fraction of the cost. Defaults to 1e-5. */
  readonly tolerance?: number;
  /** Newton sweep limit per solve. Defaults to 400. */
  readonly maxSweeps?: number;
  /** Rounds (sweeps, pricing, load step) per solve. Defaults to 40. */
  readonly maxRounds?: number;
  /** Newton steps on the node loads per round; 0 = none (per-source steps only). Defaults to 3. */
  readonly loadNewtonIterations?: number;
  /** Line-search halvings per load step. Defaults to 5. */
  readonly loadNewtonBacktracks?: number;
  /**
   * Greedy start: a source whose K nearest nodes are full spills to the next cheapest nodes with
   * room, each filled to max(0.9, (1 + demand/capacity)/2), so no node starts overloaded (large
   * fleets of mixed speeds converge in far fewer sweeps). Off: the rest is spread over the K nearest
   * in proportion to capacity. Defaults to false.
   */
  readonly spill?: boolean;
}

/** Demand actually routed: the input demand, or a uniform infinitesimal demand when all demand is 0. */
export function effectiveDemand(p: Problem): Float64Array {
  if (p.totalDemand > 0) return p.demand;
  return new Float64Array(p.n).fill(1e-9);
}

export interface FlowResult {
  /** True objective Σ d x + Σ H (ms · req/s); Infinity when some node is unstable. */
  readonly cost: number;
  /** Certified upper bound on cost − optimal cost for these replicas (same units). */
  readonly gap: number;
  readonly sweeps: number;
}

export interface FlowSnapshot {
  readonly replicas: Int32Array;
  readonly cand: number[][];
  readonly x: number[][];
  readonly load: Float64Array;
  readonly rhoKnot: number;
}

/**
 * Mutable solver state for one problem. `setReplicas` changes the replica vector and keeps the
 * current flows as a warm start, so a local search over placements re-solves cheaply.
 */
export class FlowSolver {
  readonly p: Problem;
  readonly lam: Float64Array;
  readonly replicas: Int32Array;
  readonly load: Float64Array;
  /** Marginal delay H'_j at the current load (ms); 1000/μ_j for nodes without replicas. */
  readonly h1: Float64Array;
  private readonly h2: Float64Array;
  private readonly knotA: Float64Array;
  private readonly knotJet: Float64Array; // L, L', L'' at the knot, 3 per node
  private readonly src: Int32Array;
  private readonly totalDemand: number;
  private cand: number[][];
  private x: number[][];
  private used: number[] = [];
  private readonly k: number;
  private readonly tol: number;
  private readonly maxSweeps: number;
  private readonly maxRounds: number;
  private readonly lnIterations: number;
  private readonly lnBacktracks: number;
  private readonly spill: boolean;
  private rhoKnot = -1;
  private initialised = false;
  // Scratch.
  private readonly jet = new Float64Array(3);
  private sg = new Float64Array(64);
  private sh = new Float64Array(64);
  private sbp = new Float64Array(64);
  private sdelta = new Float64Array(64);
  private sorder = new Int32Array(64);
  private readonly prevLoad: Float64Array;
  private readonly tr: Transportation;

  constructor(p: Problem, opts: FlowOptions = {}) {
    this.p = p;
    this.lam = effectiveDemand(p);
    this.k = opts.candidates ?? 16;
    this.tol = opts.tolerance ?? 1e-5;
    this.maxSweeps = opts.maxSweeps ?? 400;
    this.maxRounds = opts.maxRounds ?? 40;
    this.lnIterations = opts.loadNewtonIterations ?? 3;
    this.lnBacktracks = opts.loadNewtonBacktracks ?? 5;
    this.spill = opts.spill ?? false;
    this.replicas = new Int32Array(p.n);
    this.load = new Float64Array(p.n);
    this.h1 = new Float64Array(p.n);
    this.h2 = new Float64Array(p.n);
    this.knotA = new Float64Array(p.n);
    this.knotJet = new Float64Array(3 * p.n);
    this.prevLoad = new Float64Array(p.n);
    const src: number[] = [];
    let total = 0;
    for (let i = 0; i < p.n; i++) {
      if (this.lam[i] > 0) src.push(i);
      total += this.lam[i];
    }
    this.totalDemand = total;
    this.src = Int32Array.from(src);
    this.cand = src.map(() => []);
    this.x = src.map(() => []);
    this.tr = new Transportation(p.rtt, p.n, this.src, this.lam);
  }

  /** Nodes that currently have replicas. */
  usedNodes(): readonly number[] {
    return this.used;
  }

  /** H_j, H'_j, H''_j at load `lam` into `this.jet` (extended beyond the knot). */
  private evalNode(j: number, lam: number): void {
    const jet = this.jet;
    const mu = this.p.mu[j];
    const a = lam / mu;
    const ak = this.knotA[j];
    if (a <= ak) {
      mmcLJet(this.replicas[j], a > 0 ? a : 0, jet);
    } else {
      const d = a - ak;
      const l1 = this.knotJet[3 * j + 1];
      const l2 = this.knotJet[3 * j + 2];
      jet[0] = this.knotJet[3 * j] + l1 * d + 0.5 * l2 * d * d;
      jet[1] = l1 + l2 * d;
      jet[2] = l2;
    }
    jet[0] *= 1000;
    jet[1] *= 1000 / mu;
    jet[2] *= 1000 / (mu * mu);
  }

  private refreshNode(j: number): void {
    if (this.replicas[j] <= 0) {
      this.h1[j] = 1000 / this.p.mu[j];
      this.h2[j] = 0;
      return;
    }
    this.evalNode(j, this.load[j]);
    this.h1[j] = this.jet[1];
    this.h2[j] = this.jet[2];
  }

  private setKnot(j: number): void {
    const c = this.replicas[j];
    if (c <= 0) {
      this.knotA[j] = 0;
      return;
    }
    const ak = c * this.rhoKnot;
    this.knotA[j] = ak;
    mmcLJet(c, ak, this.jet);
    this.knotJet[3 * j] = this.jet[0];
    this.knotJet[3 * j + 1] = this.jet[1];
    this.knotJet[3 * j + 2] = this.jet[2];
  }

  /** Knot utilisation: 1 − min(1e-3, slack/2), slack = 1 − demand/capacity, so a stable point always lies below it. */
  private updateKnotLevel(force: boolean): boolean {
    let cap = 0;
    for (const j of this.used) cap += this.replicas[j] * this.p.mu[j];
    const slack = cap > 0 ? 1 - this.totalDemand / cap : 0;
    const rho = 1 - Math.min(1e-3, Math.max(slack, 1e-9) / 2);
    if (rho === this.rhoKnot && !force) return false;
    this.rhoKnot = rho;
    for (let j = 0; j < this.p.n; j++) this.setKnot(j);
    return true;
  }

  private staticCost(i: number, j: number): number {
    return this.p.rtt[i * this.p.n + j] + 1000 / this.p.mu[j];
  }

  /** The K cheapest used nodes for ingress node i by static cost (ties by index), ascending by index. */
  private nearestUsed(i: number, k: number): number[] {
    return kSmallest(this.used, k, (j) => this.staticCost(i, j));
  }

  private cheapestStatic(i: number, cand: readonly number[]): number {
    let best = 0;
    for (let q = 1; q < cand.length; q++) if (this.staticCost(i, cand[q]) < this.staticCost(i, cand[best])) best = q;
    return best;
  }

  /**
   * Set the replica vector. The first call builds a capacity-aware greedy start; later calls keep
   * the flows (warm start), move flow off nodes that lost all replicas and offer nodes that gained
   * their first replica to the sources that would use them. `cold` forces the greedy start.
   */
  setReplicas(replicas: ArrayLike<number>, cold = false): void {
    const p = this.p;
    const prev = Int32Array.from(this.replicas);
    for (let j = 0; j < p.n; j++) this.replicas[j] = replicas[j];
    this.used = [];
    for (let j = 0; j < p.n; j++) if (this.replicas[j] > 0) this.used.push(j);
    if (!this.initialised || cold) {
      this.updateKnotLevel(true);
      this.coldStart();
      this.initialised = true;
      return;
    }
    if (!this.updateKnotLevel(false)) for (let j = 0; j < p.n; j++) if (prev[j] !== this.replicas[j]) this.setKnot(j);
    const removed = new Set<number>();
    const added: number[] = [];
    for (let j = 0; j < p.n; j++) {
      if (prev[j] > 0 && this.replicas[j] === 0) removed.add(j);
      if (prev[j] === 0 && this.replicas[j] > 0) added.push(j);
    }
    if (removed.size > 0) {
      for (let s = 0; s < this.src.length; s++) {
        const cand = this.cand[s];
        if (!cand.some((j) => removed.has(j))) continue;
        const xs = this.x[s];
        let moved = 0;
        const keepC: number[] = [];
        const keepX: number[] = [];
        for (let q = 0; q < cand.length; q++) {
          if (removed.has(cand[q])) moved += xs[q];
          else {
            keepC.push(cand[q]);
            keepX.push(xs[q]);
          }
        }
        if (keepC.length === 0) {
          const i = this.src[s];
          const fresh = this.nearestUsed(i, this.k);
          this.cand[s] = fresh;
          this.x[s] = fresh.map(() => 0);
          this.x[s][this.cheapestStatic(i, fresh)] = this.lam[i];
        } else {
          // Spread the orphaned flow over the remaining candidates in proportion to capacity.
          let capSum = 0;
          for (const j of keepC) capSum += this.replicas[j] * p.mu[j];
          for (let q = 0; q < keepC.length; q++)
            keepX[q] += (moved * this.replicas[keepC[q]] * p.mu[keepC[q]]) / capSum;
          this.cand[s] = keepC;
          this.x[s] = keepX;
        }
      }
    }
    this.recomputeLoads();
    for (let j = 0; j < p.n; j++) this.refreshNode(j);
    if (added.length > 0) this.offerNodes(added);
  }

  /** Add each node in `nodes` to the candidate lists of sources for which it has a negative reduced cost. */
  private offerNodes(nodes: readonly number[]): void {
    const n = this.p.n;
    for (let s = 0; s < this.src.length; s++) {
      const i = this.src[s];
      const cand = this.cand[s];
      let pi = Infinity;
      for (const j of cand) pi = Math.min(pi, this.p.rtt[i * n + j] + this.h1[j]);
      for (const j of nodes) {
        if (this.p.rtt[i * n + j] + this.h1[j] < pi && !cand.includes(j)) {
          cand.push(j);
          this.x[s].push(0);
        }
      }
    }
  }

  private recomputeLoads(): void {
    this.load.fill(0);
    for (let s = 0; s < this.src.length; s++) {
      const cand = this.cand[s];
      const xs = this.x[s];
      for (let q = 0; q < cand.length; q++) this.load[cand[q]] += xs[q];
    }
  }

  /**
   * Capacity-aware greedy start: big sources first, each fills its K nearest nodes in order of static
   * cost (RTT + service time) to 90% of capacity; the rest is spread over them in proportion to
   * capacity — or, with `spill`, goes on to the next cheapest nodes with room first (filled to
   * u₀ = max(0.9, (1 + demand/capacity)/2)), which then join the source's candidates.
   */
  private coldStart(): void {
    const p = this.p;
    const order = Array.from(this.src.keys()).sort((a, b) => this.lam[this.src[b]] - this.lam[this.src[a]] || a - b);
    let cap = 0;
    for (const j of this.used) cap += this.replicas[j] * p.mu[j];
    const u0 = this.spill && cap > 0 ? Math.min(1 - 1e-9, Math.max(0.9, (1 + this.totalDemand / cap) / 2)) : 0.9;
    this.load.fill(0);
    let roomy = this.used.slice();
    for (const s of order) {
      const i = this.src[s];
      const cand = this.nearestUsed(i, this.k);
      const xs = cand.map(() => 0);
      let left = this.lam[i];
      const room = (j: number) => u0 * this.replicas[j] * p.mu[j] - this.load[j];
      const fill = (nodes: readonly number[]) => {
        const byCost = [...nodes].sort((a, b) => this.staticCost(i, a) - this.staticCost(i, b) || a - b);
        for (const j of byCost) {
          if (left <= 0) break;
          const r = room(j);
          if (r <= 0) continue;
          const take = Math.min(r, left);
          let q = cand.indexOf(j);
          if (q < 0) {
            q = cand.length;
            cand.push(j);
            xs.push(0);
          }
          xs[q] += take;
          this.load[j] += take;
          left -= take;
        }
      };
      fill(cand);
      while (this.spill && left > 1e-12 * this.lam[i]) {
        roomy = roomy.filter((j) => room(j) > 1e-12 * this.replicas[j] * p.mu[j]);
        if (roomy.length === 0) break;
        fill(kSmallest(roomy, this.k, (j) => this.staticCost(i, j)));
      }
      if (left > 0) {
        let capSum = 0;
        for (const j of cand) capSum += this.replicas[j] * p.mu[j];
        for (let q = 0; q < cand.length; q++) {
          const add = (left * this.replicas[cand[q]] * p.mu[cand[q]]) / capSum;
          xs[q] += add;
          this.load[cand[q]] += add;
        }
      }
      this.cand[s] = cand;
      this.x[s] = xs;
    }
    for (let j = 0; j < p.n; j++) this.refreshNode(j);
  }

  /** Start from given weight rows (indexed by ingress node), e.g. a baseline's, instead of the greedy start. */
  startFrom(replicas: ArrayLike<number>, rows: readonly SparseRow[]): void {
    for (let j = 0; j < this.p.n; j++) this.replicas[j] = replicas[j];
    this.used = [];
    for (let j = 0; j < this.p.n; j++) if (this.replicas[j] > 0) this.used.push(j);
    this.updateKnotLevel(true);
    this.initialised = true;
    for (let s = 0; s < this.src.length; s++) {
      const i = this.src[s];
      const row = rows[i];
      const cand: number[] = [];
      const xs: number[] = [];
      for (let q = 0; q < row.to.length; q++) {
        if (row.w[q] > 0 && this.replicas[row.to[q]] > 0) {
          cand.push(row.to[q]);
          xs.push(row.w[q] * this.lam[i]);
        }
      }
      for (const j of this.nearestUsed(i, this.k)) {
        if (!cand.includes(j)) {
          cand.push(j);
          xs.push(0);
        }
      }
      const sum = xs.reduce((a, b) => a + b, 0);
      if (sum <= 0) xs[this.cheapestStatic(i, cand)] = this.lam[i];
      else for (let q = 0; q < xs.length; q++) xs[q] *= this.lam[i] / sum;
      this.cand[s] = cand;
      this.x[s] = xs;
    }
    this.recomputeLoads();
    for (let j = 0; j < this.p.n; j++) this.refreshNode(j);
  }

  private ensureScratch(m: number): void {
    if (m <= this.sg.length) return;
    const size = 2 * m;
    this.sg = new Float64Array(size);
    this.sh = new Float64Array(size);
    this.sbp = new Float64Array(size);
    this.sdelta = new Float64Array(size);
    this.sorder = new Int32Array(size);
  }

  /** φ'(t) (and φ''(t) into jet[2] slot of the return) along the current direction of source s. */
  private lineDerivative(i: number, cand: readonly number[], m: number, t: number, second: boolean): number {
    const p = this.p;
    const delta = this.sdelta;
    let d1 = 0;
    let d2 = 0;
    for (let q = 0; q < m; q++) {
      const dq = delta[q];
      if (dq === 0) continue;
      const j = cand[q];
      this.evalNode(j, this.load[j] + t * dq);
      d1 += dq * (p.rtt[i * p.n + j] + this.jet[1]);
      if (second) d2 += dq * dq * this.jet[2];
    }
    this.lineSecond = d2;
    return d1;
  }
  private lineSecond = 0;

  /** One block step for source s; returns the source's gap before the step. */
  private stepSource(s: number, minGap: number): number {
    const p = this.p;
    const n = p.n;
    const i = this.src[s];
    const cand = this.cand[s];
    const xs = this.x[s];
    const m = cand.length;
    const lam = this.lam[i];
    this.ensureScratch(m);
    const g = this.sg;
    const h = this.sh;
    const bp = this.sbp;
    const delta = this.sdelta;
    const order = this.sorder;
    let gmin = Infinity;
    let dot = 0;
    let hmax = 0;
    for (let q = 0; q < m; q++) {
      const j = cand[q];
      const gq = p.rtt[i * n + j] + this.h1[j];
      g[q] = gq;
      if (gq < gmin) gmin = gq;
      dot += xs[q] * gq;
      if (this.h2[j] > hmax) hmax = this.h2[j];
    }
    const gapS = dot - lam * gmin;
    if (m === 1 || gapS <= minGap || gapS <= 1e-14 * Math.max(1, dot)) return gapS > 0 ? gapS : 0;
    // Second-order model: min Σ g δ + ½ h δ², Σ δ = 0, δ ≥ −x (curvature floored: L''(0) = 0 for c ≥ 2).
    const hFloor = Math.max(1e-12, 1e-9 * hmax, (1e-6 * gmin) / Math.max(lam, 1e-12));
    for (let q = 0; q < m; q++) {
      const hq = this.h2[cand[q]];
      h[q] = hq > hFloor ? hq : hFloor;
      bp[q] = g[q] - h[q] * xs[q];
      // insertion sort of `order` by breakpoint
      let r = q;
      while (r > 0 && bp[order[r - 1]] > bp[q]) {
        order[r] = order[r - 1];
        r--;
      }
      order[r] = q;
    }
    // Walk the breakpoints of S(π) = Σ max(−x, (π − g)/h) to solve S(π) = 0.
    let inactive = lam;
    let sumInvH = 0;
    let sumGoverH = 0;
    let pi = bp[order[0]];
    for (let r = 0; r < m; r++) {
      const q = order[r];
      inactive -= xs[q];
      sumInvH += 1 / h[q];
      sumGoverH += g[q] / h[q];
      pi = (inactive + sumGoverH) / sumInvH;
      if (r === m - 1 || pi <= bp[order[r + 1]]) break;
    }
    let sumD = 0;
    let big = 0;
    for (let q = 0; q < m; q++) {
      const d = (pi - g[q]) / h[q];
      delta[q] = d > -xs[q] ? d : -xs[q];
      sumD += delta[q];
      if (delta[q] > delta[big]) big = q;
    }
    delta[big] -= sumD; // Σδ = 0 exactly
    let dphi0 = 0;
    for (let q = 0; q < m; q++) dphi0 += delta[q] * g[q];
    if (!(dphi0 < 0)) return gapS;
    // Exact line search on t ∈ (0, 1]: φ convex, φ'(0) < 0.
    let t = 1;
    if (this.lineDerivative(i, cand, m, 1, false) > 0) {
      let lo = 0;
      let hi = 1;
      this.lineDerivative(i, cand, m, 0, true);
      let tryT = this.lineSecond > 0 ? Math.min(1, -dphi0 / this.lineSecond) : 0.5;
      if (!(tryT > 0 && tryT < 1)) tryT = 0.5;
      t = 0;
      for (let it = 0; it < 40; it++) {
        const d1 = this.lineDerivative(i, cand, m, tryT, true);
        if (d1 > 0) hi = tryT;
        else lo = tryT;
        if (Math.abs(d1) <= 1e-10 * Math.abs(dphi0)) {
          t = tryT;
          break;
        }
        if (hi - lo < 1e-12) break;
        let nt = this.lineSecond > 0 ? tryT - d1 / this.lineSecond : (lo + hi) / 2;
        if (!(nt > lo && nt < hi)) nt = (lo + hi) / 2;
        tryT = nt;
      }
      if (t === 0) t = lo > 0 ? lo : hi;
    }
    for (let q = 0; q < m; q++) {
      if (delta[q] === 0) continue;
      const j = cand[q];
      let nx = xs[q] + t * delta[q];
      if (nx < 1e-12 * lam || (t === 1 && delta[q] === -xs[q])) nx = 0;
      this.load[j] += nx - xs[q];
      xs[q] = nx;
    }
    for (let q = 0; q < m; q++) if (delta[q] !== 0) this.refreshNode(cand[q]);
    return gapS;
  }

  /**
   * Move flows below a millionth of their source's demand to the source's cheapest arc when their
   * own arc is not the cheapest: converged-but-not-exact dust, never an improvement to keep.
   */
  private dropDust(): void {
    const p = this.p;
    const n = p.n;
    for (let s = 0; s < this.src.length; s++) {
      const i = this.src[s];
      const cand = this.cand[s];
      const xs = this.x[s];
      const lam = this.lam[i];
      let best = 0;
      for (let q = 1; q < cand.length; q++) {
        if (p.rtt[i * n + cand[q]] + this.h1[cand[q]] < p.rtt[i * n + cand[best]] + this.h1[cand[best]]) best = q;
      }
      for (let q = 0; q < cand.length; q++) {
        if (q === best || xs[q] === 0 || xs[q] >= 1e-6 * lam) continue;
        this.load[cand[q]] -= xs[q];
        this.load[cand[best]] += xs[q];
        xs[best] += xs[q];
        xs[q] = 0;
      }
    }
    for (const j of this.used) {
      if (this.load[j] < 0) this.load[j] = 0;
      this.refreshNode(j);
    }
  }

  /** Price every omitted arc; add up to 8 arcs per source with negative reduced cost. Returns [global gap, arcs added]. */
  private verify(): [number, number] {
    const p = this.p;
    const n = p.n;
    let gap = 0;
    let added = 0;
    for (let s = 0; s < this.src.length; s++) {
      const i = this.src[s];
      const cand = this.cand[s];
      const xs = this.x[s];
      let dot = 0;
      let pi = Infinity;
      for (let q = 0; q < cand.length; q++) {
        const gq = p.rtt[i * n + cand[q]] + this.h1[cand[q]];
        dot += xs[q] * gq;
        if (gq < pi) pi = gq;
      }
      let best = pi;
      const thr = pi - 1e-9 * Math.max(1, pi);
      let better: number[] | undefined;
      for (const j of this.used) {
        const gj = p.rtt[i * n + j] + this.h1[j];
        if (gj < best) best = gj;
        if (gj < thr && !cand.includes(j)) (better ??= []).push(j);
      }
      if (better) {
        better.sort((a, b) => p.rtt[i * n + a] + this.h1[a] - (p.rtt[i * n + b] + this.h1[b]) || a - b);
        for (const j of better.slice(0, 8)) {
          cand.push(j);
          xs.push(0);
          added++;
        }
      }
      gap += dot - this.lam[i] * best;
    }
    return [gap > 0 ? gap : 0, added];
  }

  /** Solve to the certified tolerance from the current state. */
  solve(abortAbove = Infinity): FlowResult {
    if (!this.initialised) throw new Error("FlowSolver.solve: call setReplicas first");
    const S = this.src.length;
    let sweeps = 0;
    let gap = Infinity;
    for (let round = 0; round < this.maxRounds; round++) {
      // Per-source Newton sweeps until the gap is small or the loads stop moving.
      let inRound = 0;
      while (sweeps < this.maxSweeps) {
        sweeps++;
        inRound++;
        const target = this.tol * Math.max(this.surrogateCost(), 1e-300);
        this.prevLoad.set(this.load);
        let inner = 0;
        for (let s = 0; s < S; s++) inner += this.stepSource(s, (0.05 * target) / Math.max(S, 1));
        if (inner <= 0.5 * target) break;
        let moved = 0;
        let scale = 0;
        for (const j of this.used) {
          const d = Math.abs(this.load[j] - this.prevLoad[j]);
          if (d > moved) moved = d;
          const c = this.replicas[j] * this.p.mu[j];
          if (c > scale) scale = c;
        }
        if (moved <= 1e-5 * scale || inRound >= 25) break;
      }
      const [globalGap, added] = this.verify();
      gap = globalGap;
      const surrogate = this.surrogateCost();
      if ((gap <= this.tol * Math.max(surrogate, 1e-300) && added === 0) || sweeps >= this.maxSweeps) break;
      // The optimum for these replicas is at least cost − gap: stop early when that cannot beat the caller's bound.
      if (added === 0 && surrogate - gap > abortAbove) break;
      // Exact assignment at the current loads, then a few Newton steps on the loads themselves.
      if (this.lnIterations > 0) this.loadNewton(this.lnIterations);
    }
    this.dropDust();
    return { cost: this.cost(), gap, sweeps };
  }

  /**
   * Newton's method on the node loads. For loads Λ the cheapest routing is a transportation
   * problem T(Λ); its node potentials v_j are the marginal RTT cost of serving one more request at
   * j. The step minimises Σ (v_j + H'_j) δ_j + ½ Σ H''_j δ_j² with Σ δ = 0 and Λ + δ ≥ 0, then a
   * backtracking line search re-solves the transportation problem at the trial loads. At the
   * optimum v_j + H'_j is equal on every loaded node (and not lower on an empty one).
   */
  private loadNewton(maxIterations: number): void {
    const p = this.p;
    if (maxIterations <= 0) return;
    this.tr.build(this.cand);
    const E = this.tr.arcs!.E;
    const V = this.src.length + p.n;
    let flow = new Float64Array(E);
    let trial = new Float64Array(E);
    let potV = new Float64Array(V);
    let trialPotV = new Float64Array(V);
    const potN = new Float64Array(p.n);
    const rtt = this.tr.solve(this.load, flow, potV);
    if (Number.isNaN(rtt)) return; // the candidate arcs cannot carry these loads; keep the sweep result
    this.writeFlows(flow);
    this.tr.nodePotentials(potV, potN);
    let f = rtt + this.delayCost(this.load);
    const used = this.used;
    const m = new Float64Array(p.n);
    const h = new Float64Array(p.n);
    const delta = new Float64Array(p.n);
    const trialLoad = new Float64Array(p.n);
    let radius = 0.25;
    for (let it = 0; it < maxIterations; it++) {
      // Marginal cost of load at every used node, and the load-space optimality measure.
      let mmin = Infinity;
      let dot = 0;
      for (const j of used) {
        m[j] = potN[j] + this.h1[j];
        h[j] = this.h2[j];
        if (m[j] < mmin) mmin = m[j];
        dot += this.load[j] * m[j];
      }
      const measure = dot - this.totalDemand * mmin;
      if (measure <= 0.2 * this.tol * f) break;
      // Quadratic knapsack over nodes (same breakpoint walk as the per-source step).
      const k = used.length;
      this.ensureScratch(k);
      let hmax = 0;
      for (const j of used) if (h[j] > hmax) hmax = h[j];
      const hFloor = Math.max(1e-12, 1e-9 * hmax, (1e-6 * Math.abs(mmin)) / Math.max(this.totalDemand, 1e-12));
      const bp = this.sbp;
      const order = this.sorder;
      for (let q = 0; q < k; q++) {
        const j = used[q];
        if (h[j] < hFloor) h[j] = hFloor;
        bp[q] = m[j] - h[j] * this.load[j];
        let r = q;
        while (r > 0 && bp[order[r - 1]] > bp[q]) {
          order[r] = order[r - 1];
          r--;
        }
        order[r] = q;
      }
      let inactive = this.totalDemand;
      let sumInvH = 0;
      let sumMoverH = 0;
      let theta = bp[order[0]];
      for (let r = 0; r < k; r++) {
        const j = used[order[r]];
        inactive -= this.load[j];
        sumInvH += 1 / h[j];
        sumMoverH += m[j] / h[j];
        theta = (inactive + sumMoverH) / sumInvH;
        if (r === k - 1 || theta <= bp[order[r + 1]]) break;
      }
      let slope = 0;
      let sumD = 0;
      for (const j of used) {
        const d = (theta - m[j]) / h[j];
        delta[j] = d > -this.load[j] ? d : -this.load[j];
        sumD += delta[j];
      }
      let big = used[0];
      for (const j of used) if (delta[j] > delta[big]) big = j;
      delta[big] -= sumD;
      for (const j of used) slope += m[j] * delta[j];
      if (!(slope < 0)) break;
      // Trust region: no node's load moves by more than `radius` of its capacity in one step.
      let worst = 0;
      for (const j of used) worst = Math.max(worst, Math.abs(delta[j]) / (this.replicas[j] * p.mu[j]));
      let t = worst > radius ? radius / worst : 1;
      // Backtracking line search on the exact objective T(Λ + tδ) + Σ H(Λ + tδ).
      let accepted = false;
      for (let ls = 0; ls < this.lnBacktracks; ls++) {
        trialLoad.set(this.load);
        for (const j of used) {
          const v = this.load[j] + t * delta[j];
          trialLoad[j] = v > 0 ? v : 0;
        }
        const tr = this.tr.solve(trialLoad, trial, trialPotV);
        if (!Number.isNaN(tr)) {
          const ft = tr + this.delayCost(trialLoad);
          if (ft <= f + 1e-4 * t * slope) {
            [flow, trial] = [trial, flow];
            [potV, trialPotV] = [trialPotV, potV];
            this.writeFlows(flow);
            this.tr.nodePotentials(potV, potN);
            f = ft;
            accepted = true;
            break;
          }
        }
        t *= 0.5;
      }
      if (!accepted) break;
      radius = t * worst >= 0.9 * radius ? Math.min(1, 2 * radius) : Math.max(1e-4, t * worst);
    }
  }

  /** Σ_j H_j(Λ_j) with the extended H. */
  private delayCost(load: Float64Array): number {
    let c = 0;
    for (const j of this.used) {
      this.evalNode(j, load[j]);
      c += this.jet[0];
    }
    return c;
  }

  /** Replace the per-source flows by flat arc flows (as from `transport`) and refresh loads and marginals. */
  private writeFlows(flow: Float64Array): void {
    const { off } = this.tr.arcs!;
    for (let s = 0; s < this.src.length; s++) {
      const xs = this.x[s];
      const lam = this.lam[this.src[s]];
      let sum = 0;
      for (let e = off[s]; e < off[s + 1]; e++) if (flow[e] > 0) sum += flow[e];
      for (let q = 0; q < xs.length; q++) {
        const f = flow[off[s] + q];
        xs[q] = f > 1e-12 * lam ? (f * lam) / sum : 0;
      }
    }
    this.recomputeLoads();
    for (const j of this.used) this.refreshNode(j);
  }

  /** RTT part of the objective: Σ x_ij d_ij over the current flows (ms · req/s). */
  private rttCost(): number {
    const p = this.p;
    let c = 0;
    for (let s = 0; s < this.src.length; s++) {
      const i = this.src[s];
      const cand = this.cand[s];
      const xs = this.x[s];
      for (let q = 0; q < cand.length; q++) c += xs[q] * p.rtt[i * p.n + cand[q]];
    }
    return c;
  }

  /** Objective with the extended H (finite for overloaded nodes). */
  private surrogateCost(): number {
    let c = this.rttCost();
    for (const j of this.used) {
      this.evalNode(j, this.load[j]);
      c += this.jet[0];
    }
    return c;
  }

  /** True objective (ms · req/s); Infinity when some used node is at or above capacity. */
  cost(): number {
    const p = this.p;
    let c = this.rttCost();
    for (const j of this.used) {
      const a = this.load[j] / p.mu[j];
      const cj = this.replicas[j];
      if (a >= cj) return Infinity;
      mmcLJet(cj, a, this.jet);
      c += 1000 * this.jet[0];
    }
    return c;
  }

  /** Source price π_i = min_j (d_ij + H'_j) over used nodes, for every ingress node (index = node). */
  sourcePrices(): Float64Array {
    const p = this.p;
    const out = new Float64Array(p.n);
    for (let i = 0; i < p.n; i++) {
      let best = Infinity;
      for (const j of this.used) {
        const g = p.rtt[i * p.n + j] + this.h1[j];
        if (g < best) best = g;
      }
      out[i] = best;
    }
    return out;
  }

  /** Weight rows for every ingress node. Zero-demand nodes send everything to their marginally cheapest node. */
  rows(): SparseRow[] {
    const p = this.p;
    const rows: SparseRow[] = [];
    const bySrc = new Int32Array(p.n).fill(-1);
    for (let s = 0; s < this.src.length; s++) bySrc[this.src[s]] = s;
    for (let i = 0; i < p.n; i++) {
      const s = bySrc[i];
      if (s < 0) {
        let best = -1;
        let bestG = Infinity;
        for (const j of this.used) {
          const gj = p.rtt[i * p.n + j] + this.h1[j];
          if (gj < bestG) {
            bestG = gj;
            best = j;
          }
        }
        rows.push({ to: [best], w: [1] });
        continue;
      }
      const pairs: [number, number][] = [];
      for (let q = 0; q < this.cand[s].length; q++)
        if (this.x[s][q] > 0) pairs.push([this.cand[s][q], this.x[s][q] / this.lam[i]]);
      pairs.sort((a, b) => a[0] - b[0]);
      rows.push({ to: pairs.map((q) => q[0]), w: pairs.map((q) => q[1]) });
    }
    return rows;
  }

  /** Copy of the state, for undoing a rejected local-search move. */
  snapshot(): FlowSnapshot {
    return {
      replicas: Int32Array.from(this.replicas),
      cand: this.cand.map((c) => c.slice()),
      x: this.x.map((c) => c.slice()),
      load: Float64Array.from(this.load),
      rhoKnot: this.rhoKnot,
    };
  }

  restore(snap: FlowSnapshot): void {
    this.replicas.set(snap.replicas);
    this.cand = snap.cand.map((c) => c.slice());
    this.x = snap.x.map((c) => c.slice());
    this.load.set(snap.load);
    this.used = [];
    for (let j = 0; j < this.p.n; j++) if (this.replicas[j] > 0) this.used.push(j);
    this.rhoKnot = snap.rhoKnot;
    for (let j = 0; j < this.p.n; j++) {
      this.setKnot(j);
      this.refreshNode(j);
    }
    this.initialised = true;
  }
}

/** Optimal routing for fixed replicas, from a cold start. */
export function routeFixed(
  p: Problem,
  replicas: ArrayLike<number>,
  opts?: FlowOptions,
): { rows: SparseRow[]; result: FlowResult } {
  const solver = new FlowSolver(p, opts);
  solver.setReplicas(replicas);
  const result = solver.solve();
  return { rows: solver.rows(), result };
}
