import { defineConfig } from "vitest/config";

// The engine suite (test/engine): real Pulumi CLI, language host and plugins built by
// scripts/engine.sh. The global setup builds the engine and the Kubernetes tools (control plane,
// kwok, the real provider) when missing (cold: minutes), so the suite never skips for lack of them.
export default defineConfig({
  test: {
    include: ["test/engine/**/*.test.ts"],
    // includes test/engine/k8sEdge.test.ts and k8sLab.test.ts (the edge and lab stacks through the
    // real pulumi-kubernetes provider against the local API server with SIMULATED nodes); alone:
    // `npm run test:engine:k8s` (vitest.engine.k8s.config.mts)
    globalSetup: ["test/engine/support/globalSetup.ts"],
    pool: "forks",
    // 2-core machines: one pulumi deployment at a time
    fileParallelism: false,
    testTimeout: 10 * 60_000,
    hookTimeout: 10 * 60_000,
  },
});
