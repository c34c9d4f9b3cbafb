import { describe, expect, it } from "vitest";
import { fixedReplicaInput, replanStep, type ReplanNode } from "../../lib/routing/replan";

const nodes: ReplanNode[] = [
  { name: "a", replicas: 2, serviceRate: 100 },
  { name: "b", replicas: 2, serviceRate: 100 },
];
const rttMs = { a: { b: 30 }, b: { a: 30 } };
const even = { a: { a: 0.5, b: 0.5 }, b: { a: 0.5, b: 0.5 } };
const maxMove = (x: Record<string, Record<string, number>>, y: Record<string, Record<string, number>>) =>
  Math.max(...Object.keys(x).flatMap((f) => ["a", "b"].map((t) => Math.abs((x[f][t] ?? 0) - (y[f][t] ?? 0)))));

describe("re-planner step", () => {
  it("keeps the placement: the input allows exactly the current replicas", () => {
    expect(fixedReplicaInput(nodes, rttMs, { a: 1 })).toEqual({
      nodes: [
        { name: "a", maxPods: 2, serviceRate: 100 },
        { name: "b", maxPods: 2, serviceRate: 100 },
      ],
      rttMs,
      demand: { a: 1 },
      replicas: 4,
    });
  });

  it("moves towards the optimum by at most maxStep per weight, keeping rows summing to 1", () => {
    const r = replanStep({ weights: even }, { nodes, rttMs, demand: { a: 50, b: 50 }, nowMs: 0 }, { maxStep: 0.2 });
    if (!r.write) throw new Error(r.reason);
    expect(r.target).toEqual({ a: { a: 1 }, b: { b: 1 } }); // light load: everything local
    expect(maxMove(r.weights, even)).toBeCloseTo(0.2, 9);
    for (const row of Object.values(r.weights))
      expect(Object.values(row).reduce((s, v) => s + v, 0)).toBeCloseTo(1, 12);
    expect(r.reason).toMatch(/; step limited to 0\.2 per weight$/);
    const full = replanStep({ weights: even }, { nodes, rttMs, demand: { a: 50, b: 50 }, nowMs: 0 }, { maxStep: 1 });
    expect(full.write && full.weights).toEqual({ a: { a: 1 }, b: { b: 1 } });
  });

  it("takes the full step when the current weights cannot carry the demand", () => {
    // Everything to b while a gets 300 req/s: b (200 req/s capacity) overflows.
    const r = replanStep(
      { weights: { a: { b: 1 }, b: { b: 1 } } },
      { nodes, rttMs, demand: { a: 150, b: 150 }, nowMs: 0 },
      { maxStep: 0.1 },
    );
    expect(r.write).toBe(true);
    if (r.write) {
      expect(r.reason).toBe("the applied plan is unstable under the new demand");
      expect(r.weights).toEqual(r.target);
    }
  });

  it("writes at most once per minIntervalMs and not at all for noise", () => {
    const at = {
      weights: { a: { a: 1 }, b: { b: 1 } },
      basis: { rttMs, demand: { a: 50, b: 50 } },
      lastWriteMs: 1_000,
    };
    expect(
      replanStep(
        at,
        { nodes, rttMs: { a: { b: 90 }, b: { a: 90 } }, demand: { a: 50, b: 50 }, nowMs: 30_000 },
        { minIntervalMs: 60_000 },
      ),
    ).toEqual({ write: false, reason: "rate limit: last write 29 s ago (< 60 s)" });
    const noise = replanStep(at, {
      nodes,
      rttMs: { a: { b: 31 }, b: { a: 29.5 } },
      demand: { a: 52, b: 49 },
      nowMs: 120_000,
    });
    expect(noise.write).toBe(false);
    expect(noise.reason).toMatch(/^kept: /);
  });
});
