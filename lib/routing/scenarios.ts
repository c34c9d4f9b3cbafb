/**
 * The benchmark scenarios of docs/concepts/routing.md#the-benchmark as seeded, reproducible RoutingInputs. Pure.
 */
import { createRng } from "./rng";
import type { RoutingInput, RoutingNode } from "./types";
import { maxStableCapacity } from "./validate";

export interface Scenario {
  /** Unique name, e.g. "geometric-300 @85%". */
  readonly name: string;
  /** Table the scenario belongs to, e.g. "faast-50ms". */
  readonly group: string;
  /** Total demand / capacity of the R fastest replicas. */
  readonly utilisation: number;
  readonly input: RoutingInput;
  /** Coefficient of variation of the per-request RTT jitter (lognormal, mean-preserving). */
  readonly jitterCv: number;
}

type Matrix = Record<string, Record<string, number>>;

function matrix(names: readonly string[], f: (i: number, j: number) => number): Matrix {
  const m: Matrix = {};
  names.forEach((a, i) => {
    m[a] = {};
    names.forEach((b, j) => {
      m[a][b] = i === j ? 0 : Math.round(f(Math.min(i, j), Math.max(i, j)) * 1000) / 1000;
    });
  });
  return m;
}

/** Zipf(s) shares over a seeded permutation of the nodes. */
function zipfDemand(names: readonly string[], total: number, seed: number, s = 1): Record<string, number> {
  const rng = createRng(seed);
  const perm = names.map((_, i) => i);
  for (let i = perm.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  let h = 0;
  for (let r = 1; r <= names.length; r++) h += 1 / r ** s;
  const out: Record<string, number> = {};
  perm.forEach((node, rank) => {
    out[names[node]] = Math.round(((total * (1 / (rank + 1) ** s)) / h) * 1000) / 1000;
  });
  return out;
}

function scaleDemand(demand: Record<string, number>, total: number): Record<string, number> {
  const sum = Object.values(demand).reduce((a, b) => a + b, 0);
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(demand)) out[k] = Math.round(((v * total) / sum) * 1000) / 1000;
  return out;
}

function at(
  group: string,
  rho: number,
  nodes: RoutingNode[],
  rttMs: Matrix,
  shape: Record<string, number>,
  replicas: number,
  jitterCv: number,
): Scenario {
  const cap = maxStableCapacity(nodes, replicas);
  return {
    name: `${group} @${Math.round(rho * 100)}%`,
    group,
    utilisation: rho,
    input: { nodes, rttMs, demand: scaleDemand(shape, rho * cap), replicas },
    jitterCv,
  };
}

export const UTILISATIONS = [0.3, 0.6, 0.85, 0.95] as const;

/**
 * FaaSt replica: 2 cloud workers (6 pods each) and 1 edge worker (5 pods), cloud–cloud 1 ms,
 * edge–cloud 50 or 100 ms, 4 ms service (250 req/s per pod), 90% of demand at the edge, R = 8.
 */
export function faastScenarios(
  edgeCloudMs: 50 | 100,
  utilisations: readonly number[] = [0.1, 0.5, 0.85, 0.95],
): Scenario[] {
  const nodes: RoutingNode[] = [
    { name: "cloud-1", maxPods: 6, serviceRate: 250 },
    { name: "cloud-2", maxPods: 6, serviceRate: 250 },
    { name: "edge-1", maxPods: 5, serviceRate: 250 },
  ];
  const names = nodes.map((n) => n.name);
  const rtt = matrix(names, (i, j) => (names[i].startsWith("cloud") && names[j].startsWith("cloud") ? 1 : edgeCloudMs));
  const shape = { "cloud-1": 0.05, "cloud-2": 0.05, "edge-1": 0.9 };
  return utilisations.map((u) => at(`faast-${edgeCloudMs}ms`, u, nodes, rtt, shape, 8, 0.2));
}

/**
 * Homelab: Proxmox VMs on one LAN (0.3–0.8 ms, 250 req/s per pod, 8 pods), Raspberry Pis
 * (1–3 ms, 100 req/s per pod, 4 pods) and one remote VPS (20–80 ms, 200 req/s, 4 pods); Zipf demand.
 */
