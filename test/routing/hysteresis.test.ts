import { describe, expect, it } from "vitest";
import { decideReplan, maxRttMove, meanUnder } from "../../lib/routing/hysteresis";
import { planRouting } from "../../lib/routing/plan";
import type { RoutingInput } from "../../lib/routing/types";

const rtt = (edgeCloud: number, cloudCloud = 1) => ({
  edge: { cloud1: edgeCloud, cloud2: edgeCloud },
  cloud1: { edge: edgeCloud, cloud2: cloudCloud },
  cloud2: { edge: edgeCloud, cloud1: cloudCloud },
});
const input = (over: Partial<RoutingInput> = {}): RoutingInput => ({
  nodes: [
    { name: "edge", maxPods: 5, serviceRate: 250 },
    { name: "cloud1", maxPods: 6, serviceRate: 250 },
    { name: "cloud2", maxPods: 6, serviceRate: 250 },
  ],
  rttMs: rtt(50),
  demand: { edge: 900, cloud1: 50, cloud2: 50 },
  replicas: 6,
  ...over,
});
const applied = (i: RoutingInput) => ({ input: i, plan: planRouting(i) });

describe("hysteresis: re-plan only on a real change", () => {
  it("evaluates a plan under its own input to its predicted mean", () => {
    const i = input();
    const plan = planRouting(i);
    expect(meanUnder(i, plan)).toBeCloseTo(plan.predicted.meanMs, 5);
  });

  it("keeps the plan through measurement jitter (±1 ms on every pair)", () => {
    const a = applied(input());
    const noisy = input({
      rttMs: {
        edge: { cloud1: 51, cloud2: 49 },
        cloud1: { edge: 49.5, cloud2: 1.8 },
        cloud2: { edge: 50.7, cloud1: 0.4 },
      },
    });
    const d = decideReplan(a, noisy, planRouting(noisy));
    expect(d.replan).toBe(false);
    expect(d.reason).toMatch(
      /^kept: the new plan is -?\d+(\.\d+)?% faster \(≤ 5%\) and RTTs moved at most 1 ms \(≤ 10 ms\)$/,
    );
  });

  it("re-plans when one RTT moves by more than Y ms, naming the pair", () => {
    const a = applied(input());
    const moved = input({ rttMs: { ...rtt(50), cloud2: { edge: 65, cloud1: 1 } } });
    const d = decideReplan(a, moved, planRouting(moved));
    expect(d.replan).toBe(true);
    expect(d.reason).toBe("RTT cloud2→edge moved by 15 ms (> 10 ms)");
    expect(decideReplan(a, moved, planRouting(moved), { rttMoveMs: 20 }).replan).toBe(false);
  });

  it("measures moves from the applied plan's RTTs, so a slow drift triggers once it adds up", () => {
    const a = applied(input());
    const steps = [54, 58, 62].map((ms) => {
      const next = input({ rttMs: rtt(ms) });
      return decideReplan(a, next, planRouting(next)).replan;
    });
    expect(steps).toEqual([false, false, true]);
  });

  it("re-plans when the new plan is more than X% faster under the new demand", () => {
    // Demand moves from the edge to the cloud: the applied plan (5 replicas on the edge, 1 on
    // cloud1) queues the cloud's requests on one replica; RTTs are unchanged.
    const a = applied(input());
    const slight = input({ demand: { edge: 700, cloud1: 150, cloud2: 50 } });
    const kept = decideReplan(a, slight, planRouting(slight));
    expect(kept.replan).toBe(false); // 7.88 → 7.51 ms: 4.7%
    expect(kept.reason).toMatch(/^kept: the new plan is 4\.\d+% faster \(≤ 5%\)/);
    const shifted = input({ demand: { edge: 600, cloud1: 100, cloud2: 100 } });
    const cand = planRouting(shifted);
    const d = decideReplan(a, shifted, cand);
    expect(d.replan).toBe(true);
    expect(d.reason).toMatch(/^the new plan is \d+(\.\d+)?% faster \(> 5%\)/);
    expect(d.appliedMeanMs! - d.candidateMeanMs).toBeGreaterThan(0.05 * d.appliedMeanMs!);
    // With a threshold above the actual gain the plan stays.
    const gain = (100 * (d.appliedMeanMs! - d.candidateMeanMs)) / d.appliedMeanMs!;
    expect(decideReplan(a, shifted, cand, { improvementPct: gain + 1 }).replan).toBe(false);
  });

  it("re-plans when the applied plan cannot carry the new demand, or the nodes or budget changed", () => {
    const a = applied(input());
    const heavy = input({ demand: { edge: 1400, cloud1: 0, cloud2: 0 } });
    expect(decideReplan(a, heavy, planRouting(heavy)).reason).toBe("the applied plan is unstable under the new demand");
    const fewer = input({
      nodes: input().nodes.slice(0, 2),
      rttMs: { edge: { cloud1: 50 }, cloud1: { edge: 50 } },
      demand: { edge: 900 },
    });
    expect(decideReplan(a, fewer, planRouting(fewer)).reason).toBe("the set of nodes changed");
    const budget = input({ replicas: 7 });
    expect(decideReplan(a, budget, planRouting(budget)).reason).toBe("the replica budget changed (6 → 7)");
    expect(decideReplan(undefined, budget, planRouting(budget)).reason).toBe("no plan applied yet");
  });

  it("finds the largest move over the pairs both matrices have", () => {
    expect(maxRttMove(rtt(50), { edge: { cloud1: 52, cloud2: 47 }, cloud1: { edge: 50 } })).toEqual({
      from: "edge",
      to: "cloud2",
      ms: 3,
    });
    expect(maxRttMove({}, rtt(5))).toBeUndefined();
  });
});
