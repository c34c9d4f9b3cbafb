/**
 * kantai's optimiser: joint integer replicas per node and per-source weights minimising the mean
 * response time (RTT + M/M/c sojourn), every used node stable.
 *
 * 1. Seeds that see speed and capacity: the largest-capacity placement (fastest pods first within
 *    the caps — stable whenever any placement is, which validation checks), a marginal-gain greedy
 *    (all nodes full, then pods removed in shrinking batches where the exact re-routing says they
 *    are worth least), and the baselines' placements (locality-first, yukari, even; pooled variants
 *    on large fleets), each repaired to leave capacity headroom and routed optimally (FlowSolver).
 * 2. Local search from the best few seeds (restarts). Candidates are ranked with Lagrangian
 *    estimates taken from the current marginal delays: the conjugate G*_j(ν; c) of a node's delay
 *    cost says what one replica more or less is worth at the current prices. Candidates are the
 *    Lagrangian placement (the replicas the relaxed problem would pick at these prices, by DP),
 *    moves of 1, 2, half or all replicas from one node to another, and swaps of two nodes' replica
 *    counts, and (17–100 nodes of mixed speeds) pooling moves that fill one node with replicas from
 *    wherever they are worth least. Each is checked by a warm-started exact re-solve; the first
 *    improvement is taken.
 * 3. The best plan is compared with the baselines' own plans and the best returned, so the
 *    optimiser is never worse than a baseline, nor (up to MEDIUM nodes) than fastest-first with
 *    optimal routing.
 *
 * Regimes by fleet size and speed mix (`regimeOf`; all knobs in OptimiseOptions / FlowOptions):
 * small, speed, locality and fleet — the fleet regime (mixed speeds above MEDIUM nodes) ranks two
 * seeds by two solver sweeps each and polishes one routing, a bounded amount of solver work.
 * Deterministic: no clock, no randomness; ties are broken by node index (= name order).
 */
import { concaveEnvelope } from "./bounds";
import { demandProportionalReplicas, evenReplicas, ikukantaiRow, nearestPlan, yukariReplicas } from "./baselines";
import { mmcConjugate } from "./erlang";
import { evaluatePlan } from "./evaluate";
import { FlowSolver, type FlowOptions, type FlowSnapshot, effectiveDemand } from "./flow";
import { fastestFirstReplicas, placementCapacity } from "./seeds";
import type { IndexedPlan, Problem, SparseRow } from "./types";

export interface OptimiseOptions {
  /** Candidate nodes per source in the routing solver. Defaults to 16. */
  readonly candidates?: number;
  /** Placements evaluated (routing solves) in the search, seeds included. Defaults by regime: small 30 + 5·N; speed 400 up to 50 nodes, 200 up to 100; locality 30 up to 300 nodes, 8 above; fleet 2 (the seeds). */
  readonly maxEvaluations?: number;
  /** Candidate moves tried per round before a descent stops. Defaults to 2·N (small), 40 (speed), 4 (locality, fleet). */
  readonly triesPerRound?: number;
  /** Nodes considered on each side (giving, receiving) of a move. Defaults to N (small), 24 (speed), 8 (locality, fleet). */
  readonly movesPerSide?: number;
  /** Descents, each from the best seed of another family (fastest-first, greedy, locality, Lagrangian), best first. Defaults to 3 in the speed regime, else 1. */
  readonly restarts?: number;
  /** Try swaps of two nodes' replica counts as well as moves. Defaults to true in the speed regime. */
  readonly swaps?: boolean;
  /** Try pooling moves (several replicas onto one node, taken from wherever they are worth least). Defaults to true in the speed regime. */
  readonly pools?: boolean;
  /** Routing-solver settings used during the search (overrides the regime's defaults). */
  readonly flow?: FlowOptions;
  /** Routing-solver settings of the final solves of the chosen placement, in order, each warm-started from the last (overrides the regime's defaults). */
  readonly polish?: readonly FlowOptions[];
}

export interface OptimiseResult {
  readonly plan: IndexedPlan;
  /** Objective Σ d x + Σ H of the plan (ms · req/s). */
  readonly cost: number;
  /** Where the returned plan came from: "search" or a baseline name. */
  readonly source: string;
  /** Exact routing solves performed. */
  readonly evaluations: number;
}

/**
 * Utilisation a repaired seed may have at most: halfway between the demand's share of the largest
 * capacity and 1 (at least 1e-6 below 1), so a seed's routing is never pinned at saturation.
 */
export function seedUtilisation(p: Problem): number {
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  const best = placementCapacity(p, fastestFirstReplicas(p));
  return Math.min(1 - 1e-6, (1 + total / best) / 2);
}

