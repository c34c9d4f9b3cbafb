/**
 * Refuse to run for real with the committed stack files' public placeholders (issue 10, item 13).
 *
 * The committed Pulumi.<stack>.yaml files carry a dummy Proxmox token, a throwaway SSH key pair and
 * a dummy Cloudflare token, encrypted with the public passphrase "kantai-dev"
 * (lib/preflight/placeholders.ts). They are there so that the offline runs work:
 *
 * - synth and the unit tests run the program under Pulumi's MOCK runtime (scripts/synth/recorder.ts
 *   calls `pulumi.runtime.setMocks`): the resource monitor is a `MockMonitor`, nothing is dialled;
 * - the engine suite (test/engine) runs it on the real Pulumi engine with STAND-IN provider plugins
 *   (tools/standins) that `scripts/engine.sh env` puts on $PATH. The engine takes a provider plugin
 *   from $PATH before its plugin cache unless PULUMI_IGNORE_AMBIENT_PLUGINS is true
 *   (pulumi/pulumi sdk/go/common/workspace/plugins.go, getPluginInfoAndPath: "If we have a version of
 *   the plugin on its $PATH, use it"; env.go: a Bool is true for "1" or "true"), and every stand-in
 *   wrapper says "STAND-IN provider plugin" in its first lines (scripts/engine.sh).
 *
 * Everything else is a real run: a real `pulumi preview`/`up` with real providers that dial the
 * configured endpoints. There a placeholder stops the program before any resource is registered,
 * with a RunError (the Node.js runtime prints a RunError's message without a stack trace:
 * @pulumi/pulumi cmd/run/run.js, uncaughtHandler) that names each key and the command to set it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { findPlaceholders, placeholderMessage, type PlaceholderFinding } from "../../lib/preflight/placeholders";

/** Providers that receive a secret kantai holds: each must be a stand-in for an offline run. */
export const SECRET_CONSUMERS = ["proxmoxve", "command", "cloudflare"] as const;

/** The marker scripts/engine.sh writes into every stand-in wrapper. */
export const STANDIN_MARKER = "STAND-IN provider plugin";

export type RunMode =
  | { readonly kind: "mock" }
  | { readonly kind: "standins"; readonly plugins: Readonly<Record<string, string>> }
  | { readonly kind: "real"; readonly why: string };

/** Thrown for a real run with placeholders; a RunError, so the user sees the message only. */
export class PlaceholderError extends pulumi.RunError {
  constructor(
    readonly findings: readonly PlaceholderFinding[],
    stack: string,
  ) {
    super(placeholderMessage(findings, stack));
    this.name = "PlaceholderError";
  }
}

/** Whether Pulumi's mock runtime is active (setMocks installed a MockMonitor). */
export function isMockRuntime(): boolean {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const settings = require("@pulumi/pulumi/runtime/settings") as { hasMonitor(): boolean; getMonitor(): unknown };
  if (!settings.hasMonitor()) return false;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { MockMonitor } = require("@pulumi/pulumi/runtime/mocks") as { MockMonitor: new (...a: never[]) => unknown };
  const m = settings.getMonitor();
  return (
    m instanceof MockMonitor ||
    (m as { constructor?: { name?: string } } | undefined)?.constructor?.name === "MockMonitor"
  );
}

/** The file `exec.LookPath("pulumi-resource-<name>")` would find on `pathVar`, as the engine looks. */
export function lookPath(file: string, pathVar: string | undefined): string | undefined {
  for (const dir of (pathVar ?? "").split(path.delimiter)) {
    const p = path.join(dir === "" ? "." : dir, file);
    try {
      const st = fs.statSync(p);
      if (st.isFile() && (st.mode & 0o111) !== 0) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Whether an executable is one of scripts/engine.sh's stand-in wrappers. */
export function isStandin(file: string): boolean {
  try {
    const fd = fs.openSync(file, "r");
    try {
      const buf = Buffer.alloc(512);
      const n = fs.readSync(fd, buf, 0, buf.length, 0);
      return buf.subarray(0, n).toString("utf8").includes(STANDIN_MARKER);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return false;
  }
}

/** How the program is running: under mocks, on the engine with stand-ins only, or for real. */
export function detectRunMode(env: NodeJS.ProcessEnv = process.env, mock: boolean = isMockRuntime()): RunMode {
  if (mock) return { kind: "mock" };
  const ignore = env.PULUMI_IGNORE_AMBIENT_PLUGINS ?? "";
  if (ignore === "1" || ignore.toLowerCase() === "true") {
    return { kind: "real", why: "PULUMI_IGNORE_AMBIENT_PLUGINS is set: the engine loads installed providers" };
  }
  const plugins: Record<string, string> = {};
  for (const name of SECRET_CONSUMERS) {
    const p = lookPath(`pulumi-resource-${name}`, env.PATH);
    if (!p)
      return { kind: "real", why: `pulumi-resource-${name} is not on $PATH: the engine loads the installed provider` };
    if (!isStandin(p)) return { kind: "real", why: `${p} is not a kantai stand-in` };
    plugins[name] = p;
  }
  return { kind: "standins", plugins };
}

/** `encryptionsalt` of the stack's settings file, if the file is there. */
export function stackEncryptionSalt(dir: string, stack: string): string | undefined {
  try {
    const text = fs.readFileSync(path.join(dir, `Pulumi.${stack}.yaml`), "utf8");
    return /^encryptionsalt:\s*(\S+)\s*$/m.exec(text)?.[1];
  } catch {
    return undefined;
  }
}

/**
 * Throw a PlaceholderError when a real run still has placeholders. `raw` is the decoded `kantai:*`
 * config. Call before any resource is registered (stacks/config/load.ts loadConfig does).
 */
export function refusePlaceholders(
  raw: Readonly<Record<string, unknown>>,
  ctx: { stack: string; env?: NodeJS.ProcessEnv; mode?: RunMode; rootDir?: string } = { stack: pulumi.getStack() },
): void {
  const env = ctx.env ?? process.env;
  const mode = ctx.mode ?? detectRunMode(env);
  if (mode.kind !== "real") return;
  // The language host passes the project directory (PULUMI_NODEJS_ROOT_DIRECTORY); it is the cwd too.
  const dirs = ctx.rootDir !== undefined ? [ctx.rootDir] : [pulumi.runtime.getRootDirectory(), process.cwd()];
  const salt = dirs.map((d) => stackEncryptionSalt(d, ctx.stack)).find((x) => x !== undefined);
  const findings = findPlaceholders({
    raw,
    stack: ctx.stack,
    encryptionSalt: salt,
    passphrase: env.PULUMI_CONFIG_PASSPHRASE,
  });
  if (findings.length > 0) throw new PlaceholderError(findings, ctx.stack);
}
