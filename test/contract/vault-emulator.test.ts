import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import vault from 'node-vault';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { startVaultEmulator, type VaultEmulator } from '../../local/emulators/vault/vault-emulator.js';
import { validateVaultRequest } from '../../local/emulators/vault/vault-spec.js';
import { ManualClock } from '../fixtures/manual-clock.js';
import { holdToVaultSpec, vaultSpec } from '../fixtures/vault-world.js';

/*
 * The Vault emulator driven by node-vault (the client jit-access uses), with the database engine
 * running its statements on the real MariaDB the test run starts: what the grant and expiry work
 * relies on, as ../shared/notes/vault-scheduler.md records Vault's behaviour.
 */

const db = inject('mariadb');
const clock = new ManualClock(new Date('2026-11-21T10:00:00Z'));
const SCHEMA = 'vault_orders';
/** Keeps the account readable: `token-` dropped, 16 characters of it, within MySQL 8's 32. */
const KEEP_ACCOUNT =
  '{{ printf "%s-%s-%s" (.DisplayName | replace "token-" "" | truncate 16) (.RoleName | truncate 6) (random 8) | truncate 32 }}';

let emulator: VaultEmulator;
let admin: Connection;

const client = (token?: string) =>
  vault({ apiVersion: 'v1', endpoint: emulator.url, ...(token ? { token } : {}), noCustomHTTPVerbs: true });

/** node-vault's error, as jit-access's adapter will see it: the status and Vault's messages. */
async function failure(promise: Promise<unknown>): Promise<{ status: number; errors: string[] }> {
  try {
    await promise;
  } catch (error) {
    const response = (error as { response?: { statusCode: number; body?: { errors?: string[] } } }).response;
    return { status: response?.statusCode ?? 0, errors: response?.body?.errors ?? [] };
  }
  throw new Error('the call succeeded');
}

async function mysqlUsers(prefix: string): Promise<string[]> {
  const [rows] = await admin.query<RowDataPacket[]>('SELECT User FROM mysql.user WHERE User LIKE ?', [
    `${prefix}%`,
  ]);
  return rows.map((row) => String(row.User));
}