/**
 * Move replicas from slow to fast nodes until the placement can serve the demand with a margin
 * (utilisation below `maxUtilisation`, default `seedUtilisation`). Undefined only when no
 * placement can (validation rejects such inputs).
 */
export function repairCapacity(
  p: Problem,
  replicas: Int32Array,
  maxUtilisation = seedUtilisation(p),
): Int32Array | undefined {
  const n = Int32Array.from(replicas);
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  const cap = () => {
    let c = 0;
    for (let j = 0; j < p.n; j++) c += n[j] * p.mu[j];
    return c;
  };
  let guard = p.replicas + 1;
  while (!(cap() * maxUtilisation > total) && guard-- > 0) {
    let slow = -1;
    let fast = -1;
    for (let j = 0; j < p.n; j++) {
      if (n[j] > 0 && (slow < 0 || p.mu[j] < p.mu[slow])) slow = j;
      if (n[j] < p.maxPods[j] && (fast < 0 || p.mu[j] > p.mu[fast])) fast = j;
    }
    if (slow < 0 || fast < 0 || !(p.mu[fast] > p.mu[slow])) break; // the largest capacity already
    n[slow]--;
    n[fast]++;
  }
  return cap() > total ? n : undefined;
}

/**
 * Node prices for the Lagrangian estimates: a node with replicas charges its marginal delay H'_j;
 * a node without replicas the most any source would pay for it, max_i (π_i − d_ij).
 */
export function nodePrices(p: Problem, solver: FlowSolver): Float64Array {
  const pi = solver.sourcePrices();
  const lam = effectiveDemand(p);
  const price = new Float64Array(p.n);
  for (let k = 0; k < p.n; k++) {
    if (solver.replicas[k] > 0) {
      price[k] = solver.h1[k];
      continue;
    }
    let best = 1000 / p.mu[k];
    for (let i = 0; i < p.n; i++) if (lam[i] > 0) best = Math.max(best, pi[i] - p.rtt[i * p.n + k]);
    price[k] = best;
  }
  return price;
}

/** G*_j(price_j; c) for c = 0..maxPods_j: what a node with c replicas is worth at fixed prices. */
function conjugateTable(p: Problem, price: Float64Array): Float64Array[] {
  const out: Float64Array[] = [];
  for (let j = 0; j < p.n; j++) {
    const t = new Float64Array(p.maxPods[j] + 1);
    for (let c = 1; c <= p.maxPods[j]; c++) {
      t[c] = mmcConjugate(c, p.mu[j], price[j]).value;
      if (t[c] <= t[c - 1]) break; // G* is non-decreasing in c; stop once it saturates
    }
    for (let c = 1; c <= p.maxPods[j]; c++) if (t[c] < t[c - 1]) t[c] = t[c - 1];
    out.push(t);
  }
  return out;
}

/**
 * Lagrangian placement: the replicas maximising Σ_j G*_j(price_j; n_j) with Σ n_j = R — the
 * placement the relaxed problem picks at these prices. Exact DP for small instances, greedy over
 * the concave envelope for large ones.
 */
export function lagrangianPlacement(p: Problem, price: Float64Array): Int32Array {
  const table = conjugateTable(p, price);
  const R = p.replicas;
  const n = new Int32Array(p.n);
  if (p.n * R <= 200_000) {
    // DP over nodes: best[r] = max value placing r replicas on nodes 0..j.
    let best = new Float64Array(R + 1).fill(-Infinity);
    best[0] = 0;
    const choice: Int32Array[] = [];
    for (let j = 0; j < p.n; j++) {
      const next = new Float64Array(R + 1).fill(-Infinity);
      const ch = new Int32Array(R + 1);
      const t = table[j];
      for (let r = 0; r <= R; r++) {
        if (best[r] === -Infinity) continue;
        for (let c = 0; c < t.length && r + c <= R; c++) {
          const v = best[r] + t[c];
          if (v > next[r + c] + 1e-12 * Math.abs(v)) {
            next[r + c] = v;
            ch[r + c] = c;
          }
        }
      }
      choice.push(ch);
      best = next;
    }
    let r = R;
    for (let j = p.n - 1; j >= 0; j--) {
      n[j] = choice[j][r];
      r -= n[j];
    }
    return n;
  }
  // Greedy over concave-envelope increments.
  const incs: [number, number][] = [];
  for (let j = 0; j < p.n; j++) {
    const t = table[j];
    const hull = concaveEnvelope(t);
    for (let h = 1; h < hull.length; h++) {
      const slope = (t[hull[h]] - t[hull[h - 1]]) / (hull[h] - hull[h - 1]);
      for (let c = hull[h - 1]; c < hull[h]; c++) incs.push([slope, j]);
    }
  }
  incs.sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  let left = R;
  for (const [, j] of incs) {
    if (left === 0) break;
    n[j]++;
    left--;
  }
  for (let j = 0; left > 0 && j < p.n; j = (j + 1) % p.n) {
    if (n[j] < p.maxPods[j]) {
      n[j]++;
      left--;
    }
  }
  return n;
}

