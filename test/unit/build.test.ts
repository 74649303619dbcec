import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_CATALOG_PATH } from '../fixtures/catalog.js';
import { LAMBDA_TEST_ENV } from '../fixtures/lambda-env.js';

const run = promisify(execFile);
const root = join(import.meta.dirname, '..', '..');
const lambdas = readdirSync(join(root, 'lambdas'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(root, 'lambdas', d.name, 'handler.ts')))
  .map((d) => d.name);

describe('npm run build', () => {
  beforeAll(async () => {
    await run('npm', ['run', '-s', 'build'], { cwd: root });
  }, 120_000);

  it('refuses to build with a named catalog that does not exist, instead of shipping the example', async () => {
    const failed = await run(process.execPath, ['--import', 'tsx', join(root, 'scripts/build.ts')], {
      cwd: root,
      env: { ...process.env, JIT_ACCESS_CONFIG: '/nonexistent.yaml' },
    }).catch((error: { code?: number; stdout: string; stderr: string }) => error);
    expect(failed).toMatchObject({ code: 1 });
    expect((failed as { stderr: string }).stderr).toContain(
      'the catalog named by JIT_ACCESS_CONFIG does not exist: /nonexistent.yaml',
    );
    expect((failed as { stdout: string }).stdout).not.toContain('built ');
  });

  it('bundles a CLI that runs without the sources or node_modules', async () => {
    const { stdout } = await run(
      process.execPath,
      [join(root, 'dist/cli/index.cjs'), 'validate-config', EXAMPLE_CATALOG_PATH],
      {
        cwd: '/',
      },
    );
    expect(stdout).toMatch(/valid — 2 databases, 4 access levels/);
  });

  it.skipIf(lambdas.length === 0).each(lambdas)('bundles the %s Lambda exporting handler', async (name) => {
    const bundle = join(root, 'dist/lambdas', name, 'index.js');
    const { stdout } = await run(
      process.execPath,
      [
        '-e',
        `const m = require(${JSON.stringify(bundle)}); process.stdout.write(typeof m.handler + ' ' + m.handler.length)`,
      ],
      { env: { PATH: process.env.PATH, ...LAMBDA_TEST_ENV[name] } },
    );
    // Two arguments: Lambda's Node 24+ runtimes refuse callback-style (3-argument) handlers.
    expect(stdout).toBe('function 2');
  });
});
