import { connect as netConnect, isIP, type Socket } from 'node:net';
import { type ConnectionOptions, connect as tlsConnect } from 'node:tls';
import {
  AndFilter,
  Client,
  type Entry,
  EqualityFilter,
  ExtensibleFilter,
  type Filter,
  ResultCodeError,
  type SearchOptions,
} from 'ldapts';
import {
  AmbiguousUserError,
  type Directory,
  DirectoryError,
  DirectoryUnavailableError,
  type DirectoryUser,
  type UserLookupAttribute,
} from '../../ports/directory.js';

export type LdapSecurity = 'ldaps' | 'starttls' | 'plain';

/** Structurally compatible with the Powertools Logger; every message is free of secrets. */
export interface LdapDirectoryLogger {
  debug(message: string, attributes: Record<string, string | number | boolean>): void;
  warn(message: string, attributes: Record<string, string | number | boolean>): void;
}

export interface LdapDirectoryOptions {
  /** ldaps://host:636 for 'ldaps', ldap://host:389 for 'starttls' and 'plain'. */
  readonly url: string;
  /** The service account: a plain domain user, no admin rights needed. */
  readonly bindDn: string;
  readonly bindPassword: string;
  /** Where people are searched (subtree). */
  readonly baseDn: string;
  readonly security: LdapSecurity;
  /** PEM text of the CA to trust instead of Node's bundled roots. */
  readonly caCert?: string;
  /** Name expected in the server certificate, when it differs from the URL's host (e.g. an IP). */
  readonly tlsServerName?: string;
  /** Upper bound for one call, connect, TLS, bind and a retry included. Default 5000 ms. */
  readonly timeoutMs?: number;
  /** 'plain' sends the service password in clear text: refused unless this is exactly true. */
  readonly allowPlain?: boolean;
  /** A connection idle longer than this is replaced rather than reused. Default 30 s. */
  readonly maxIdleMs?: number;
  readonly logger?: LdapDirectoryLogger;
}

/** The options make no sense; thrown by the constructor, never by a lookup. */
export class LdapConfigError extends DirectoryError {}

const DEFAULT_TIMEOUT_MS = 5_000;
// Below AD's MaxConnIdleTime (900 s) and NAT gateways' silent idle drop (350 s): a socket idle
// longer than this may be dead without a FIN, and a write on it would hang until the timeout.
// A Lambda container frozen between invocations is the usual way to get there.
const DEFAULT_MAX_IDLE_MS = 30_000;

const ACCOUNTDISABLE = 0x2;
const IN_CHAIN = '1.2.840.113556.1.4.1941';
const LOOKUP_ATTRIBUTES: ReadonlySet<string> = new Set<UserLookupAttribute>(['mail', 'userPrincipalName']);
const USER_ATTRIBUTES = ['sAMAccountName', 'mail', 'userPrincipalName', 'displayName', 'userAccountControl'];
const MAX_VALUE_LENGTH = 256;
const MAX_DN_LENGTH = 2048;
// Control characters, lone surrogates (they would reach the wire as U+FFFD) and line separators
// never occur in a real address; refusing them spares the directory a query.
const IMPLAUSIBLE_CHARACTER = /[\p{Cc}\p{Cs}\u2028\u2029]/u;