/**
 * Pool small groups of replicas: every node holding fewer than half its cap gives its replicas to
 * the nearest node (RTT ≤ maxRttMs) that already holds at least as many and has room. At high load
 * a few full pools queue far less than many small ones (Erlang C), which the demand-proportional
 * seed ignores.
 */
export function consolidatedReplicas(p: Problem, base: Int32Array, maxRttMs: number): Int32Array {
  const n = Int32Array.from(base);
  const order = Array.from({ length: p.n }, (_, j) => j).sort(
    (a, b) => n[a] - n[b] || p.demand[a] - p.demand[b] || a - b,
  );
  for (const j of order) {
    if (n[j] === 0 || 2 * n[j] >= p.maxPods[j]) continue;
    let best = -1;
    for (let k = 0; k < p.n; k++) {
      if (k === j || n[k] < n[j] || n[k] + n[j] > p.maxPods[k]) continue;
      const d = p.rtt[j * p.n + k];
      if (d > maxRttMs) continue;
      if (best < 0 || d < p.rtt[j * p.n + best] || (d === p.rtt[j * p.n + best] && k < best)) best = k;
    }
    if (best < 0) continue;
    n[best] += n[j];
    n[j] = 0;
  }
  return n;
}

interface Move {
  readonly from: number;
  readonly to: number;
  readonly count: number;
  readonly estimate: number;
}

/** Lagrangian estimates of moving `count` replicas from one node to another, best (most negative) first. */
function rankMoves(p: Problem, replicas: Int32Array, table: Float64Array[], perSide: number, blocks: boolean): Move[] {
  const n = p.n;
  const gain1 = (k: number) => table[k][replicas[k] + 1] - table[k][replicas[k]];
  const loss1 = (j: number) => table[j][replicas[j]] - table[j][replicas[j] - 1];
  const adds = Array.from({ length: n }, (_, k) => k)
    .filter((k) => replicas[k] < p.maxPods[k])
    .sort((a, b) => gain1(b) - gain1(a) || a - b)
    .slice(0, perSide);
  const removes = Array.from({ length: n }, (_, k) => k)
    .filter((k) => replicas[k] > 0)
    .sort((a, b) => loss1(a) - loss1(b) || a - b)
    .slice(0, perSide);
  const moves: Move[] = [];
  for (const from of removes) {
    for (const to of adds) {
      if (from === to) continue;
      const most = Math.min(replicas[from], p.maxPods[to] - replicas[to]);
      const counts = blocks ? [...new Set([1, 2, Math.ceil(most / 2), most])].filter((c) => c >= 1 && c <= most) : [1];
      for (const count of counts) {
        const est =
          table[from][replicas[from]] -
          table[from][replicas[from] - count] -
          (table[to][replicas[to] + count] - table[to][replicas[to]]);
        moves.push({ from, to, count, estimate: est });
      }
    }
  }
  moves.sort((a, b) => a.estimate - b.estimate || a.from - b.from || a.to - b.to || a.count - b.count);
  return moves;
}

/**
 * Lagrangian estimates of pooling moves: `count` replicas (2, half the room, all the room) onto one
 * node, each taken from wherever one replica is worth least (possibly several nodes) — the moves
 * that open a pool at a busy ingress node, which single moves can only reach through worse
 * placements. Best (most negative) first.
 */
function rankPools(
  p: Problem,
  replicas: Int32Array,
  table: Float64Array[],
  perSide: number,
): { estimate: number; next: Int32Array }[] {
  const gain1 = (k: number) => table[k][replicas[k] + 1] - table[k][replicas[k]];
  const takers = Array.from({ length: p.n }, (_, k) => k)
    .filter((k) => p.maxPods[k] - replicas[k] >= 2)
    .sort((a, b) => gain1(b) - gain1(a) || a - b)
    .slice(0, perSide);
  const out: { estimate: number; next: Int32Array }[] = [];
  for (const to of takers) {
    const room = p.maxPods[to] - replicas[to];
    for (const count of [...new Set([2, Math.ceil(room / 2), room])].filter((c) => c >= 2)) {
      const next = Int32Array.from(replicas);
      let est = -(table[to][replicas[to] + count] - table[to][replicas[to]]);
      for (let m = 0; m < count; m++) {
        let from = -1;
        let loss = Infinity;
        for (let j = 0; j < p.n; j++) {
          if (j === to || next[j] === 0) continue;
          const l = table[j][next[j]] - table[j][next[j] - 1];
          if (l < loss) {
            loss = l;
            from = j;
          }
        }
        if (from < 0) break;
        next[from]--;
        est += loss;
      }
      next[to] += count;
      out.push({ estimate: est, next });
    }
  }
  return out.sort((a, b) => a.estimate - b.estimate);
}

