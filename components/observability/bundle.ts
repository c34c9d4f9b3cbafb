/**
 * The re-planner's code for its ConfigMap: web/replanner.ts with lib/routing (and yaml) bundled
 * by esbuild at synth/deploy time, so the cluster runs the same library the stack plans with —
 * bundled, never copied. Deterministic for the same sources; computed once per process.
 */
import * as path from "node:path";
import { buildSync } from "esbuild";

const ROOT = path.resolve(__dirname, "..", "..");
let cached: string | undefined;

export function replannerBundle(): string {
  if (cached === undefined) {
    const r = buildSync({
      entryPoints: [path.join(ROOT, "web", "replanner.ts")],
      bundle: true,
      platform: "node",
      target: "node22",
      format: "cjs",
      minify: true,
      legalComments: "none",
      write: false,
      logLevel: "silent",
      banner: {
        js: "// kantai re-planner: web/replanner.ts + lib/routing, bundled by esbuild (components/observability/bundle.ts).",
      },
    });
    cached = r.outputFiles[0].text;
  }
  return cached;
}
