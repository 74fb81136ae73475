import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/global-setup.ts"],
    pool: "forks",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Task logs are JSON lines on stdout; tests read results, not logs.
    env: { POWERTOOLS_LOG_LEVEL: "ERROR" },
  },
});
