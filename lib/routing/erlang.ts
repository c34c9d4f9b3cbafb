/**
 * M/M/c (Erlang C) formulas. Pure numeric functions, no allocation in the hot paths.
 *
 * Notation: `c` servers (replicas), each serving `mu` requests per second, Poisson arrivals at
 * `lambda` requests per second, offered load `a = lambda / mu` (Erlangs), utilisation
 * `rho = a / c`. Stable iff `a < c`.
 *
 * The optimiser works with the expected number in system `L(a) = a + Lq(a)`, because by Little's
 * law the total delay of node j, `Λ_j · T_j`, equals `L_j / 1` in request·seconds per second:
 * the objective `Σ_j Λ_j T_j` is `Σ_j L_j`. `L` is convex and increasing in `a` on `[0, c)`.
 */

/** Erlang B blocking probability B(c, a), by the stable recursion B_k = a B_{k-1} / (k + a B_{k-1}). */
export function erlangB(c: number, a: number): number {
  let b = 1;
  for (let k = 1; k <= c; k++) b = (a * b) / (k + a * b);
  return b;
}

/** Erlang C: probability that an arrival waits, C(c, a). 1 when a ≥ c. */
export function erlangC(c: number, a: number): number {
  if (c <= 0) return 1;
  if (a >= c) return 1;
  if (a <= 0) return 0;
  const b = erlangB(c, a);
  return (c * b) / (c - a * (1 - b));
}

/** Mean sojourn time (wait + service) of an M/M/c queue, in milliseconds. Infinity when unstable. */
export function mmcSojournMs(lambda: number, c: number, mu: number): number {
  if (c <= 0) return lambda > 0 ? Infinity : 0;
  const cap = c * mu;
  if (lambda >= cap) return Infinity;
  const wq = lambda > 0 ? erlangC(c, lambda / mu) / (cap - lambda) : 0;
  return 1000 * (wq + 1 / mu);
}

/** Mean number in system L(a) = a + Lq(a) for M/M/c. Infinity when a ≥ c. */
export function mmcL(c: number, a: number): number {
  if (a <= 0) return 0;
  if (a >= c) return Infinity;
  return a + (erlangC(c, a) * a) / (c - a);
}

/**
 * L(a) and its first two derivatives in `a`, evaluated with second-order forward-mode
 * differentiation through the Erlang B recursion. Writes [L, L', L''] into `out`.
 * Requires 0 ≤ a < c.
 */
export function mmcLJet(c: number, a: number, out: Float64Array): void {
  // B as a jet (b0, b1, b2) in a.
  let b0 = 1;
  let b1 = 0;
  let b2 = 0;
  for (let k = 1; k <= c; k++) {
    // u = a * B
    const u0 = a * b0;
    const u1 = b0 + a * b1;
    const u2 = 2 * b1 + a * b2;
    // B = u / (k + u)
    const g0 = k + u0;
    const q0 = u0 / g0;
    const q1 = (u1 - q0 * u1) / g0;
    const q2 = (u2 - 2 * q1 * u1 - q0 * u2) / g0;
    b0 = q0;
    b1 = q1;
    b2 = q2;
  }
  // D = c - a (1 - B) = c - a + a B
  const d0 = c - a + a * b0;
  const d1 = -1 + b0 + a * b1;
  const d2 = 2 * b1 + a * b2;
  // C = c B / D
  const n0 = c * b0;
  const n1 = c * b1;
  const n2 = c * b2;
  const c0 = n0 / d0;
  const c1 = (n1 - c0 * d1) / d0;
  const c2 = (n2 - 2 * c1 * d1 - c0 * d2) / d0;
  // Lq = a C / (c - a)
  const m0 = a * c0;
  const m1 = c0 + a * c1;
  const m2 = 2 * c1 + a * c2;
  const e0 = c - a;
  const l0 = m0 / e0;
  const l1 = (m1 + l0) / e0; // e1 = -1
  const l2 = (m2 + 2 * l1) / e0; // e2 = 0
  out[0] = a + l0;
  out[1] = 1 + l1;
  out[2] = l2;
}

/**
 * Probability that the sojourn time of an M/M/c FCFS queue exceeds `tSec` seconds:
 * S = Wq + B, Wq = 0 with probability 1 − C and Exp(θ) otherwise (θ = cμ − λ), B ~ Exp(μ).
 */
export function mmcSojournTail(lambda: number, c: number, mu: number, tSec: number): number {
  if (tSec <= 0) return 1;
  const cap = c * mu;
  if (lambda >= cap) return 1;
  const pw = lambda > 0 ? erlangC(c, lambda / mu) : 0;
  const theta = cap - lambda;
  const serv = Math.exp(-mu * tSec);
  let conv: number;
  if (Math.abs(theta - mu) < 1e-9 * mu) conv = (1 + mu * tSec) * serv;
  else conv = (theta * serv - mu * Math.exp(-theta * tSec)) / (theta - mu);
  return (1 - pw) * serv + pw * conv;
}

const cjet = new Float64Array(3);

/**
 * Convex conjugate of a node's delay cost H(Λ) = 1000 · L(Λ/μ; c):
 * G*(ν) = max_{0 ≤ Λ < cμ} (νΛ − H(Λ)), the "profit" of a node paid ν ms per request.
 * Returns the value and the maximising load. G* is 0 for c = 0 or ν ≤ 1000/μ.
 */
export function mmcConjugate(c: number, mu: number, nu: number): { value: number; load: number } {
  if (c <= 0) return { value: 0, load: 0 };
  const target = (nu * mu) / 1000; // solve L'(a) = target
  if (target <= 1) return { value: 0, load: 0 };
  let lo = 0;
  let hi = c;
  let a = c * (1 - 1 / (2 * Math.sqrt(target))); // M/M/1-like first guess: L' = 1/(1-ρ)^2
  if (!(a > 0 && a < c)) a = c / 2;
  for (let it = 0; it < 100; it++) {
    mmcLJet(c, a, cjet);
    const f = cjet[1] - target;
    if (f > 0) hi = a;
    else lo = a;
    if (Math.abs(f) <= 1e-12 * target || hi - lo <= 1e-14 * c) break;
    let na = cjet[2] > 0 ? a - f / cjet[2] : (lo + hi) / 2;
    if (!(na > lo && na < hi)) na = (lo + hi) / 2;
    a = na;
  }
  mmcLJet(c, a, cjet);
  const load = a * mu;
  return { value: nu * load - 1000 * cjet[0], load };
}
