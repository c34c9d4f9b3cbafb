import { describe, expect, it } from "vitest";
import {
  evenPlan,
  ikukantaiPercentRow,
  ikukantaiPlan,
  largestRemainder,
  nearestPlan,
  yukariReplicas,
} from "../../lib/routing/baselines";
import { buildProblem } from "../../lib/routing/validate";
import { faastNodes, faastRttMs } from "./fixtures";

/** The FaaSt-like example of docs/reference/routing-cli.md. */
const faast = () =>
  buildProblem({
    nodes: faastNodes(),
    rttMs: faastRttMs(),
    demand: { edge: 900, cloud1: 50, cloud2: 50 },
    replicas: 6,
  });

describe("baselines", () => {
  it("splits by largest remainder", () => {
    expect(Array.from(largestRemainder([50, 50, 900], 6))).toEqual([0, 0, 6]);
    expect(Array.from(largestRemainder([1, 1, 1], 2))).toEqual([1, 1, 0]);
  });

  it("even: round-robin placement, replica-proportional weights", () => {
    const plan = evenPlan(faast());
    expect(Array.from(plan.replicas)).toEqual([2, 2, 2]);
    for (const row of plan.rows) expect(row).toEqual({ to: [0, 1, 2], w: [1 / 3, 1 / 3, 1 / 3] });
  });

  it("nearest: demand-proportional placement, everything to the nearest replica", () => {
    const plan = nearestPlan(faast());
    // names sorted: cloud1, cloud2, edge. The edge's 6 pods: 5 local (cap), 1 on the nearer-by-name cloud.
    expect(Array.from(plan.replicas)).toEqual([1, 0, 5]);
    expect(plan.rows).toEqual([
      { to: [0], w: [1] },
      { to: [0], w: [1] },
      { to: [2], w: [1] },
    ]);
  });

  it("ikukantai: yukari places each pod at argmin r within caps", () => {
    expect(Array.from(yukariReplicas(faast()))).toEqual([1, 0, 5]);
  });

  it("ikukantai: miporin's integer percentages, masked, bumped, renormalised", () => {
    const p = faast();
    const r = yukariReplicas(p);
    // edge row: 1/r = 1/54, 1/54, 1/4 → 6, 6, 88; cloud2 masked → 6, 0, 88 → renormalised 6, 0, 94.
    expect(ikukantaiPercentRow(p, 2, r)).toEqual([6, 0, 94]);
    // cloud1 row: 1/4, 1/5, 1/54 → 53, 43, 4; masked → 53, 0, 4 → 93, 0, 7.
    expect(ikukantaiPercentRow(p, 0, r)).toEqual([93, 0, 7]);
    expect(ikukantaiPercentRow(p, 1, r)).toEqual([91, 0, 9]);
    expect(ikukantaiPlan(p).rows[2]).toEqual({ to: [0, 2], w: [0.06, 0.94] });
  });

  it("ikukantai: a node with pods never drops to 0% (it gets 1%)", () => {
    const p = buildProblem({
      nodes: [
        { name: "a", maxPods: 1, serviceRate: 250 },
        { name: "b", maxPods: 1, serviceRate: 250 },
      ],
      rttMs: { a: { b: 2000 }, b: { a: 2000 } },
      demand: { a: 10, b: 10 },
      replicas: 2,
    });
    // r = 4 and 2004: 1/r shares 99.8% / 0.2% → 100, 0 → b bumped to 1 → renormalised 99, 1.
    expect(ikukantaiPercentRow(p, 0, Int32Array.from([1, 1]))).toEqual([99, 1]);
  });
});
