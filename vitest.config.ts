import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "shared/**/*.test.ts"],
    globalSetup: ["test/helpers/global-setup.ts"],
    // Cluster tests spawn real processes; two files at a time fit a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
