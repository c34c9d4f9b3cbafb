/**
 * Certified optimum for small instances with HiGHS (npm `highs`, WebAssembly): an outer
 * approximation of the convex MINLP, solved as a sequence of mixed-integer LPs.
 *
 * For every node j and replica count c, a binary z_jc selects "node j runs c replicas"; its load
 * L_jc ≤ cμ_j z_jc and its delay cost t_jc lie above tangents of H_c in perspective form,
 * t_jc ≥ H'_c(p) L_jc + (H_c(p) − p H'_c(p)) z_jc (valid because H_c is convex with H_c(0) = 0).
 * The MIP optimum is therefore a lower bound on the true optimum. Its replicas, routed exactly by
 * FlowSolver, give an upper bound; tangents at the MIP's loads are added and the MIP solved again
 * until the two bounds meet (Kelley / outer approximation).
 *
 * The optimiser itself does not need HiGHS: this module is the independent reference the tests and
 * the benchmark measure it against (docs/decisions/0008-routing-solver.md).
 */
import { mmcLJet } from "./erlang";
import { FlowSolver, effectiveDemand } from "./flow";
import type { IndexedPlan, Problem } from "./types";

export interface ExactResult {
  /** Proven lower bound on the optimal mean response time (ms). */
  readonly lowerBoundMs: number;
  /** Mean response time of the best plan found (ms); within `relativeGap` of the optimum. */
  readonly upperBoundMs: number;
  readonly relativeGap: number;
  readonly plan: IndexedPlan;
  readonly iterations: number;
}

interface HighsModelLike {
  options: { set(values: Record<string, unknown>): unknown };
  info: { get(name: string): number | bigint };
  run(): { modelStatus: number };
  getModelStatus(): number;
  getObjectiveValue(): number;
  getSolution(): { colValue: Float64Array };
  getColName(index: number): string;
  dispose(): void;
}

interface HighsLike {
  solve(
    problem: string,
    options?: Record<string, unknown>,
  ): {
    Status: string;
    ObjectiveValue: number;
    Columns: Record<string, { Primal?: number }>;
  };
  createModel(source: { format: "lp"; data: string }): HighsModelLike;
  constants: { modelStatus: { optimal: number; timeLimit?: number } };
}

interface MipOutcome {
  /** "Optimal" or "Time limit reached" (HiGHS's names). */
  readonly status: string;
  /** Proven lower bound of the MIP (its optimum when optimal). */
  readonly dualBound: number;
  /** Primal values of the best solution found, by column name; undefined when none was found. */
  readonly columns?: Record<string, number>;
}

/**
 * One MIP through HiGHS's persistent model API, so a time-limited solve still reports its proven
 * dual bound (`mip_dual_bound`, HiGHS info) — the legacy one-shot `solve` returns only the incumbent.
 */
function solveMip(highs: HighsLike, lp: string, options: Record<string, unknown>): MipOutcome {
  const model = highs.createModel({ format: "lp", data: lp });
  try {
    model.options.set(options);
    model.run();
    const code = model.getModelStatus();
    const optimal = code === highs.constants.modelStatus.optimal;
    const dual = Number(model.info.get("mip_dual_bound"));
    const hasPrimal = Number(model.info.get("primal_solution_status")) === 2;
    let columns: Record<string, number> | undefined;
    if (hasPrimal) {
      const values = model.getSolution().colValue;
      columns = {};
      for (let k = 0; k < values.length; k++) columns[model.getColName(k)] = values[k];
    }
    return {
      status: optimal ? "Optimal" : `status ${code}`,
      dualBound: optimal ? model.getObjectiveValue() : dual,
      columns,
    };
  } finally {
    model.dispose();
  }
}

let highsPromise: Promise<HighsLike> | undefined;

/** Load HiGHS once per process. */
export function loadHighs(): Promise<HighsLike> {
  if (!highsPromise) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loader = require("highs") as () => Promise<HighsLike>;
    highsPromise = loader();
  }
  return highsPromise;
}

