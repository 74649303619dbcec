import vault from 'node-vault';
import {
  BrokerRejectedError,
  BrokerUnavailableError,
  type CredentialBroker,
  type CredentialHandle,
  type GrantSpec,
  type LeaseState,
  type MintedCredential,
  type WrappedConnection,
} from '../../ports/credential-broker.js';
import type { Clock } from '../../ports/clock.js';
import { DEFAULT_TOKEN_ROLE, vaultRoleName } from './vault-names.js';

/*
 * CredentialBroker on Vault, through node-vault. A grant is three calls: a token for the requester
 * through the token role (an orphan, so it outlives the worker's own login; the level's policy
 * only; the grant's TTL; the account as display name, which Vault's username template puts in
 * the MySQL user name), `database/creds/<role>` with that token, and `sys/wrapping/wrap` of the
 * connection details. The password exists only inside mint() and Vault's wrap.
 */

export interface VaultCredentialBrokerOptions {
  readonly endpoint: string;
  /** The worker's own Vault token (vault-token-source.ts: an AWS login in AWS, VAULT_TOKEN locally). */
  readonly token: () => Promise<string> | string;
  readonly clock: Clock;
  /** The token role requester tokens are created through (`jit-access vault sync` writes it). */
  readonly tokenRole?: string;
  readonly namespace?: string;
  /** Per Vault call. */
  readonly timeoutMs?: number;
}

const MISSING = Symbol('missing');

export { DEFAULT_TOKEN_ROLE, vaultRoleName } from './vault-names.js';

type VaultClient = ReturnType<typeof vault>;

export class VaultCredentialBroker implements CredentialBroker {
  private readonly tokenRole: string;

  constructor(private readonly options: VaultCredentialBrokerOptions) {
    this.tokenRole = options.tokenRole ?? DEFAULT_TOKEN_ROLE;
  }

  async mint(grant: GrantSpec): Promise<MintedCredential> {
    const worker = await this.client();
    const role = vaultRoleName(grant.database, grant.level);
    const created = await this.call('create the requester token', () =>
      // write, not tokenCreate: node-vault's tokenCreate replaces the client's own token.
      worker.write(`auth/token/create/${this.tokenRole}`, {
        policies: [role],
        display_name: grant.account,
        ttl: `${grant.ttlSeconds}s`,
        meta: { requestId: grant.requestId },
      }),
    );
    const requesterToken = String(created.auth?.client_token ?? '');
    const tokenAccessor = String(created.auth?.accessor ?? '');
    try {
      return await this.mintWith(worker, this.clientFor(requesterToken), tokenAccessor, role, grant);
    } catch (error) {
      // Nothing half-made stays behind: revoking the token revokes the lease it created, if any.
      await worker.write('auth/token/revoke-accessor', { accessor: tokenAccessor }).catch(() => undefined);
      throw error;
    }
  }

  private async mintWith(
    worker: VaultClient,
    requester: VaultClient,
    tokenAccessor: string,
    role: string,
    grant: GrantSpec,
  ): Promise<MintedCredential> {
    const creds = await this.call(`read database/creds/${role}`, () =>
      requester.read(`database/creds/${role}`),
    );
    // The role's default TTL is the level's, not this grant's: set the lease to exactly the grant
    // (the token dies at the same time, and takes the lease with it, whichever comes first).
    const seconds = grant.ttlSeconds;
    let leaseSeconds = Number(creds.lease_duration);
    if (leaseSeconds !== seconds) {
      const renewed = await this.call("set the lease to the grant's duration", () =>
        worker.write('sys/leases/renew', { lease_id: creds.lease_id, increment: `${seconds}s` }),
      );
      leaseSeconds = Number(renewed.lease_duration);
    }
    const expiresAt = new Date(this.options.clock.now().getTime() + leaseSeconds * 1000).toISOString();
    const details: WrappedConnection = {
      ...grant.connection,
      username: String(creds.data?.username ?? ''),
      password: String(creds.data?.password ?? ''),
      expiresAt,
      requestId: grant.requestId,
    };
    const wrapped = await this.call('wrap the credentials', () =>
      worker.write('sys/wrapping/wrap', details, {
        headers: { 'X-Vault-Wrap-TTL': String(grant.wrapTtlSeconds) },
      }),
    );
    const info = wrapped.wrap_info as { token: string; ttl: number; creation_time: string };
    return {
      wrappedToken: info.token,
      wrapExpiresAt: new Date(Date.parse(info.creation_time) + info.ttl * 1000).toISOString(),
      leaseId: String(creds.lease_id),
      username: details.username,
      tokenAccessor,
      expiresAt,
    };
  }

  async revoke(leaseId: string): Promise<void> {
    const worker = await this.client();
    // Vault answers 204 for a lease it does not know: one already gone is done.
    await this.call('revoke the lease', () => worker.write('sys/leases/revoke', { lease_id: leaseId }));
  }

