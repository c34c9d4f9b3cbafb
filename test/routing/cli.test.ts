/** The routing CLI as a subprocess: stdout is only the plan JSON; bad input exits non-zero naming the field. */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { mixedScenarios } from "../../lib/routing/scenarios";
import { faastNodes, faastRttMs } from "./fixtures";

const ROOT = path.resolve(__dirname, "..", "..");
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-routing-cli-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const input = () => ({
  nodes: faastNodes(),
  rttMs: faastRttMs(),
  demand: { edge: 900, cloud1: 50, cloud2: 50 },
  replicas: 6,
});

let counter = 0;
function write(value: unknown): string {
  const file = path.join(dir, `in-${counter++}.json`);
  fs.writeFileSync(file, typeof value === "string" ? value : JSON.stringify(value));
  return file;
}

/** Run through the npm script, as documented (`npm run -s` keeps npm's banner off stdout). */
function viaNpm(args: string[]) {
  return spawnSync("npm", ["run", "-s", "routing", "--", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
}

/** Run the entry file directly with the project's tsx (faster; same program). */
function viaTsx(args: string[]) {
  return spawnSync(
    path.join(ROOT, "node_modules", ".bin", "tsx"),
    [path.join(ROOT, "lib", "routing", "cli.ts"), ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 60_000,
    },
  );
}

describe("routing CLI", () => {
  it("prints only the plan JSON (npm run routing -- plan --input ...)", () => {
    const r = viaNpm(["plan", "--input", write(input())]);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(Object.keys(plan)).toEqual(["replicas", "weights", "predicted"]);
    expect(plan.replicas).toEqual({ cloud1: 1, cloud2: 0, edge: 5 });
    expect(plan.weights).toEqual({ cloud1: { cloud1: 1 }, cloud2: { cloud1: 1 }, edge: { edge: 1 } });
    expect(plan.predicted.meanMs).toBeCloseTo(5.372, 3);
    expect(r.stdout.trim().split("\n")).toHaveLength(1);
  });

  it("runs a baseline with --algorithm", () => {
    const r = viaTsx(["plan", "--input", write(input()), "--algorithm", "ikukantai"]);
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.weights.edge).toEqual({ cloud1: 0.06, edge: 0.94 });
    expect(plan.weights.cloud1).toEqual({ cloud1: 0.93, edge: 0.07 });
  });

  it.each([
    [
      "a missing matrix entry",
      (g: any) => delete g.rttMs.cloud2.edge,
      'rttMs.cloud2.edge: missing latency from "cloud2" to "edge"',
    ],
    ["a negative latency", (g: any) => (g.rttMs.edge.cloud1 = -1), "rttMs.edge.cloud1: must be a non-negative number"],
    [
      "a non-numeric latency",
      (g: any) => (g.rttMs.edge.cloud1 = "fast"),
      "rttMs.edge.cloud1: must be a non-negative number",
    ],
    ["an unknown node in demand", (g: any) => (g.demand.mars = 5), 'demand.mars: unknown node "mars"'],
    ["R > Σ maxPods", (g: any) => (g.replicas = 18), "replicas: 18 exceeds the total maxPods of all nodes (17)"],
    [
      "demand no placement can serve stably",
      (g: any) => (g.demand.edge = 2000),
      "demand: total 2100 req/s cannot be served stably by 6 replicas",
    ],
  ])("exits non-zero naming the field for %s", (_name, mutate, message) => {
    const g = input();
    mutate(g);
    const r = viaTsx(["plan", "--input", write(g)]);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain(message);
  });

  it("plans a feasible 1000-node heterogeneous fleet at 85% (issue 13: it exited 1 with a stack trace)", () => {
    const r = viaTsx(["plan", "--input", write(mixedScenarios(1000)[1].input)]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(Number.isFinite(JSON.parse(r.stdout).predicted.meanMs)).toBe(true);
  }, 120_000);

  it("an infeasible demand is one stderr line naming the field and the numbers, no stack trace", () => {
    const g = input();
    g.demand.edge = 2000;
    const r = viaTsx(["plan", "--input", write(g)]);
    expect(r.status).toBe(2);
    expect(r.stderr).toBe(
      "demand: total 2100 req/s cannot be served stably by 6 replicas (at most 1500 req/s, load must stay below capacity)\n",
    );
  });

  it("rejects invalid JSON, unknown algorithms and missing arguments", () => {
    const bad = viaTsx(["plan", "--input", write("{nodes:")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/^input: not valid JSON/);
    const alg = viaTsx(["plan", "--input", write(input()), "--algorithm", "random"]);
    expect(alg.status).toBe(64);
    expect(alg.stderr).toContain("--algorithm: must be one of optimal, even, nearest, ikukantai");
    const none = viaTsx(["plan"]);
    expect(none.status).toBe(64);
    expect(none.stderr).toContain("--input is required");
  });
});