// RFC 4511 names; the message stays generic but an operator can still tell the cases apart.
const RESULT_CODE_NAMES: Readonly<Record<number, string>> = {
  1: 'operationsError',
  2: 'protocolError',
  3: 'timeLimitExceeded',
  4: 'sizeLimitExceeded',
  7: 'authMethodNotSupported',
  8: 'strongerAuthRequired',
  10: 'referral',
  11: 'adminLimitExceeded',
  12: 'unavailableCriticalExtension',
  13: 'confidentialityRequired',
  16: 'noSuchAttribute',
  17: 'undefinedAttributeType',
  18: 'inappropriateMatching',
  21: 'invalidAttributeSyntax',
  32: 'noSuchObject',
  34: 'invalidDNSyntax',
  48: 'inappropriateAuthentication',
  49: 'invalidCredentials',
  50: 'insufficientAccessRights',
  51: 'busy',
  52: 'unavailable',
  53: 'unwillingToPerform',
  54: 'loopDetect',
  80: 'other',
};
const NO_SUCH_OBJECT = 32;
const REFERRAL = 10;
// For one membership check these say "this user DN, or this group DN, names no entry here":
// the user vanished since findUser, lives in a naming context this server does not hold, or a
// DN is malformed. None of them can mean "member", so each counts as "not a member".
const NOT_A_MEMBER_CODES: ReadonlySet<number> = new Set([NO_SUCH_OBJECT, REFERRAL, 21, 34]);
// Codes that say "not now" rather than "never": the caller may retry later.
const TRANSIENT_RESULT_CODES: ReadonlySet<number> = new Set([1, 3, 11, 51, 52, 80]);

// AD appends "data 52e" etc. to invalidCredentials; for the service account that sub-code is the
// difference between a typo, an expired password and a locked account (MS-ADTS, LDAP error 49).
const AD_BIND_DATA_CODES: Readonly<Record<string, string>> = {
  '525': 'no such user',
  '52e': 'wrong password',
  '530': 'logon not permitted at this time',
  '531': 'logon not permitted from this workstation',
  '532': 'password expired',
  '533': 'account disabled',
  '701': 'account expired',
  '773': 'password must be reset',
  '775': 'account locked out',
};

/** Our own deadline fired; distinct from ldapts' timeouts so that it is never retried. */
class DeadlineExceeded extends Error {}

/** The session's socket is gone; ldapts tried to dial again behind our back. */
class ConnectionLost extends Error {}

/** The service account's bind was answered with an error: never retried on the same call. */
class BindRefused extends Error {
  constructor(override readonly cause: ResultCodeError) {
    super('service account bind refused', { cause });
  }
}

interface Session {
  readonly client: Client;
  /** Connected, TLS up and bound as the service account. */
  ready: Promise<void>;
  established: boolean;
  closed: boolean;
  active: number;
  lastUsedAt: number;
}

/**
 * The Directory port on Active Directory (or any LDAP server that knows AD's in-chain rule).
 *
 * One connection, bound once as the service account, is shared by all calls of an instance:
 * the worker asks findUser and then firstGroupOf for the same request, and a Lambda container
 * serves many requests, so paying TCP + TLS + bind once instead of per call matters more than
 * the simplicity of connect-per-call. A connection idle for longer than maxIdleMs is replaced
 * before use, and a reused one that turns out to be dead is replaced once, within the same
 * deadline, because searches are idempotent.
 */
export class LdapDirectory implements Directory {
  private readonly timeoutMs: number;
  private readonly maxIdleMs: number;
  private readonly ldapsTls: ConnectionOptions | undefined;
  private readonly startTls: ConnectionOptions | undefined;
  private session: Session | undefined;

