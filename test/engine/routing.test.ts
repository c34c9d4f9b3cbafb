// RoutingPlan (components/routing) through the real Pulumi engine: the dynamic provider is
// serialized into the state, started by the engine's dynamic-provider host in the program
// directory, loads lib/routing from there (through tsx: the host has no TypeScript loader) and
// runs check / diff / create / update / delete for real.
//
// The program (test/engine/fixtures/routing) is laid out like the repository: the workspace
// holds copies of tsconfig.json, lib/routing, components/routing and the fixture, with the
// fixture's Pulumi.yaml and package.json at the root (`main` points into the fixture).
//
// bad input → preview fails in Check naming the field, nothing created; up (plans equal the
// library's); up --expect-no-changes; a demand change previews exactly one update; up applies
// it in place; bad input on the live stack stops the update; destroy leaves nothing.
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { canonicalInputs, inputsDigest, loadRoutingLibrary } from "../../components/routing/routingPlanProvider";
import { planRouting } from "../../lib/routing";
import { BASELINE, NODES, REPLICAS, RTT_MS } from "./fixtures/routing/scenario";
import { changedPaths, cleanup, FIXTURES, pulumi, REPO, workspace, type Workspace } from "./support/engine";

const STACK = "routing";
const FIXTURE = path.join(FIXTURES, "routing");
const TYPE = "pulumi-nodejs:dynamic/kantai/routing:RoutingPlan";
// What the program directory holds besides the fixture's Pulumi.yaml and package.json.
const KEEP = ["tsconfig.json", "lib/routing", "components/routing", "test/engine/fixtures/routing"];

const DEMAND_1 = { edge: 900, cloud1: 50 };
const DEMAND_2 = { cloud2: 500, edge: 150, cloud1: 200 };
// RTT matrix without edge → cloud2.
const BAD_RTT = { edge: { cloud1: 48 }, cloud2: { edge: 50, cloud1: 1 }, cloud1: { edge: 48, cloud2: 1 } };
const CHECK_FAILURE =
  `error: ${TYPE} resource 'fib-routing': property rttMs.edge.cloud2 value {<nil>} has a problem: ` +
  `missing latency from "edge" to "cloud2"`;

const fibInputs = (demand: Record<string, number>) => ({ nodes: NODES, rttMs: RTT_MS, demand, replicas: REPLICAS });
const fibPlan = (demand: Record<string, number>) => planRouting(fibInputs(demand), "optimal");
const { algorithm: baselineAlgorithm, ...baselineInput } = BASELINE;
const baselinePlan = planRouting(baselineInput, baselineAlgorithm);
const idOf = (inputs: Record<string, unknown>) => `routingplan-${inputsDigest(canonicalInputs(inputs))}`;

let ws: Workspace;

const outputs = () => JSON.parse(pulumi(ws, ["stack", "output", "--json"]).stdout);
const exportState = () => JSON.parse(pulumi(ws, ["stack", "export"]).stdout).deployment;
const nameOf = (urn: string) => urn.split("::").pop()!;
const plansInState = () =>
  Object.fromEntries(
    (exportState().resources ?? []).filter((r: any) => r.type === TYPE).map((r: any) => [nameOf(r.urn), r]),
  );
const errorsOf = (run: { stdout: string }) =>
  (JSON.parse(run.stdout).diagnostics ?? [])
    .filter((d: any) => d.severity === "error")
    .map((d: any) => d.message.trimEnd());

beforeAll(() => {
  ws = workspace(REPO, {
    passphrase: "kantai-engine-test",
    filter: (rel) =>
      KEEP.some((k) => rel === k || rel.startsWith(`${k}${path.sep}`) || k.startsWith(`${rel}${path.sep}`)),
  });
  for (const f of ["Pulumi.yaml", "package.json"]) fs.copyFileSync(path.join(FIXTURE, f), path.join(ws.program, f));
  pulumi(ws, ["stack", "init", STACK, "--non-interactive"]);
  pulumi(ws, ["config", "set", "demand", JSON.stringify(DEMAND_1)]);
  pulumi(ws, ["config", "set", "rttMs", JSON.stringify(BAD_RTT)]);
});

afterAll(() => cleanup(ws));

