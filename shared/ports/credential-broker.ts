/**
 * What a grant asks for: a temporary database user for one request, named for the person, living
 * as long as the grant, delivered only inside a single-use wrap.
 */
export interface GrantSpec {
  readonly requestId: string;
  /** The requester's directory account (sAMAccountName): what the user name must show. */
  readonly account: string;
  readonly database: string;
  readonly level: string;
  /** What the requester connects to; travels inside the wrap with the credentials. */
  readonly connection: { readonly host: string; readonly port: number; readonly database: string };
  /** How long the credential lives: the grant's duration, or what is left of it for a fresh token. */
  readonly ttlSeconds: number;
  /** How long the wrap can be unwrapped (the catalog's `vault.wrapTtl`). */
  readonly wrapTtlSeconds: number;
}

/** What a mint leaves behind: the wrap for the requester, and what to store to revoke it later. */
export interface MintedCredential {
  /** The single-use wrapping token the requester unwraps; never the password itself. */
  readonly wrappedToken: string;
  readonly wrapExpiresAt: string;
  readonly leaseId: string;
  readonly username: string;
  /** The requester token's accessor: revoking it revokes the lease too. */
  readonly tokenAccessor: string;
  readonly expiresAt: string;
}

/** What the connection details inside the wrap are, for `jit-access creds` / `connect`. */
export interface WrappedConnection {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly username: string;
  readonly password: string;
  readonly expiresAt: string;
  readonly requestId: string;
}

export interface LeaseState {
  readonly leaseId: string;
  readonly issuedAt: string;
  readonly expiresAt: string;
  /** Vault gave up revoking it on its own (after its retries): jit-access must keep trying. */
  readonly revokeError?: string;
}

/** What identifies a minted credential to renew it: its lease, and the token the lease dies with. */
export interface CredentialHandle {
  readonly leaseId: string;
  readonly tokenAccessor: string;
}

/**
 * Temporary database credentials. `mint` creates one per call (the use case makes sure a grant
 * mints once); `revoke` ends a lease and treats one already gone as done; `lookup` says whether a
 * lease still exists; `extend` makes a live credential last `ttlSeconds` from now (an approved
 * extension) and says when it really ends, which the level's ceiling may make sooner; `listLeases`
 * names every lease under a level, for the sweep of leases no grant knows.
 */
export interface CredentialBroker {
  mint(grant: GrantSpec): Promise<MintedCredential>;
  revoke(leaseId: string): Promise<void>;
  lookup(leaseId: string): Promise<LeaseState | undefined>;
  extend(credential: CredentialHandle, ttlSeconds: number): Promise<{ readonly expiresAt: string }>;
  listLeases(database: string, level: string): Promise<readonly string[]>;
}

export class CredentialBrokerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Vault is unreachable, sealed, or answering 5xx: trying again later may work. */
export class BrokerUnavailableError extends CredentialBrokerError {}

/** Vault refused for good (permission, unknown role, a role the connection does not allow): an operator must change `setting`. */
export class BrokerRejectedError extends CredentialBrokerError {
  constructor(
    message: string,
    readonly status: number,
    readonly setting: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
