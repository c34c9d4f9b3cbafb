/**
 * Host scripts run for real in a network + mount namespace the test creates (`unshare --mount
 * --net`): real iptables, sysctl, mount, … on the namespace's own tables and tmpfs mounts, so
 * nothing on the machine changes. Commands the namespace cannot have (systemd) are STAND-INS the
 * test names and puts first on PATH.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { runTool } from "./tools";

/**
 * TEST STAND-IN for systemctl for units that own a helper's rules (lib/render/hostScripts.ts
 * renderHelperUnit): logs every call to $KANTAI_LOG and runs the unit's ExecStart on `restart` and
 * its ExecStop on `disable`, which is what systemd would do.
 */
export const SYSTEMCTL_UNIT_STANDIN = `#!/bin/sh
# TEST STAND-IN for systemctl: logs calls, runs ExecStart/ExecStop of kantai units.
echo "systemctl $*" >> "$KANTAI_LOG"
unitfile() { echo "/etc/systemd/system/$1"; }
case "$1" in
  daemon-reload|enable) exit 0 ;;
  restart) exec $(sed -n 's/^ExecStart=//p' "$(unitfile "$2")") ;;
  disable) f=$(unitfile "$3"); [ -f "$f" ] && $(sed -n 's/^ExecStop=//p' "$f"); exit 0 ;;
esac
`;

export interface NamespaceRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** What the stand-ins wrote to $KANTAI_LOG. */
  readonly log: string;
}

export interface NamespaceOptions {
  /** Prefix of the scratch directory (under the OS temp directory). */
  readonly name: string;
  /** Stand-ins by command name, written executable into `<dir>/bin`, which comes first on PATH. */
  readonly standins?: Readonly<Record<string, string>>;
  /** Files written into the scratch directory (the working directory of the run); `.sh` ones executable. */
  readonly files?: Readonly<Record<string, string>>;
  /** Directories covered by an empty tmpfs first (where the scripts write). */
  readonly tmpfs?: readonly string[];
  /** More environment exported beside PATH and KANTAI_LOG. */
  readonly env?: (dir: string) => Readonly<Record<string, string>>;
  /** Shell lines run before `script` (a topology, a disk, helper functions), given the scratch directory. */
  readonly setup?: (dir: string) => readonly string[];
  /** Shell lines run after `script`. */
  readonly teardown?: readonly string[];
  /** A file to write the wrapper script to, for debugging; the scratch directory is then kept. */
  readonly debug?: string;
}

/** Run `script` under `set -e` in a fresh network + mount namespace prepared as `opts` says. */
export function inNamespace(script: string, opts: NamespaceOptions): NamespaceRun {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `${opts.name}-`));
  fs.mkdirSync(path.join(dir, "bin"));
  for (const [cmd, text] of Object.entries(opts.standins ?? {}))
    fs.writeFileSync(path.join(dir, "bin", cmd), text, { mode: 0o755 });
  for (const [file, text] of Object.entries(opts.files ?? {}))
    fs.writeFileSync(path.join(dir, file), text, { mode: file.endsWith(".sh") ? 0o755 : 0o644 });
  const log = path.join(dir, "log");
  fs.writeFileSync(log, "");
  const env = { KANTAI_LOG: log, ...(opts.env?.(dir) ?? {}) };
  const wrapper = [
    "set -e",
    ...(opts.tmpfs?.length ? [`for d in ${opts.tmpfs.join(" ")}; do mount -t tmpfs kantai-test "$d"; done`] : []),
    `export PATH="${dir}/bin:$PATH" ${Object.entries(env)
      .map(([k, v]) => `${k}="${v}"`)
      .join(" ")}`,
    `cd "${dir}"`,
    ...(opts.setup?.(dir) ?? []),
    script,
    ...(opts.teardown ?? []),
  ].join("\n");
  if (opts.debug) fs.writeFileSync(opts.debug, wrapper);
  const r = runTool("unshare", ["--mount", "--net", "sh", "-c", wrapper]);
  const out = { status: r.status, stdout: r.stdout, stderr: r.stderr, log: fs.readFileSync(log, "utf8") };
  if (!opts.debug) fs.rmSync(dir, { recursive: true, force: true });
  return out;
}
