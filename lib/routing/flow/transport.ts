/**
 * Transportation problem on a bipartite graph of sources (ingress nodes) and serving nodes:
 *
 *   minimise Σ d_ij x_ij  over the arcs (i, j) of the candidate lists,
 *   s.t.     Σ_j x_ij = λ_i,  Σ_i x_ij = target_j (targets scaled to the same total),  x ≥ 0.
 *
 * Solved exactly by successive shortest paths: one source at a time, Dijkstra on reduced costs in
 * the residual graph, stopped at the first serving node with unmet target, with lazily updated
 * potentials (only the vertices a search settled change), so each augmentation stays local. The
 * final potentials are optimal duals. Used by FlowSolver's load step (solver.ts). Pure.
 */
import { MinHeap } from "./heap";

export class Transportation {
  private readonly rtt: Float64Array;
  private readonly n: number;
  private readonly src: Int32Array;
  private readonly lam: Float64Array;
  private readonly totalDemand: number;

  /**
   * @param rtt  row-major n×n arc costs d_ij (ingress i to serving node j)
   * @param n    number of nodes
   * @param src  ingress nodes with demand (source s is node src[s])
   * @param lam  demand per node (λ_i, indexed by node)
   */
  constructor(rtt: Float64Array, n: number, src: Int32Array, lam: Float64Array) {
    this.rtt = rtt;
    this.n = n;
    this.src = src;
    this.lam = lam;
    let total = 0;
    for (const i of src) total += lam[i];
    this.totalDemand = total;
  }

  /** Arc arrays of the last `build`; undefined before the first. */
  arcs:
    | {
        E: number;
        off: Int32Array;
        head: Int32Array;
        cost: Float64Array;
        inStart: Int32Array;
        inArc: Int32Array;
        tail: Int32Array;
      }
    | undefined;

  /** Flat arc arrays over the candidate lists `cand[s]` (serving nodes of source s): arcs of source s are off[s] .. off[s+1]-1. */
  build(cands: readonly (readonly number[])[]): void {
    const n = this.n;
    const S = this.src.length;
    const off = new Int32Array(S + 1);
    for (let s = 0; s < S; s++) off[s + 1] = off[s] + cands[s].length;
    const E = off[S];
    const head = new Int32Array(E);
    const cost = new Float64Array(E);
    const tail = new Int32Array(E);
    const inStart = new Int32Array(n + 1);
    for (let s = 0; s < S; s++) {
      const i = this.src[s];
      const cand = cands[s];
      for (let q = 0; q < cand.length; q++) {
        const e = off[s] + q;
        head[e] = cand[q];
        cost[e] = this.rtt[i * n + cand[q]];
        tail[e] = s;
        inStart[cand[q] + 1]++;
      }
    }
    for (let j = 0; j < n; j++) inStart[j + 1] += inStart[j];
    const inArc = new Int32Array(E);
    const fill = Int32Array.from(inStart);
    for (let e = 0; e < E; e++) inArc[fill[head[e]]++] = e;
    this.arcs = { E, off, head, cost, inStart, inArc, tail };
    const V = S + n;
    if (!this.tDist || this.tDist.length < V) {
      this.tDist = new Float64Array(V).fill(Infinity);
      this.tPot = new Float64Array(V);
      this.tPredV = new Int32Array(V);
      this.tPredE = new Int32Array(V);
      this.tDone = new Uint8Array(V);
      this.tTouched = new Int32Array(V);
      this.tHeap = new MinHeap(V);
    }
  }
  private tDist?: Float64Array;
  private tPot?: Float64Array;
  private tPredV?: Int32Array;
  private tPredE?: Int32Array;
  private tDone?: Uint8Array;
  private tTouched?: Int32Array;
  private tHeap?: MinHeap;

  /**
   * Transportation problem at fixed node loads: min Σ d_ij x_ij over the candidate arcs with row
   * sums λ_i and column sums `target`. Successive shortest paths from one source at a time,
   * Dijkstra on reduced costs stopped at the first node with unmet load, lazily updated
   * potentials (only the vertices a search settled change), so each augmentation stays local.
   * Writes the flows and the node potentials (marginal RTT cost per node, up to a constant);
   * returns the RTT cost, or NaN when the candidate arcs cannot carry the loads.
   */
  solve(target: Float64Array, flow: Float64Array, potOut: Float64Array): number {
    const { cost } = this.arcs!;
    const S = this.src.length;
    const n = this.n;
    const pot = this.tPot!;
    const predV = this.tPredV!;
    const predE = this.tPredE!;
    const eps = 1e-12 * Math.max(1, this.totalDemand);
    flow.fill(0);
    pot.fill(0);
    const remD = this.tRemD && this.tRemD.length === n ? this.tRemD : (this.tRemD = new Float64Array(n));
    let totalTarget = 0;
    for (let j = 0; j < n; j++) totalTarget += target[j];
    // Scale the targets so both sides carry exactly the same total.
    const scale = totalTarget > 0 ? this.totalDemand / totalTarget : 0;
    for (let j = 0; j < n; j++) remD[j] = target[j] * scale;
    let rttCost = 0;
    const order =
      this.srcOrder ??
      (this.srcOrder = Array.from(this.src.keys()).sort(
        (a, b) => this.lam[this.src[b]] - this.lam[this.src[a]] || a - b,
      ));
    for (const s of order) {
      let rem = this.lam[this.src[s]];
      let guard = 4 * (S + n) + 16;
      while (rem > eps && guard-- > 0) {
        const t = this.shortestAugmentingPath(s, remD, 1, flow, eps);
        if (t < 0) return NaN;
        const amount = this.bottleneck(t, remD[t - S] < rem ? remD[t - S] : rem, flow);
        for (let v = t; predV[v] !== -1; v = predV[v]) {
          const e = predE[v];
          if (v >= S) {
            flow[e] += amount;
            rttCost += amount * cost[e];
          } else {
            flow[e] -= amount;
            rttCost -= amount * cost[e];
          }
        }
        rem -= amount;
        remD[t - S] -= amount;
      }
      if (rem > 1e-9 * Math.max(1, this.lam[this.src[s]])) return NaN;
    }
    potOut.set(pot.subarray(0, S + n));
    return rttCost;
  }
  private tRemD?: Float64Array;
  private srcOrder?: number[];

