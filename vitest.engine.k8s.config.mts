import { defineConfig } from "vitest/config";
import engine from "./vitest.engine.config.mts";

// Only the stacks on the real pulumi-kubernetes provider against the local API server with
// SIMULATED nodes (kwok): test/engine/k8sEdge.test.ts and k8sLab.test.ts, with the engine suite's
// settings (`npm run test:engine:k8s`).
// (mergeConfig would concatenate include/exclude, so the test block is replaced instead.)
export default defineConfig({
  ...engine,
  test: { ...engine.test, include: ["test/engine/k8sEdge.test.ts", "test/engine/k8sLab.test.ts"] },
});
