/**
 * Optimal routing for fixed replicas (a separable convex-cost flow):
 * - solver.ts — FlowSolver: per-source Newton block steps, Newton steps on the node loads,
 *   reduced-cost pricing and the Frank–Wolfe certificate;
 * - transport.ts — the exact transportation solver at fixed node loads (successive shortest paths);
 * - heap.ts — the binary heaps both use.
 */
export { effectiveDemand, FlowSolver, routeFixed } from "./solver";
export type { FlowOptions, FlowResult, FlowSnapshot } from "./solver";
export { Transportation } from "./transport";