  constructor(private readonly options: LdapDirectoryOptions) {
    if (!['ldaps', 'starttls', 'plain'].includes(options.security)) {
      throw new LdapConfigError("LdapDirectory: security must be 'ldaps', 'starttls' or 'plain'");
    }
    const url = parseUrl(options.url);
    const expectedScheme = options.security === 'ldaps' ? 'ldaps:' : 'ldap:';
    if (url.protocol !== expectedScheme) {
      throw new LdapConfigError(
        `LdapDirectory: security '${options.security}' needs a ${expectedScheme}// url`,
      );
    }
    if (options.security === 'plain' && options.allowPlain !== true) {
      throw new LdapConfigError(
        "LdapDirectory: security 'plain' would send the service password unencrypted; " +
          "use 'ldaps' or 'starttls', or set allowPlain: true for a local test directory",
      );
    }
    if (!options.bindDn?.trim()) throw new LdapConfigError('LdapDirectory: bindDn is empty');
    // RFC 4513 5.1.2: a simple bind with a DN and an empty password is an *unauthenticated*
    // bind, which some servers accept as success; the searches would then run anonymously.
    if (!options.bindPassword) throw new LdapConfigError('LdapDirectory: bindPassword is empty');
    if (!options.baseDn?.trim()) throw new LdapConfigError('LdapDirectory: baseDn is empty');
    if (options.caCert !== undefined && !options.caCert.includes('-----BEGIN CERTIFICATE-----')) {
      throw new LdapConfigError('LdapDirectory: caCert must be PEM text, not a path');
    }
    this.timeoutMs = positive(options.timeoutMs, DEFAULT_TIMEOUT_MS, 'timeoutMs');
    this.maxIdleMs = positive(options.maxIdleMs, DEFAULT_MAX_IDLE_MS, 'maxIdleMs');

    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const tls: ConnectionOptions = {
      ...(options.caCert === undefined ? {} : { ca: options.caCert }),
      // SNI must not carry an IP (RFC 6066); without a name, Node checks the certificate against
      // `host`, i.e. the IP, which is the right refusal when the certificate has no IP SAN.
      servername: options.tlsServerName ?? (isIP(host) ? undefined : host),
      host,
      minVersion: 'TLSv1.2',
    };
    // ldapts 8 starts TLS on connect whenever tlsOptions is set, even on ldap://, so StartTLS
    // gets its options separately.
    this.ldapsTls = options.security === 'ldaps' ? tls : undefined;
    this.startTls = options.security === 'starttls' ? tls : undefined;
  }

  async findUser(attribute: UserLookupAttribute, value: string): Promise<DirectoryUser | undefined> {
    if (!LOOKUP_ATTRIBUTES.has(attribute)) {
      throw new TypeError('LdapDirectory.findUser: attribute must be mail or userPrincipalName');
    }
    if (!isPlausibleValue(value)) return undefined;
    const entries = await this.run(async (client) => {
      try {
        return await search(client, this.options.baseDn, {
          scope: 'sub',
          filter: userFilter(attribute, value),
          attributes: USER_ATTRIBUTES,
        });
      } catch (error) {
        // A missing or foreign search base would otherwise look like "nobody exists".
        if (error instanceof ResultCodeError && (error.code === NO_SUCH_OBJECT || error.code === REFERRAL)) {
          throw new DirectoryError(`Directory search base not found (${codeName(error.code)})`, {
            cause: error,
          });
        }
        throw error;
      }
    });
    // AD matches case-insensitively but also ignores leading/trailing spaces and, on Windows,
    // character width (fullwidth "ａｌｉｃｅ" equals "alice"). Only a case-insensitive equal value
    // counts as the same person.
    const matches = entries.filter(
      (entry) => entry.dn !== '' && valuesOf(entry, attribute).some((found) => sameValue(found, value)),
    );
    if (matches.length > 1) throw new AmbiguousUserError(attribute, matches.length);
    const [entry] = matches;
    return entry === undefined ? undefined : toUser(entry);
  }

  async firstGroupOf(userDn: string, groupDns: readonly string[]): Promise<string | undefined> {
    // Samba answers a base search of the rootDSE ('') with the rootDSE whatever the filter says,
    // which would make an empty DN a member of every group.
    if (!isPlausibleDn(userDn)) return undefined;
    const candidates = groupDns.filter(isPlausibleDn);
    if (candidates.length === 0) return undefined;
    // One base search per group, in the caller's order, stopping at the first hit. Pipelining
    // them all at once was measured 40 ms slower for 4 groups (delayed ACK behind Nagle on
    // the server side), against about 0.7 ms per sequential search on a warm connection.
    return this.run(async (client) => {
      for (const groupDn of candidates) {
        if (await isMember(client, userDn, groupDn)) return groupDn;
      }
      return undefined;
    });
  }

