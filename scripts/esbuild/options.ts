import type { BuildOptions } from 'esbuild';

/** How every bundle is built: the Lambdas, the CLI, and the benchmark's baseline. */
export const COMMON_BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  // Prefer packages' ES module builds: esbuild can drop what is unused and load the rest lazily.
  mainFields: ['module', 'main'],
  logLevel: 'warning',
  // The AWS SDK v3 ships in the Lambda runtime, but bundling our pinned version keeps behaviour
  // identical between tests and production.
};
