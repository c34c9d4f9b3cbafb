/**
 * RoutingPlan: a dynamic resource whose output `plan` is kantai's latency-aware routing plan
 * (replicas per node and per-node weights) for the given nodes, RTT matrix, demand and replica
 * budget. The computation runs in the provider (routingPlanProvider.ts) during check/create/update,
 * so a changed latency matrix or demand shows up in `pulumi preview` as an update of this resource.
 *
 * Type token: `pulumi-nodejs:dynamic/kantai/routing:RoutingPlan` (a dynamic resource's package is
 * always `pulumi-nodejs`; `kantai/routing` is its module and `RoutingPlan` its type).
 */
import * as pulumi from "@pulumi/pulumi";
import { DEFAULT_IMPROVEMENT_PCT, DEFAULT_RTT_MOVE_MS } from "../../lib/routing/hysteresis";
import type { Algorithm, RoutingNode, RoutingPlan as Plan } from "../../lib/routing/types";
import { routingPlanProvider } from "./routingPlanProvider";

export const ROUTING_PLAN_MODULE = "kantai/routing";
export const ROUTING_PLAN_KIND = "RoutingPlan";
/** The full type token of RoutingPlan resources. */
export const ROUTING_PLAN_TYPE = `pulumi-nodejs:dynamic/${ROUTING_PLAN_MODULE}:${ROUTING_PLAN_KIND}`;

export interface RoutingPlanArgs {
  /** Nodes that may run replicas or receive requests: name (kubernetes.io/hostname), maxPods, serviceRate (req/s per replica). */
  readonly nodes: pulumi.Input<readonly RoutingNode[]>;
  /** RTT in ms from ingress node to serving node, `rttMs[from][to]` (from config or `parseMonlat`). A missing diagonal is 0. */
  readonly rttMs: pulumi.Input<Record<string, Record<string, number>>>;
  /** Requests per second entering at each node; nodes not listed have none. */
  readonly demand: pulumi.Input<Record<string, number>>;
  /** Replica budget R: the plan's replicas sum to exactly R. */
  readonly replicas: pulumi.Input<number>;
  /** Algorithm: kantai's optimiser or a baseline (kantai:routing.services[].algorithm; default in stacks/config/routing.ts, ROUTING_DEFAULTS). */
  readonly algorithm: pulumi.Input<Algorithm>;
  /**
   * Read the RTT matrix from this Prometheus at `pulumi up` (reachable from where pulumi runs);
   * `rttMs` is then ignored (pass zeros) and the plan changes only when `hysteresis` says so
   * (lib/routing/hysteresis.ts). Defaults to none: the plan is made from `rttMs`.
   */
  readonly latencyPrometheus?: pulumi.Input<string>;
  /** Hysteresis for latencyPrometheus. Defaults to improvementPct 5, rttMoveMs 10. */
  readonly hysteresis?: pulumi.Input<{ improvementPct: number; rttMoveMs: number }>;
}

export class RoutingPlan extends pulumi.dynamic.Resource {
  // `declare` keeps these as type-only fields: with target ES2022 a `!` field would be reset after super().
  declare public readonly nodes: pulumi.Output<RoutingNode[]>;
  declare public readonly rttMs: pulumi.Output<Record<string, Record<string, number>>>;
  declare public readonly demand: pulumi.Output<Record<string, number>>;
  declare public readonly replicas: pulumi.Output<number>;
  declare public readonly algorithm: pulumi.Output<Algorithm>;
  /** The plan: `{replicas, weights, predicted: {meanMs}}`, keys sorted. */
  declare public readonly plan: pulumi.Output<Plan>;

  constructor(name: string, args: RoutingPlanArgs, opts?: pulumi.CustomResourceOptions) {
    super(
      routingPlanProvider,
      name,
      {
        nodes: args.nodes,
        rttMs: args.rttMs,
        demand: args.demand,
        replicas: args.replicas,
        algorithm: args.algorithm,
        ...(args.latencyPrometheus !== undefined
          ? {
              latencyPrometheus: args.latencyPrometheus,
              hysteresis: args.hysteresis ?? {
                improvementPct: DEFAULT_IMPROVEMENT_PCT,
                rttMoveMs: DEFAULT_RTT_MOVE_MS,
              },
            }
          : {}),
        plan: undefined,
      },
      opts,
      ROUTING_PLAN_MODULE,
      ROUTING_PLAN_KIND,
    );
  }
}
