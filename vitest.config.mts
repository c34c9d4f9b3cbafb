import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    exclude: ["test/engine/**", "node_modules/**"],
    include: ["test/**/*.test.ts", "lib/**/*.test.ts", "components/**/*.test.ts", "web/**/*.test.ts"],
    // Pulumi's mock runtime is process-global state: every test file gets its own process.
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
