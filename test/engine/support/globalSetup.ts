// Build (or reuse) the engine once before the engine suite runs.
import { engineEnv } from "./engine";

export default function setup(): void {
  const t0 = Date.now();
  const env = engineEnv();
  const bin = env.PATH.split(":")[0];
  console.log(`engine: ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${bin})`);
}
