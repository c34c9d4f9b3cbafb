/**
 * The layering of the program (docs/concepts/architecture.md): imports point index.ts → stacks/ →
 * components/ → lib/, lib/ imports nothing from Pulumi, the compositions import no other
 * composition, and no module imports itself back through others (type-only imports included:
 * an import cycle between config files was issue 11's first finding).
 *
 * Imports are read with TypeScript's own pre-processor (`ts.preProcessFile`: every `import`,
 * `export … from`, `import type` and `import()`), not by a pattern.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = path.resolve(__dirname, "..");
const DIRS = ["stacks", "components", "lib"];

/** Every program source file (tests aside), relative to the repository root. */
function sources(): string[] {
  const out: string[] = ["index.ts"];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.posix.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".test.ts") && !e.name.endsWith(".d.ts")) out.push(rel);
    }
  };
  DIRS.forEach(walk);
  return out.sort();
}

/** A file's imports: repository files (resolved, relative to the root) and packages. */
function importsOf(file: string): { files: string[]; packages: string[] } {
  const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), "utf8"), true, true);
  const files: string[] = [];
  const packages: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith(".")) {
      packages.push(fileName);
      continue;
    }
    const base = path.posix.normalize(path.posix.join(path.posix.dirname(file), fileName));
    const hit = [`${base}.ts`, `${base}/index.ts`].find((c) => fs.existsSync(path.join(ROOT, c)));
    if (hit) files.push(hit);
  }
  return { files, packages };
}

const graph = new Map(sources().map((f) => [f, importsOf(f)]));

/** Every import cycle, each as the chain of files that closes it. */
function cycles(): string[] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[] = [];
  const visit = (f: string) => {
    state.set(f, "open");
    stack.push(f);
    for (const d of graph.get(f)?.files ?? []) {
      if (!graph.has(d)) continue;
      if (state.get(d) === "open") found.push([...stack.slice(stack.indexOf(d)), d].join(" → "));
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}

const layer = (f: string) => (f === "index.ts" ? 0 : f.startsWith("stacks/") ? 1 : f.startsWith("components/") ? 2 : 3);

describe("the program's layering", () => {
  it("reads every source file of index.ts, stacks/, components/ and lib/", () => {
    expect(graph.size).toBeGreaterThan(100);
    expect(graph.get("stacks/config/load.ts")?.files).toContain("stacks/config/compositions.ts");
  });

  it("has no import cycle, type-only imports included", () => {
    expect(cycles()).toEqual([]);
  });

  it("imports point one way: index.ts → stacks/ → components/ → lib/", () => {
    const upward = [...graph].flatMap(([f, { files }]) =>
      files.filter((d) => layer(d) < layer(f)).map((d) => `${f} → ${d}`),
    );
    expect(upward).toEqual([]);
  });

  it("lib/ imports nothing from Pulumi", () => {
    const pulumi = [...graph]
      .filter(([f]) => f.startsWith("lib/"))
      .flatMap(([f, { packages }]) => packages.filter((p) => p.startsWith("@pulumi/")).map((p) => `${f} → ${p}`));
    expect(pulumi).toEqual([]);
  });

  it("the compositions import no other composition (shared pieces are in stacks/parts/)", () => {
    const compositions = ["stacks/homelab.ts", "stacks/edge.ts", "stacks/lab.ts"];
    const crossing = compositions.flatMap((f) =>
      (graph.get(f)?.files ?? []).filter((d) => compositions.includes(d)).map((d) => `${f} → ${d}`),
    );
    expect(crossing).toEqual([]);
    // The parts and the config know no composition either.
    const back = [...graph]
      .filter(([f]) => f.startsWith("stacks/parts/") || f.startsWith("stacks/config/"))
      .flatMap(([f, { files }]) => files.filter((d) => compositions.includes(d)).map((d) => `${f} → ${d}`));
    expect(back).toEqual([]);
  });

  it("the config areas import no other area's parser: only primitives.ts (and storage's webapp database schema)", () => {
    const areas = ["proxmox", "clusters", "platform", "routing", "ci", "observability", "storage"].map(
      (a) => `stacks/config/${a}.ts`,
    );
    const allowed = new Set(["stacks/config/primitives.ts", "platform.ts → stacks/config/storage.ts"]);
    const crossing = areas.flatMap((f) =>
      (graph.get(f)?.files ?? [])
        .filter((d) => d.startsWith("stacks/config/"))
        .filter((d) => !allowed.has(d) && !allowed.has(`${path.posix.basename(f)} → ${d}`))
        .map((d) => `${f} → ${d}`),
    );
    expect(crossing).toEqual([]);
  });
});