/** Lagrangian estimates of swapping the replica counts of two nodes, best (most negative) first. */
function rankSwaps(p: Problem, replicas: Int32Array, table: Float64Array[]): Move[] {
  const out: Move[] = [];
  for (let a = 0; a < p.n; a++) {
    for (let b = a + 1; b < p.n; b++) {
      const na = replicas[a];
      const nb = replicas[b];
      if (na === nb || nb > p.maxPods[a] || na > p.maxPods[b]) continue;
      const est = table[a][na] - table[a][nb] + (table[b][nb] - table[b][na]);
      out.push({ from: a, to: b, count: -1, estimate: est });
    }
  }
  out.sort((x, y) => x.estimate - y.estimate || x.from - y.from || x.to - y.to);
  return out;
}

/** Apply a move (count ≥ 1) or a swap (count −1) to a copy of `r`. */
function applyMove(r: Int32Array, m: Move): Int32Array {
  const next = Int32Array.from(r);
  if (m.count < 0) {
    next[m.from] = r[m.to];
    next[m.to] = r[m.from];
  } else {
    next[m.from] -= m.count;
    next[m.to] += m.count;
  }
  return next;
}

/**
 * Marginal-gain greedy seed: every node starts full (the most capacity there is), then pods are
 * removed in shrinking batches (a quarter of the excess at a time) where they are worth least —
 * the loss of a node's last pod taken from the conjugate table at the prices of the exact
 * re-routing of the current placement — never dropping the capacity below the seed margin.
 * Uses `route` (an exact, warm-started re-routing that leaves the solver at that placement).
 */
function marginalGainGreedy(
  p: Problem,
  solver: FlowSolver,
  route: (r: Int32Array) => number,
  maxUtilisation: number,
): Int32Array {
  const n = Int32Array.from(p.maxPods);
  let excess = -p.replicas;
  for (let j = 0; j < p.n; j++) excess += n[j];
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  let cap = placementCapacity(p, n);
  while (excess > 0) {
    route(n);
    const table = conjugateTable(p, nodePrices(p, solver));
    let batch = Math.max(1, Math.ceil(excess / 4));
    let progressed = false;
    while (batch > 0) {
      let pick = -1;
      let pickLoss = Infinity;
      for (let j = 0; j < p.n; j++) {
        if (n[j] === 0 || (cap - p.mu[j]) * maxUtilisation <= total) continue;
        const loss = table[j][n[j]] - table[j][n[j] - 1];
        if (loss < pickLoss || (loss === pickLoss && p.mu[j] < p.mu[pick])) {
          pick = j;
          pickLoss = loss;
        }
      }
      if (pick < 0) break;
      n[pick]--;
      cap -= p.mu[pick];
      excess--;
      batch--;
      progressed = true;
    }
    if (!progressed) {
      // No pod can go without losing the margin: drop the slowest pods, then repair.
      for (let j = p.n - 1; excess > 0 && j >= 0; j--) {
        const k = [...Array(p.n).keys()].sort((a, b) => p.mu[a] - p.mu[b] || a - b)[j];
        while (excess > 0 && n[k] > 0) {
          n[k]--;
          excess--;
        }
      }
      return repairCapacity(p, n, maxUtilisation) ?? fastestFirstReplicas(p);
    }
  }
  return n;
}

/** The search regime, by fleet size and by whether the nodes differ in speed (docs/concepts/routing.md). */
export type Regime = "small" | "speed" | "locality" | "fleet";

/**
 * - `small` (≤ SMALL nodes): tight solves, the exhaustive move neighbourhood and the Lagrangian placement each round.
 * - `speed` (nodes that differ in speed, up to MEDIUM nodes): speed-aware seeds, restarts, swaps, a larger budget.
 * - `locality` (one service rate, above SMALL nodes): the locality seeds and a short ranked descent — speed-aware
 *   seeds and swaps only find something where speeds differ.
 * - `fleet` (nodes that differ in speed, above MEDIUM nodes): one locality and one capacity seed, each ranked
 *   by a short routing, and the routing of the better one polished — a bounded number of solver sweeps.
 */
