import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../bin/cli.js';
import { startVaultEmulator, type VaultEmulator } from '../../local/emulators/vault/vault-emulator.js';
import { VaultCredentialBroker } from '../../shared/adapters/vault/vault-credential-broker.js';
import type { MintedCredential } from '../../shared/ports/credential-broker.js';
import { configureVault, holdToVaultSpec } from '../fixtures/vault-world.js';

/*
 * `jit-access creds <token>` as a requester types it, on a token the Vault adapter minted on the
 * Vault emulator and the real MariaDB: the printed credentials log in; a second use, a sealed or
 * unreachable Vault and a missing VAULT_ADDR each get a plain sentence and exit 2.
 */

const db = inject('mariadb');
const SCHEMA = 'cli_orders';
let emulator: VaultEmulator;
let broker: VaultCredentialBroker;

beforeAll(async () => {
  const admin = await createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
  });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.orders (id INT PRIMARY KEY)`);
  await admin.end();
  emulator = await startVaultEmulator();
  const workerToken = await configureVault(emulator, db, { database: 'orders', schema: SCHEMA });
  broker = new VaultCredentialBroker({
    endpoint: emulator.url,
    token: () => workerToken,
    clock: { now: () => new Date() },
  });
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.unseal();
});

holdToVaultSpec(() => emulator);

const mint = (): Promise<MintedCredential> =>
  broker.mint({
    requestId: 'REQ-0K2M9Q7X',
    account: 'alice',
    database: 'orders',
    level: 'read',
    connection: { host: db.host, port: db.port, database: SCHEMA },
    ttlSeconds: 30 * 60,
    wrapTtlSeconds: 300,
  });

async function cli(args: string[], env: NodeJS.ProcessEnv = { VAULT_ADDR: emulator.url }) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('jit-access creds', () => {
  it('prints credentials that log in, as JSON, and the token is spent', async () => {
    const { wrappedToken, username } = await mint();
    const first = await cli(['creds', wrappedToken, '--format', 'json']);
    expect(first).toMatchObject({ code: 0, err: '' });
    const creds = JSON.parse(first.out) as {
      username: string;
      password: string;
      host: string;
      port: number;
      database: string;
    };
    expect(creds).toMatchObject({ username, database: SCHEMA, requestId: 'REQ-0K2M9Q7X' });
    const session = await createConnection({
      host: creds.host,
      port: creds.port,
      user: creds.username,
      password: creds.password,
    });
    await session.query(`SELECT COUNT(*) FROM ${creds.database}.orders`);
    await session.end();

    const again = await cli(['creds', wrappedToken]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already used, or it expired');
    expect(again.err).toContain('report the request id');
    expect(again.out).toBe('');
  });

  it('takes the token as the DM gives it (REQ-…:<wrap>), and names that request when it was used', async () => {
    const { wrappedToken, username } = await mint();
    const token = `REQ-0K2M9Q7X:${wrappedToken}`;
    const first = await cli(['creds', token, '--format', 'json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.out)).toMatchObject({ username });
    const again = await cli(['creds', token]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('someone else may have: report REQ-0K2M9Q7X to security');
  });

  it.each([
    [
      'env',
      [
        /^export MYSQL_USER='alice-[A-Za-z0-9]{8}'$/m,
        /^export MYSQL_PWD='.+'$/m,
        /^export MYSQL_TCP_PORT=\d+$/m,
      ],
    ],
    ['mycnf', [/^\[client\]$/m, /^user=alice-[A-Za-z0-9]{8}$/m, /^password=".+"$/m]],
  ] as const)('prints them as %s', async (format, patterns) => {
    const { wrappedToken } = await mint();
    const result = await cli(['creds', wrappedToken, '--format', format]);
    expect(result.code).toBe(0);
    for (const pattern of patterns) expect(result.out).toMatch(pattern);
  });

  it.each([
    ['no VAULT_ADDR', {}, 'VAULT_ADDR is not set'],
    ['a VAULT_ADDR that is not a URL', { VAULT_ADDR: 'vault.example.com' }, 'must be a URL'],
    [
      'Vault unreachable',
      { VAULT_ADDR: 'http://127.0.0.1:9' },
      'Cannot reach Vault at http://127.0.0.1:9 (ECONNREFUSED)',
    ],
  ])('says what to do with %s, exit 2, without using the token', async (_case, env, message) => {
    const { wrappedToken } = await mint();
    const result = await cli(['creds', wrappedToken], env as NodeJS.ProcessEnv);
    expect(result).toMatchObject({ code: 2, out: '' });
    expect(result.err).toContain(message);
    // The token still works afterwards: nothing spent it.
    expect((await cli(['creds', wrappedToken])).code).toBe(0);
  });

  it('says Vault is sealed, exit 2', async () => {
    const { wrappedToken } = await mint();
    emulator.seal();
    const result = await cli(['creds', wrappedToken]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('Vault is sealed');
  });

  it('refuses something that is not a token, and an unknown format, without calling Vault', async () => {
    const before = emulator.requests.length;
    expect((await cli(['creds', 'not a token!'])).err).toContain('does not look like a jit-access token');
    expect((await cli(['creds', `hvs.${randomUUID()}`, '--format', 'yaml'])).err).toContain(
      '--format must be one of env, json, mycnf',
    );
    expect(emulator.requests.length).toBe(before);
  });
});

describe('jit-access connect', () => {
  const run = promisify(execFile);
  const cliMain = join(import.meta.dirname, '../../bin/cli-main.ts');
  /** The CLI as a person runs it: its own process, the client's output on its stdout. */
  const connect = (args: string[], tmp: string) =>
    run(process.execPath, ['--import', 'tsx', cliMain, 'connect', ...args], {
      env: { ...process.env, VAULT_ADDR: emulator.url, TMPDIR: tmp },
    }).then(
      (result) => ({ code: 0, ...result }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

  it('starts the mariadb client logged in as the temporary user, and leaves no file behind', async () => {
    const { wrappedToken, username } = await mint();
    const tmp = mkdtempSync(join(tmpdir(), 'jit-connect-'));
    const result = await connect(
      [wrappedToken, '--', '--batch', '--skip-column-names', '-e', 'SELECT CURRENT_USER()'],
      tmp,
    );
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe(`${username}@%`);
    // tsx keeps its cache there too; jit-access's own directories are what must be gone.
    expect(readdirSync(tmp).filter((name) => name.startsWith('jit-access-'))).toEqual([]);
  });

  it('hands the client a 0600 defaults file, and the password on no command line', async () => {
    const { wrappedToken } = await mint();
    const tmp = mkdtempSync(join(tmpdir(), 'jit-connect-'));
    const out = join(mkdtempSync(join(tmpdir(), 'jit-fake-')), 'seen');
    const fake = join(tmp, '..', `fake-client-${randomUUID()}.sh`);
    writeFileSync(
      fake,
      `#!/bin/sh\nfile="\${1#--defaults-extra-file=}"\nstat -c %a "$file" > "${out}"\nstat -c %a "$(dirname "$file")" >> "${out}"\nprintf '%s\\n' "$@" >> "${out}"\ngrep '^password=' "$file" >> "${out}"\n`,
    );
    chmodSync(fake, 0o755);
    const result = await connect(['--client', fake, wrappedToken, '--', '-e', 'SELECT 1'], tmp);
    expect(result.code).toBe(0);
    const [fileMode, dirMode, ...rest] = readFileSync(out, 'utf8').trim().split('\n');
    expect(fileMode).toBe('600');
    expect(dirMode).toBe('700');
    const passwordLine = rest.at(-1) ?? '';
    const password = /^password="(.+)"$/.exec(passwordLine)?.[1] ?? '';
    expect(password.length).toBeGreaterThan(8);
    const argv = rest.slice(0, -1);
    expect(argv[0]).toMatch(/^--defaults-extra-file=/);
    expect(argv.slice(1)).toEqual(['-e', 'SELECT 1']);
    expect(argv.join(' ')).not.toContain(password);
    // tsx keeps its cache there too; jit-access's own directories are what must be gone.
    expect(readdirSync(tmp).filter((name) => name.startsWith('jit-access-'))).toEqual([]);
  });

  it('removes the defaults file when it is stopped (SIGTERM) while the client runs', async () => {
    const { wrappedToken } = await mint();
    const tmp = mkdtempSync(join(tmpdir(), 'jit-connect-'));
    const sleeper = join(tmp, '..', `sleepy-client-${randomUUID()}.sh`);
    writeFileSync(sleeper, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(sleeper, 0o755);
    const cliProcess = spawn(
      process.execPath,
      ['--import', 'tsx', cliMain, 'connect', '--client', sleeper, wrappedToken],
      {
        env: { ...process.env, VAULT_ADDR: emulator.url, TMPDIR: tmp },
        stdio: 'ignore',
      },
    );
    const ours = () => readdirSync(tmp).filter((name) => name.startsWith('jit-access-'));
    for (let i = 0; i < 100 && ours().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(ours()).toHaveLength(1);
    const exited = new Promise((resolve) => cliProcess.once('exit', resolve));
    cliProcess.kill('SIGTERM');
    await exited;
    expect(ours()).toEqual([]);
  });

  it('says which client to install when none is found, without spending the token', async () => {
    const { wrappedToken } = await mint();
    const tmp = mkdtempSync(join(tmpdir(), 'jit-connect-'));
    const result = await connect(['--client', '/nonexistent/mariadb', wrappedToken], tmp);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--client /nonexistent/mariadb is not an executable file');
    expect((await cli(['creds', wrappedToken])).code).toBe(0);
  });
});
