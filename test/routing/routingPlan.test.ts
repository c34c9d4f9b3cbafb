/**
 * RoutingPlan: the provider's methods directly, the resource under Pulumi mocks (the mock plays the
 * engine: it deserializes the provider the resource serialized and runs check → create), and a
 * real serialization round-trip: the serialized provider loaded and called in a fresh `node`.
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { planRouting } from "../../lib/routing";
import {
  canonicalInputs,
  type RoutingPlanInputs,
  routingPlanProvider as provider,
} from "../../components/routing/routingPlanProvider";
import { ROUTING_DEFAULTS } from "../../stacks/config";
import { faastNodes, faastRttMs } from "./fixtures";
import { runSerializedProvider } from "../support/dynamicProvider";

const ROOT = path.resolve(__dirname, "..", "..");
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

const inputs = (): RoutingPlanInputs => ({
  nodes: faastNodes(),
  rttMs: faastRttMs(),
  demand: { edge: 900, cloud1: 50, cloud2: 50 },
  replicas: 6,
  algorithm: "optimal",
});
const expectedPlan = () =>
  planRouting({ nodes: inputs().nodes, rttMs: inputs().rttMs, demand: inputs().demand, replicas: 6 });

describe("RoutingPlan provider", () => {
  it("check: canonical inputs, no failures for a valid input", async () => {
    const res = await provider.check!({} as RoutingPlanInputs, inputs());
    expect(res.failures).toBeUndefined();
    expect(res.inputs!.nodes.map((n) => n.name)).toEqual(["cloud1", "cloud2", "edge"]);
    expect(Object.keys(res.inputs!.rttMs)).toEqual(["cloud1", "cloud2", "edge"]);
    expect(Object.keys(res.inputs!.rttMs.edge)).toEqual(["cloud1", "cloud2"]);
  });

  it("check: property-level failures naming the field", async () => {
    const bad = inputs() as any;
    bad.rttMs.edge.cloud1 = -4;
    bad.demand.mars = 3;
    bad.algorithm = "fastest";
    const res = await provider.check!({} as RoutingPlanInputs, bad);
    expect(res.failures).toEqual([
      { property: "rttMs.edge.cloud1", reason: "must be a non-negative number" },
      { property: "demand.mars", reason: 'unknown node "mars"' },
      { property: "algorithm", reason: "must be one of optimal, even, nearest, ikukantai" },
    ]);
  });

  it("check: skips validation while inputs are unknown (preview)", async () => {
    const res = await provider.check!({} as RoutingPlanInputs, { ...inputs(), rttMs: UNKNOWN as any });
    expect(res.failures).toBeUndefined();
  });

  it("diff: deterministic — same input in another key order is no change, a new latency is", async () => {
    const a = inputs();
    const reordered = canonicalInputs({
      ...a,
      nodes: [...a.nodes].reverse(),
      demand: { cloud2: 50, cloud1: 50, edge: 900 },
    });
    expect(await provider.diff!("id", { ...a, plan: expectedPlan() }, reordered)).toEqual({
      changes: false,
      replaces: [],
      deleteBeforeReplace: false,
    });
    const moved = inputs() as any;
    moved.rttMs.edge.cloud1 = 70;
    expect((await provider.diff!("id", { ...a, plan: expectedPlan() }, moved)).changes).toBe(true);
    expect(
      (await provider.diff!("id", { ...a, plan: expectedPlan() }, { ...a, replicas: UNKNOWN as any })).changes,
    ).toBe(true);
  });

  it("diff: state written before `algorithm` existed reads as config's default (ROUTING_DEFAULTS), no change", async () => {
    const { algorithm, ...old } = { ...inputs(), algorithm: ROUTING_DEFAULTS.algorithm };
    expect(algorithm).toBe("optimal");
    expect(canonicalInputs(old).algorithm).toBe(ROUTING_DEFAULTS.algorithm);
    expect(
      (await provider.diff!("id", { ...old, plan: expectedPlan() } as any, { ...old, algorithm } as RoutingPlanInputs))
        .changes,
    ).toBe(false);
  });

  it("create and update return complete outputs: every input and the plan", async () => {
    const created = await provider.create!(inputs());
    expect(created.id).toMatch(/^routingplan-[0-9a-f]{16}$/);
    expect(created.outs).toEqual({ ...canonicalInputs(inputs() as any), plan: expectedPlan() });
    // Same input → same id (deterministic).
    expect((await provider.create!(inputs())).id).toBe(created.id);
    const updated = await provider.update!(created.id, created.outs as any, { ...inputs(), algorithm: "ikukantai" });
    expect(updated.outs!.algorithm).toBe("ikukantai");
    expect(updated.outs!.plan.weights.edge).toEqual({ cloud1: 0.06, edge: 0.94 });
    expect(Object.keys(updated.outs!)).toEqual(["nodes", "rttMs", "demand", "replicas", "algorithm", "plan"]);
  });

  it("create fails loudly when a baseline cannot serve the demand", async () => {
    const tight = { ...inputs(), demand: { edge: 1400 }, algorithm: "nearest" };
    await expect(provider.create!(tight)).rejects.toThrow(
      "demand: the nearest algorithm cannot serve this demand stably",
    );
  });
});

describe("RoutingPlan under Pulumi mocks (the mock plays the engine)", () => {
  const created: { type: string; name: string; inputs: any; outs: any }[] = [];
  let planOutput: any;
  let typeToken = "";

  beforeAll(async () => {
    const pulumi = await import("@pulumi/pulumi");
    pulumi.runtime.setMocks(
      {
        newResource: async (args) => {
          // Like the engine's dynamic-provider host: deserialize __provider, check, then create.
          const Module = require("node:module");
          const m = new Module("", undefined);
          m.paths = Module._nodeModulePaths(ROOT);
          m._compile(args.inputs.__provider, path.join(ROOT, "__provider.js"));
          const prov = m.exports.handler();
          const checked = await prov.check({}, args.inputs);
          if (checked.failures?.length) throw new Error(JSON.stringify(checked.failures));
          const res = await prov.create(checked.inputs);
          created.push({ type: args.type, name: args.name, inputs: args.inputs, outs: res.outs });
          return { id: res.id, state: res.outs };
        },
        call: async (args) => args.inputs,
      },
      "kantai",
      "test",
      false,
    );
    const { RoutingPlan, ROUTING_PLAN_TYPE } = await import("../../components/routing/routingPlan");
    typeToken = ROUTING_PLAN_TYPE;
    const i = inputs();
    const rp = new RoutingPlan("edge-routing", {
      nodes: i.nodes,
      rttMs: i.rttMs,
      demand: pulumi.output(i.demand),
      replicas: 6,
      algorithm: ROUTING_DEFAULTS.algorithm,
    });
    planOutput = await new Promise((resolve) => rp.plan.apply(resolve));
  }, 120_000);

  it("registers one resource with the kantai/routing type token", () => {
    expect(created.map((c) => [c.type, c.name])).toEqual([
      ["pulumi-nodejs:dynamic/kantai/routing:RoutingPlan", "edge-routing"],
    ]);
    expect(typeToken).toBe("pulumi-nodejs:dynamic/kantai/routing:RoutingPlan");
    expect(created[0].inputs.algorithm).toBe("optimal");
    expect(typeof created[0].inputs.__provider).toBe("string");
  });

  it("exposes the plan as an output", () => {
    expect(planOutput).toEqual(expectedPlan());
  });
});

describe("RoutingPlan provider: serialization round-trip in a fresh node", () => {
  it("serializes without capturing modules, then checks, diffs and creates in another process", async () => {
    const { routingPlanProvider } = await import("../../components/routing/routingPlanProvider");
    const r = await runSerializedProvider(
      () => routingPlanProvider,
      `
  const news = input;
  const checked = await provider.check({}, news);
  const bad = await provider.check({}, { ...news, replicas: 99 });
  const created = await provider.create(checked.inputs);
  const same = await provider.diff(created.id, created.outs, news);
  return { checked, bad, created, same };`,
      inputs(),
    );
    // Nothing from the program is frozen into the state but code: no absolute paths, no env.
    expect(r.text).not.toContain(ROOT);
    expect(r.text).toContain("loadRoutingLibrary");
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const out = r.out;
    expect(out.checked.failures).toBeUndefined();
    expect(out.bad.failures).toEqual([
      { property: "replicas", reason: "99 exceeds the total maxPods of all nodes (17)" },
    ]);
    expect(out.created.outs.plan).toEqual(expectedPlan());
    expect(out.created.id).toMatch(/^routingplan-/);
    expect(out.same).toEqual({ changes: false, replaces: [], deleteBeforeReplace: false });
  }, 120_000);
});