export function regimeOf(p: Problem): Regime {
  if (p.n <= SMALL) return "small";
  let lo = Infinity;
  let hi = 0;
  for (let j = 0; j < p.n; j++) {
    if (p.maxPods[j] === 0) continue;
    lo = Math.min(lo, p.mu[j]);
    hi = Math.max(hi, p.mu[j]);
  }
  const mixed = hi > lo * (1 + 1e-9);
  if (!mixed) return "locality";
  return p.n <= MEDIUM ? "speed" : "fleet";
}

/** The regime's settings; every one can be overridden in OptimiseOptions. */
interface Settings {
  readonly searchFlow: FlowOptions;
  readonly polish: readonly FlowOptions[];
  readonly budget: number;
  readonly neighbourhood: Neighbourhood;
  readonly restarts: number;
}

function settingsOf(p: Problem, regime: Regime, opts: OptimiseOptions): Settings {
  const n = p.n;
  const d: Settings =
    regime === "small"
      ? {
          searchFlow: { tolerance: 1e-6 },
          polish: [],
          budget: 30 + 5 * n,
          neighbourhood: { perSide: n, triesPerRound: 2 * n, swaps: false, lagrangian: true },
          restarts: 1,
        }
      : regime === "speed"
        ? {
            searchFlow: { tolerance: 1e-4, maxRounds: 10, loadNewtonIterations: 1 },
            polish: [{ tolerance: 1e-6 }],
            budget: n <= 50 ? 400 : 200,
            neighbourhood: { perSide: 24, triesPerRound: 40, swaps: true, lagrangian: true, pools: true },
            restarts: 3,
          }
        : regime === "locality"
          ? {
              searchFlow: { tolerance: 1e-3, maxRounds: 4, maxSweeps: n > 300 ? 40 : 400, loadNewtonIterations: 0 },
              polish: [{ tolerance: 1e-4, maxRounds: 8, loadNewtonIterations: 1, loadNewtonBacktracks: 2 }],
              budget: n <= 300 ? 30 : 8,
              neighbourhood: { perSide: 8, triesPerRound: 4, swaps: false, lagrangian: false },
              restarts: 1,
            }
          : {
              // Seeds ranked by two sweeps each; the winner's routing polished by sweeps, then one load step.
              searchFlow: { tolerance: 1e-3, maxRounds: 1, maxSweeps: 2, loadNewtonIterations: 0, spill: true },
              polish: [
                { tolerance: 1e-4, maxRounds: 8, maxSweeps: 80, loadNewtonIterations: 0 },
                { tolerance: 1e-4, maxRounds: 2, maxSweeps: 50, loadNewtonIterations: 1, loadNewtonBacktracks: 2 },
              ],
              budget: 2,
              neighbourhood: { perSide: 8, triesPerRound: 4, swaps: false, lagrangian: false },
              restarts: 1,
            };
  return {
    searchFlow: opts.flow ?? d.searchFlow,
    polish: opts.polish ?? d.polish,
    budget: opts.maxEvaluations ?? d.budget,
    neighbourhood: {
      perSide: opts.movesPerSide ?? d.neighbourhood.perSide,
      triesPerRound: opts.triesPerRound ?? d.neighbourhood.triesPerRound,
      swaps: opts.swaps ?? d.neighbourhood.swaps,
      lagrangian: d.neighbourhood.lagrangian,
      pools: opts.pools ?? d.neighbourhood.pools,
    },
    restarts: opts.restarts ?? d.restarts,
  };
}

/** A descent's move neighbourhood. */
interface Neighbourhood {
  /** Nodes considered on each side (giving, receiving) of a move. */
  readonly perSide: number;
  /** Candidates tried per round before the descent stops. */
  readonly triesPerRound: number;
  /** Swaps of two nodes' replica counts as well as moves. */
  readonly swaps: boolean;
  /** The Lagrangian placement as the first candidate of each round. */
  readonly lagrangian: boolean;
  /** Pooling moves (several replicas onto one node, from wherever they are worth least) as well. */
  readonly pools?: boolean;
}

/** A placement, its cost and the routing solver's state for it. */
interface Point {
  readonly r: Int32Array;
  readonly cost: number;
  readonly snap: FlowSnapshot;
  /** Seed family: restarts start from the best seed of distinct families. */
  readonly family: string;
}

/**
 * Placements routed exactly by one warm-started FlowSolver (memoised by placement), the seeds
 * kept as start points, and first-improvement descents from them.
 */
class PlacementSearch {
  evaluations = 0;
  readonly points: Point[] = [];
  private readonly seen = new Map<string, number>();

  /** @param coldSeeds route every seed from the solver's greedy start, not warm from the previous placement */
  constructor(
    private readonly p: Problem,
    readonly solver: FlowSolver,
    private readonly total: number,
    private readonly coldSeeds = false,
  ) {}

