/**
 * Topology diagram of a stack, offline: runs synth (or reads an existing synth directory) and
 * writes Mermaid source and an SVG laid out with dagre (lib/diagram/).
 *
 * Usage: npm run diagram -- --stack <name> [--out <file>] [--synth-dir <dir>] [--stack-file <path>]
 *   --out <file>        where to write; `<base>.mmd` and `<base>.svg` are written for
 *                       `<base>`, `<base>.svg` or `<base>.mmd` (default docs/diagrams/<stack>)
 *   --synth-dir <dir>   read this synth output instead of running synth
 *   --check             write nothing; exit 1 when <base>.mmd/.svg differ from what would be drawn
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

/** Draw a stack; writes `<base>.mmd` and `<base>.svg` unless `check`, which lists the files that differ instead. */
export async function diagram(opts: {
  stack: string;
  base: string;
  synthDir?: string;
  stackFile?: string;
  check?: boolean;
}): Promise<{ mermaid: string; svg: string; nodes: number; edges: number; stale: string[] }> {
  let dir = opts.synthDir;
  if (!dir) {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), `kantai-diagram-${opts.stack}-`));
    await synth({ stack: opts.stack, outDir: dir, stackFile: opts.stackFile });
  }
  const topology = buildTopology(readSynthDir(dir, opts.stack));
  const mermaid = `${opts.base}.mmd`;
  const svg = `${opts.base}.svg`;
  const drawn: [string, string][] = [
    [mermaid, renderMermaid(topology)],
    [svg, renderSvg(layoutTopology(topology), topology.title)],
  ];
  const stale: string[] = [];
  if (opts.check) {
    for (const [file, text] of drawn) if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) stale.push(file);
  } else {
    fs.mkdirSync(path.dirname(opts.base), { recursive: true });
    for (const [file, text] of drawn) fs.writeFileSync(file, text);
  }
  if (!opts.synthDir) fs.rmSync(dir, { recursive: true, force: true });
  return { mermaid, svg, nodes: topology.nodes.length, edges: topology.edges.length, stale };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      stack: { type: "string" },
      out: { type: "string" },
      "synth-dir": { type: "string" },
      "stack-file": { type: "string" },
      check: { type: "boolean" },
    },
    strict: true,
  });
  if (!values.stack) {
    console.error("usage: npm run diagram -- --stack <name> [--out <file>] [--synth-dir <dir>] [--stack-file <path>] [--check]");
    process.exit(2);
  }
  const out = path.resolve(values.out ?? path.join(__dirname, "..", "docs", "diagrams", values.stack));
  const base = out.replace(/\.(svg|mmd)$/, "");
  const r = await diagram({
    stack: values.stack,
    base,
    synthDir: values["synth-dir"] && path.resolve(values["synth-dir"]),
    stackFile: values["stack-file"] && path.resolve(values["stack-file"]),
    check: values.check,
  });
  if (values.check) {
    for (const f of r.stale) console.error(`${f} is out of date: npm run diagram -- --stack ${values.stack}${values.out ? ` --out ${values.out}` : ""}`);
    console.log(`diagram ${values.stack}: ${r.stale.length === 0 ? "up to date" : `${r.stale.length} file(s) out of date`}`);
    process.exit(r.stale.length === 0 ? 0 : 1);
  }
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
