import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import * as path from "node:path";
import { ROOT } from "./devConfig";

/** Run a real tool; a missing tool is a test failure with a clear message, never a skip. */
export function runTool(
  cmd: string,
  args: string[],
  opts: { cwd?: string; input?: string } = {},
): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: "utf8", cwd: opts.cwd, input: opts.input, timeout: 120_000 });
  if (r.error && (r.error as NodeJS.ErrnoException).code === "ENOENT") {
    throw new Error(
      `${cmd} is not installed: .ci/run installs it (apt-get install cloud-init caddy bind9 bind9-utils shellcheck iptables)`,
    );
  }
  if (r.error) throw r.error;
  return r;
}

/** Run `npm run synth` as a user would, in a subprocess. */
export function runSynth(args: string[]): SpawnSyncReturns<string> {
  return spawnSync(
    process.execPath,
    [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), path.join(ROOT, "scripts", "synth.ts"), ...args],
    {
      encoding: "utf8",
      cwd: ROOT,
      timeout: 120_000,
    },
  );
}
