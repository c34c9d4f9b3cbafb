// Helpers for the engine suite: the built engine's environment (scripts/engine.sh), an
// offline Pulumi workspace per test (file backend, passphrase, own PULUMI_HOME), and
// running `pulumi` with no network but loopback (a fresh network namespace when the
// machine allows one).
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const REPO = path.resolve(__dirname, "..", "..", "..");
export const FIXTURES = path.join(REPO, "test", "engine", "fixtures");

let cachedEnv: Record<string, string> | undefined;

/** The engine's environment (builds the engine if missing: never skips). */
export function engineEnv(): Record<string, string> {
  if (cachedEnv) return cachedEnv;
  const res = spawnSync("bash", [path.join(REPO, "scripts", "engine.sh"), "env"], {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 16 * 1024 * 1024,
  });
  if (res.status !== 0) throw new Error(`scripts/engine.sh env failed (exit ${res.status})`);
  const env: Record<string, string> = {};
  for (const line of res.stdout.split("\n")) {
    const m = /^export ([A-Z_]+)="(.*)"$/.exec(line);
    if (!m) continue;
    env[m[1]] = m[2].replace(/\$PATH/g, process.env.PATH ?? "");
  }
  if (!env.PATH) throw new Error(`scripts/engine.sh env printed no PATH:\n${res.stdout}`);
  cachedEnv = env;
  return env;
}

/** Whether `unshare -n` works here (root, or unprivileged user namespaces). */
let isolation: string[] | null | undefined;
function netIsolation(): string[] | null {
  if (isolation !== undefined) return isolation;
  const flags = process.getuid?.() === 0 ? ["-n"] : ["-rn"];
  const probe = spawnSync("unshare", [...flags, "sh", "-c", "ip link set lo up"], { encoding: "utf8" });
  isolation = probe.status === 0 ? ["unshare", ...flags, "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] : null;
  if (!isolation) {
    console.warn("engine tests: no network namespace available; relying on the offline settings only");
  }
  return isolation;
}

export interface Workspace {
  dir: string;
  program: string;
  out: string;
  state: string;
  callLog: string;
  env: Record<string, string>;
  /** Run `pulumi` in this existing network namespace (a holder process's pid) instead of a fresh one. */
  netns?: number;
}

/** A fresh offline workspace: program copied from `source` (node_modules linked in). */
export function workspace(source: string, opts: { passphrase: string; filter?: (rel: string) => boolean }): Workspace {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-engine-"));
  const program = path.join(dir, "program");
  const out = path.join(dir, "out");
  const state = path.join(dir, "state");
  for (const d of [out, state]) fs.mkdirSync(d, { recursive: true });
  fs.cpSync(source, program, {
    recursive: true,
    filter: (src) => {
      const rel = path.relative(source, src);
      if (rel === "") return true;
      const top = rel.split(path.sep)[0];
      if (["node_modules", ".git", ".cache", ".pulumi", "coverage", "out", "bin"].includes(top)) return false;
      return opts.filter ? opts.filter(rel) : true;
    },
  });
  fs.symlinkSync(path.join(REPO, "node_modules"), path.join(program, "node_modules"));
  const callLog = path.join(dir, "standin-calls.jsonl");
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    // nothing from a developer's own Pulumi setup leaks in
    if (v !== undefined && !k.startsWith("PULUMI_") && !k.startsWith("KANTAI_")) base[k] = v;
  }
  const env = {
    ...base,
    ...engineEnv(),
    PULUMI_BACKEND_URL: `file://${state}`,
    PULUMI_HOME: path.join(dir, "pulumi-home"),
    PULUMI_CONFIG_PASSPHRASE: opts.passphrase,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    KANTAI_STANDIN_LOG: callLog,
    NO_COLOR: "1",
  };
  return { dir, program, out, state, callLog, env };
}

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Run the built `pulumi` in the workspace's program directory, network-isolated. */
export function pulumi(ws: Workspace, args: string[], opts: { input?: string; allowFail?: boolean } = {}): Run {
  const iso = ws.netns ? ["nsenter", "-t", String(ws.netns), "-n"] : netIsolation();
  const argv = [...(iso ?? []), "pulumi", ...args];
  const res: SpawnSyncReturns<string> = spawnSync(argv[0], argv.slice(1), {
    cwd: ws.program,
    env: ws.env,
    encoding: "utf8",
    input: opts.input,
    maxBuffer: 256 * 1024 * 1024,
    timeout: 10 * 60_000,
  });
  const run = { status: res.status ?? -1, stdout: res.stdout ?? "", stderr: res.stderr ?? "" };
  if (run.status !== 0 && !opts.allowFail) {
    throw new Error(
      `pulumi ${args.join(" ")} exited ${run.status}${res.error ? ` (${res.error.message})` : ""}\n` +
        `--- stdout ---\n${run.stdout.slice(-8000)}\n--- stderr ---\n${run.stderr.slice(-8000)}`,
    );
  }
  return run;
}

/** The stack's state file as text (file backend layout). */
export function stateText(ws: Workspace, project: string, stack: string): string {
  return fs.readFileSync(path.join(ws.state, ".pulumi", "stacks", project, `${stack}.json`), "utf8");
}

export interface StandinCall {
  provider: string;
  method: string;
  urn?: string;
  token?: string;
  type?: string;
  failures?: { property: string; reason: string }[];
  inputs?: unknown;
  /** checkConfig: the provider's config held unknown values (preview) */
  unknowns?: boolean;
}

export function standinCalls(ws: Workspace): StandinCall[] {
  if (!fs.existsSync(ws.callLog)) return [];
  return fs
    .readFileSync(ws.callLog, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

/** Dotted paths whose values differ between two plain JSON values. */
export function changedPaths(a: unknown, b: unknown, at = ""): string[] {
  const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
    return keys.flatMap((k) => changedPaths(a[k], b[k], at ? `${at}.${k}` : k));
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [at];
}

export function cleanup(ws: Workspace | undefined): void {
  if (ws && !process.env.KANTAI_ENGINE_KEEP) fs.rmSync(ws.dir, { recursive: true, force: true });
}
