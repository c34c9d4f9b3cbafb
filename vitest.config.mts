import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    exclude: ["test/engine/**", "node_modules/**"],
    // One layout: every test under test/ (docs: CONTRIBUTING.md "Tests").
    include: ["test/**/*.test.ts"],
    // Pulumi's mock runtime is process-global state: every test file gets its own process.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
