import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
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

  it('packs the CLI as a package with no dependencies; installed, `jit-access` runs outside any checkout', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'jit-cli-pack-'));
    try {
      const { stdout: packed } = await run('npm', [
        'pack',
        join(root, 'dist/cli-package'),
        '--pack-destination',
        tmp,
      ]);
      const tarball = join(tmp, packed.trim().split('\n').at(-1) ?? '');
      const prefix = join(tmp, 'prefix');
      await run('npm', [
        'install',
        '-g',
        '--prefix',
        prefix,
        tarball,
        '--offline',
        '--no-audit',
        '--no-fund',
      ]);
      const installed = JSON.parse(
        readFileSync(join(prefix, 'lib/node_modules/jit-access-cli/package.json'), 'utf8'),
      ) as { dependencies?: unknown; bin: Record<string, string> };
      expect(installed.dependencies).toBeUndefined();
      expect(Object.keys(installed.bin)).toEqual(['jit-access']);

      const command = join(prefix, 'bin', 'jit-access');
      const env = { PATH: `${dirname(process.execPath)}:/usr/bin:/bin`, HOME: tmp };
      const rootPackage = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      expect((await run(command, ['--version'], { cwd: '/', env })).stdout.trim()).toBe(rootPackage.version);
      const help = (await run(command, ['--help'], { cwd: '/', env })).stdout;
      for (const name of ['creds', 'connect', 'vault', 'validate-config']) expect(help).toContain(name);
      const noVault = await run(command, ['creds', 'REQ-0K2M9Q7X:hvs.abcdefghij'], { cwd: '/', env }).catch(
        (error: { code: number; stderr: string }) => error,
      );
      expect(noVault).toMatchObject({ code: 2, stderr: expect.stringContaining('VAULT_ADDR is not set') });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }, 60_000);

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
