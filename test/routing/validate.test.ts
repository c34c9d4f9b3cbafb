import { describe, expect, it } from "vitest";
import { RoutingInputError } from "../../lib/routing/types";
import { buildProblem, maxStableCapacity, parseRoutingInput, routingInputIssues } from "../../lib/routing/validate";

const good = () => ({
  nodes: [
    { name: "edge", maxPods: 5, serviceRate: 250 },
    { name: "cloud1", maxPods: 6, serviceRate: 250 },
  ],
  rttMs: { edge: { cloud1: 50 }, cloud1: { edge: 50, cloud1: 0 } },
  demand: { edge: 900, cloud1: 50 },
  replicas: 6,
});

const messages = (raw: unknown) => routingInputIssues(raw).map((i) => `${i.path}: ${i.message}`);

describe("routing input validation", () => {
  it("accepts a valid input (the diagonal may be omitted)", () => {
    expect(messages(good())).toEqual([]);
    const p = buildProblem(parseRoutingInput(good()));
    expect(p.names).toEqual(["cloud1", "edge"]);
    expect(Array.from(p.rtt)).toEqual([0, 50, 50, 0]);
    expect(Array.from(p.demand)).toEqual([50, 900]);
    expect(p.totalDemand).toBe(950);
  });

  it.each([
    [
      "a missing matrix entry",
      (g: any) => delete g.rttMs.edge.cloud1,
      ['rttMs.edge.cloud1: missing latency from "edge" to "cloud1"'],
    ],
    ["a missing matrix row", (g: any) => delete g.rttMs.edge, ['rttMs.edge: missing row for node "edge"']],
    [
      "a negative latency",
      (g: any) => (g.rttMs.edge.cloud1 = -3),
      ["rttMs.edge.cloud1: must be a non-negative number"],
    ],
    [
      "a non-numeric latency",
      (g: any) => (g.rttMs.edge.cloud1 = "50"),
      ["rttMs.edge.cloud1: must be a non-negative number"],
    ],
    [
      "a NaN latency",
      (g: any) => (g.rttMs.cloud1.edge = Number.NaN),
      ["rttMs.cloud1.edge: must be a non-negative number"],
    ],
    ["an unknown node in the matrix", (g: any) => (g.rttMs.edge.mars = 1), ['rttMs.edge.mars: unknown node "mars"']],
    ["an unknown node in demand", (g: any) => (g.demand.mars = 10), ['demand.mars: unknown node "mars"']],
    ["a negative demand", (g: any) => (g.demand.edge = -1), ["demand.edge: must be a non-negative number"]],
    [
      "R larger than Σ maxPods",
      (g: any) => (g.replicas = 12),
      ["replicas: 12 exceeds the total maxPods of all nodes (11)"],
    ],
    ["a fractional R", (g: any) => (g.replicas = 2.5), ["replicas: must be a positive integer"]],
    [
      "demand no placement can serve stably",
      (g: any) => (g.demand.edge = 1450),
      [
        "demand: total 1500 req/s cannot be served stably by 6 replicas (at most 1500 req/s, load must stay below capacity)",
      ],
    ],
    [
      "a duplicate node",
      (g: any) => g.nodes.push({ name: "edge", maxPods: 1, serviceRate: 1 }),
      ['nodes[2].name: duplicate node "edge"'],
    ],
    [
      "a non-integer maxPods",
      (g: any) => (g.nodes[0].maxPods = 1.5),
      ["nodes[0].maxPods: must be a non-negative integer"],
    ],
    [
      "a zero service rate",
      (g: any) => (g.nodes[1].serviceRate = 0),
      ["nodes[1].serviceRate: must be a positive number (requests per second per replica)"],
    ],
    ["an unknown field", (g: any) => (g.extra = true), ["extra: unknown field"]],
  ])("rejects %s with a message naming the field", (_name, mutate, expected) => {
    const g = good();
    mutate(g);
    expect(messages(g)).toEqual(expected);
    expect(() => parseRoutingInput(g)).toThrow(RoutingInputError);
  });

  it("rejects a non-object and an empty node list", () => {
    expect(messages([])).toEqual(["input: must be a JSON object with nodes, rttMs, demand and replicas"]);
    expect(messages({ ...good(), nodes: [] })).toContain(
      "nodes: must be a non-empty array of {name, maxPods, serviceRate}",
    );
  });

  it("uses the R fastest pods for the stability limit", () => {
    const nodes = [
      { name: "a", maxPods: 2, serviceRate: 100 },
      { name: "b", maxPods: 3, serviceRate: 300 },
    ];
    expect(maxStableCapacity(nodes, 4)).toBe(3 * 300 + 100);
  });

  it("sorts nodes by name so the problem does not depend on input order", () => {
    const g = good();
    const reversed = { ...g, nodes: [...g.nodes].reverse() };
    expect(buildProblem(reversed)).toEqual(buildProblem(g));
  });
});
