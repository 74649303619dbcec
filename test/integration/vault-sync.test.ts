import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../bin/cli.js';
import { vaultCall } from '../../bin/vault-http.js';
import { suggestedTemplate, WORKER_POLICY } from '../../bin/vault-sync.js';
import { startVaultEmulator, type VaultEmulator } from '../../local/emulators/vault/vault-emulator.js';
import { VaultCredentialBroker } from '../../shared/adapters/vault/vault-credential-broker.js';
import { holdToVaultSpec } from '../fixtures/vault-world.js';

/*
 * `jit-access vault sync` against the Vault emulator on the run's MariaDB: the plan, --apply, a
 * second run that changes nothing, a catalog change shown as a statement diff, and connections
 * that need fixing (said exactly, nothing written). What it writes is then used for real: the
 * worker's policy mints, the level's statements grant, the revocation drops the user and ends
 * the session it still had open.
 */

const db = inject('mariadb');
const SCHEMA = 'sync_orders';
let vault: VaultEmulator;
let admin: Connection;
let dir: string;

const catalog = (grants: string, connection = 'orders-db') => `version: 1
global:
  jira:
    site: https://example.atlassian.net
    projectKey: DBA
    issueType: Task
    statuses: { approved: Approved, denied: Declined, granted: Access Granted, closed: Done }
  decisionTimeout: 8h
  slack:
    approversChannel: C0APPROVALS
  vault:
    wrapTtl: 5m
databases:
  orders:
    host: ${db.host}
    port: ${db.port}
    flavor: mariadb
    schema: ${SCHEMA}
    vaultConnection: ${connection}
    environment: prod
    levels:
      read:
        grants: ["${grants}"]
        defaultDuration: 1h
        maxDuration: 4h
        requesterGroups: ["CN=eng,OU=Groups,DC=example,DC=test"]
        approverGroups: ["CN=dba,OU=Groups,DC=example,DC=test"]
      write:
        grants: ["GRANT SELECT, INSERT ON ${SCHEMA}.* TO '{{name}}'@'%'"]
        defaultDuration: 30m
        maxDuration: 2h
        requesterGroups: ["CN=eng,OU=Groups,DC=example,DC=test"]
        approverGroups: ["CN=dba,OU=Groups,DC=example,DC=test"]
`;
const READ = `GRANT SELECT ON ${SCHEMA}.* TO '{{name}}'@'%'`;

function catalogFile(text: string): string {
  const file = join(dir, `catalog-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, text);
  return file;
}

async function sync(
  args: string[],
  env: NodeJS.ProcessEnv = { VAULT_ADDR: vault.url, VAULT_TOKEN: vault.rootToken },
) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(['vault', 'sync', ...args], {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env,
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** The operator's part, which sync only checks: the connection with the admin login. */
async function writeConnection(fields: Record<string, unknown> = {}) {
  const answer = await vaultCall(
    { address: vault.url },
    {
      method: 'POST',
      path: 'database/config/orders-db',
      token: vault.rootToken,
      body: {
        plugin_name: 'mysql-database-plugin',
        connection_url: `{{username}}:{{password}}@tcp(${db.host}:${db.port})/`,
        username: db.user,
        password: db.password,
        allowed_roles: ['jit-orders-*'],
        username_template: suggestedTemplate(32),
        ...fields,
      },
    },
  );
  expect(answer.status).toBe(204);
}

beforeAll(async () => {
  admin = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.items (id INT PRIMARY KEY)`);
  dir = mkdtempSync(join(tmpdir(), 'jit-sync-'));
});