  /** Cost of a placement (memoised); `abortAbove` lets the solve stop once it cannot beat that cost. */
  evaluate(r: Int32Array, abortAbove = Infinity): number {
    const k = r.join(",");
    const known = this.seen.get(k);
    if (known !== undefined) return known;
    this.evaluations++;
    this.solver.setReplicas(r);
    const c = this.solver.solve(abortAbove).cost;
    this.seen.set(k, c);
    return c;
  }

  /** Route a placement without the memo (the greedy seed's probes); leaves the solver at it. */
  route(r: Int32Array): number {
    this.evaluations++;
    this.solver.setReplicas(r);
    return this.solver.solve().cost;
  }

  /** Repair `s` to a utilisation below `maxU`, route it and keep it as a start point, unless already seen. */
  addSeed(s: Int32Array | undefined, family: string, maxU: number): void {
    const fixed = s && repairCapacity(this.p, s, maxU);
    if (!fixed || this.seen.has(fixed.join(","))) return;
    if (this.coldSeeds) this.solver.setReplicas(fixed, true);
    const cost = this.evaluate(fixed);
    this.points.push({ r: Int32Array.from(fixed), cost, snap: this.solver.snapshot(), family });
  }

  /**
   * First-improvement descent from `start` until `until` evaluations: each round ranks candidates by
   * their Lagrangian estimates at the current marginal delays (the Lagrangian placement, moves, swaps)
   * and takes the first that a warm-started re-solve proves better. Leaves the solver at the result.
   */
  descend(start: Point, until: number, nb: Neighbourhood): Point {
    const p = this.p;
    const solver = this.solver;
    let current = start.r;
    let currentCost = start.cost;
    solver.restore(start.snap);
    while (this.evaluations < until) {
      const base = solver.snapshot();
      const price = nodePrices(p, solver);
      const table = conjugateTable(p, price);
      const candidates: Int32Array[] = [];
      // The Lagrangian placement jumps far; on large instances it never won in the benchmark and
      // costs a near-cold solve, so only the small and speed regimes try it.
      const lag = nb.lagrangian ? repairCapacity(p, lagrangianPlacement(p, price)) : undefined;
      if (lag && lag.join(",") !== current.join(",")) candidates.push(lag);
      const moves = rankMoves(p, current, table, nb.perSide, true);
      const ranked = nb.swaps
        ? [...moves, ...rankSwaps(p, current, table)].sort(
            (a, b) => a.estimate - b.estimate || a.from - b.from || a.to - b.to || a.count - b.count,
          )
        : moves;
      if (nb.pools) {
        // Merged by estimate; a stable sort keeps the moves' own order among equal estimates.
        const all = [
          ...ranked.map((m) => ({ estimate: m.estimate, next: applyMove(current, m) })),
          ...rankPools(p, current, table, nb.perSide),
        ].sort((a, b) => a.estimate - b.estimate);
        for (const c of all) candidates.push(c.next);
      } else for (const m of ranked) candidates.push(applyMove(current, m));
      let improved = false;
      let tries = 0;
      for (const next of candidates) {
        if (this.evaluations >= until || tries >= nb.triesPerRound) break;
        if (!(placementCapacity(p, next) > this.total)) continue;
        if (this.seen.has(next.join(","))) continue;
        tries++;
        const c = this.evaluate(next, currentCost);
        if (c < currentCost * (1 - 1e-9)) {
          current = next;
          currentCost = c;
          improved = true;
          break;
        }
        solver.restore(base);
      }
      if (!improved) break;
    }
    return { r: current, cost: currentCost, snap: solver.snapshot(), family: start.family };
  }

  /** Descents from the best seed of up to `restarts` families, sharing the budget; the best end point. */
  descents(budget: number, restarts: number, nb: Neighbourhood): Point {
    const sorted = [...this.points].sort((a, b) => a.cost - b.cost);
    let best = sorted[0];
    const starts: Point[] = [];
    for (const q of sorted) {
      if (Number.isFinite(q.cost) && !starts.some((s) => s.family === q.family)) starts.push(q);
    }
    starts.splice(Math.max(1, restarts));
    for (let k = 0; k < starts.length; k++) {
      if (this.evaluations >= budget) break;
      // Each descent may use the budget left, shared with the descents still to come.
      const share = Math.ceil((budget - this.evaluations) / (starts.length - k));
      const end = this.descend(starts[k], this.evaluations + share, nb);
      if (end.cost < best.cost) best = end;
    }
    return best;
  }
}

