import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BuildOptions, build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

const common: BuildOptions = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: 'linked',
  legalComments: 'none',
  logLevel: 'warning',
  // The AWS SDK v3 ships in the Lambda runtime, but pinning our own version keeps behaviour
  // identical between tests and production, so it is bundled.
};

/** Every folder under lambdas/ with a handler.ts is a Lambda. */
export function lambdaNames(): string[] {
  const dir = join(root, 'lambdas');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

async function main(): Promise<void> {
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  // The repository is an ES module package; the bundles are CommonJS, as a Lambda zip's index.js is.
  writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

  const builds = lambdaNames().map((name) =>
    build({
      ...common,
      entryPoints: [join(root, 'lambdas', name, 'handler.ts')],
      outfile: join(dist, 'lambdas', name, 'index.js'),
      metafile: true,
    }).then(() => `dist/lambdas/${name}/index.js`),
  );
  builds.push(
    build({
      ...common,
      entryPoints: [join(root, 'bin', 'cli-main.ts')],
      outfile: join(dist, 'cli', 'index.cjs'),
      banner: { js: '#!/usr/bin/env node' },
    }).then(() => 'dist/cli/index.cjs'),
  );
  for (const out of await Promise.all(builds)) process.stdout.write(`built ${out}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
