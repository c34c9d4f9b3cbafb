/**
 * Property tests (fast-check, fixed seeds so a failure reproduces): every algorithm returns a
 * well-formed plan; kantai's optimiser is stable, never worse than a baseline, within 1% of the
 * exhaustive optimum on small instances, and deterministic.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { mixedFleetInput, routingInput } from "./arbitraries";
import { routeFixed } from "../../lib/routing/flow";
import { fastestFirstReplicas } from "../../lib/routing/seeds";
import { evaluatePlan, planIssues } from "../../lib/routing/evaluate";
import { exhaustiveOptimum } from "../../lib/routing/exhaustive";
import { optimise } from "../../lib/routing/optimise";
import { planRouting, runAlgorithm } from "../../lib/routing/plan";
import { ALGORITHMS, type RoutingInput } from "../../lib/routing/types";
import { buildProblem } from "../../lib/routing/validate";

const RUNS = { numRuns: 60, seed: 4004 };

describe("routing properties", () => {
  it("every algorithm: replicas sum to R within caps, rows sum to 1, no weight toward nodes without replicas", () => {
    fc.assert(
      fc.property(routingInput(), (input) => {
        const p = buildProblem(input);
        for (const algorithm of ALGORITHMS) expect(planIssues(p, runAlgorithm(p, algorithm), 1e-9)).toEqual([]);
      }),
      RUNS,
    );
  });

  it("the plan JSON: exact row sums in millionths, sorted keys, zero weights omitted", () => {
    fc.assert(
      fc.property(routingInput(), (input) => {
        const plan = planRouting(input);
        const names = input.nodes.map((n) => n.name).sort();
        expect(Object.keys(plan.replicas)).toEqual(names);
        expect(Object.keys(plan.weights)).toEqual(names);
        expect(Object.values(plan.replicas).reduce((a, b) => a + b, 0)).toBe(input.replicas);
        for (const row of Object.values(plan.weights)) {
          const micro = Object.values(row).map((w) => Math.round(w * 1e6));
          expect(micro.reduce((a, b) => a + b, 0)).toBe(1_000_000);
          for (const [to, w] of Object.entries(row)) {
            expect(w).toBeGreaterThan(0);
            expect(plan.replicas[to]).toBeGreaterThan(0);
          }
        }
      }),
      RUNS,
    );
  });

  it("the optimiser: every used node is stable, and it is never worse than any baseline", () => {
    fc.assert(
      fc.property(routingInput(), (input) => {
        const p = buildProblem(input);
        const { plan } = optimise(p);
        const ev = evaluatePlan(p, plan);
        expect(ev.stable).toBe(true);
        for (let j = 0; j < p.n; j++) if (ev.load[j] > 0) expect(ev.load[j]).toBeLessThan(plan.replicas[j] * p.mu[j]);
        for (const baseline of ["even", "nearest", "ikukantai"] as const) {
          const b = evaluatePlan(p, runAlgorithm(p, baseline)).meanMs;
          expect(ev.meanMs).toBeLessThanOrEqual(b + 1e-9 * b);
        }
      }),
      RUNS,
    );
  });

  it("heterogeneous fleets: never worse than fastest-first with optimal routing, nor than any baseline", () => {
    fc.assert(
      fc.property(mixedFleetInput(), (input) => {
        const p = buildProblem(input);
        const ev = evaluatePlan(p, optimise(p).plan);
        expect(ev.stable).toBe(true);
        const ff = fastestFirstReplicas(p);
        const { rows } = routeFixed(p, ff, { tolerance: 1e-9, maxRounds: 200 });
        const ffMean = evaluatePlan(p, { replicas: ff, rows }).meanMs;
        // 1e-6: the optimiser's own routing tolerance (it certifies its solves to 1e-6 of the cost).
        expect(ev.meanMs).toBeLessThanOrEqual(ffMean * (1 + 1e-6));
        for (const baseline of ["even", "nearest", "ikukantai"] as const) {
          const b = evaluatePlan(p, runAlgorithm(p, baseline)).meanMs;
          expect(ev.meanMs).toBeLessThanOrEqual(b + 1e-9 * b);
        }
      }),
      { numRuns: 25, seed: 1313 },
    );
  }, 120_000);

  it("the optimiser is within 1% of the exhaustive optimum on small instances", () => {
    fc.assert(
      fc.property(routingInput({ nodes: [2, 4], maxPods: [0, 4], utilisation: [0.05, 0.92] }), (input) => {
        const p = buildProblem(input);
        const exact = exhaustiveOptimum(p, 5000);
        const ours = evaluatePlan(p, optimise(p).plan).meanMs;
        expect(ours).toBeLessThanOrEqual(exact.meanMs * 1.01);
      }),
      { numRuns: 40, seed: 4005 },
    );
  });

  it("is deterministic: the same input, in any key order, gives the same plan", () => {
    fc.assert(
      fc.property(routingInput(), fc.integer({ min: 0, max: 1000 }), (input, salt) => {
        const once = JSON.stringify(planRouting(input));
        expect(JSON.stringify(planRouting(input))).toBe(once);
        const shuffled: RoutingInput = {
          replicas: input.replicas,
          demand: Object.fromEntries(Object.entries(input.demand).reverse()),
          rttMs: Object.fromEntries(
            Object.entries(input.rttMs)
              .reverse()
              .map(([k, v]) => [k, Object.fromEntries(Object.entries(v).reverse())]),
          ),
          nodes: [...input.nodes].sort((a, b) => ((a.name.length * salt) % 7) - ((b.name.length * salt) % 7)),
        };
        expect(JSON.stringify(planRouting(shuffled))).toBe(once);
      }),
      { numRuns: 30, seed: 4006 },
    );
  });
});
