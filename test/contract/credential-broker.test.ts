import { randomUUID } from 'node:crypto';
import { type Connection, createConnection, type RowDataPacket } from 'mysql2/promise';
import vault from 'node-vault';
import { configureVault, holdToVaultSpec } from '../fixtures/vault-world.js';
import { afterAll, beforeAll, inject } from 'vitest';
import { startVaultEmulator, type VaultEmulator } from '../../local/emulators/vault/vault-emulator.js';
import { VaultCredentialBroker } from '../../shared/adapters/vault/vault-credential-broker.js';
import type { WrappedConnection } from '../../shared/ports/credential-broker.js';
import { credentialBrokerContract } from './credential-broker.contract.js';

const db = inject('mariadb');
const SCHEMA = 'broker_orders';
let emulator: VaultEmulator;
let admin: Connection;
let workerToken = '';

beforeAll(async () => {
  admin = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.orders (id INT PRIMARY KEY)`);
  emulator = await startVaultEmulator();
  workerToken = await configureVault(emulator, db, { database: 'orders', schema: SCHEMA });
});

holdToVaultSpec(() => emulator);

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
    ttlSeconds: 3600,
    wrapTtlSeconds: 300,
    ...overrides,
  }),
  maxTtlSeconds: 4 * 3600,
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
  neverIssuedLease: 'database/creds/jit-orders-read/NeverIssued00000000000000',
  breakBackend: () => {
    broken = true;
    emulator.seal();
  },
  repairBackend: () => {
    if (broken) emulator.unseal();
    broken = false;
  },
}));