/** Locality seeds: demand-proportional, yukari and pooled variants (even on small fleets). */
function localitySeeds(p: Problem, small: boolean): Int32Array[] {
  const dp = demandProportionalReplicas(p);
  if (small) return [dp, yukariReplicas(p), evenReplicas(p)];
  let meanService = 0;
  for (let j = 0; j < p.n; j++) meanService += 1000 / p.mu[j] / p.n;
  return [dp, yukariReplicas(p), ...[2, 5, 10].map((f) => consolidatedReplicas(p, dp, f * meanService))];
}

/** Run kantai's optimiser. */
export function optimise(p: Problem, opts: OptimiseOptions = {}): OptimiseResult {
  const regime = regimeOf(p);
  const set = settingsOf(p, regime, opts);
  const solver = new FlowSolver(p, { candidates: opts.candidates, ...set.searchFlow });
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  const maxU = seedUtilisation(p);
  const search = new PlacementSearch(p, solver, total, regime === "fleet");

  // 1. Seeds, each routed; restarts start from the best of distinct families.
  const ff = fastestFirstReplicas(p);
  if (regime === "fleet") {
    // One locality seed (yukari: nearest by RTT + service time) and the capacity seed.
    search.addSeed(yukariReplicas(p), "locality", maxU);
    search.addSeed(ff, "fastest-first", maxU);
  } else {
    for (const s of localitySeeds(p, regime === "small")) search.addSeed(s, "locality", maxU);
    // After the locality seeds, so that among equally good plans the earlier (lower-index) one stays.
    if (regime !== "locality" || !search.points.some((q) => Number.isFinite(q.cost))) {
      search.addSeed(ff, "fastest-first", maxU);
    }
  }
  if (regime === "speed") {
    // (Small instances try the Lagrangian placement in every round of the descent anyway.)
    search.addSeed(
      marginalGainGreedy(p, solver, (r) => search.route(r), maxU),
      "greedy",
      maxU,
    );
    const bestSeed = search.points.reduce((a, b) => (b.cost < a.cost ? b : a), search.points[0]);
    solver.restore(bestSeed.snap);
    search.addSeed(lagrangianPlacement(p, nodePrices(p, solver)), "lagrangian", maxU);
  }
  const bestSeed = search.points.reduce<Point | undefined>((a, b) => (a && a.cost <= b.cost ? a : b), undefined);
  if (regime !== "fleet" && !(bestSeed && Number.isFinite(bestSeed.cost))) {
    // The search solves were too loose to reach a stable routing: route the largest-capacity
    // placement tightly (it is stable whenever the input is valid).
    const tight = new FlowSolver(p, { candidates: opts.candidates, tolerance: 1e-6, maxRounds: 200 });
    tight.setReplicas(ff);
    const cost = tight.solve().cost;
    const plan: IndexedPlan = {
      replicas: Int32Array.from(ff),
      rows: Number.isFinite(cost) ? tight.rows() : proportionalRowsFor(p, ff),
    };
    return withBaselines(
      p,
      { plan, cost: evaluatePlan(p, plan).meanMs * total, source: "search", evaluations: search.evaluations },
      total,
    );
  }

  // 2. Descents from the best seeds (none in the fleet regime's default budget: its seeds use it up).
  const best =
    bestSeed && Number.isFinite(bestSeed.cost)
      ? search.descents(set.budget, set.restarts, set.neighbourhood)
      : bestSeed;
  let chosen: { r: Int32Array; cost: number; rows: SparseRow[] };
  if (best) {
    solver.restore(best.snap);
    chosen = { r: best.r, cost: best.cost, rows: solver.rows() };
  } else {
    // Fleet regime, no seed routed stably in its two sweeps: polish the largest-capacity placement.
    chosen = { r: Int32Array.from(ff), cost: Infinity, rows: proportionalRowsFor(p, ff) };
  }
  if (regime === "speed") {
    // The locality regime's search as one more descent, so these fleets never do worse than it did.
    const classic = localitySearch(p, opts.candidates, total);
    if (classic && classic.cost < chosen.cost) chosen = classic;
  }
  // 3. Final solves of the chosen placement, each warm-started from the last.
  for (const flow of set.polish) {
    const tight = new FlowSolver(p, { candidates: opts.candidates, ...flow });
    tight.startFrom(chosen.r, chosen.rows);
    const res = tight.solve();
    if (res.cost <= chosen.cost || !Number.isFinite(chosen.cost))
      chosen = { r: chosen.r, cost: res.cost, rows: tight.rows() };
  }
  if (!Number.isFinite(chosen.cost)) {
    // Polishing did not reach a stable routing (only a loose budget on a near-saturated fleet):
    // route the largest-capacity placement tightly.
    const tight = new FlowSolver(p, { candidates: opts.candidates, tolerance: 1e-6, maxRounds: 200 });
    tight.setReplicas(ff);
    const cost = tight.solve().cost;
    chosen = { r: Int32Array.from(ff), cost, rows: Number.isFinite(cost) ? tight.rows() : proportionalRowsFor(p, ff) };
    if (!Number.isFinite(cost)) chosen.cost = evaluatePlan(p, { replicas: ff, rows: chosen.rows }).meanMs * total;
  }
  const searchPlan: IndexedPlan = { replicas: Int32Array.from(chosen.r), rows: chosen.rows };
  return withBaselines(
    p,
    { plan: searchPlan, cost: chosen.cost, source: "search", evaluations: search.evaluations },
    total,
  );
}