describe("RoutingPlan on the real engine: check / create / diff / update / delete", () => {
  it("the program directory holds lib/routing where the provider looks for it", () => {
    expect(fs.existsSync(path.join(ws.program, "lib", "routing", "index.ts"))).toBe(true);
    expect(fs.existsSync(path.join(ws.program, "lib", "render"))).toBe(false); // only what the stack needs
  });

  it("bad input: preview fails in the provider's Check naming the field, nothing is created", () => {
    const run = pulumi(ws, ["preview", "--json", "--non-interactive"], { allowFail: true });
    expect(run.status).not.toBe(0);
    expect(errorsOf(run)).toEqual([CHECK_FAILURE]);
    expect(exportState().resources ?? []).toEqual([]);
  });

  it("up creates both plans; each plan output equals what lib/routing computes", () => {
    pulumi(ws, ["config", "rm", "rttMs"]);
    const up = pulumi(ws, ["up", "--yes", "--non-interactive", "--skip-preview"]);
    expect(up.stdout).toMatch(/\+ 3 created/);

    const out = outputs();
    expect(out.plan).toEqual(fibPlan(DEMAND_1));
    expect(out.plan.replicas).toEqual({ cloud1: 1, cloud2: 0, edge: 5 });
    expect(out.algorithm).toBe("optimal");
    expect(out.planId).toBe(idOf({ ...fibInputs(DEMAND_1), algorithm: "optimal" }));
    expect(out.baselinePlan).toEqual(baselinePlan);
    expect(out.baselineId).toBe(idOf(BASELINE));

    // The state holds the canonical inputs and the plan as outputs, and the provider as code only.
    const plans = plansInState();
    expect(Object.keys(plans).sort()).toEqual(["baseline-routing", "fib-routing"]);
    const { __provider, ...outs } = plans["fib-routing"].outputs;
    expect(outs).toEqual({ ...canonicalInputs({ ...fibInputs(DEMAND_1) }), plan: fibPlan(DEMAND_1) });
    expect(outs.nodes.map((n: any) => n.name)).toEqual(["cloud1", "cloud2", "edge"]);
    expect(__provider).toContain("loadRoutingLibrary");
    expect(__provider).not.toContain(ws.program);
    expect(__provider).not.toContain(REPO);
  });

  it("a second up changes nothing (deterministic check and diff)", () => {
    const up = pulumi(ws, ["up", "--yes", "--non-interactive", "--expect-no-changes"]);
    expect(up.stdout).toMatch(/3 unchanged/);
  });

  it("a demand change previews exactly one update, on fib-routing, with only demand changed", () => {
    expect(fibPlan(DEMAND_2)).not.toEqual(fibPlan(DEMAND_1));
    pulumi(ws, ["config", "set", "demand", JSON.stringify(DEMAND_2)]);
    const preview = JSON.parse(pulumi(ws, ["preview", "--json", "--non-interactive"]).stdout);
    expect(preview.changeSummary).toEqual({ same: 2, update: 1 });

    const changed = preview.steps.filter((s: any) => s.op !== "same");
    expect(changed.map((s: any) => [s.op, nameOf(s.urn)])).toEqual([["update", "fib-routing"]]);
    const { __provider: oldProvider, ...olds } = changed[0].oldState.inputs;
    const { __provider: newProvider, ...news } = changed[0].newState.inputs;
    expect(newProvider).toBe(oldProvider); // the serialized provider is the same code
    expect(changedPaths(olds, news)).toEqual(["demand.cloud1", "demand.cloud2", "demand.edge"]);
    expect(news.demand).toEqual({ cloud1: 200, cloud2: 500, edge: 150 });
  });

  it("up applies the change in place: same id, the new plan equals the library's, the baseline untouched", () => {
    const before = plansInState()["baseline-routing"];
    const up = pulumi(ws, ["up", "--yes", "--non-interactive", "--skip-preview"]);
    expect(up.stdout).toMatch(/~ 1 updated/);
    expect(up.stdout).toMatch(/2 unchanged/);

    const out = outputs();
    expect(out.plan).toEqual(fibPlan(DEMAND_2));
    expect(out.plan.replicas).toEqual({ cloud1: 0, cloud2: 4, edge: 2 });
    expect(out.planId).toBe(idOf({ ...fibInputs(DEMAND_1), algorithm: "optimal" })); // updated, not replaced
    expect(out.baselinePlan).toEqual(baselinePlan);
    expect(plansInState()["baseline-routing"]).toEqual(before);
    pulumi(ws, ["up", "--yes", "--non-interactive", "--expect-no-changes"]);
  });

  it("bad input on the live stack stops the update in Check: the recorded plan stays", () => {
    pulumi(ws, ["config", "set", "rttMs", JSON.stringify(BAD_RTT)]);
    const run = pulumi(ws, ["up", "--yes", "--non-interactive", "--json"], { allowFail: true });
    expect(run.status).not.toBe(0);
    expect(errorsOf(run)).toEqual([CHECK_FAILURE]);
    expect(outputs().plan).toEqual(fibPlan(DEMAND_2));
    pulumi(ws, ["config", "rm", "rttMs"]);
  });

  it("destroy deletes both plans: empty state", () => {
    const destroy = pulumi(ws, ["destroy", "--yes", "--non-interactive", "--skip-preview"]);
    expect(destroy.stdout).toMatch(/- 3 deleted/);
    expect(exportState().resources ?? []).toEqual([]);
  });
});

describe("where the provider finds lib/routing", () => {
  // The host's working directory is the directory of the program's `main` (above:
  // test/engine/fixtures/routing inside the program); the provider looks there and upward.
  it("names the directory when no parent holds lib/routing", () => {
    const dir = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "kantai-nolib-")));
    const cwd = process.cwd();
    try {
      process.chdir(dir);
      expect(() => loadRoutingLibrary()).toThrow(
        `RoutingPlan: lib/routing not found in ${dir} or any parent directory`,
      );
      process.chdir(path.join(REPO, "test", "engine", "fixtures", "routing"));
      expect(loadRoutingLibrary().planRouting(fibInputs(DEMAND_1))).toEqual(fibPlan(DEMAND_1)); // found 4 levels up
    } finally {
      process.chdir(cwd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
