import { readFileSync } from 'node:fs';
import { parseDeliveryToken } from '../shared/domain/delivery-token.js';
import type { WrappedConnection } from '../shared/ports/credential-broker.js';
import { type VaultAnswer, type VaultTarget, vaultCall } from './vault-http.js';

export type { VaultTarget } from './vault-http.js';

/*
 * `jit-access creds <token>`: opens the single-use wrap the Slack DM carried and prints the
 * temporary credentials.
 */

/** What the wrap holds: the connection details the worker's broker put in it. */
export type UnwrappedCredentials = WrappedConnection;

/** Something the person can act on, said plainly; never a stack trace. */
export class CredsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CredsError';
  }
}

export const FORMATS = ['env', 'json', 'mycnf'] as const;
export type CredsFormat = (typeof FORMATS)[number];

/** Where Vault is, from the environment the person's shell has (VAULT_ADDR, as Vault's CLI). */
export function vaultTargetFrom(env: NodeJS.ProcessEnv): VaultTarget {
  const address = env.VAULT_ADDR?.trim();
  if (!address) {
    throw new CredsError(
      'VAULT_ADDR is not set: export VAULT_ADDR=https://vault.example.com (your platform team knows the address), then run this again.',
    );
  }
  if (!/^https?:\/\/[^\s/]+/.test(address)) {
    throw new CredsError(
      `VAULT_ADDR must be a URL such as https://vault.example.com:8200, not "${address}".`,
    );
  }
  let caCert: string | undefined;
  if (env.VAULT_CACERT) {
    try {
      caCert = readFileSync(env.VAULT_CACERT, 'utf8');
    } catch {
      throw new CredsError(`VAULT_CACERT names ${env.VAULT_CACERT}, which cannot be read.`);
    }
  }
  return {
    address: address.replace(/\/$/, ''),
    ...(env.VAULT_NAMESPACE ? { namespace: env.VAULT_NAMESPACE } : {}),
    ...(caCert ? { caCert } : {}),
  };
}

/** Unwraps `token` once: the credentials, or a CredsError saying what happened and what to do. */
export async function unwrapCredentials(token: string, target: VaultTarget): Promise<UnwrappedCredentials> {
  const delivery = parseDeliveryToken(token);
  if (!delivery) {
    throw new CredsError('That does not look like a jit-access token: copy it whole from the Slack message.');
  }
  const { requestId, wrappedToken } = delivery;
  let answer: VaultAnswer;
  try {
    answer = await vaultCall(target, { method: 'POST', path: 'sys/wrapping/unwrap', token: wrappedToken });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new CredsError(
      `Cannot reach Vault at ${target.address} (${typeof code === 'string' ? code : 'no answer'}). Check VAULT_ADDR and your VPN, then run this again: the token is still valid until it expires.`,
    );
  }
  const parsed = answer.body as { data?: Partial<UnwrappedCredentials>; errors?: string[] } | undefined;
  if (answer.status === 400 && parsed?.errors?.some((e) => e.includes('wrapping token is not valid'))) {
    throw new CredsError(
      `This token was already used, or it expired. If you did not use it yourself, someone else may have: report ${requestId ?? 'the request id from your Slack message'} to security. Ask for a fresh token with the button in that message.`,
    );
  }
  if (answer.status === 503)
    throw new CredsError(
      'Vault is sealed or unavailable right now; try again in a few minutes, or tell the platform team.',
    );
  if (answer.status !== 200 || !parsed?.data) {
    throw new CredsError(
      `Vault answered ${answer.status} (${parsed?.errors?.join('; ') ?? 'no message'}); tell the platform team.`,
    );
  }
  const data = parsed.data;
  if (
    typeof data.username !== 'string' ||
    typeof data.password !== 'string' ||
    typeof data.host !== 'string'
  ) {
    throw new CredsError(
      'The token opened, but it does not hold jit-access credentials; was it meant for another tool?',
    );
  }
  return data as UnwrappedCredentials;
}

/** The credentials as the person asked for them. */
export function formatCredentials(creds: UnwrappedCredentials, format: CredsFormat): string {
  switch (format) {
    case 'json':
      return JSON.stringify(creds, null, 2);
    case 'env':
      // The variables the mysql and mariadb clients read (MYSQL_PWD is deprecated but still read).
      return [
        `export MYSQL_HOST=${shellQuote(creds.host)}`,
        `export MYSQL_TCP_PORT=${creds.port}`,
        `export MYSQL_USER=${shellQuote(creds.username)}`,
        `export MYSQL_PWD=${shellQuote(creds.password)}`,
        `export MYSQL_DATABASE=${shellQuote(creds.database)}`,
        `# expires ${creds.expiresAt} (${creds.requestId})`,
      ].join('\n');
    case 'mycnf':
      return [
        `# jit-access ${creds.requestId}, expires ${creds.expiresAt}`,
        '[client]',
        `host=${creds.host}`,
        `port=${creds.port}`,
        `user=${creds.username}`,
        `password="${creds.password.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`,
        `database=${creds.database}`,
      ].join('\n');
  }
}

function shellQuote(value: string): string {
  return `'${value.replaceAll("'", "'\\''")}'`;
}