afterAll(async () => {
  await admin?.end();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(async () => {
  vault = await startVaultEmulator();
});

afterEach(async () => {
  await vault.revokeAll();
  await vault.stop();
});

holdToVaultSpec(() => vault);

describe('jit-access vault sync', () => {
  it('plans, applies, and a second run changes nothing', async () => {
    await writeConnection();
    const file = catalogFile(catalog(READ));

    const plan = await sync([file]);
    expect(plan.code).toBe(0);
    expect(plan.out).toContain('+ create    database role jit-orders-read');
    expect(plan.out).toContain('+ create    database role jit-orders-write');
    expect(plan.out).toContain('+ create    policy jit-orders-read');
    expect(plan.out).toContain('+ create    token role jit-access-requester');
    expect(plan.out).toContain(`+ create    policy ${WORKER_POLICY}`);
    expect(plan.out).toContain('6 to create, 0 to change, 0 unchanged.');
    expect(plan.out).toContain('Run again with --apply');
    // A plan writes nothing.
    expect(vault.requests.filter((r) => r.method !== 'GET' && !r.path.startsWith('database/config'))).toEqual(
      [],
    );

    const applied = await sync([file, '--apply']);
    expect(applied).toMatchObject({ code: 0, err: '' });
    expect(applied.out).toContain('Wrote 6 objects.');

    const again = await sync([file]);
    expect(again.out).toContain('0 to create, 0 to change, 6 unchanged.');
    expect(again.out).toContain('Vault is in sync with the catalog.');
    const reapplied = await sync([file, '--apply']);
    expect(reapplied.out).toContain('Nothing to write');
  });

  it('shows a changed level as a diff of its statements, and applies just that', async () => {
    await writeConnection();
    await sync([catalogFile(catalog(READ)), '--apply']);
    const wider = `GRANT SELECT, SHOW VIEW ON ${SCHEMA}.* TO '{{name}}'@'%'`;
    const plan = await sync([catalogFile(catalog(wider))]);
    expect(plan.out).toContain('~ change    database role jit-orders-read');
    expect(plan.out).toContain(`  - ${READ}`);
    expect(plan.out).toContain(`  + ${wider}`);
    expect(plan.out).toContain('0 to create, 1 to change, 5 unchanged.');
  });

  it('what it writes works: the worker mints, the level grants, revocation drops the user and ends its session', async () => {
    await writeConnection();
    await sync([catalogFile(catalog(READ)), '--apply']);
    const created = await vaultCall(
      { address: vault.url },
      {
        method: 'POST',
        path: 'auth/token/create',
        token: vault.rootToken,
        body: { policies: [WORKER_POLICY] },
      },
    );
    const workerToken = String((created.body?.auth as { client_token: string }).client_token);
    const broker = new VaultCredentialBroker({
      endpoint: vault.url,
      token: () => workerToken,
      clock: { now: () => new Date() },
    });
    const minted = await broker.mint({
      requestId: 'REQ-0K2M9Q7X',
      account: 'alice',
      database: 'orders',
      level: 'read',
      connection: { host: db.host, port: db.port, database: SCHEMA },
      ttlSeconds: 600,
      wrapTtlSeconds: 300,
    });
    expect(minted.username).toMatch(/^alice-[A-Za-z0-9]{8}$/);
    const unwrapped = await vaultCall(
      { address: vault.url },
      { method: 'POST', path: 'sys/wrapping/unwrap', token: minted.wrappedToken },
    );
    const creds = unwrapped.body?.data as { username: string; password: string };
    const session = await createConnection({
      host: db.host,
      port: db.port,
      user: creds.username,
      password: creds.password,
    });
    await session.query(`SELECT COUNT(*) FROM ${SCHEMA}.items`);
    await expect(session.query(`INSERT INTO ${SCHEMA}.items VALUES (7)`)).rejects.toMatchObject({
      code: 'ER_TABLEACCESS_DENIED_ERROR',
    });
    session.on('error', () => undefined);

    await broker.revoke(minted.leaseId);
    const [rows] = await admin.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [
      minted.username,
    ]);
    expect((rows as { n: number }[])[0]?.n).toBe(0);
    // DROP USER alone leaves the session working; the revocation statements end it.
    await expect(session.query('SELECT 1')).rejects.toThrow();
    // A second revocation (Vault's own TTL after a schedule, say) is no error loop.
    await expect(broker.revoke(minted.leaseId)).resolves.toBeUndefined();
  });

  it.each([
    [
      'a connection that does not exist',
      async () => undefined,
      'connection orders-db: does not exist in Vault',
      'vault write database/config/orders-db plugin_name=mysql-database-plugin',
    ],
    [
      'a connection that does not allow a level',
      () => writeConnection({ allowed_roles: ['jit-orders-read'] }),
      'does not allow the role jit-orders-write',
      "allowed_roles='jit-orders-read,jit-orders-write'",
    ],
    [
      "Vault's default username template",
      () => writeConnection({ username_template: undefined }),
      "keeps too little of the requester's account in the user name (Vault's default template",
      `username_template='${suggestedTemplate(32)}'`,
    ],
    [
      'a plugin for another flavor',
      () => writeConnection({ plugin_name: 'mysql-aurora-database-plugin' }),
      'uses mysql-aurora-database-plugin, but the catalog says MariaDB',
      'correct the flavor in the catalog',
    ],
  ])(
    '%s: says exactly what to fix, exit 1, and --apply writes nothing',
    async (_what, setUp, problem, fix) => {
      await setUp();
      const result = await sync([catalogFile(catalog(READ)), '--apply']);
      expect(result.code).toBe(1);
      expect(result.out).toContain(problem);
      expect(result.out).toContain(fix);
      expect(result.err).toContain('nothing was written');
      const role = await vaultCall(
        { address: vault.url },
        { method: 'GET', path: 'database/roles/jit-orders-read', token: vault.rootToken },
      );
      expect(role.status).toBe(404);
    },
  );

  it.each([
    ['no token', { VAULT_ADDR: 'set below' }, 'No Vault token: log in with `vault login`'],
    [
      'a token without the rights',
      { VAULT_ADDR: 'set below', VAULT_TOKEN: 'hvs.nobody' },
      'Vault refused to read',
    ],
  ])('%s: a plain sentence, exit 2', async (_what, env, message) => {
    const result = await sync([catalogFile(catalog(READ))], { ...env, VAULT_ADDR: vault.url, HOME: dir });
    expect(result.code).toBe(2);
    expect(result.err).toContain(message);
  });
});
