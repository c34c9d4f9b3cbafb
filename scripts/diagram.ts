/**
 * Topology diagram of a stack, offline: runs synth (or reads an existing synth directory) and
 * writes Mermaid source and an SVG laid out with dagre (lib/diagram/).
 *
 * Usage: npm run diagram -- --stack <name> [--out <file> | --write-docs] [--synth-dir <dir>] [--stack-file <path>] [--check]
 *   --out <file>        where to write; `<base>.mmd` and `<base>.svg` are written for
 *                       `<base>`, `<base>.svg` or `<base>.mmd` (default out/diagrams/<stack>,
 *                       untracked: a plain run never overwrites a committed file)
 *   --write-docs        write the committed diagrams, docs/diagrams/<stack>.{mmd,svg}
 *   --synth-dir <dir>   read this synth output instead of running synth
 *   --check             write nothing; exit 1 when <base>.mmd/.svg differ from what would be drawn
 *                       (the base is docs/diagrams/<stack> unless --out is given)
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { layoutTopology } from "../lib/diagram/layout";
import { renderMermaid } from "../lib/diagram/mermaid";
import { buildTopology, type SynthOutput } from "../lib/diagram/model";
import { renderSvg } from "../lib/diagram/svg";
import { stackFileOf, synth } from "./synth";
import { StackFileError } from "./synth/stackFile";

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
    for (const [file, text] of drawn)
      if (!fs.existsSync(file) || fs.readFileSync(file, "utf8") !== text) stale.push(file);
  } else {
    fs.mkdirSync(path.dirname(opts.base), { recursive: true });
    for (const [file, text] of drawn) fs.writeFileSync(file, text);
  }
  if (!opts.synthDir) fs.rmSync(dir, { recursive: true, force: true });
  return { mermaid, svg, nodes: topology.nodes.length, edges: topology.edges.length, stale };
}

const USAGE =
  "usage: npm run diagram -- --stack <name> [--out <file> | --write-docs] [--synth-dir <dir>] [--stack-file <path>] [--check]";
const ROOT = path.resolve(__dirname, "..");

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        stack: { type: "string" },
        out: { type: "string" },
        "write-docs": { type: "boolean" },
        "synth-dir": { type: "string" },
        "stack-file": { type: "string" },
        check: { type: "boolean" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`diagram: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const problem = !values.stack
    ? "missing --stack <name>"
    : values.out && values["write-docs"]
      ? "give --out or --write-docs, not both"
      : undefined;
  if (problem || !values.stack) {
    console.error(`diagram: ${problem}\n${USAGE}`);
    return 2;
  }
  const stack = values.stack;
  // Fail on an unknown stack before anything runs, with the stacks there are.
  if (!values["synth-dir"] && !values["stack-file"]) stackFileOf(stack, ROOT);
  const docs = path.join(ROOT, "docs", "diagrams", stack);
  const out = path.resolve(
    values.out ?? (values["write-docs"] || values.check ? docs : path.join(ROOT, "out", "diagrams", stack)),
  );
  const base = out.replace(/\.(svg|mmd)$/, "");
  const r = await diagram({
    stack,
    base,
    synthDir: values["synth-dir"] && path.resolve(values["synth-dir"]),
    stackFile: values["stack-file"] && path.resolve(values["stack-file"]),
    check: values.check,
  });
  if (values.check) {
    const redraw = values.out ? `--out ${values.out}` : "--write-docs";
    for (const f of r.stale) console.error(`${f} is out of date: npm run diagram -- --stack ${stack} ${redraw}`);
    console.log(`diagram ${stack}: ${r.stale.length === 0 ? "up to date" : `${r.stale.length} file(s) out of date`}`);
    return r.stale.length === 0 ? 0 : 1;
  }
  console.log(`diagram ${stack}: ${r.nodes} nodes, ${r.edges} edges -> ${r.mermaid}, ${r.svg}`);
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      // Input mistakes (a bad config, a missing or malformed stack file) are one line; anything
      // else is a bug in kantai and keeps its stack trace.
      const err = e as Error;
      if (err.name === "ConfigError" || e instanceof StackFileError) console.error(`diagram: ${err.message}`);
      else console.error(err.stack ?? String(e));
      process.exit(1);
    },
  );
}
