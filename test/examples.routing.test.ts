/**
 * examples/routing/*.json are inputs a user can feed straight to `npm run routing -- plan`: each is
 * accepted, the plan uses exactly the replica budget within every node's cap, and every row of
 * weights is a distribution over nodes that run replicas. The docs point at them.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../lib/routing/cli";
import { ROOT } from "./support/devConfig";

const dir = path.join(ROOT, "examples", "routing");
const examples = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith(".json"))
  .sort();

describe("example routing inputs", () => {
  it("exist, and the routing docs cite each one", () => {
    expect(examples).toContain("homelab.json");
    const docs = ["README.md", "docs/reference/routing-cli.md", "docs/concepts/routing.md"]
      .map((f) => fs.readFileSync(path.join(ROOT, f), "utf8"))
      .join("\n");
    for (const f of examples) expect(docs, f).toContain(`examples/routing/${f}`);
  });

  it.each(examples)("%s: plan accepts it and the plan fits the input", (f) => {
    const file = path.join(dir, f);
    const input = JSON.parse(fs.readFileSync(file, "utf8"));
    const r = runCli(["plan", "--input", file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe("");
    const plan = JSON.parse(r.stdout);
    const caps = Object.fromEntries(input.nodes.map((n: { name: string; maxPods: number }) => [n.name, n.maxPods]));
    expect(Object.keys(plan.replicas).sort()).toEqual(Object.keys(caps).sort());
    expect(Object.values<number>(plan.replicas).reduce((a, b) => a + b, 0)).toBe(input.replicas);
    for (const [node, n] of Object.entries<number>(plan.replicas)) expect(n, node).toBeLessThanOrEqual(caps[node]);
    for (const [from, row] of Object.entries<Record<string, number>>(plan.weights)) {
      expect(
        Object.values(row).reduce((a, b) => a + b, 0),
        from,
      ).toBeCloseTo(1, 9);
      for (const to of Object.keys(row)) expect(plan.replicas[to], `${from} → ${to}`).toBeGreaterThan(0);
    }
    expect(plan.predicted.meanMs).toBeGreaterThan(0);
  });
});
