import { randomUUID } from 'node:crypto';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import vault from 'node-vault';
import { afterAll, afterEach, beforeAll, expect, inject } from 'vitest';
import { startVaultEmulator, type VaultEmulator } from '../../local/emulators/vault/vault-emulator.js';
import {
  loadVaultSpec,
  validateVaultRequest,
  vaultSpecAvailable,
} from '../../local/emulators/vault/vault-spec.js';
import { VaultCredentialBroker, vaultRoleName } from '../../shared/adapters/vault/vault-credential-broker.js';
import type { WrappedConnection } from '../../shared/ports/credential-broker.js';
import { credentialBrokerContract } from './credential-broker.contract.js';

const db = inject('mariadb');
const SCHEMA = 'broker_orders';
/** The template the docs give: the account readable, within MySQL 8's 32 characters. */
const KEEP_ACCOUNT =
  '{{ printf "%s-%s" (.DisplayName | replace "token-" "" | truncate 20) (random 8) | truncate 32 }}';

let emulator: VaultEmulator;
let admin: Connection;
let workerToken = '';

beforeAll(async () => {
  admin = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.orders (id INT PRIMARY KEY)`);
  emulator = await startVaultEmulator();
  // What `jit-access vault sync` will write for orders/read, and the worker's own policy.
  const root = vault({
    apiVersion: 'v1',
    endpoint: emulator.url,
    token: emulator.rootToken,
    noCustomHTTPVerbs: true,
  });
  const role = vaultRoleName('orders', 'read');
  await root.write('database/config/orders', {
    plugin_name: 'mysql-database-plugin',
    connection_url: `{{username}}:{{password}}@tcp(${db.host}:${db.port})/`,
    username: db.user,
    password: db.password,
    allowed_roles: ['jit-orders-*'],
    username_template: KEEP_ACCOUNT,
  });
  await root.write(`database/roles/${role}`, {
    db_name: 'orders',
    creation_statements: [
      `CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'; GRANT SELECT ON ${SCHEMA}.* TO '{{name}}'@'%'`,
    ],
    revocation_statements: ["DROP USER IF EXISTS '{{name}}'@'%'"],
    default_ttl: '1h',
    max_ttl: '4h',
  });
  emulator.writePolicy(role, [{ path: `database/creds/${role}`, capabilities: ['read'] }]);
  emulator.writePolicy('jit-access-worker', [
    { path: 'auth/token/create/jit-access-requester', capabilities: ['update'] },
    { path: 'sys/leases/+', capabilities: ['update'] },
  ]);
  await root.write('auth/token/roles/jit-access-requester', {
    allowed_policies: ['jit-orders-read', 'jit-orders-unconfigured'],
    orphan: true,
  });
  const { auth } = await root.write('auth/token/create', { policies: ['jit-access-worker'], ttl: '24h' });
  workerToken = String(auth.client_token);
});

const availability = vaultSpecAvailable();
const spec = availability.available ? loadVaultSpec(availability.path) : undefined;
if (!spec && !availability.available) console.warn(`Vault spec checks skipped: ${availability.reason}`);

// Every request that reached the emulator is an operation of Vault's description, with a body
// its schema accepts.
afterEach(() => {
  if (!spec) return;
  const sent = emulator.requests.splice(0);
  expect(sent.flatMap((call) => validateVaultRequest(call, spec))).toEqual([]);
});

afterAll(async () => {
  await emulator?.stop();
  await admin?.end();
});

let broken = false;

credentialBrokerContract('VaultCredentialBroker on the Vault emulator and the real MariaDB', () => ({
  broker: new VaultCredentialBroker({
    endpoint: emulator.url,
    token: () => workerToken,
    clock: { now: () => new Date() },
    timeoutMs: 2000,
  }),
  grant: (overrides = {}) => ({
    requestId: `REQ-${randomUUID()
      .slice(0, 8)
      .toUpperCase()
      .replace(/[ILOU]/g, '7')}`,
    account: 'alice',
    database: 'orders',
    level: 'read',
    connection: { host: db.host, port: db.port, database: SCHEMA },
    durationMinutes: 60,
    wrapTtlSeconds: 300,
    ...overrides,
  }),
  unwrap: async (wrappedToken) => {
    const opened = await vault({
      apiVersion: 'v1',
      endpoint: emulator.url,
      token: wrappedToken,
      noCustomHTTPVerbs: true,
    }).unwrap();
    return opened.data as WrappedConnection;
  },
  userExists: async (username) => {
    const [rows] = await admin.query<RowDataPacket[]>('SELECT 1 FROM mysql.user WHERE User = ?', [username]);
    return rows.length > 0;
  },
  canRead: async (connection) => {
    const session = await createConnection({
      host: connection.host,
      port: connection.port,
      user: connection.username,
      password: connection.password,
    });
    try {
      await session.query(`SELECT COUNT(*) FROM ${connection.database}.orders`);
      return true;
    } finally {
      await session.end();
    }
  },
  breakBackend: () => {
    broken = true;
    emulator.seal();
  },
  repairBackend: () => {
    if (broken) emulator.unseal();
    broken = false;
  },
}));
