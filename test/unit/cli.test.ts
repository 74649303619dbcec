import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../../bin/cli.js';
import { EXAMPLE_CATALOG_PATH, exampleWith, lineOf } from '../fixtures/catalog.js';

const run = promisify(execFile);
const BIN = join(import.meta.dirname, '..', '..', 'bin', 'jit-access.mjs');

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

function tempFile(name: string, text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'jit-cli-')), name);
  writeFileSync(path, text);
  return path;
}

describe('jit-access validate-config', () => {
  it('exits 0 with a one-line summary for a valid catalog', async () => {
    const { io, out, err } = capture();
    expect(await runCli(['validate-config', EXAMPLE_CATALOG_PATH], io)).toBe(0);
    expect(out).toEqual([`${EXAMPLE_CATALOG_PATH}: valid — 2 databases, 4 access levels (prod, staging)`]);
    expect(err).toEqual([]);
  });

  it('exits 1 with each error on its own line', async () => {
    const text = exampleWith('maxDuration: 4h', 'maxDuration: 25h').replace('port: 3306', 'port: 0');
    const file = tempFile('broken.yaml', text);
    const { io, out, err } = capture();
    expect(await runCli(['validate-config', file], io)).toBe(1);
    expect(out).toEqual([]);
    expect(err).toEqual([
      `${file}: 2 errors`,
      `databases.orders.port: must be a TCP port, 1 to 65535 (line ${lineOf(text, 'port: 0')})`,
      `databases.orders.levels.read.maxDuration: "25h" exceeds the 24h ceiling (line ${lineOf(text, 'maxDuration: 25h')})`,
    ]);
  });

  it.each([
    [
      'a missing file',
      '/nonexistent/catalog.yaml',
      /cannot read catalog \/nonexistent\/catalog.yaml: no such file/,
    ],
    ['a file that is not YAML', tempFile('bad.yaml', 'version: 1\nglobal: [\n'), /is not valid YAML/],
    ['a directory', tmpdir(), /it is a directory/],
    [
      'a file of several YAML documents',
      tempFile('multi.yaml', 'version: 1\n---\nversion: 1\n'),
      /is not valid YAML: it holds more than one YAML document .*\(line 2\)/,
    ],
    [
      'a binary file',
      tempFile('binary.yaml', '\u0000\u0001PNG\r\n\u001a\n'),
      /is not a text file \(it holds binary data\); a catalog is a YAML text file/,
    ],
  ])('exits 2 for %s', async (_what, file, message) => {
    const { io, err } = capture();
    expect(await runCli(['validate-config', file], io)).toBe(2);
    expect(err.join('\n')).toMatch(message);
  });

  it("never shows the YAML library's own words", async () => {
    for (const text of ['version: 1\n---\nversion: 1\n', 'version: 1\nglobal:\n  jira: x\n   bad: [\n']) {
      const { io, err } = capture();
      await runCli(['validate-config', tempFile('bad.yaml', text)], io);
      expect(err.join('\n')).not.toMatch(/parseAllDocuments|Implicit keys|Nested mappings|YAML\./);
    }
  });

  it('suggests the field a misspelt one was meant to be, instead of also calling it missing', async () => {
    const text = exampleWith('decisionTimeout: 8h', 'decisionTimeOut: 8h');
    const { io, err } = capture();
    expect(await runCli(['validate-config', tempFile('typo.yaml', text)], io)).toBe(1);
    expect(err.slice(1)).toEqual([
      `global: unknown field "decisionTimeOut" (did you mean "decisionTimeout"?) (line ${lineOf(text, 'decisionTimeOut')})`,
    ]);
  });

  it('exits 2 with usage when the file argument is missing', async () => {
    const { io, err } = capture();
    expect(await runCli(['validate-config'], io)).toBe(2);
    expect(err.join('\n')).toMatch(/missing required argument 'file'/);
  });
});

describe('jit-access --version', () => {
  it('prints the version and exits 0', async () => {
    const { io, out } = capture();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(out).toEqual([
      JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')).version,
    ]);
  });
});

describe('the jit-access executable', () => {
  it('runs from `npm run cli` in a checkout', async () => {
    const { stdout } = await run('npm', ['run', '-s', 'cli', '--', 'validate-config', EXAMPLE_CATALOG_PATH], {
      cwd: join(import.meta.dirname, '..', '..'),
    });
    expect(stdout).toMatch(/valid — 2 databases, 4 access levels/);
  });

  it.each([
    ['valid', EXAMPLE_CATALOG_PATH, 0, /valid — 2 databases/],
    [
      'broken',
      tempFile('broken.yaml', exampleWith('maxDuration: 4h', 'maxDuration: 25h')),
      1,
      /maxDuration: "25h" exceeds the 24h ceiling \(line \d+\)/,
    ],
    ['missing', '/nonexistent.yaml', 2, /no such file/],
  ])('sets the process exit code for a %s catalog', async (_what, file, code, output) => {
    const result = await run(process.execPath, [BIN, 'validate-config', file]).then(
      ({ stdout, stderr }) => ({ code: 0, text: stdout + stderr }),
      (error: { code: number; stdout: string; stderr: string }) => ({
        code: error.code,
        text: error.stdout + error.stderr,
      }),
    );
    expect(result.code).toBe(code);
    expect(result.text).toMatch(output);
  });
});
