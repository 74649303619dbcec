import { defineConfig } from 'vitest/config';

// Two projects so `vitest run --project unit` never starts a server. The integration
// project starts one MariaDB and one Active Directory for the whole run (global setup),
// because the machine is small and both take seconds to boot.
export default defineConfig({
  test: {
    // Metrics are asserted where they matter (spies); their EMF lines would only clutter the output.
    env: { POWERTOOLS_METRICS_DISABLED: 'true' },
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // A timeout catches a hang, it does not measure speed: 1,000-case property tests and the
          // CDK synth share 2 cores, and 5 s made them fail on a busy machine.
          testTimeout: 30_000,
          sequence: { groupOrder: 0 },
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/contract/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // After the unit tests: a unit failure shows before the servers are even booted.
          sequence: { groupOrder: 1 },
          environment: 'node',
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 30_000,
          hookTimeout: 120_000,
          // Tests share the servers; parallel files are fine, but keep the pool small on 2 cores.
          maxWorkers: 2,
        },
      },
    ],
  },
});
