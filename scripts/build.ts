import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { loadCatalogFile } from '../shared/config/load-catalog.js';
import { COMMON_BUILD_OPTIONS } from './esbuild/options.js';
import { trimLambdaDeps } from './esbuild/trim-lambda-deps.js';

const root = join(import.meta.dirname, '..');
const dist = join(root, 'dist');

const common = COMMON_BUILD_OPTIONS;

/** Every folder under lambdas/ with a handler.ts is a Lambda. */
export function lambdaNames(): string[] {
  const dir = join(root, 'lambdas');
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(dir, entry.name, 'handler.ts')))
    .map((entry) => entry.name)
    .sort();
}

/**
 * The catalog bundled into the Lambdas: JIT_ACCESS_CONFIG, else ./jit-access.config.yaml, else the
 * example (so a fresh clone builds). It is validated here, so an invalid catalog fails the build.
 */
function bundledCatalog(): { path: string; json: string } {
  const candidates = [
    process.env.JIT_ACCESS_CONFIG,
    join(root, 'jit-access.config.yaml'),
    join(root, 'examples', 'jit-access.config.yaml'),
  ];
  const path = candidates.find((p): p is string => p !== undefined && existsSync(p)) ?? candidates.at(-1)!;
  loadCatalogFile(path);
  return { path, json: JSON.stringify(parse(readFileSync(path, 'utf8'))) };
}

async function main(): Promise<void> {
  const catalog = bundledCatalog();
  process.stdout.write(`catalog ${relative(root, catalog.path)}\n`);
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  // The repository is an ES module package; the bundles are CommonJS, as a Lambda zip's index.js is.
  writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

  const builds = lambdaNames().map((name) =>
    build({
      ...common,
      entryPoints: [join(root, 'lambdas', name, 'handler.ts')],
      outfile: join(dist, 'lambdas', name, 'index.js'),
      define: { __JIT_ACCESS_CATALOG__: catalog.json, 'process.env.JIT_ACCESS_BUNDLED': '"true"' },
      plugins: [trimLambdaDeps],
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