  /** Ends the shared connection; a later call opens a new one. */
  async close(): Promise<void> {
    const session = this.session;
    this.session = undefined;
    if (session) await this.discard(session);
  }

  /** Runs `operation` on a ready session within timeoutMs, replacing a dead reused one once. */
  private async run<T>(operation: (client: Client) => Promise<T>): Promise<T> {
    const deadline = Date.now() + this.timeoutMs;
    const first = this.acquire();
    try {
      return await this.attempt(first.session, operation, deadline);
    } catch (error) {
      const retry = first.reused && isConnectionLoss(error) && Date.now() < deadline;
      if (!retry) throw this.translate(error);
      this.options.logger?.warn('directory connection lost; retrying on a new one', {
        reason: describe(error),
      });
    }
    const second = this.acquire();
    try {
      return await this.attempt(second.session, operation, deadline);
    } catch (error) {
      throw this.translate(error);
    }
  }

  private acquire(): { session: Session; reused: boolean } {
    const current = this.session;
    if (current && !current.closed) {
      const idle = current.active === 0 && Date.now() - current.lastUsedAt > this.maxIdleMs;
      if (!idle) return { session: current, reused: current.established };
      void this.discard(current);
    }
    const session = this.open();
    this.session = session;
    return { session, reused: false };
  }

  private open(): Session {
    // ldapts does not notice when a StartTLS-upgraded socket closes (it keeps writing into it
    // until the operation times out), so the session watches its sockets itself.
    const watch = (socket: Socket): void => {
      // Concurrent calls share the socket, so a small request can follow an unacknowledged one;
      // Nagle's algorithm would hold it until the server's delayed ACK (40 ms on Linux).
      socket.setNoDelay(true);
      socket.once('close', () => {
        if (session.closed) return;
        this.options.logger?.debug('directory connection closed by the peer', {
          established: session.established,
        });
        void this.discard(session);
      });
    };
    const client = new Client({
      url: this.options.url,
      // Backstops: the deadline in attempt() is what bounds a call, StartTLS's handshake included.
      connectTimeout: this.timeoutMs,
      timeout: this.timeoutMs,
      tlsOptions: this.ldapsTls,
      // When its socket closes, ldapts silently dials again on the next operation: unbound (so
      // AD answers operationsError), and after StartTLS in clear text. One socket per session:
      // a second dial fails instead, and run() moves to a new, bound, encrypted session.
      createConnection: dialOnce(netConnect, watch),
      createSecureConnection: dialOnce(tlsConnect, watch),
    });
    const session: Session = {
      client,
      ready: Promise.resolve(),
      established: false,
      closed: false,
      active: 0,
      lastUsedAt: Date.now(),
    };
    session.ready = this.connect(session);
    return session;
  }

  private async connect(session: Session): Promise<void> {
    const startedAt = Date.now();
    const { client } = session;
    if (this.startTls) await client.startTLS({ ...this.startTls });
    try {
      await client.bind(this.options.bindDn, this.options.bindPassword);
    } catch (error) {
      if (error instanceof ResultCodeError) throw new BindRefused(error);
      throw error;
    }
    session.established = true;
    this.options.logger?.debug('directory connection opened', {
      security: this.options.security,
      durationMs: Date.now() - startedAt,
    });
  }

