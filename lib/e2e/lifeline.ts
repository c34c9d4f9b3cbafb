/**
 * Lifeline for a long-running command started through wrappers (`npm run` → sh → tsx → node):
 * notices when any wrapper above this process dies, so the command can stop what it started.
 *
 * Why: a signal reaches only the process it is sent to. npm and tsx relay SIGINT/SIGTERM to their
 * child, but `sh` relays nothing and tsx relays no SIGHUP, so a signal to a wrapper can kill the
 * wrapper and leave this process (and the process groups it spawned) running, re-parented to init.
 * The processes of "the command" are this process's ancestors in its own process group (a shell
 * puts each job in one group; `detached` children get their own and are not ancestors).
 *
 * Linux: reads /proc/<pid>/stat (proc(5): field 4 ppid, field 5 pgrp, field 3 state, "Z" = zombie,
 * field 22 starttime — compared so that a reused pid does not count as alive). Elsewhere it
 * watches only the parent pid (process.ppid changes when the parent dies).
 */
import * as fs from "node:fs";

interface ProcStat {
  readonly pid: number;
  readonly state: string;
  readonly ppid: number;
  readonly pgrp: number;
  readonly start: string;
}

/** Parse /proc/<pid>/stat; undefined when the process does not exist. */
export function procStat(pid: number | "self"): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may itself hold spaces or ")".
  const close = text.lastIndexOf(")");
  const head = Number(text.slice(0, text.indexOf(" ")));
  const rest = text.slice(close + 2).split(" ");
  return { pid: head, state: rest[0], ppid: Number(rest[1]), pgrp: Number(rest[2]), start: rest[19] };
}

/** Alive = exists, is not a zombie, and is the same process (same start time) as when recorded. */
function alive(p: ProcStat): boolean {
  const now = procStat(p.pid);
  return now !== undefined && now.state !== "Z" && now.start === p.start;
}

/** This process's ancestors that share its process group, nearest first. */
export function groupAncestors(): ProcStat[] {
  const self = procStat("self");
  if (!self) return [];
  const out: ProcStat[] = [];
  for (let p = procStat(self.ppid); p && p.pid > 1 && p.pgrp === self.pgrp; p = procStat(p.ppid)) out.push(p);
  return out;
}

/**
 * Call `onLost(description)` once, when an ancestor of this command dies (checked every `everyMs`).
 * Returns a function that stops watching.
 */
export function watchAncestors(onLost: (what: string) => void, everyMs = 250): () => void {
  const ancestors = groupAncestors();
  const parent = process.ppid;
  const timer = setInterval(() => {
    const gone = ancestors.find((a) => !alive(a));
    const what = gone
      ? `process ${gone.pid} (an ancestor of this command) exited`
      : process.ppid !== parent
        ? `parent process ${parent} exited`
        : undefined;
    if (what) {
      clearInterval(timer);
      onLost(what);
    }
  }, everyMs);
  return () => clearInterval(timer);
}
