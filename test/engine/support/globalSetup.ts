// Build (or reuse) the engine once before the engine suite runs, and the Go tools the Kubernetes
// tests use (scripts/engine.sh tool …): the control plane (k8s), kwok (SIMULATED nodes) and the
// REAL pulumi-kubernetes provider. Cold, these take minutes (docs/how-to/engine.md); warm, < 1 s.
// Built here rather than inside a test, so no test's timeout includes a build and nothing skips.
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { engineEnv, REPO } from "./engine";

const TOOLS = ["k8s", "kwok", "kubernetes-provider"];

export default function setup(): void {
  const t0 = Date.now();
  const env = engineEnv();
  const bin = env.PATH.split(":")[0];
  console.log(`engine: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${bin})`);
  for (const tool of TOOLS) {
    const t = Date.now();
    const r = spawnSync("bash", [path.join(REPO, "scripts", "engine.sh"), "tool", tool], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    });
    if (r.status !== 0) throw new Error(`scripts/engine.sh tool ${tool} failed (exit ${r.status})`);
    console.log(
      `engine: ${tool} ready in ${((Date.now() - t) / 1000).toFixed(1)} s (${r.stdout.trim().split("\n").pop()})`,
    );
  }
}
