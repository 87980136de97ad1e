import { configDefaults, defineConfig } from "vitest/config";

/**
 * RINGSIDE_TEST_SCOPE=runtime leaves out the checks that do not depend on the
 * Node runtime (deployment files, packaging, the scaffold): `.ci/run` runs
 * everything on the machine's Node, then the runtime tests again on Node 24.
 */
const RUNTIME_INDEPENDENT = [
  "test/infra/k8s-manifests.test.ts",
  "test/infra/container-lint.test.ts",
  "test/packages/**",
];

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "shared/**/*.test.ts"],
    exclude: [...configDefaults.exclude, ...(process.env.RINGSIDE_TEST_SCOPE === "runtime" ? RUNTIME_INDEPENDENT : [])],
    globalSetup: ["test/helpers/global-setup.ts"],
    // Cluster tests spawn real processes; two files at a time fit a 2-core machine.
    maxWorkers: 2,
    fileParallelism: true,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
