/**
 * stacks/parts/routing.ts `appliedPlan`: a LatencyAwareService applies the RoutingPlan resource's plan; only
 * when the resource has none — under the synth's mocks, where no dynamic provider runs — does the
 * program's own computation stand in, flagged as simulated.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { RoutingPlan } from "../components/routing/routingPlan";
import type { RoutingPlan as Plan } from "../lib/routing";
import { appliedPlan } from "../stacks/parts";

const deployed: Plan = { replicas: { a: 2, b: 0 }, weights: { a: { a: 1 }, b: { a: 1 } }, predicted: { meanMs: 7.5 } };
const local: Plan = { replicas: { a: 1, b: 1 }, weights: { a: { a: 1 }, b: { b: 1 } }, predicted: { meanMs: 9 } };
const resolve = <T>(o: pulumi.Output<T>) => new Promise<T>((r) => o.apply(r));

describe("appliedPlan", () => {
  it("uses the resource's plan and never computes its own", async () => {
    let calls = 0;
    const r = await resolve(
      appliedPlan({ plan: pulumi.output(deployed) } as unknown as RoutingPlan, () => (calls++, local)),
    );
    expect(r).toEqual({ plan: deployed, simulated: false });
    expect(calls).toBe(0);
  });

  it("falls back to the program's computation, flagged simulated, when the resource has no plan (mocks)", async () => {
    const r = await resolve(appliedPlan({ plan: pulumi.output(undefined) } as unknown as RoutingPlan, () => local));
    expect(r).toEqual({ plan: local, simulated: true });
  });
});
