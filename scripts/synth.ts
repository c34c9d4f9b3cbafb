/**
 * Offline synth: runs kantai's real program under Pulumi's mock runtime (SIMULATED registrations:
 * no cloud, no Pulumi CLI, no credentials) and writes what it would deploy:
 *   <out>/resources.json  every registered resource: type, name, parent, inputs, options
 *   <out>/outputs.json    the stack outputs
 *   <out>/artifacts.json  [{path, kind, resource}] for every rendered file
 *   <out>/files/…         the rendered files (cloud-init, Caddyfiles, named.conf, zones, scripts, manifests)
 * Secret values appear as "[secret]" in resources.json and outputs.json. It deploys nothing.
 *
 * Usage: npm run synth -- --stack <name> --out <dir>
 *        npm run synth -- --stack-file <path> --out <dir> [--stack <name>]
 * With only --stack-file, the stack name comes from the file name (Pulumi.<stack>.yaml → <stack>).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { parseArgs } from "node:util";
import { recordProgram, resolveDeep } from "./synth/recorder";
import { readStackFile, StackFileError } from "./synth/stackFile";

export interface SynthResult {
  readonly resources: number;
  readonly artifacts: number;
}

/** The stacks of the repository: every `Pulumi.<stack>.yaml` beside Pulumi.yaml, sorted. */
export function listStacks(root = path.resolve(__dirname, "..")): string[] {
  return fs
    .readdirSync(root)
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** `Pulumi.<stack>.yaml` of the repository; a StackFileError listing the stacks there are if it is missing. */
export function stackFileOf(stack: string, root = path.resolve(__dirname, "..")): string {
  const file = path.join(root, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    throw new StackFileError(
      `stack file ${file} does not exist: the stacks are ${listStacks(root).join(", ")} (or give --stack-file <path>)`,
    );
  }
  return file;
}

/** Synthesize one stack into `outDir`. Throws ConfigError / StackFileError on bad input. */
export async function synth(opts: {
  stack: string;
  outDir: string;
  stackFile?: string;
  root?: string;
}): Promise<SynthResult> {
  const root = opts.root ?? path.resolve(__dirname, "..");
  const file = opts.stackFile ?? stackFileOf(opts.stack, root);
  const { config, secretKeys } = readStackFile(file);
  const { run } = await import("../stacks");
  const rec = await recordProgram(() => run(), { project: "kantai", stack: opts.stack, config, secretKeys });

  fs.rmSync(opts.outDir, { recursive: true, force: true });
  fs.mkdirSync(path.join(opts.outDir, "files"), { recursive: true });
  const write = (p: string, v: unknown) =>
    fs.writeFileSync(path.join(opts.outDir, p), JSON.stringify(v, null, 2) + "\n");

  write("resources.json", rec.resources);
  write("outputs.json", await resolveDeep(rec.result.outputs));
  const index = [];
  for (const a of rec.result.artifacts) {
    const content = await resolveDeep(a.content, true);
    if (typeof content !== "string") throw new Error(`artifact ${a.path} did not resolve to text`);
    const dest = path.join(opts.outDir, "files", a.path);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, content, { mode: a.kind === "shell" ? 0o755 : 0o644 });
    index.push({ path: path.posix.join("files", a.path), kind: a.kind, resource: a.resource });
  }
  write("artifacts.json", index);
  return { resources: rec.resources.length, artifacts: index.length };
}

const USAGE = "usage: npm run synth -- --stack <name> --out <dir> | --stack-file <path> --out <dir> [--stack <name>]";

/** The stack a stack file is for: `Pulumi.<stack>.yaml` → `<stack>`, else the file's base name. */
export function stackOfFile(file: string): string {
  const base = path.basename(file);
  return /^Pulumi\.(.+)\.ya?ml$/.exec(base)?.[1] ?? base.replace(/\.ya?ml$/, "");
}

/** Parse synth's command line; a string is the problem to print (with the usage) and exit 2 on. */
export function parseSynthArgs(argv: string[]): { stack: string; out: string; stackFile?: string } | string {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { stack: { type: "string" }, out: { type: "string" }, "stack-file": { type: "string" } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return (e as Error).message;
  }
  const missing = [
    !values.stack && !values["stack-file"] ? "--stack <name> (or --stack-file <path>)" : "",
    !values.out ? "--out <dir>" : "",
  ].filter(Boolean);
  if (missing.length) return `missing ${missing.join(" and ")}`;
  const stackFile = values["stack-file"] && path.resolve(values["stack-file"]);
  return {
    stack: values.stack ?? stackOfFile(stackFile!),
    out: path.resolve(values.out!),
    ...(stackFile ? { stackFile } : {}),
  };
}

async function main(): Promise<void> {
  const args = parseSynthArgs(process.argv.slice(2));
  if (typeof args === "string") {
    console.error(`synth: ${args}\n${USAGE}`);
    process.exit(2);
  }
  const r = await synth({ stack: args.stack, outDir: args.out, stackFile: args.stackFile });
  console.log(
    `synth ${args.stack}: ${r.resources} resources, ${r.artifacts} artifacts -> ${args.out} (simulated: nothing was deployed)`,
  );
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e: unknown) => {
      const err = e as Error;
      if (err.name === "ConfigError" || e instanceof StackFileError) console.error(err.message);
      else console.error(err.stack ?? String(e));
      process.exit(1);
    },
  );
}