/**
 * The locality regime's search (kantai 0.1's for fleets above SMALL nodes), run as one more descent
 * in the speed regime: locality seeds, 0.1% solves, 4 ranked block moves per round, 30 placements.
 * Returns the placement and its routing.
 */
function localitySearch(
  p: Problem,
  candidates: number | undefined,
  total: number,
): { r: Int32Array; cost: number; rows: SparseRow[] } | undefined {
  const solver = new FlowSolver(p, { candidates, tolerance: 1e-3, maxRounds: 4, loadNewtonIterations: 0 });
  const search = new PlacementSearch(p, solver, total);
  for (const s of localitySeeds(p, false)) search.addSeed(s, "locality", 1 / (1 + 1e-6));
  if (!search.points.some((q) => Number.isFinite(q.cost))) return undefined;
  const end = search.descents(30, 1, { perSide: 8, triesPerRound: 4, swaps: false, lagrangian: false });
  solver.restore(end.snap);
  return { r: end.r, cost: end.cost, rows: solver.rows() };
}

/** Every source split over the placement's nodes in proportion to capacity: each node at the same utilisation, stable whenever the placement is. */
function proportionalRowsFor(p: Problem, replicas: Int32Array): IndexedPlan["rows"] {
  const to: number[] = [];
  const w: number[] = [];
  const cap = placementCapacity(p, replicas);
  for (let j = 0; j < p.n; j++) {
    if (replicas[j] > 0) {
      to.push(j);
      w.push((replicas[j] * p.mu[j]) / cap);
    }
  }
  return Array.from({ length: p.n }, () => ({ to: [...to], w: [...w] }));
}

/**
 * A baseline's plan built row by row, or undefined as soon as the rows so far load some node to
 * its capacity: loads only grow with more rows (non-negative terms, summed in evaluatePlan's order),
 * so such a plan is unstable and cannot win — on large fleets most baselines are, and this skips
 * most of their O(N²) rows.
 */
export function planIfStable(p: Problem, replicas: Int32Array, row: (i: number) => SparseRow): IndexedPlan | undefined {
  const lam = effectiveDemand(p);
  const load = new Float64Array(p.n);
  const rows: SparseRow[] = [];
  for (let i = 0; i < p.n; i++) {
    const r = row(i);
    rows.push(r);
    if (lam[i] <= 0) continue;
    for (let q = 0; q < r.to.length; q++) {
      const j = r.to[q];
      load[j] += lam[i] * r.w[q];
      if (!(load[j] < replicas[j] * p.mu[j])) return undefined;
    }
  }
  return { replicas, rows };
}

/** 3. Never worse than a baseline: the baselines' own plans, the best returned. */
function withBaselines(p: Problem, search: OptimiseResult, total: number): OptimiseResult {
  let result = search;
  let bestMean = evaluatePlan(p, search.plan).meanMs;
  const even = evenReplicas(p);
  // evenPlan's rows (baselines.ts proportionalRows): every ingress node splits in proportion to the replica counts.
  let placed = 0;
  for (let j = 0; j < p.n; j++) placed += even[j];
  const evenRow: SparseRow = { to: [], w: [] };
  for (let j = 0; j < p.n; j++) {
    if (even[j] > 0) {
      evenRow.to.push(j);
      evenRow.w.push(even[j] / placed);
    }
  }
  const yukari = yukariReplicas(p);
  for (const [name, plan] of [
    ["even", planIfStable(p, even, () => ({ to: [...evenRow.to], w: [...evenRow.w] }))],
    ["nearest", nearestPlan(p)],
    ["ikukantai", planIfStable(p, yukari, (i) => ikukantaiRow(p, i, yukari))],
  ] as const) {
    if (!plan) continue;
    const m = evaluatePlan(p, plan).meanMs;
    if (m < bestMean) {
      bestMean = m;
      result = { plan, cost: m * total, source: name, evaluations: search.evaluations };
    }
  }
  return result;
}

/** Instances up to this many nodes get the exhaustive move neighbourhood and tight solves. */
export const SMALL = 16;
/** Instances up to this many nodes get tight solves, swaps and restarts. */
export const MEDIUM = 100;