export function homelabScenarios(size: 6 | 10, seed = 4, utilisations: readonly number[] = UTILISATIONS): Scenario[] {
  const rng = createRng(seed * 1000 + size);
  const vms = size === 6 ? 3 : 5;
  const pis = size - vms - 1;
  const nodes: RoutingNode[] = [];
  for (let k = 1; k <= vms; k++) nodes.push({ name: `pve-${k}`, maxPods: 8, serviceRate: 250 });
  for (let k = 1; k <= pis; k++) nodes.push({ name: `pi-${k}`, maxPods: 4, serviceRate: 100 });
  nodes.push({ name: "vps-1", maxPods: 4, serviceRate: 200 });
  const names = nodes.map((n) => n.name);
  const vpsRtt = 20 + 60 * rng.next();
  const kind = (i: number) => names[i].split("-")[0];
  const rtt = matrix(names, (i, j) => {
    const [a, b] = [kind(i), kind(j)];
    if (a === "vps" || b === "vps") return vpsRtt + 2 * rng.next();
    if (a === "pve" && b === "pve") return 0.3 + 0.5 * rng.next();
    return 1 + 2 * rng.next();
  });
  const shape = zipfDemand(names, 1, seed + size);
  const replicas = size === 6 ? 10 : 16;
  return utilisations.map((u) => at(`homelab-${size}`, u, nodes, rtt, shape, replicas, 0.1));
}

/**
 * Edge fleet: N nodes uniform in a square, RTT 5–150 ms growing with distance, 250 req/s per pod,
 * 8 pods per node, R = 2N, Zipf hotspots over a seeded permutation.
 */
export function geometricScenarios(size: number, seed = 4, utilisations: readonly number[] = UTILISATIONS): Scenario[] {
  const rng = createRng(seed * 7919 + size);
  const xs = Array.from({ length: size }, () => [rng.next(), rng.next()] as const);
  const pad = String(size - 1).length;
  const names = xs.map((_, i) => `n${String(i).padStart(pad, "0")}`);
  const nodes: RoutingNode[] = names.map((name) => ({ name, maxPods: 8, serviceRate: 250 }));
  const rtt = matrix(names, (i, j) => 5 + (145 * Math.hypot(xs[i][0] - xs[j][0], xs[i][1] - xs[j][1])) / Math.SQRT2);
  const shape = zipfDemand(names, 1, seed + size);
  return utilisations.map((u) => at(`geometric-${size}`, u, nodes, rtt, shape, 2 * size, 0.1));
}

/** Service rates (req/s per pod) of the heterogeneous fleets' node kinds: 4× between the slowest and the fastest. */
export const MIXED_KINDS = [
  { kind: "pi", serviceRate: 100 },
  { kind: "mini", serviceRate: 200 },
  { kind: "nuc", serviceRate: 300 },
  { kind: "server", serviceRate: 400 },
] as const;

export const MIXED_UTILISATIONS = [0.6, 0.85, 0.95] as const;

/**
 * Heterogeneous fleet (Raspberry Pis, mini PCs and big servers side by side): N nodes uniform in
 * a square, RTT 2–40 ms growing with distance, each node one of MIXED_KINDS (100–400 req/s per pod,
 * 2–4× apart) with a cap of 3–8 pods, replica budget ≈ half the total caps, Zipf demand. The
 * utilisation is of the largest-capacity placement (the R fastest pods within the caps).
 */
export function mixedScenarios(
  size: number,
  seed = 13,
  utilisations: readonly number[] = MIXED_UTILISATIONS,
): Scenario[] {
  const rng = createRng(seed * 104729 + size);
  const xs = Array.from({ length: size }, () => [rng.next(), rng.next()] as const);
  const pad = String(size - 1).length;
  const nodes: RoutingNode[] = xs.map((_, i) => {
    const k = MIXED_KINDS[rng.int(MIXED_KINDS.length)];
    return { name: `${k.kind}-${String(i).padStart(pad, "0")}`, maxPods: 3 + rng.int(6), serviceRate: k.serviceRate };
  });
  const names = nodes.map((n) => n.name);
  const rtt = matrix(names, (i, j) => 2 + (38 * Math.hypot(xs[i][0] - xs[j][0], xs[i][1] - xs[j][1])) / Math.SQRT2);
  const shape = zipfDemand(names, 1, seed + size);
  const replicas = Math.round(nodes.reduce((s, n) => s + n.maxPods, 0) / 2);
  return utilisations.map((u) => at(`mixed-${size}`, u, nodes, rtt, shape, replicas, 0.1));
}

/** The heterogeneous fleets of the benchmark: 20, 50, 100 and 1000 nodes at 60/85/95%. */
export function mixedFleetScenarios(): Scenario[] {
  return [20, 50, 100, 1000].flatMap((size) => mixedScenarios(size));
}

/** Every benchmark scenario, in table order. */
export function allScenarios(): Scenario[] {
  return [
    ...faastScenarios(50),
    ...faastScenarios(100),
    ...homelabScenarios(6),
    ...homelabScenarios(10),
    ...geometricScenarios(100),
    ...geometricScenarios(300),
    ...geometricScenarios(1000),
    ...mixedFleetScenarios(),
  ];
}
