import { defineConfig } from "vitest/config";

// Two tiers: unit tests run anywhere against in-process servers on port 0; the
// integration tier needs the demo mail host (scripts/demo-mailhost.sh) running.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          // Regression tests of hostile input and trust (forged returns, starved listener, secret
          // files, dashboard hosts, webhook targets): in-process, like the unit tier.
          name: "security",
          include: ["test/security/**/*.test.ts"],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  },
});