  /**
   * Dijkstra on reduced costs in the residual graph of `flow` (forward arcs source → node, backward
   * arcs node → source where flow > eps), from vertex `start` to the first settled node vertex
   * S + k ≠ `start` with `sign · need[k] > eps`. On success updates the potentials of the settled
   * vertices (lazily: only those closer than the target change) and returns the target vertex,
   * whose path is left in `tPredV`/`tPredE` (ending at `predV === -1`); returns -1 when no such
   * vertex is reachable. Either way the search scratch (`tDist`, `tDone`) is left clean.
   */
  private shortestAugmentingPath(
    start: number,
    need: Float64Array,
    sign: 1 | -1,
    flow: Float64Array,
    eps: number,
  ): number {
    const { off, head, cost, inStart, inArc, tail } = this.arcs!;
    const S = this.src.length;
    const dist = this.tDist!;
    const pot = this.tPot!;
    const predV = this.tPredV!;
    const predE = this.tPredE!;
    const done = this.tDone!;
    const touched = this.tTouched!;
    const heap = this.tHeap!;
    let nTouched = 0;
    dist[start] = 0;
    predV[start] = -1;
    touched[nTouched++] = start;
    heap.clear();
    heap.push(start, 0);
    let t = -1;
    while (heap.size > 0) {
      const v = heap.pop();
      if (done[v]) continue;
      done[v] = 1;
      const dv = dist[v];
      if (v >= S) {
        const k = v - S;
        if (v !== start && sign * need[k] > eps) {
          t = v;
          break;
        }
        for (let a = inStart[k]; a < inStart[k + 1]; a++) {
          const e = inArc[a];
          if (flow[e] <= eps) continue;
          const w = tail[e];
          if (done[w]) continue;
          const rc = -cost[e] + pot[v] - pot[w];
          const nd = dv + (rc > 0 ? rc : 0);
          if (nd < dist[w]) {
            if (dist[w] === Infinity) touched[nTouched++] = w;
            dist[w] = nd;
            predV[w] = v;
            predE[w] = e;
            heap.push(w, nd);
          }
        }
      } else {
        for (let e = off[v]; e < off[v + 1]; e++) {
          const w = S + head[e];
          if (done[w]) continue;
          const rc = cost[e] + pot[v] - pot[w];
          const nd = dv + (rc > 0 ? rc : 0);
          if (nd < dist[w]) {
            if (dist[w] === Infinity) touched[nTouched++] = w;
            dist[w] = nd;
            predV[w] = v;
            predE[w] = e;
            heap.push(w, nd);
          }
        }
      }
    }
    if (t >= 0) {
      const dt = dist[t];
      for (let q = 0; q < nTouched; q++) {
        const v = touched[q];
        if (done[v] && dist[v] < dt) pot[v] += dist[v] - dt;
      }
    }
    for (let q = 0; q < nTouched; q++) {
      dist[touched[q]] = Infinity;
      done[touched[q]] = 0;
    }
    return t;
  }

  /** `amount` capped by the flow on every backward arc of the path to `t` left by `shortestAugmentingPath`. */
  private bottleneck(t: number, amount: number, flow: Float64Array): number {
    const S = this.src.length;
    const predV = this.tPredV!;
    const predE = this.tPredE!;
    for (let v = t; predV[v] !== -1; v = predV[v]) if (v < S && flow[predE[v]] < amount) amount = flow[predE[v]];
    return amount;
  }

  /** Node potentials from vertex potentials: the cheapest way to bring one more request to each node. */
  nodePotentials(potV: Float64Array, potNode: Float64Array): void {
    const { inStart, inArc, cost, tail } = this.arcs!;
    const S = this.src.length;
    for (let j = 0; j < this.n; j++) {
      let best = Infinity;
      for (let a = inStart[j]; a < inStart[j + 1]; a++) {
        const e = inArc[a];
        const v = cost[e] + potV[tail[e]];
        if (v < best) best = v;
      }
      potNode[j] = best === Infinity ? potV[S + j] : best;
    }
  }
}
