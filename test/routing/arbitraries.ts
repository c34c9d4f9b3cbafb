/** fast-check generators of routing problems, shared by the routing tests. */
import fc from "fast-check";
import type { RoutingInput } from "../../lib/routing/types";
import { maxStableCapacity } from "../../lib/routing/validate";

export interface InstanceShape {
  /** Node count range. */
  readonly nodes: [number, number];
  /** maxPods range per node. */
  readonly maxPods: [number, number];
  /** Target utilisation range (total demand / capacity of the R fastest pods). */
  readonly utilisation: [number, number];
}

const SMALL: InstanceShape = { nodes: [1, 4], maxPods: [0, 4], utilisation: [0.05, 0.92] };

/** Random valid RoutingInputs: asymmetric RTTs (0–120 ms), service rates 50–500 req/s, any demand shape. */
export function routingInput(shape: InstanceShape = SMALL): fc.Arbitrary<RoutingInput> {
  return fc
    .integer({ min: shape.nodes[0], max: shape.nodes[1] })
    .chain((n) =>
      fc.record({
        pods: fc.array(fc.integer({ min: shape.maxPods[0], max: shape.maxPods[1] }), { minLength: n, maxLength: n }),
        rates: fc.array(fc.integer({ min: 50, max: 500 }), { minLength: n, maxLength: n }),
        rtt: fc.array(fc.double({ min: 0, max: 120, noNaN: true }), { minLength: n * n, maxLength: n * n }),
        shares: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 1, noNaN: true })), {
          minLength: n,
          maxLength: n,
        }),
        rFraction: fc.double({ min: 0, max: 1, noNaN: true }),
        utilisation: fc.double({ min: shape.utilisation[0], max: shape.utilisation[1], noNaN: true }),
        names: fc.shuffledSubarray(["edge", "cloud-a", "cloud-b", "pi", "vps", "pve-1", "pve-2", "nas"], {
          minLength: n,
          maxLength: n,
        }),
      }),
    )
    .map(({ pods, rates, rtt, shares, rFraction, utilisation, names }) => {
      const n = pods.length;
      if (!pods.some((c) => c !== 0)) pods[0] = 1;
      const nodes = names.map((name, i) => ({ name, maxPods: pods[i], serviceRate: rates[i] }));
      const podSum = pods.reduce((a, b) => a + b, 0);
      const replicas = Math.max(1, Math.round(rFraction * podSum));
      const rttMs: Record<string, Record<string, number>> = {};
      names.forEach((a, i) => {
        rttMs[a] = {};
        names.forEach((b, j) => {
          rttMs[a][b] = i === j ? 0 : Math.round(rtt[i * n + j] * 100) / 100;
        });
      });
      if (!shares.some((s) => s !== 0)) shares[0] = 1;
      const shareSum = shares.reduce((a, b) => a + b, 0);
      const total = utilisation * maxStableCapacity(nodes, replicas);
      const demand: Record<string, number> = {};
      names.forEach((name, i) => {
        if (shares[i] > 0) demand[name] = Math.round(((shares[i] * total) / shareSum) * 1000) / 1000;
      });
      return { nodes, rttMs, demand, replicas };
    })
    .filter(
      (input) =>
        Object.values(input.demand).reduce((a, b) => a + b, 0) < maxStableCapacity(input.nodes, input.replicas),
    );
}

/**
 * Random heterogeneous fleets as issue 13 describes them: 4–12 nodes of four kinds (100/200/300/400
 * req/s per pod, 2–4× apart), caps 3–8, R ≈ half the caps, RTT 1–40 ms, demand at 40–97% of the
 * largest-capacity placement (the R fastest pods).
 */
export function mixedFleetInput(nodes: [number, number] = [4, 12]): fc.Arbitrary<RoutingInput> {
  return fc
    .integer({ min: nodes[0], max: nodes[1] })
    .chain((n) =>
      fc.record({
        pods: fc.array(fc.integer({ min: 3, max: 8 }), { minLength: n, maxLength: n }),
        kinds: fc.array(fc.constantFrom(100, 200, 300, 400), { minLength: n, maxLength: n }),
        xy: fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true })), {
          minLength: n,
          maxLength: n,
        }),
        shares: fc.array(fc.oneof(fc.constant(0), fc.double({ min: 0.01, max: 1, noNaN: true })), {
          minLength: n,
          maxLength: n,
        }),
        utilisation: fc.double({ min: 0.4, max: 0.97, noNaN: true }),
      }),
    )
    .map(({ pods, kinds, xy, shares, utilisation }) => {
      const names = pods.map((_, i) => `node-${String(i).padStart(2, "0")}`);
      const nodes = names.map((name, i) => ({ name, maxPods: pods[i], serviceRate: kinds[i] }));
      const replicas = Math.max(1, Math.round(pods.reduce((a, b) => a + b, 0) / 2));
      const rttMs: Record<string, Record<string, number>> = {};
      names.forEach((a, i) => {
        rttMs[a] = {};
        names.forEach((b, j) => {
          rttMs[a][b] =
            i === j
              ? 0
              : Math.round((1 + (39 * Math.hypot(xy[i][0] - xy[j][0], xy[i][1] - xy[j][1])) / Math.SQRT2) * 100) / 100;
        });
      });
      if (!shares.some((s) => s !== 0)) shares[0] = 1;
      const shareSum = shares.reduce((a, b) => a + b, 0);
      const total = utilisation * maxStableCapacity(nodes, replicas);
      const demand: Record<string, number> = {};
      names.forEach((name, i) => {
        if (shares[i] > 0) demand[name] = Math.round(((shares[i] * total) / shareSum) * 1000) / 1000;
      });
      return { nodes, rttMs, demand, replicas };
    })
    .filter(
      (input) =>
        Object.values(input.demand).reduce((a, b) => a + b, 0) < maxStableCapacity(input.nodes, input.replicas),
    );
}