  private async attempt<T>(
    session: Session,
    operation: (client: Client) => Promise<T>,
    deadline: number,
  ): Promise<T> {
    session.active += 1;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DeadlineExceeded(`timed out after ${this.timeoutMs} ms`)),
        Math.max(0, deadline - Date.now()),
      );
    });
    try {
      return await Promise.race([
        (async () => {
          await session.ready;
          return operation(session.client);
        })(),
        expired,
      ]);
    } catch (error) {
      // Whatever failed, this connection is suspect (half-read, unbound, timed out): start over.
      void this.discard(session);
      throw error;
    } finally {
      clearTimeout(timer);
      session.active -= 1;
      session.lastUsedAt = Date.now();
    }
  }

  private async discard(session: Session): Promise<void> {
    if (this.session === session) this.session = undefined;
    if (session.closed) return;
    session.closed = true;
    await session.client.unbind().catch(() => undefined);
  }

  /** A port error whose message is safe for logs: no password, no bind DN, no server text. */
  private translate(error: unknown): DirectoryError {
    if (error instanceof DirectoryError) return error;
    if (error instanceof BindRefused) {
      return new DirectoryUnavailableError(
        `Directory unavailable: service account bind refused (${describe(error.cause)})`,
        { cause: error.cause },
      );
    }
    if (error instanceof ResultCodeError && !TRANSIENT_RESULT_CODES.has(error.code)) {
      return new DirectoryError(`Directory search failed (${codeName(error.code)})`, { cause: error });
    }
    if (error instanceof ResultCodeError) {
      return new DirectoryUnavailableError(`Directory unavailable: search failed (${codeName(error.code)})`, {
        cause: error,
      });
    }
    return new DirectoryUnavailableError(`Directory unavailable: ${describe(error)}`, { cause: error });
  }
}

/** `dial`, usable once; every socket it makes is handed to `watch`. */
function dialOnce<Dial extends (...args: never[]) => Socket>(
  dial: Dial,
  watch: (socket: Socket) => void,
): Dial {
  let dialled = false;
  const once = (...args: Parameters<Dial>): Socket => {
    if (dialled) throw new ConnectionLost('connection closed');
    dialled = true;
    const socket = dial(...args);
    watch(socket);
    return socket;
  };
  return once as unknown as Dial;
}

function parseUrl(raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Not echoed: a mistyped URL may carry credentials.
    throw new LdapConfigError('LdapDirectory: url is not a valid URL');
  }
  if (url.username || url.password) {
    throw new LdapConfigError('LdapDirectory: url must not carry credentials; use bindDn and bindPassword');
  }
  return url;
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) {
    throw new LdapConfigError(`LdapDirectory: ${name} must be a positive number`);
  }
  return value;
}

function isPlausibleValue(value: unknown): value is string {
  return (
    typeof value === 'string' &&
    value.length > 0 &&
    value.length <= MAX_VALUE_LENGTH &&
    // AD ignores leading and trailing spaces when matching; " alice@x" is not alice's address.
    value.trim() === value &&
    !IMPLAUSIBLE_CHARACTER.test(value)
  );
}

function isPlausibleDn(dn: unknown): dn is string {
  return (
    typeof dn === 'string' &&
    dn.trim() !== '' &&
    dn.length <= MAX_DN_LENGTH &&
    dn.includes('=') &&
    !IMPLAUSIBLE_CHARACTER.test(dn)
  );
}

/*
 * Filters are built as ldapts filter objects, never as strings. Each value then travels as one
 * BER OCTET STRING holding its exact UTF-8 bytes, so no character of it can be read as filter
 * syntax: that is what RFC 4515 escaping protects in the string form. The string form is also
 * wrong here: ldapts' parser turns each "\xx" escape into the code unit U+00xx, so a UTF-8
 * escaped "а" (\d0\b0) would reach the server double-encoded as C3 90 C2 B0.
 */
function personFilter(...filters: Filter[]): Filter {
  return new AndFilter({
    filters: [
      new EqualityFilter({ attribute: 'objectCategory', value: 'person' }),
      new EqualityFilter({ attribute: 'objectClass', value: 'user' }),
      ...filters,
    ],
  });
}

/** (&(objectCategory=person)(objectClass=user)(<attribute>=<value>)), exact match only. */
export function userFilter(attribute: UserLookupAttribute, value: string): Filter {
  return personFilter(new EqualityFilter({ attribute, value }));
}