beforeAll(async () => {
  admin = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.orders (id INT PRIMARY KEY)`);
  await admin.query(`INSERT IGNORE INTO ${SCHEMA}.orders VALUES (1)`);
  emulator = await startVaultEmulator({ clock });
});

holdToVaultSpec(() => emulator);

afterAll(async () => {
  await emulator?.stop();
  await admin?.end();
});

let root: ReturnType<typeof vault>;
let worker: ReturnType<typeof vault>;

beforeEach(async () => {
  emulator.unseal();
  root = client(emulator.rootToken);
  await root.write('database/config/orders', {
    plugin_name: 'mysql-database-plugin',
    connection_url: `{{username}}:{{password}}@tcp(${db.host}:${db.port})/`,
    username: db.user,
    password: db.password,
    allowed_roles: ['orders-read'],
    username_template: KEEP_ACCOUNT,
  });
  await root.write('database/roles/orders-read', {
    db_name: 'orders',
    creation_statements: [
      `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON ${SCHEMA}.* TO '{{name}}'@'%'`,
    ],
    revocation_statements: ["DROP USER IF EXISTS '{{name}}'@'%'"],
    default_ttl: '1h',
    max_ttl: '4h',
  });
  await root.write('database/roles/orders-write', {
    db_name: 'orders',
    creation_statements: ["CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'"],
  });
  emulator.writePolicy('orders-read', [{ path: 'database/creds/orders-read', capabilities: ['read'] }]);
  emulator.writePolicy('jit-worker', [
    { path: 'auth/token/create/jit-requester', capabilities: ['update'] },
    { path: 'auth/token/create', capabilities: ['update'] },
    { path: 'sys/leases/+', capabilities: ['update'] },
  ]);
  await root.write('auth/token/roles/jit-requester', { allowed_policies: ['orders-read'], orphan: true });
  // write, not tokenCreate: node-vault's tokenCreate replaces the calling client's own token.
  const { auth } = await root.write('auth/token/create', {
    policies: ['jit-worker'],
    display_name: 'worker',
    ttl: '2h',
  });
  worker = client(auth.client_token as string);
});

/** What the worker does for a grant: a token for the requester through the role, then creds. */
async function requesterCreds(account: string, ttl = '1h') {
  const { auth } = await worker.write('auth/token/create/jit-requester', {
    policies: ['orders-read'],
    display_name: account,
    ttl,
  });
  const token = auth.client_token as string;
  const creds = await client(token).read('database/creds/orders-read');
  return { token, accessor: auth.accessor as string, auth, creds };
}

async function canLogin(user: string, password: string): Promise<Connection | undefined> {
  try {
    return await createConnection({ host: db.host, port: db.port, user, password });
  } catch {
    return undefined;
  }
}

describe('Vault emulator: tokens', () => {
  it("creates the requester's token through the role: orphan, the role's policy, display name token-<account>", async () => {
    const { token, auth } = await requesterCreds('alice');
    expect(auth).toMatchObject({ orphan: true, policies: ['default', 'orders-read'], token_type: 'service' });
    expect(token).toMatch(/^hvs\./);
    const { data } = await client(token).tokenLookupSelf();
    expect(data).toMatchObject({
      display_name: 'token-alice',
      orphan: true,
      policies: ['default', 'orders-read'],
    });
  });

  it('refuses a policy outside the role, and a token used outside its policy (403 permission denied)', async () => {
    expect(
      await failure(
        worker.write('auth/token/create/jit-requester', { policies: ['root'], display_name: 'x' }),
      ),
    ).toMatchObject({ status: 400 });
    const { token } = await requesterCreds('alice');
    const denied = await failure(client(token).read('database/creds/orders-write'));
    expect(denied.status).toBe(403);
    expect(denied.errors.join()).toContain('permission denied');
    expect(await failure(client('hvs.not-a-token').tokenLookupSelf())).toEqual({
      status: 403,
      errors: ['permission denied'],
    });
  });

  it('refuses an orphan, or a child with more policies, to a caller without sudo (the role is the way)', async () => {
    expect(
      await failure(worker.write('auth/token/create', { no_parent: true, policies: ['jit-worker'] })),
    ).toEqual({
      status: 400,
      errors: ['root or sudo privileges required to create orphan token'],
    });
    expect(await failure(worker.write('auth/token/create', { policies: ['orders-read'] }))).toEqual({
      status: 400,
      errors: ['child policies must be subset of parent'],
    });
  });
});

describe('Vault emulator: database credentials on the real MariaDB', () => {
  it('mints a user that carries the account name and can do exactly what the role grants', async () => {
    const { creds } = await requesterCreds('alice');
    const { username, password } = creds.data as { username: string; password: string };
    expect(username).toMatch(/^alice-orders-[A-Za-z0-9]{8}$/);
    expect(creds).toMatchObject({ renewable: true, lease_duration: 3600 });
    expect(creds.lease_id).toMatch(/^database\/creds\/orders-read\/[A-Za-z0-9]{24}$/);
    const session = await canLogin(username, password);
    expect(session).toBeDefined();
    try {
      const [rows] = await session!.query<RowDataPacket[]>(`SELECT id FROM ${SCHEMA}.orders`);
      expect(rows).toHaveLength(1);
      await expect(session!.query(`INSERT INTO ${SCHEMA}.orders VALUES (2)`)).rejects.toThrow(/denied/i);
    } finally {
      await session!.end();
    }
  });

  it("names users with Vault's default template when the connection has none: 4 characters of the account", async () => {
    await root.write('database/config/orders', {
      plugin_name: 'mysql-database-plugin',
      connection_url: `{{username}}:{{password}}@tcp(${db.host}:${db.port})/`,
      username: db.user,
      password: db.password,
      allowed_roles: ['orders-read'],
    });
    const { creds } = await requesterCreds('alice');
    expect((creds.data as { username: string }).username).toMatch(/^v-token-alic-orders-rea-[A-Za-z0-9]{8}$/);
  });

  it('refuses an unknown role (400) and a role the connection does not allow (500), as Vault does', async () => {
    expect(await failure(root.read('database/creds/nope'))).toEqual({
      status: 400,
      errors: ['unknown role: nope'],
    });
    expect(await failure(root.read('database/creds/orders-write'))).toEqual({
      status: 500,
      errors: ['"orders-write" is not an allowed role'],
    });
  });

  it('never returns the connection password', async () => {
    const config = await root.read('database/config/orders');
    expect(JSON.stringify(config)).not.toContain(db.password);
  });
});

describe('Vault emulator: leases', () => {
  it('revoking the lease drops the user; revoking it again (or an unknown lease) is 204, not an error', async () => {
    const { creds } = await requesterCreds('bob');
    const { username } = creds.data as { username: string };
    expect(await mysqlUsers(username)).toEqual([username]);
    await worker.write('sys/leases/revoke', { lease_id: creds.lease_id });
    expect(await mysqlUsers(username)).toEqual([]);
    await worker.write('sys/leases/revoke', { lease_id: creds.lease_id });
    await worker.write('sys/leases/revoke', { lease_id: 'database/creds/orders-read/nothing' });
    expect(await failure(worker.write('sys/leases/lookup', { lease_id: creds.lease_id }))).toEqual({
      status: 400,
      errors: ['invalid lease'],
    });
  });

  it('a lease dies with the token that created it', async () => {
    const { creds, accessor } = await requesterCreds('carol');
    const { username } = creds.data as { username: string };
    await root.write('auth/token/revoke-accessor', { accessor });
    expect(await mysqlUsers(username)).toEqual([]);
  });

  it('expires on time: after the TTL the user is gone', async () => {
    const { creds } = await requesterCreds('dave', '4h');
    const { username } = creds.data as { username: string };
    const lookup = await worker.write('sys/leases/lookup', { lease_id: creds.lease_id });
    expect(lookup.data).toMatchObject({ ttl: 3600, renewable: true, path: 'database/creds/orders-read' });
    clock.advance(3600 * 1000);
    await emulator.tick();
    expect(await mysqlUsers(username)).toEqual([]);
    clock.set(new Date('2026-11-21T10:00:00Z'));
  });
});

describe('Vault emulator: response wrapping', () => {
  it('wraps once: the first unwrap gets the data, the second the exact 400 Vault answers', async () => {
    const secret = { username: 'alice-orders-x', password: 'p4ss', requestId: 'REQ-0K2M9Q7X' };
    const wrapped = await worker.write('sys/wrapping/wrap', secret, {
      headers: { 'X-Vault-Wrap-TTL': '300' },
    });
    const wrapToken = wrapped.wrap_info.token as string;
    expect(wrapped.wrap_info).toMatchObject({ ttl: 300, creation_path: 'sys/wrapping/wrap' });
    expect(JSON.stringify(wrapped)).not.toContain('p4ss');
    const looked = await client().write('sys/wrapping/lookup', { token: wrapToken });
    expect(looked.data).toMatchObject({ creation_ttl: 300, creation_path: 'sys/wrapping/wrap' });
    const unwrapped = await client(wrapToken).unwrap();
    expect(unwrapped.data).toEqual(secret);
    expect(await failure(client(wrapToken).unwrap())).toEqual({
      status: 400,
      errors: ['wrapping token is not valid or does not exist'],
    });
  });

  it('refuses to wrap without the TTL header, and lets the wrap expire', async () => {
    expect(await failure(worker.write('sys/wrapping/wrap', { a: 1 }))).toEqual({
      status: 400,
      errors: ['endpoint requires response wrapping to be used'],
    });
    const wrapped = await worker.write(
      'sys/wrapping/wrap',
      { a: 1 },
      { headers: { 'X-Vault-Wrap-TTL': '5m' } },
    );
    clock.advance(301_000);
    expect(await failure(client(wrapped.wrap_info.token as string).unwrap())).toMatchObject({ status: 400 });
    clock.set(new Date('2026-11-21T10:00:00Z'));
  });
});

describe('Vault emulator: sealed', () => {
  it('answers every request 503 Vault is sealed', async () => {
    emulator.seal();
    expect(await failure(root.tokenLookupSelf())).toEqual({ status: 503, errors: ['Vault is sealed'] });
    emulator.unseal();
  });
});

describe.skipIf(!vaultSpec)('the Vault description the emulator is held to', () => {
  it('flags a path Vault does not have, and a body its schema refuses', () => {
    expect(validateVaultRequest({ method: 'POST', path: 'sys/leases/forget', body: {} }, vaultSpec)).toEqual([
      'POST sys/leases/forget: no such operation in the Vault API description',
    ]);
    expect(
      validateVaultRequest({ method: 'POST', path: 'sys/leases/revoke', body: { lease_id: 42 } }, vaultSpec),
    ).toEqual(['POST sys/leases/revoke: body/lease_id must be string']);
  });

  it("flags an answer that is not Vault's: an error without {errors}, data its schema refuses", () => {
    const lookup = { method: 'POST', path: 'sys/leases/lookup', body: { lease_id: 'x' } };
    expect(validateVaultRequest({ ...lookup, status: 400, response: { error: 'nope' } }, vaultSpec)).toEqual([
      `POST sys/leases/lookup: a 400 answer without Vault's {"errors": [...]} body`,
    ]);
    expect(
      validateVaultRequest({ ...lookup, status: 200, response: { data: { ttl: 'soon' } } }, vaultSpec),
    ).toEqual(['POST sys/leases/lookup: answer data/ttl must be integer']);
    expect(
      validateVaultRequest(
        { ...lookup, status: 200, response: { data: { ttl: 60, renewable: true } } },
        vaultSpec,
      ),
    ).toEqual([]);
  });

  it('takes a default mount for the mount-path parameter, and only it', () => {
    expect(
      validateVaultRequest({ method: 'GET', path: 'database/creds/jit-orders-read' }, vaultSpec),
    ).toEqual([]);
    expect(validateVaultRequest({ method: 'GET', path: 'aws/creds/x' }, vaultSpec)).toEqual([]);
    expect(validateVaultRequest({ method: 'GET', path: 'nosuchengine/creds/x' }, vaultSpec)).toHaveLength(1);
  });
});
