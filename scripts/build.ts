import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';
import { parse } from 'yaml';
import { chooseCatalog, exampleCatalogWarning } from '../shared/config/catalog-choice.js';
import { loadCatalogFile } from '../shared/config/load-catalog.js';
import { COMMON_BUILD_OPTIONS } from './esbuild/options.js';
import { bundleLambda } from './esbuild/lambda-bundle.js';

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

/** The catalog bundled into the Lambdas, chosen as `cdk synth` chooses it; validated, so an invalid one fails the build. */
function bundledCatalog(): { path: string; json: string } {
  const named = process.env.JIT_ACCESS_CONFIG
    ? { path: process.env.JIT_ACCESS_CONFIG, via: 'JIT_ACCESS_CONFIG' }
    : undefined;
  const chosen = chooseCatalog(root, named);
  if (chosen.source === 'example') process.stderr.write(`${exampleCatalogWarning('the build')}\n`);
  loadCatalogFile(chosen.path);
  return { path: chosen.path, json: JSON.stringify(parse(readFileSync(chosen.path, 'utf8'))) };
}

async function main(): Promise<void> {
  const catalog = bundledCatalog();
  process.stdout.write(`catalog ${relative(root, catalog.path)}\n`);
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  // The repository is an ES module package; the bundles are CommonJS, as a Lambda zip's index.js is.
  writeFileSync(join(dist, 'package.json'), '{ "type": "commonjs" }\n');

  const builds = lambdaNames().map((name) =>
    bundleLambda(name, join(dist, 'lambdas', name), catalog.json).then(() => `dist/lambdas/${name}/index.js`),
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
  process.stdout.write(`built ${writeCliPackage()}\n`);
}

/**
 * The package requesters install: the CLI bundle alone, no dependencies (everything it needs is
 * inside the bundle), so `npm install -g` of it works from any registry and starts fast. Its name
 * is the company's to choose (JIT_ACCESS_CLI_PACKAGE, e.g. @acme/jit-access); the command is
 * always `jit-access`, which is what the Slack DM tells people to type.
 */
function writeCliPackage(): string {
  const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
    version: string;
    engines: { node: string };
    license?: string;
  };
  const dir = join(dist, 'cli-package');
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(dist, 'cli', 'index.cjs'), join(dir, 'jit-access.cjs'));
  chmodSync(join(dir, 'jit-access.cjs'), 0o755);
  const manifest = {
    name: process.env.JIT_ACCESS_CLI_PACKAGE ?? 'jit-access-cli',
    version: rootPackage.version,
    description: 'jit-access on your laptop: open the single-use token from Slack and connect to MySQL',
    license: rootPackage.license ?? 'UNLICENSED',
    bin: { 'jit-access': 'jit-access.cjs' },
    files: ['jit-access.cjs', 'README.md'],
    engines: rootPackage.engines,
  };
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  writeFileSync(
    join(dir, 'README.md'),
    [
      '# jit-access',
      '',
      'Opens the single-use token jit-access sends you in Slack once your database access is approved.',
      '',
      '```sh',
      'export VAULT_ADDR=https://vault.example.com:8200   # your platform team knows the address',
      'jit-access connect <token>          # starts mariadb/mysql logged in as your temporary user',
      'jit-access creds <token> --format env|json|mycnf   # prints the credentials instead',
      '```',
      '',
      'Needs Node.js ' + rootPackage.engines.node + ' and, for `connect`, the mariadb or mysql client.',
      '',
    ].join('\n'),
  );
  return 'dist/cli-package (npm pack dist/cli-package)';
}

main().catch((error: unknown) => {
  process.stderr.write(`build failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