/** (&(objectCategory=person)(objectClass=user)(memberOf:1.2.840.113556.1.4.1941:=<groupDn>)). */
export function inChainMembershipFilter(groupDn: string): Filter {
  return personFilter(new ExtensibleFilter({ matchType: 'memberOf', rule: IN_CHAIN, value: groupDn }));
}

async function search(client: Client, base: string, options: SearchOptions): Promise<Entry[]> {
  // AD adds continuation references (to CN=Configuration, DomainDnsZones...) to subtree searches
  // of the domain root; ldapts returns them apart from the entries, and they are not chased.
  const { searchEntries } = await client.search(base, options);
  return searchEntries;
}

async function isMember(client: Client, userDn: string, groupDn: string): Promise<boolean> {
  try {
    const entries = await search(client, userDn, {
      scope: 'base',
      filter: inChainMembershipFilter(groupDn),
      attributes: ['1.1'],
    });
    return entries.some((entry) => entry.dn !== '');
  } catch (error) {
    if (error instanceof ResultCodeError && NOT_A_MEMBER_CODES.has(error.code)) return false;
    throw error;
  }
}

function valuesOf(entry: Entry, attribute: string): string[] {
  const key = Object.keys(entry).find((name) => name.toLowerCase() === attribute.toLowerCase());
  if (key === undefined || key === 'dn') return [];
  const raw = entry[key];
  const values: (Buffer | string)[] = raw === undefined ? [] : Array.isArray(raw) ? [...raw] : [raw];
  return values.map((value) => (Buffer.isBuffer(value) ? value.toString('utf8') : value));
}

function firstValue(entry: Entry, attribute: string): string | undefined {
  const [value] = valuesOf(entry, attribute);
  return value === '' ? undefined : value;
}

function sameValue(found: string, wanted: string): boolean {
  return found.toLowerCase() === wanted.toLowerCase();
}

function toUser(entry: Entry): DirectoryUser {
  const sAMAccountName = firstValue(entry, 'sAMAccountName');
  if (sAMAccountName === undefined) throw new DirectoryError('Directory entry has no sAMAccountName');
  const uac = Number(firstValue(entry, 'userAccountControl'));
  return {
    dn: entry.dn,
    sAMAccountName,
    mail: firstValue(entry, 'mail'),
    userPrincipalName: firstValue(entry, 'userPrincipalName'),
    displayName: firstValue(entry, 'displayName'),
    // Unreadable flags count as disabled: refusing is the safe side.
    enabled: Number.isInteger(uac) && (uac & ACCOUNTDISABLE) === 0,
  };
}

function codeName(code: number): string {
  return RESULT_CODE_NAMES[code] ?? `resultCode ${code}`;
}

function isConnectionLoss(error: unknown): boolean {
  return !(
    error instanceof DirectoryError ||
    error instanceof ResultCodeError ||
    error instanceof BindRefused ||
    error instanceof DeadlineExceeded
  );
}

/** A short reason built only from codes this module knows, never from the error's own text. */
function describe(error: unknown): string {
  if (error instanceof DeadlineExceeded || error instanceof ConnectionLost) return error.message;
  if (error instanceof ResultCodeError) {
    const data = /\bdata ([0-9a-f]{3})\b/i.exec(error.message)?.[1]?.toLowerCase();
    const meaning = data === undefined ? undefined : AD_BIND_DATA_CODES[data];
    return meaning === undefined
      ? codeName(error.code)
      : `${codeName(error.code)}, AD data ${data}: ${meaning}`;
  }
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    // Node's system and TLS codes (ECONNREFUSED, CERT_HAS_EXPIRED, ...) are fixed identifiers.
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
    if (/timed? ?out/i.test(error.message)) return 'timeout';
    if (/closed|socket|not established/i.test(error.message)) return 'connection closed';
  }
  return 'connection failed';
}
