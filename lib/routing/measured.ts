/**
 * A routing plan from measured latencies, for `pulumi up` (the RoutingPlan provider) and anything
 * else that plans once: read the matrix from Prometheus (lib/routing/matrix.ts), plan, and keep the
 * applied plan unless the hysteresis rule (lib/routing/hysteresis.ts) says the change is real — so
 * measurement noise never changes the plan, and a second `pulumi up` shows no diff.
 * The only I/O is the fetch; no clock.
 */
import { decideReplan, type HysteresisOptions, type ReplanDecision } from "./hysteresis";
import { readMatrix } from "./matrix";
import { planRouting } from "./plan";
import type { Algorithm, RoutingInput, RoutingPlan } from "./types";

export interface MeasuredPlanOptions extends HysteresisOptions {
  /** The routing input without the RTT matrix (nodes, demand, replicas). */
  readonly base: Omit<RoutingInput, "rttMs">;
  readonly algorithm?: Algorithm;
  /** Prometheus base URL. */
  readonly prometheus: string;
  /** The plan applied now and the input it was made for (a RoutingPlan's previous outputs). */
  readonly applied?: { readonly input: RoutingInput; readonly plan: RoutingPlan };
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export interface MeasuredPlan {
  /** The input the returned plan was made for: the new measurements when re-planned, else the applied input. */
  readonly input: RoutingInput;
  readonly plan: RoutingPlan;
  readonly decision: ReplanDecision;
}

/** Throws MatrixError (unreachable / query / missing pair) or RoutingInputError (the measured input is invalid). */
export async function measuredPlan(o: MeasuredPlanOptions): Promise<MeasuredPlan> {
  const nodes = o.base.nodes.map((n) => n.name);
  const { rttMs } = await readMatrix({
    prometheus: o.prometheus,
    nodes,
    ...(o.fetch ? { fetch: o.fetch } : {}),
    ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
  });
  const input: RoutingInput = { ...o.base, rttMs };
  const candidate = planRouting(input, o.algorithm ?? "optimal");
  const decision = decideReplan(o.applied, input, candidate, o);
  return decision.replan || !o.applied
    ? { input, plan: candidate, decision }
    : { input: o.applied.input, plan: o.applied.plan, decision };
}