  async lookup(leaseId: string): Promise<LeaseState | undefined> {
    const worker = await this.client();
    const result = await this.callOrMissing(
      'look up the lease',
      () => worker.write('sys/leases/lookup', { lease_id: leaseId }),
      // Vault's answer for a lease that is gone (revoked, or expired and cleaned up).
      (status, said) => status === 400 && said === 'invalid lease',
    );
    if (result === MISSING) return undefined;
    const data = result.data as { issue_time: string; expire_time: string; revoke_error?: string };
    return {
      leaseId,
      issuedAt: data.issue_time,
      expiresAt: data.expire_time,
      ...(data.revoke_error ? { revokeError: data.revoke_error } : {}),
    };
  }

  async extend(credential: CredentialHandle, ttlSeconds: number): Promise<{ expiresAt: string }> {
    const worker = await this.client();
    const increment = `${ttlSeconds}s`;
    // The token first: the lease dies with its token, so a longer lease alone would not last.
    const token = await this.call("renew the requester's token", () =>
      worker.write('auth/token/renew-accessor', { accessor: credential.tokenAccessor, increment }),
    );
    const lease = await this.call('renew the lease', () =>
      worker.write('sys/leases/renew', { lease_id: credential.leaseId, increment }),
    );
    // Vault caps both at their maximums (the level's max_ttl, the token role's): report the real end.
    const seconds = Math.min(Number(lease.lease_duration), Number(token.auth?.lease_duration ?? Infinity));
    return { expiresAt: new Date(this.options.clock.now().getTime() + seconds * 1000).toISOString() };
  }

  async listLeases(database: string, level: string): Promise<readonly string[]> {
    const worker = await this.client();
    const prefix = `database/creds/${vaultRoleName(database, level)}/`;
    const result = await this.callOrMissing(
      'list the leases',
      () => worker.list(`sys/leases/lookup/${prefix}`),
      // Vault answers a list with nothing under it with 404 and no errors.
      (status) => status === 404,
    );
    if (result === MISSING) return [];
    const keys = (result.data as { keys?: unknown } | null)?.keys;
    return Array.isArray(keys) ? keys.map((key) => `${prefix}${String(key)}`) : [];
  }

  /** The worker's client, kept while its token stays the same (a new login makes a new one). */
  private worker: { token: string; client: VaultClient } | undefined;

  private async client(): Promise<VaultClient> {
    const token = await this.options.token();
    if (this.worker?.token !== token) this.worker = { token, client: this.clientFor(token) };
    return this.worker.client;
  }

  private clientFor(token: string): VaultClient {
    return vault({
      apiVersion: 'v1',
      endpoint: this.options.endpoint,
      token,
      noCustomHTTPVerbs: true,
      ...(this.options.namespace ? { namespace: this.options.namespace } : {}),
      requestOptions: { timeout: this.options.timeoutMs ?? 5000 },
    });
  }

  /**
   * Runs one Vault call and classifies its failure. The error carries Vault's status and messages
   * only: node-vault's own error holds the request it sent, and the wrap request holds the password.
   */
  private async call<T>(what: string, run: () => Promise<T>): Promise<T> {
    return (await this.callOrMissing(what, run, () => false)) as T;
  }

  /** As call(), but an answer `missing` recognises means "not there" (MISSING), not a failure. */
  private async callOrMissing<T>(
    what: string,
    run: () => Promise<T>,
    missing: (status: number, said: string) => boolean,
  ): Promise<T | typeof MISSING> {
    try {
      return await run();
    } catch (error) {
      const response = (error as { response?: { statusCode?: number; body?: { errors?: unknown } } })
        .response;
      const status = response?.statusCode;
      const errors = Array.isArray(response?.body?.errors) ? response.body.errors.map(String) : [];
      const said = errors.join('; ').slice(0, 300);
      if (status !== undefined && missing(status, said)) return MISSING;
      if (status === undefined) {
        const code = (error as { code?: unknown }).code;
        throw new BrokerUnavailableError(
          `could not ${what}: Vault unreachable (${typeof code === 'string' ? code : 'no answer'})`,
        );
      }
      const setting = settingFor(status, said);
      if (setting)
        throw new BrokerRejectedError(`Vault refused to ${what}: ${status} ${said}`, status, setting);
      throw new BrokerUnavailableError(`could not ${what}: Vault answered ${status} ${said}`);
    }
  }
}

/** What an operator changes when Vault refuses for good; undefined when retrying may work. */
function settingFor(status: number, said: string): string | undefined {
  if (status === 403)
    return "the worker's Vault policy (and the token role's allowed policies): run `jit-access vault sync`";
  if (status === 400 && /unknown role/.test(said))
    return 'the Vault database role of this level: run `jit-access vault sync --apply`';
  if (status === 400)
    return "the catalog's vault settings, or the token role (Vault refused the request as sent)";
  if (status === 500 && /is not an allowed role/.test(said)) {
    return "the Vault connection's allowed_roles: add this level's role (`jit-access vault sync` says how)";
  }
  return undefined;
}
