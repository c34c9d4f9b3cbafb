import { describe, expect, it } from "vitest";
import { evaluatePlan, responseQuantileMs } from "../../lib/routing/evaluate";
import { optimise } from "../../lib/routing/optimise";
import { faastScenarios, homelabScenarios } from "../../lib/routing/scenarios";
import { simulatePlan } from "../../lib/routing/simulate";
import type { IndexedPlan } from "../../lib/routing/types";
import { buildProblem } from "../../lib/routing/validate";

const single = (lambda: number, c: number, mu: number) => ({
  p: buildProblem({
    nodes: [{ name: "a", maxPods: c, serviceRate: mu }],
    rttMs: { a: {} },
    demand: { a: lambda },
    replicas: c,
  }),
  plan: { replicas: Int32Array.from([c]), rows: [{ to: [0], w: [1] }] } as IndexedPlan,
});

describe("simulator", () => {
  it("reproduces the M/M/1 sojourn distribution (mean and percentiles)", () => {
    // λ = 150, μ = 250: sojourn ~ Exp(100/s) → mean 10 ms, p50 = 6.93 ms, p99 = 46.05 ms.
    const { p, plan } = single(150, 1, 250);
    const sim = simulatePlan(p, plan, { requests: 400_000, seed: 11 });
    expect(sim.meanMs / 10).toBeCloseTo(1, 1);
    expect(Math.abs(sim.meanMs - 10) / 10).toBeLessThan(0.02);
    expect(Math.abs(sim.p50Ms - (1000 * Math.log(2)) / 100) / 6.93).toBeLessThan(0.02);
    expect(Math.abs(sim.p99Ms - (1000 * Math.log(100)) / 100) / 46.05).toBeLessThan(0.03);
    expect(responseQuantileMs(p, plan, 0.99)).toBeCloseTo((1000 * Math.log(100)) / 100, 4);
  });

  it("agrees with the Erlang C evaluator within 2% on M/M/c (optimal plans, with RTT)", () => {
    for (const sc of [faastScenarios(50)[1], faastScenarios(100)[2], homelabScenarios(6)[1], homelabScenarios(10)[2]]) {
      const p = buildProblem(sc.input);
      const { plan } = optimise(p);
      const analytic = evaluatePlan(p, plan).meanMs;
      const sim = simulatePlan(p, plan, { requests: 300_000, seed: 5, jitterCv: 0.2 });
      expect(Math.abs(sim.meanMs - analytic) / analytic).toBeLessThan(0.02);
    }
  });

  it("agrees within 2% on a multi-server queue and keeps mean RTT with jitter", () => {
    const { p, plan } = single(600, 4, 250);
    const analytic = evaluatePlan(p, plan).meanMs;
    const sim = simulatePlan(p, plan, { requests: 300_000, seed: 7 });
    expect(Math.abs(sim.meanMs - analytic) / analytic).toBeLessThan(0.02);
  });

  it("is seeded: the same seed gives the same numbers, another seed different ones", () => {
    const { p, plan } = single(100, 2, 250);
    const a = simulatePlan(p, plan, { requests: 20_000, seed: 1 });
    expect(simulatePlan(p, plan, { requests: 20_000, seed: 1 })).toEqual(a);
    expect(simulatePlan(p, plan, { requests: 20_000, seed: 2 }).meanMs).not.toBe(a.meanMs);
  });

  it("lognormal service with the same mean keeps the load but changes the tail", () => {
    const { p, plan } = single(150, 1, 250);
    const ln = simulatePlan(p, plan, { requests: 200_000, seed: 3, service: { lognormalCv: 0.5 } });
    const ex = simulatePlan(p, plan, { requests: 200_000, seed: 3 });
    // M/G/1 (Pollaczek–Khinchine): Wq = λ E[S²] / (2 (1 − ρ)), E[S²] = 1.25 · (4 ms)² → sojourn 4 + 3.75 ms.
    expect(Math.abs(ln.meanMs - 7.75) / 7.75).toBeLessThan(0.03);
    expect(ln.p99Ms).toBeLessThan(ex.p99Ms);
  });
});
