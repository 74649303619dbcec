/* The Vault emulator in its own process, set up as the local stack's is: for the benches that
 * measure Vault calls and must not share a Node thread with the server they call. */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { vaultCall } from '../bin/vault-http.js';
import { applyVaultSync, planVaultSync, suggestedTemplate, WORKER_POLICY } from '../bin/vault-sync.js';
import type { MariaDbConnection } from '../local/mariadb.js';
import { loadCatalogFile } from '../shared/config/load-catalog.js';
import { VaultCredentialBroker } from '../shared/adapters/vault/vault-credential-broker.js';
import type { GrantSpec } from '../shared/ports/credential-broker.js';

const root = join(import.meta.dirname, '..');

export interface ServedVault {
  readonly url: string;
  readonly rootToken: string;
  stop(): void;
}

/** local/emulators/vault/serve.ts in a child process; resolves once it listens. */
export function serveVaultEmulator(): Promise<ServedVault> {
  const child = spawn(process.execPath, ['--import', 'tsx', join(root, 'local/emulators/vault/serve.ts')], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the Vault emulator process exited with ${code}`)));
    child.stdout.once('data', (chunk: Buffer) => {
      const { url, rootToken } = JSON.parse(chunk.toString('utf8')) as { url: string; rootToken: string };
      resolve({ url, rootToken, stop: () => child.kill('SIGTERM') });
    });
  });
}

/** The operator's connection, then `vault sync --apply` from the catalog, then a worker token. */
export async function configureServedVault(
  vault: ServedVault,
  db: MariaDbConnection,
  catalogPath: string,
): Promise<string> {
  const target = { address: vault.url };
  const token = vault.rootToken;
  const catalog = loadCatalogFile(catalogPath);
  for (const entry of Object.values(catalog.databases)) {
    await vaultCall(target, {
      method: 'POST',
      path: `database/config/${entry.vaultConnection}`,
      token,
      body: {
        plugin_name: 'mysql-database-plugin',
        connection_url: `{{username}}:{{password}}@tcp(${db.host}:${db.port})/`,
        username: db.user,
        password: db.password,
        allowed_roles: ['jit-*'],
        username_template: suggestedTemplate(32),
      },
    });
  }
  await applyVaultSync(await planVaultSync(catalog, target, token), target, token);
  const created = await vaultCall(target, {
    method: 'POST',
    path: 'auth/token/create',
    token,
    body: { policies: [WORKER_POLICY], ttl: '1h' },
  });
  return (created.body?.auth as { client_token: string }).client_token;
}

/** The worker's broker on the served Vault, and a grant of the catalog's orders/read to mint. */
export async function servedBroker(
  served: ServedVault,
  db: MariaDbConnection,
  catalogPath: string,
): Promise<{ broker: VaultCredentialBroker; grant: GrantSpec }> {
  const workerToken = await configureServedVault(served, db, catalogPath);
  const broker = new VaultCredentialBroker({
    endpoint: served.url,
    token: () => workerToken,
    clock: { now: () => new Date() },
  });
  const grant: GrantSpec = {
    requestId: 'REQ-0K2M9Q7X',
    account: 'bench',
    database: 'orders',
    level: 'read',
    connection: { host: db.host, port: db.port, database: 'orders' },
    ttlSeconds: 3600,
    wrapTtlSeconds: 300,
  };
  return { broker, grant };
}
