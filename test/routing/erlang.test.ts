import { describe, expect, it } from "vitest";
import { erlangB, erlangC, mmcConjugate, mmcL, mmcLJet, mmcSojournMs, mmcSojournTail } from "../../lib/routing/erlang";

describe("Erlang formulas", () => {
  it("match textbook values", () => {
    // Erlang B(c=1, a=1) = 1/2; B(2, 1) = 1/5; C(2, 1) = 1/3.
    expect(erlangB(1, 1)).toBeCloseTo(0.5, 12);
    expect(erlangB(2, 1)).toBeCloseTo(0.2, 12);
    expect(erlangC(2, 1)).toBeCloseTo(1 / 3, 12);
    // 10 servers at 8 Erlangs: C ≈ 0.40918.
    expect(erlangC(10, 8)).toBeCloseTo(0.409179, 5);
    expect(erlangC(3, 0)).toBe(0);
    expect(erlangC(3, 3)).toBe(1);
  });

  it("gives the M/M/1 sojourn 1/(μ − λ)", () => {
    expect(mmcSojournMs(150, 1, 250)).toBeCloseTo(1000 / 100, 10);
    expect(mmcSojournMs(0, 4, 250)).toBeCloseTo(4, 12);
    expect(mmcSojournMs(250, 1, 250)).toBe(Infinity);
    expect(mmcSojournMs(1, 0, 250)).toBe(Infinity);
  });

  it("differentiates L(a) exactly (against central differences)", () => {
    const out = new Float64Array(3);
    for (const [c, a] of [
      [1, 0.3],
      [2, 1.5],
      [5, 4.2],
      [8, 0.5],
      [20, 19.5],
    ]) {
      mmcLJet(c, a, out);
      const h = 1e-5 * Math.max(1, a);
      expect(out[0]).toBeCloseTo(mmcL(c, a), 9);
      const d1 = (mmcL(c, a + h) - mmcL(c, a - h)) / (2 * h);
      const l1 = out[1];
      const l2 = out[2];
      mmcLJet(c, a + h, out);
      const up = out[1];
      mmcLJet(c, a - h, out);
      const d2 = (up - out[1]) / (2 * h);
      expect(l1 / d1).toBeCloseTo(1, 6);
      expect(Math.abs(l2 - d2)).toBeLessThan(1e-5 * Math.max(1, Math.abs(d2)));
    }
  });

  it("has an exponential sojourn tail for M/M/1", () => {
    // S ~ Exp(μ − λ): P(S > t) = exp(−(μ − λ) t).
    for (const t of [0.001, 0.01, 0.05]) expect(mmcSojournTail(150, 1, 250, t)).toBeCloseTo(Math.exp(-100 * t), 10);
  });

  it("computes the conjugate G*(ν) = max (νΛ − H(Λ)) at the load where H'(Λ) = ν", () => {
    const out = new Float64Array(3);
    const { value, load } = mmcConjugate(3, 100, 25);
    mmcLJet(3, load / 100, out);
    expect((1000 / 100) * out[1]).toBeCloseTo(25, 6);
    expect(value).toBeCloseTo(25 * load - 1000 * out[0], 6);
    // Below the bare service time nothing is worth serving.
    expect(mmcConjugate(3, 100, 10)).toEqual({ value: 0, load: 0 });
    expect(mmcConjugate(0, 100, 50)).toEqual({ value: 0, load: 0 });
  });
});
