import { describe, expect, it } from "vitest";
import { mmcLJet } from "../../../lib/routing/erlang";
import { FlowSolver, routeFixed } from "../../../lib/routing/flow/solver";
import { yukariReplicas } from "../../../lib/routing/baselines";
import { homelabScenarios, mixedScenarios } from "../../../lib/routing/scenarios";
import { fastestFirstReplicas } from "../../../lib/routing/seeds";
import { buildProblem } from "../../../lib/routing/validate";

const jet = new Float64Array(3);
const marginal = (c: number, mu: number, load: number) => {
  mmcLJet(c, load / mu, jet);
  return (1000 / mu) * jet[1];
};

describe("routing for fixed replicas", () => {
  it("equalises marginal delay between two nodes (closed-form check)", () => {
    // One source, two servers at RTT 0 and 10 ms: the optimum sends x to the far node where
    // 10 + H'_far(x) = H'_near(λ − x).
    const p = buildProblem({
      nodes: [
        { name: "far", maxPods: 2, serviceRate: 100 },
        { name: "near", maxPods: 1, serviceRate: 100 },
      ],
      rttMs: { near: { far: 10 }, far: { near: 10 } },
      demand: { near: 150 },
      replicas: 3,
    });
    const { rows, result } = routeFixed(p, [2, 1]);
    const row = rows[1];
    expect(row.to).toEqual([0, 1]);
    const x = 150 * row.w[0];
    expect(10 + marginal(2, 100, x)).toBeCloseTo(marginal(1, 100, 150 - x), 3);
    expect(result.gap).toBeLessThanOrEqual(1e-5 * result.cost);
  });

  it("certifies its answer: the Frank–Wolfe gap bounds the distance to the optimum", () => {
    const p = buildProblem(homelabScenarios(10)[2].input);
    const s = new FlowSolver(p, { tolerance: 1e-8, maxRounds: 100 });
    s.setReplicas([0, 0, 0, 0, 0, 8, 0, 7, 0, 1]);
    const tight = s.solve();
    const loose = routeFixed(p, [0, 0, 0, 0, 0, 8, 0, 7, 0, 1], { tolerance: 1e-3 }).result;
    expect(loose.cost - tight.cost).toBeLessThanOrEqual(loose.gap + 1e-9);
    expect(tight.gap).toBeLessThanOrEqual(1e-8 * tight.cost);
  });

  it("finds load-neutral exchanges between sources (two sources swapping nodes)", () => {
    // a is close to A, b is close to B; a cold start that routes crosswise must be untangled.
    const p = buildProblem({
      nodes: [
        { name: "A", maxPods: 1, serviceRate: 100 },
        { name: "B", maxPods: 1, serviceRate: 100 },
        { name: "a", maxPods: 0, serviceRate: 100 },
        { name: "b", maxPods: 0, serviceRate: 100 },
      ],
      rttMs: {
        A: { B: 30, a: 1, b: 20 },
        B: { A: 30, a: 20, b: 1 },
        a: { A: 1, B: 20, b: 20 },
        b: { A: 20, B: 1, a: 20 },
      },
      demand: { a: 60, b: 60 },
      replicas: 2,
    });
    const s = new FlowSolver(p);
    s.startFrom(Int32Array.from([1, 1, 0, 0]), [
      { to: [0], w: [1] },
      { to: [1], w: [1] },
      { to: [1], w: [1] },
      { to: [0], w: [1] },
    ]);
    const res = s.solve();
    const rows = s.rows();
    expect(rows[2]).toEqual({ to: [0], w: [1] });
    expect(rows[3]).toEqual({ to: [1], w: [1] });
    expect(res.cost / 120).toBeCloseTo(1 + 1000 / 40, 6); // RTT 1 + M/M/1 sojourn 1/(100 − 60) s
  });

  it("warm re-solves agree with cold solves", () => {
    const p = buildProblem(homelabScenarios(6)[1].input);
    const warm = new FlowSolver(p, { tolerance: 1e-9, maxRounds: 100 });
    warm.setReplicas([0, 0, 0, 0, 8, 2]);
    warm.solve();
    warm.setReplicas([0, 0, 0, 8, 0, 2]);
    const a = warm.solve().cost;
    const b = routeFixed(p, [0, 0, 0, 8, 0, 2], { tolerance: 1e-9 }).result.cost;
    expect(a / b).toBeCloseTo(1, 8);
  });
});

describe("greedy start with spill (FlowOptions.spill)", () => {
  // The largest-capacity placement of the 1000-node mixed fleet at 95%: the K nearest nodes of
  // many sources are full before those sources are served.
  const sc = mixedScenarios(1000)[2];
  const p = buildProblem(sc.input);
  const ff = fastestFirstReplicas(p);
  let capacity = 0;
  for (let j = 0; j < p.n; j++) capacity += ff[j] * p.mu[j];
  const u0 = (1 + p.totalDemand / capacity) / 2; // ≈ 0.975
  const maxUtilisation = (s: FlowSolver) => {
    let u = 0;
    for (let j = 0; j < p.n; j++) if (ff[j] > 0) u = Math.max(u, s.load[j] / (ff[j] * p.mu[j]));
    return u;
  };

  it("starts with no node overloaded, where the start without spill overloads some", () => {
    const spill = new FlowSolver(p, { spill: true });
    spill.setReplicas(ff);
    const plain = new FlowSolver(p);
    plain.setReplicas(ff);
    // Each node filled to at most u₀ = (1 + demand/capacity)/2.
    expect(maxUtilisation(spill)).toBeLessThanOrEqual(u0 * (1 + 1e-9));
    expect(maxUtilisation(plain)).toBeGreaterThan(1);
    let routed = 0;
    for (let j = 0; j < p.n; j++) routed += spill.load[j];
    expect(routed).toBeCloseTo(p.totalDemand, 6);
  });

  it("a cold restart (setReplicas(r, true)) rebuilds that start from any state", () => {
    const s = new FlowSolver(p, { spill: true, maxSweeps: 2, maxRounds: 1 });
    s.setReplicas(yukariReplicas(p));
    s.solve();
    s.setReplicas(ff, true);
    expect(maxUtilisation(s)).toBeLessThanOrEqual(u0 * (1 + 1e-9));
  });
});
