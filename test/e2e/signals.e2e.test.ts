/**
 * `npm run fleet:local` for real: started through npm as a user starts it, then one signal to one
 * process of the command — npm, the shell npm runs, tsx, the script's node, or one of the started
 * servers — and every process of the tree (named, both Caddys, the web servers, the wrappers)
 * must be gone shortly after. Real processes on 127.0.0.1 only.
 *
 * Signals reach only the process they are sent to (signal(7)); npm and tsx relay SIGINT/SIGTERM
 * to their child, sh and tsx relay no SIGHUP — scripts/fleet-local.ts watches its ancestors
 * (lib/e2e/lifeline.ts) so that all cases stop everything.
 */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { procStat } from "../../lib/e2e/lifeline";
import { ROOT, synthInto } from "../../lib/e2e/localFleet";

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "kantai-signals-"));
const synthDir = path.join(tmp, "synth");
/** Every process a case saw, so that a failing case leaves nothing behind for the next one. */
const seen: Proc[] = [];

beforeAll(() => synthInto("dev", synthDir));
afterAll(() => {
  for (const p of seen.filter(aliveProc)) {
    try {
      process.kill(p.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Proc {
  readonly pid: number;
  readonly start: string;
  readonly cmd: string;
}

function aliveProc(p: Proc): boolean {
  const st = procStat(p.pid);
  return st !== undefined && st.state !== "Z" && st.start === p.start;
}

/** Every live descendant of `root` (including it), by walking /proc (proc(5)). */
function tree(root: number): Proc[] {
  const kids = new Map<number, number[]>();
  for (const d of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    const st = procStat(Number(d));
    if (st && st.state !== "Z") kids.set(st.ppid, [...(kids.get(st.ppid) ?? []), st.pid]);
  }
  const out: Proc[] = [];
  const visit = (pid: number) => {
    const st = procStat(pid);
    if (!st || st.state === "Z") return;
    let cmd: string;
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim();
    } catch {
      return;
    }
    out.push({ pid, start: st.start, cmd });
    for (const k of kids.get(pid) ?? []) visit(k);
  };
  visit(root);
  return out;
}

async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

/** Start `npm run -s fleet:local` (own process group, as a shell job) and wait for it to be up. */
async function startFleet(name: string): Promise<{ npm: ChildProcess; procs: Proc[]; log: () => string }> {
  const ready = path.join(tmp, `${name}.ready.json`);
  const logFile = path.join(tmp, `${name}.log`);
  const fd = fs.openSync(logFile, "w");
  const npm = spawn(
    "npm",
    ["run", "-s", "fleet:local", "--", "--synth", synthDir, "--instances", "2", "--ready", ready],
    {
      cwd: ROOT,
      detached: true,
      stdio: ["ignore", fd, fd],
    },
  );
  fs.closeSync(fd);
  const log = () => fs.readFileSync(logFile, "utf8");
  const up = await until(() => fs.existsSync(ready) || npm.exitCode !== null, 60_000);
  if (!up || npm.exitCode !== null) throw new Error(`fleet:local did not start:\n${log()}`);
  const procs = tree(npm.pid!);
  seen.push(...procs);
  return { npm, procs, log };
}

type Pick = (procs: Proc[], npm: number) => Proc | undefined;
const cases: [string, NodeJS.Signals, Pick][] = [
  ["npm", "SIGTERM", (ps, npm) => ps.find((p) => p.pid === npm)],
  ["npm", "SIGHUP", (ps, npm) => ps.find((p) => p.pid === npm)],
  [
    "the shell npm runs (or tsx, when sh execs it)",
    "SIGTERM",
    (ps, npm) => ps.find((p) => procStat(p.pid)?.ppid === npm),
  ],
  ["tsx", "SIGHUP", (ps) => ps.find((p) => /^node \S*\/\.bin\/tsx /.test(p.cmd))],
  [
    "the script's node",
    "SIGINT",
    (ps) => ps.find((p) => p.cmd.includes("tsx/dist/loader.mjs") && p.cmd.includes("scripts/fleet-local.ts")),
  ],
  ["caddy-root", "SIGTERM", (ps) => ps.find((p) => p.cmd.includes("caddy") && p.cmd.includes("root.Caddyfile"))],
];

describe("npm run fleet:local stops everything it started", () => {
  it.each(cases)("%s gets %s", async (what, signal, pick) => {
    const { npm, procs, log } = await startFleet(`${what.split(" ")[0]}-${signal}`);
    const cmds = procs.map((p) => p.cmd).join("\n");
    // What the command started: named, both Caddys, 2 web servers, under the wrappers.
    expect(
      procs.filter((p) => / -g -c \S+named\.conf/.test(p.cmd)),
      cmds,
    ).toHaveLength(1);
    expect(
      procs.filter((p) => p.cmd.startsWith("caddy run")),
      cmds,
    ).toHaveLength(2);
    expect(
      procs.filter((p) => p.cmd.endsWith(path.join("web", "server.js"))),
      cmds,
    ).toHaveLength(2);
    const target = pick(procs, npm.pid!);
    expect(target, `${what} in\n${cmds}`).toBeDefined();

    process.kill(target!.pid, signal);
    const allGone = await until(() => procs.every((p) => !aliveProc(p)), 20_000);
    const survivors = procs.filter(aliveProc).map((p) => `${p.pid} ${p.cmd}`);
    expect(survivors, log()).toEqual([]);
    expect(allGone).toBe(true);
  });
});
