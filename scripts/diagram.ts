/**
 * Topology diagram of a stack, offline: runs synth (or reads an existing synth directory) and
 * writes Mermaid source and an SVG laid out with dagre (lib/diagram/).
 *
 * Usage: npm run diagram -- --stack <name> [--out <file>] [--synth-dir <dir>] [--stack-file <path>]
 *   --out <file>        where to write; `<base>.mmd` and `<base>.svg` are written for
 *                       `<base>`, `<base>.svg` or `<base>.mmd` (default docs/diagrams/<stack>)
 *   --synth-dir <dir>   read this synth output instead of running synth
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { layoutTopology } from "../lib/diagram/layout";
import { renderMermaid } from "../lib/diagram/mermaid";
import { buildTopology, type SynthOutput } from "../lib/diagram/model";
import { renderSvg } from "../lib/diagram/svg";
import { synth } from "./synth";

/** Read a synth output directory into the model's input. */
export function readSynthDir(dir: string, stack: string): SynthOutput {
  const json = (f: string) => JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
  const artifacts: SynthOutput["artifacts"] = json("artifacts.json");
  const files: Record<string, string> = {};
  for (const a of artifacts) files[a.path] = fs.readFileSync(path.join(dir, a.path), "utf8");
  return { stack, resources: json("resources.json"), outputs: json("outputs.json"), artifacts, files };
}

/** Write `<base>.mmd` and `<base>.svg` for a stack; returns the two paths. */
export async function diagram(opts: { stack: string; base: string; synthDir?: string; stackFile?: string }): Promise<{ mermaid: string; svg: string; nodes: number; edges: number }> {
  let dir = opts.synthDir;
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `kantai-diagram-${opts.stack}-`));
    await synth({ stack: opts.stack, outDir: dir, stackFile: opts.stackFile });
  }
  const topology = buildTopology(readSynthDir(dir, opts.stack));
  const mermaid = `${opts.base}.mmd`;
  const svg = `${opts.base}.svg`;
  fs.mkdirSync(path.dirname(opts.base), { recursive: true });
  fs.writeFileSync(mermaid, renderMermaid(topology));
  fs.writeFileSync(svg, renderSvg(layoutTopology(topology), topology.title));
  if (!opts.synthDir) fs.rmSync(dir, { recursive: true, force: true });
  return { mermaid, svg, nodes: topology.nodes.length, edges: topology.edges.length };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { stack: { type: "string" }, out: { type: "string" }, "synth-dir": { type: "string" }, "stack-file": { type: "string" } },
    strict: true,
  });
  if (!values.stack) {
    console.error("usage: npm run diagram -- --stack <name> [--out <file>] [--synth-dir <dir>] [--stack-file <path>]");
    process.exit(2);
  }
  const out = path.resolve(values.out ?? path.join(__dirname, "..", "docs", "diagrams", values.stack));
  const base = out.replace(/\.(svg|mmd)$/, "");
  const r = await diagram({
    stack: values.stack,
    base,
    synthDir: values["synth-dir"] && path.resolve(values["synth-dir"]),
    stackFile: values["stack-file"] && path.resolve(values["stack-file"]),
  });
  console.log(`diagram ${values.stack}: ${r.nodes} nodes, ${r.edges} edges -> ${r.mermaid}, ${r.svg}`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      const err = e as Error;
      if (err.name === "ConfigError" || err.name === "StackFileError") console.error(err.message);
      else console.error(err.stack ?? String(e));
      process.exit(1);
    },
  );
}