const UTIL_GRID = [
  0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995, 0.999,
];
const jet = new Float64Array(3);

/** Tangent of H_c (ms · req/s as a function of load in req/s) at load `pt`: [slope, intercept]. */
function tangent(c: number, mu: number, pt: number): [number, number] {
  mmcLJet(c, pt / mu, jet);
  const h = 1000 * jet[0];
  const s = (1000 / mu) * jet[1];
  return [s, h - pt * s];
}

const num = (v: number) => (Math.abs(v) < 1e-15 ? "0" : v.toPrecision(15));

export interface ExactOptions {
  /** Stop when (upper − lower) / upper is at most this. Defaults to 1e-4. */
  readonly tolerance?: number;
  /** Outer-approximation rounds. Defaults to 30. */
  readonly maxIterations?: number;
  /**
   * Wall-clock budget (s) for all MIPs together. When set, each MIP runs with HiGHS's
   * `time_limit` and a stopped MIP still contributes its proven dual bound: the result is then a
   * certified lower bound and the best plan found, not necessarily the optimum.
   */
  readonly timeLimitSeconds?: number;
}

/** Certified optimum (within `tolerance`) of a small instance. */
export async function exactOptimum(p: Problem, opts: ExactOptions = {}): Promise<ExactResult> {
  const highs = await loadHighs();
  const tol = opts.tolerance ?? 1e-4;
  const lam = effectiveDemand(p);
  let total = 0;
  for (let i = 0; i < p.n; i++) total += lam[i];
  const sources = [...Array(p.n).keys()].filter((i) => lam[i] > 0);
  const servers = [...Array(p.n).keys()].filter((j) => p.maxPods[j] > 0);
  // Tangent points per (j, c): loads.
  const points = new Map<string, number[]>();
  for (const j of servers)
    for (let c = 1; c <= p.maxPods[j]; c++)
      points.set(
        `${j}_${c}`,
        UTIL_GRID.map((u) => u * c * p.mu[j]),
      );

  const started = performance.now();
  let lower = -Infinity;
  let best: { cost: number; plan: IndexedPlan } | undefined;
  let it = 0;
  for (; it < (opts.maxIterations ?? 30); it++) {
    const lines: string[] = ["Minimize", " obj:"];
    const terms: string[] = [];
    for (const i of sources) for (const j of servers) terms.push(`${num(p.rtt[i * p.n + j] / total)} x_${i}_${j}`);
    for (const j of servers) for (let c = 1; c <= p.maxPods[j]; c++) terms.push(`${num(1 / total)} t_${j}_${c}`);
    lines.push(`  ${terms.join(" + ")}`);
    lines.push("Subject To");
    for (const i of sources) lines.push(` src_${i}: ${servers.map((j) => `x_${i}_${j}`).join(" + ")} = ${num(lam[i])}`);
    for (const j of servers) {
      const loads = [];
      for (let c = 1; c <= p.maxPods[j]; c++) loads.push(`- L_${j}_${c}`);
      lines.push(` bal_${j}: ${sources.map((i) => `x_${i}_${j}`).join(" + ")} ${loads.join(" ")} = 0`);
      const zs = [];
      for (let c = 1; c <= p.maxPods[j]; c++) zs.push(`z_${j}_${c}`);
      lines.push(` one_${j}: ${zs.join(" + ")} <= 1`);
      for (let c = 1; c <= p.maxPods[j]; c++) {
        lines.push(` cap_${j}_${c}: L_${j}_${c} - ${num(c * p.mu[j])} z_${j}_${c} <= 0`);
        (points.get(`${j}_${c}`) as number[]).forEach((pt, k) => {
          const [s, b] = tangent(c, p.mu[j], pt);
          const bz = b >= 0 ? `- ${num(b)}` : `+ ${num(-b)}`;
          lines.push(` cut_${j}_${c}_${k}: t_${j}_${c} - ${num(s)} L_${j}_${c} ${bz} z_${j}_${c} >= 0`);
        });
      }
    }
    const rep: string[] = [];
    for (const j of servers) for (let c = 1; c <= p.maxPods[j]; c++) rep.push(`${c} z_${j}_${c}`);
    lines.push(` rep: ${rep.join(" + ")} = ${p.replicas}`);
    lines.push("Binaries");
    for (const j of servers) for (let c = 1; c <= p.maxPods[j]; c++) lines.push(` z_${j}_${c}`);
    lines.push("End");
    let col: (name: string) => number;
    let stopped = false;
    if (opts.timeLimitSeconds === undefined) {
      const res = highs.solve(lines.join("\n"), {
        mip_rel_gap: 1e-7,
        mip_abs_gap: 1e-9,
        output_flag: false,
        presolve: "on",
      });
      if (res.Status !== "Optimal") throw new Error(`exactOptimum: HiGHS ended with status ${res.Status}`);
      // Valid lower bound on the mean (ms): the MIP optimum, less the solver's relative gap allowance.
      lower = Math.max(lower, res.ObjectiveValue * (1 - 1e-7) - 1e-9);
      col = (name: string) => res.Columns[name]?.Primal ?? 0;
    } else {
      const left = opts.timeLimitSeconds - (performance.now() - started) / 1000;
      if (left <= 0 && Number.isFinite(lower)) break;
      const res = solveMip(highs, lines.join("\n"), {
        mip_rel_gap: 1e-6,
        output_flag: false,
        presolve: "on",
        time_limit: Math.max(1, left),
      });
      // The dual bound is proven whether or not the MIP finished (HiGHS's mip_dual_bound).
      if (Number.isFinite(res.dualBound)) lower = Math.max(lower, res.dualBound * (1 - 1e-7) - 1e-9);
      stopped = res.status !== "Optimal";
      const cols = res.columns ?? {};
      col = (name: string) => cols[name] ?? 0;
      if (!res.columns) break;
    }
    const replicas = new Int32Array(p.n);
    for (const j of servers) for (let c = 1; c <= p.maxPods[j]; c++) if (col(`z_${j}_${c}`) > 0.5) replicas[j] = c;
    let cap = 0;
    for (let j = 0; j < p.n; j++) cap += replicas[j] * p.mu[j];
    if (cap > total) {
      const solver = new FlowSolver(p, { tolerance: 1e-9, maxRounds: 200 });
      solver.setReplicas(replicas);
      const cost = solver.solve().cost;
      if (cost < (best?.cost ?? Infinity)) best = { cost, plan: { replicas, rows: solver.rows() } };
    }
    const upper = (best?.cost ?? Infinity) / total;
    if (upper - lower <= tol * upper || stopped) break;
    // New tangents at the MIP's loads for the chosen (j, c).
    let added = 0;
    for (const j of servers) {
      const c = replicas[j];
      if (c === 0) continue;
      const load = col(`L_${j}_${c}`);
      const pts = points.get(`${j}_${c}`) as number[];
      const pt = Math.min(load, c * p.mu[j] * (1 - 1e-9));
      if (pts.every((q) => Math.abs(q - pt) > 1e-9 * c * p.mu[j])) {
        pts.push(pt);
        added++;
      }
    }
    if (added === 0) break;
  }
  if (!best && opts.timeLimitSeconds !== undefined && Number.isFinite(lower)) {
    // Stopped before HiGHS found a placement: only the bound is known.
    return {
      lowerBoundMs: lower,
      upperBoundMs: Infinity,
      relativeGap: Infinity,
      plan: { replicas: new Int32Array(p.n), rows: [] },
      iterations: it + 1,
    };
  }
  if (!best) throw new Error("exactOptimum: no stable placement found");
  const upperBoundMs = best.cost / total;
  return {
    lowerBoundMs: lower,
    upperBoundMs,
    relativeGap: (upperBoundMs - lower) / upperBoundMs,
    plan: best.plan,
    iterations: it + 1,
  };
}
