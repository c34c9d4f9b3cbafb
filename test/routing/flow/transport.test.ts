/**
 * The transportation solver on its own, against HiGHS (npm `highs`, an independent LP solver) on
 * seeded random instances, plus the LP optimality conditions of its potentials.
 */
import { describe, expect, it } from "vitest";
import { loadHighs } from "../../../lib/routing/exact";
import { createRng } from "../../../lib/routing/rng";
import { Transportation } from "../../../lib/routing/flow/transport";

interface Instance {
  n: number;
  rtt: Float64Array;
  src: Int32Array;
  lam: Float64Array;
  cands: number[][];
  target: Float64Array;
}

/** n nodes, random costs, every node a source with random demand, random candidate arcs (each source ≥ 1), targets summing to the demand. */
function instance(seed: number, n: number, density: number): Instance {
  const rng = createRng(seed);
  const rtt = new Float64Array(n * n);
  for (let k = 0; k < n * n; k++) rtt[k] = Math.round(100 * rng.next() * 50) / 100;
  const lam = new Float64Array(n);
  for (let i = 0; i < n; i++) lam[i] = 1 + Math.round(100 * rng.next());
  const src = Int32Array.from(Array.from({ length: n }, (_, i) => i));
  const cands = Array.from({ length: n }, (_, i) => {
    const c = Array.from({ length: n }, (_, j) => j).filter((j) => j === i || rng.next() < density);
    return c;
  });
  // Targets: a feasible load vector — route each source's demand over its candidates at random.
  const target = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const w = cands[i].map(() => rng.next() + 0.01);
    const s = w.reduce((a, b) => a + b, 0);
    cands[i].forEach((j, q) => (target[j] += (lam[i] * w[q]) / s));
  }
  return { n, rtt, src, lam, cands, target };
}

async function highsCost(x: Instance): Promise<number> {
  const highs = await loadHighs();
  const terms: string[] = [];
  const rows: string[] = [];
  const col: string[][] = Array.from({ length: x.n }, () => []);
  for (let i = 0; i < x.n; i++) {
    const vars = x.cands[i].map((j) => `x_${i}_${j}`);
    x.cands[i].forEach((j) => {
      terms.push(`${x.rtt[i * x.n + j]} x_${i}_${j}`);
      col[j].push(`x_${i}_${j}`);
    });
    rows.push(` s_${i}: ${vars.join(" + ")} = ${x.lam[i]}`);
  }
  for (let j = 0; j < x.n; j++) if (col[j].length > 0) rows.push(` t_${j}: ${col[j].join(" + ")} = ${x.target[j]}`);
  const lp = ["Minimize", ` obj: ${terms.join(" + ")}`, "Subject To", ...rows, "End"].join("\n");
  const res = highs.solve(lp, { output_flag: false });
  expect(res.Status).toBe("Optimal");
  return res.ObjectiveValue;
}

function solve(x: Instance) {
  const t = new Transportation(x.rtt, x.n, x.src, x.lam);
  t.build(x.cands);
  const flow = new Float64Array(t.arcs!.E);
  const pot = new Float64Array(2 * x.n);
  const cost = t.solve(x.target, flow, pot);
  return { t, flow, pot, cost };
}

describe("transportation solver (flow/transport.ts)", () => {
  it("matches HiGHS's optimal cost on random instances", async () => {
    for (let seed = 1; seed <= 12; seed++) {
      const x = instance(seed, 3 + (seed % 6), 0.5);
      const { cost, flow, t } = solve(x);
      const ref = await highsCost(x);
      expect(cost).toBeCloseTo(ref, 6);
      // Row and column sums hold.
      const { off, head } = t.arcs!;
      const col = new Float64Array(x.n);
      for (let s = 0; s < x.n; s++) {
        let row = 0;
        for (let e = off[s]; e < off[s + 1]; e++) {
          expect(flow[e]).toBeGreaterThanOrEqual(-1e-9);
          row += flow[e];
          col[head[e]] += flow[e];
        }
        expect(row).toBeCloseTo(x.lam[s], 6);
      }
      for (let j = 0; j < x.n; j++) expect(col[j]).toBeCloseTo(x.target[j], 6);
    }
  }, 60_000);

  it("returns optimal duals: reduced costs ≥ 0 on every arc and 0 on arcs that carry flow", () => {
    for (let seed = 20; seed <= 30; seed++) {
      const x = instance(seed, 6, 0.6);
      const { flow, pot, t } = solve(x);
      const { off, head, cost } = t.arcs!;
      for (let s = 0; s < x.n; s++) {
        for (let e = off[s]; e < off[s + 1]; e++) {
          const rc = cost[e] + pot[s] - pot[x.n + head[e]];
          expect(rc).toBeGreaterThanOrEqual(-1e-7);
          if (flow[e] > 1e-9) expect(Math.abs(rc)).toBeLessThan(1e-7);
        }
      }
    }
  });

  it("reports NaN when the candidate arcs cannot carry the loads", () => {
    // Two sources that may only use node 0, but node 1 must receive half the demand.
    const x: Instance = {
      n: 2,
      rtt: Float64Array.from([0, 1, 1, 0]),
      src: Int32Array.from([0, 1]),
      lam: Float64Array.from([10, 10]),
      cands: [[0], [0]],
      target: Float64Array.from([10, 10]),
    };
    expect(Number.isNaN(solve(x).cost)).toBe(true);
  });
});
