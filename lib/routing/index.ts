/**
 * kantai's latency-aware routing library: joint replica placement and per-node weights that
 * minimise mean response time (RTT + M/M/c sojourn), the baselines it is measured against, an
 * analytic evaluator, a discrete-event simulator and a parser for monlat measurements.
 *
 * Pure: imports nothing from @pulumi/* or from elsewhere in the project. See docs/concepts/routing.md.
 */
export { ALGORITHMS, RoutingInputError } from "./types";
export type {
  Algorithm,
  IndexedPlan,
  InputIssue,
  Problem,
  RoutingInput,
  RoutingNode,
  RoutingPlan,
  SparseRow,
} from "./types";
export {
  buildProblem,
  maxStableCapacity,
  parseRoutingInput,
  problemFrom,
  routingInputIssues,
  MAX_REPLICAS,
} from "./validate";
export { isAlgorithm, planRouting, roundRow, runAlgorithm, toRoutingPlan, WEIGHT_RESOLUTION } from "./plan";
export {
  evenPlan,
  ikukantaiPlan,
  ikukantaiPercentRow,
  nearestPlan,
  yukariReplicas,
  demandProportionalReplicas,
  evenReplicas,
} from "./baselines";
export { evaluatePlan, planIssues, responseQuantileMs } from "./evaluate";
export type { Evaluation } from "./evaluate";
export { optimise, lagrangianPlacement, nodePrices, regimeOf } from "./optimise";
export type { OptimiseOptions, OptimiseResult, Regime } from "./optimise";
export { FlowSolver, routeFixed } from "./flow";
export { erlangB, erlangC, mmcSojournMs, mmcSojournTail } from "./erlang";
export { simulatePlan } from "./simulate";
export type { SimulationOptions, SimulationResult } from "./simulate";
export { parseMonlat } from "./monlat";
export type { MonlatOptions } from "./monlat";
export { lagrangianLowerBound } from "./bounds";
export { exactOptimum } from "./exact";
export { exhaustiveOptimum } from "./exhaustive";
