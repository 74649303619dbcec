import { randomUUID } from 'node:crypto';
import { parsePolicy, renderPolicy } from '../../../shared/adapters/vault/policy-hcl.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignatureV4 } from '@smithy/signature-v4';
import { createPool, type Pool } from 'mysql2/promise';
import { Sha256 } from '../../../shared/adapters/vault/aws-login.js';
import {
  DEFAULT_USERNAME_TEMPLATE,
  LEGACY_USERNAME_TEMPLATE,
  randomBase62,
  renderUsernameTemplate,
  tokenDisplayName,
  UsernameTemplateError,
} from '../../../shared/adapters/vault/username-template.js';
import type { Clock } from '../../../shared/ports/clock.js';
import { type LoopbackServer, lowerCaseHeaders, readBody, startLoopbackServer } from '../loopback-server.js';

/*
 * The parts of Vault's HTTP API jit-access uses, as ../shared/notes/vault-scheduler.md records
 * them from Vault's (and OpenBao's) source: token auth and token roles, policies enough to refuse
 * a token outside its own, the database secrets engine running the role's statements on a real
 * MariaDB, leases that revoke themselves, response wrapping, and sealed mode. Answers carry
 * Vault's status codes and `{"errors":[…]}` bodies. Time is the injected clock; `tick()` runs
 * what Vault's expiration manager would have run by then.
 */

export interface VaultPolicyRule {
  /** A path as Vault policies write them: exact, a `*` suffix for a prefix, `+` for one segment. */
  readonly path: string;
  readonly capabilities: readonly Capability[];
}
export const CAPABILITIES = ['create', 'read', 'update', 'delete', 'list', 'sudo', 'deny'] as const;
export type Capability = (typeof CAPABILITIES)[number];

/** Who a set of AWS keys is, as STS would answer GetCallerIdentity for them. */
export interface AwsIdentityFixture {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  /** e.g. arn:aws:sts::123456789012:assumed-role/jit-access-worker/session */
  readonly arn: string;
}

interface AwsAuthRole {
  boundPrincipals: string[];
  policies: string[];
  ttl: number;
}

export interface VaultEmulatorOptions {
  readonly clock?: Clock;
  /** Start sealed (every request 503) until unseal(). */
  readonly sealed?: boolean;
}

interface TokenEntry {
  id: string;
  accessor: string;
  policies: string[];
  displayName: string;
  path: string;
  meta: Record<string, string>;
  orphan: boolean;
  parent?: string;
  issuedAt: number;
  /** 0 = never (the root token). */
  expiresAt: number;
  creationTtl: number;
  numUses: number;
  renewable: boolean;
  role?: string;
  /** A response-wrapping token holds the reply it wraps. */
  wrapped?: { body: unknown; creationPath: string };
}

interface TokenRole {
  allowedPolicies: string[];
  orphan: boolean;
  explicitMaxTtl: number;
  renewable: boolean;
}

interface DatabaseConnection {
  pluginName: string;
  connectionUrl: string;
  username: string;
  password: string;
  allowedRoles: string[];
  usernameTemplate?: string;
}

interface DatabaseRole {
  dbName: string;
  creationStatements: string[];
  revocationStatements: string[];
  defaultTtl: number;
  maxTtl: number;
}

export interface EmulatedLease {
  readonly id: string;
  readonly role: string;
  readonly username: string;
  readonly token: string;
  readonly issuedAt: number;
  expiresAt: number;
  revokeAttempts: number;
  revokeError?: string;
  irrevocable: boolean;
}

class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly errors: string[],
  ) {
    super(errors.join('; '));
  }
}

const DEFAULT_POLICY: VaultPolicyRule[] = [
  { path: 'auth/token/lookup-self', capabilities: ['read'] },
  { path: 'auth/token/renew-self', capabilities: ['update'] },
  { path: 'auth/token/revoke-self', capabilities: ['update'] },
  { path: 'sys/wrapping/wrap', capabilities: ['update'] },
  { path: 'sys/wrapping/lookup', capabilities: ['update'] },
  { path: 'sys/wrapping/unwrap', capabilities: ['update'] },
  { path: 'sys/leases/lookup', capabilities: ['update'] },
];
/** Vault's backoff gives up after this many failed revocations and marks the lease irrevocable. */
const MAX_REVOKE_ATTEMPTS = 6;
const DEFAULT_TOKEN_TTL = 32 * 24 * 3600;

export class VaultEmulator {
  readonly rootToken = `hvs.${randomBase62(24)}`;
  private readonly clock: Clock;
  private server: LoopbackServer | undefined;
  private sealedNow: boolean;
  private readonly tokens = new Map<string, TokenEntry>();
  private readonly policies = new Map<string, VaultPolicyRule[]>([['default', DEFAULT_POLICY]]);
  /** Each policy's text as written, which `sys/policies/acl/:name` reads back. */
  private readonly policyTexts = new Map<string, string>();
  private readonly tokenRoles = new Map<string, TokenRole>();
  private readonly connections = new Map<string, DatabaseConnection>();
  /** One pool per connection config, as Vault's database plugin keeps its *sql.DB. */
  private readonly pools = new Map<DatabaseConnection, Pool>();
  private readonly roles = new Map<string, DatabaseRole>();
  private readonly leaseStore = new Map<string, EmulatedLease>();
  private readonly awsRoles = new Map<string, AwsAuthRole>();
  private readonly awsIdentities = new Map<string, AwsIdentityFixture>();
  private awsServerId: string | undefined;
  /** Every request answered, with its body and status, for tests to read (and hold to the spec). */
  readonly requests: { method: string; path: string; body?: unknown; status: number; response?: unknown }[] =
    [];

  constructor(options: VaultEmulatorOptions = {}) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.sealedNow = options.sealed ?? false;
    this.tokens.set(this.rootToken, {
      id: this.rootToken,
      accessor: randomBase62(24),
      policies: ['root'],
      displayName: 'root',
      path: 'auth/token/root',
      meta: {},
      orphan: true,
      issuedAt: this.nowSeconds(),
      expiresAt: 0,
      creationTtl: 0,
      numUses: 0,
      renewable: false,
    });
  }

  get url(): string {
    if (!this.server) throw new Error('VaultEmulator is not started');
    return this.server.url;
  }

  async start(): Promise<void> {
    this.server = await startLoopbackServer('vault-emulator', (req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await Promise.allSettled([...this.pools.values()].map((pool) => pool.end()));
    this.pools.clear();
    await this.server?.close();
    this.server = undefined;
  }

  seal(): void {
    this.sealedNow = true;
  }

  unseal(): void {
    this.sealedNow = false;
  }

  /** Writes an ACL policy, as `vault policy write` would. */
  writePolicy(name: string, rules: readonly VaultPolicyRule[]): void {
    this.policies.set(name, [...rules]);
    this.policyTexts.set(name, renderPolicy(rules));
  }

  /** Keys STS would recognise (the emulator cannot ask STS; it checks the signature itself). */
  addAwsIdentity(identity: AwsIdentityFixture): void {
    this.awsIdentities.set(identity.accessKeyId, identity);
  }

  /** Revokes every lease (running its statements), as `vault lease revoke -prefix database/` would. */
  async revokeAll(): Promise<void> {
    for (const lease of [...this.leaseStore.values()]) await this.revokeLease(lease).catch(() => undefined);
  }

  leases(): readonly EmulatedLease[] {
    return [...this.leaseStore.values()].map((lease) => ({ ...lease }));
  }

  /**
   * What Vault's expiration manager has done by now: expired tokens revoked with their leases,
   * expired leases revoked by their statements; a failed revocation is retried on later ticks
   * and marked irrevocable after Vault's sixth attempt.
   */
  async tick(): Promise<void> {
    const now = this.nowSeconds();
    for (const token of [...this.tokens.values()]) {
      if (token.expiresAt !== 0 && token.expiresAt <= now) await this.revokeToken(token);
    }
    for (const lease of [...this.leaseStore.values()]) {
      if (lease.expiresAt <= now && !lease.irrevocable) await this.revokeLease(lease).catch(() => {});
    }
  }

  // ---- HTTP -------------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const requested = url.pathname.replace(/^\/v1\//, '');
    const path = requested.replace(/\/$/, '');
    const method = (req.method ?? 'GET').toUpperCase();
    const headers = lowerCaseHeaders(req);
    const raw = await readBody(req);
    let status: number;
    let body: unknown;
    let input: Record<string, unknown> | undefined;
    try {
      if (this.sealedNow) throw new VaultHttpError(503, ['Vault is sealed']);
      if (raw.trim() !== '') {
        const parsed: unknown = JSON.parse(raw);
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
          throw new VaultHttpError(400, ['error parsing JSON']);
        }
        input = parsed as Record<string, unknown>;
      }
      const list = ['1', 'true'].includes(url.searchParams.get('list') ?? '');
      const reply = await this.route(method, path, input ?? {}, headers, list);
      status = reply.status;
      body = reply.body;
    } catch (error) {
      if (error instanceof VaultHttpError) {
        status = error.status;
        body = { errors: error.errors };
      } else if (error instanceof SyntaxError) {
        status = 400;
        body = { errors: ['error parsing JSON'] };
      } else {
        throw error;
      }
    }
    this.requests.push({
      method,
      // As asked: a list names its prefix with the trailing slash the API description has.
      path: requested,
      ...(input ? { body: input } : {}),
      status,
      ...(body !== undefined ? { response: body } : {}),
    });
    if (body === undefined) {
      res.writeHead(status).end();
      return;
    }
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  }

  private async route(
    method: string,
    path: string,
    input: Record<string, unknown>,
    headers: Record<string, string>,
    list = false,
  ): Promise<{ status: number; body?: unknown }> {
    const write = method === 'POST' || method === 'PUT';
    // Needs no token: what the wrapping token is, before anyone spends it.
    if (path === 'sys/wrapping/lookup' && write) return this.wrappingLookup(input);
    if (path === 'sys/wrapping/unwrap' && write) return this.unwrap(input, headers);

    if (path === 'auth/aws/login' && write) return this.awsLogin(input);

    const caller = this.authenticate(headers['x-vault-token']);
    const capability =
      method === 'GET' ? 'read' : method === 'LIST' ? 'list' : method === 'DELETE' ? 'delete' : 'update';
    const match = (pattern: RegExp) => pattern.exec(path);
    let m: RegExpExecArray | null;

    if (path === 'auth/token/lookup-self' && (method === 'GET' || write)) {
      this.authorize(caller, path, 'read');
      return this.reply({ data: this.lookupData(caller) });
    }
    if ((m = match(/^auth\/token\/create(?:\/([^/]+))?$/)) && write) {
      this.authorize(caller, path, 'update');
      return this.createToken(caller, input, m[1]);
    }
    if ((m = match(/^auth\/token\/roles\/([^/]+)$/))) {
      this.authorize(caller, path, capability);
      return write ? this.writeTokenRole(m[1] ?? '', input) : this.readTokenRole(m[1] ?? '');
    }
    if ((m = match(/^auth\/aws\/role\/([^/]+)$/)) && write) {
      this.authorize(caller, path, 'update');
      this.awsRoles.set(m[1] ?? '', {
        boundPrincipals: stringList(input.bound_iam_principal_arn),
        policies: stringList(input.token_policies ?? input.policies),
        ttl: input.token_ttl === undefined ? 3600 : parseDuration(input.token_ttl, 'token_ttl'),
      });
      return { status: 204 };
    }
    if (path === 'auth/aws/config/client' && write) {
      this.authorize(caller, path, 'update');
      this.awsServerId =
        typeof input.iam_server_id_header_value === 'string' ? input.iam_server_id_header_value : undefined;
      return { status: 204 };
    }
    if (path === 'auth/token/revoke-accessor' && write) {
      this.authorize(caller, path, 'update');
      const target = [...this.tokens.values()].find((token) => token.accessor === input.accessor);
      if (!target) throw new VaultHttpError(400, ['invalid accessor']);
      await this.revokeToken(target);
      return { status: 204 };
    }
    if (path === 'auth/token/renew-accessor' && write) {
      this.authorize(caller, path, 'update');
      return this.renewToken(input);
    }
    if ((m = match(/^sys\/leases\/lookup\/(.+)$/)) && (method === 'LIST' || (method === 'GET' && list))) {
      // Listing leases is a sudo path in Vault (x-vault-sudo in its OpenAPI).
      this.authorize(caller, `${path}/`, 'list');
      if (!this.hasSudo(caller, `${path}/`)) throw new VaultHttpError(403, ['permission denied']);
      return this.listLeases(`${m[1] ?? ''}/`);
    }
    if ((m = match(/^sys\/policies\/acl\/([^/]+)$/)) && (write || method === 'GET')) {
      this.authorize(caller, path, capability);
      return write ? this.writePolicyText(m[1] ?? '', input) : this.readPolicyText(m[1] ?? '');
    }
    if ((m = match(/^database\/config\/([^/]+)$/))) {
      this.authorize(caller, path, capability);
      return write ? this.writeConnection(m[1] ?? '', input) : this.readConnection(m[1] ?? '');
    }
    if ((m = match(/^database\/roles\/([^/]+)$/))) {
      this.authorize(caller, path, capability);
      return write ? this.writeRole(m[1] ?? '', input) : this.readRole(m[1] ?? '');
    }
    if ((m = match(/^database\/creds\/([^/]+)$/)) && method === 'GET') {
      this.authorize(caller, path, 'read');
      return this.creds(caller, m[1] ?? '', headers);
    }
    if (path === 'sys/leases/lookup' && write) {
      this.authorize(caller, path, 'update');
      return this.leaseLookup(input);
    }
    if ((m = match(/^sys\/leases\/renew(?:\/(.+))?$/)) && write) {
      this.authorize(caller, 'sys/leases/renew', 'update');
      return this.leaseRenew(String(m[1] ?? input.lease_id ?? ''), input.increment);
    }
    if ((m = match(/^sys\/leases\/revoke(?:\/(.+))?$/)) && write) {
      this.authorize(caller, 'sys/leases/revoke', 'update');
      return this.leaseRevoke(String(m[1] ?? input.lease_id ?? ''), input.sync);
    }
    if (path === 'sys/wrapping/wrap' && write) {
      this.authorize(caller, path, 'update');
      return this.wrap(input, headers['x-vault-wrap-ttl']);
    }
    throw new VaultHttpError(404, [`no handler for route "${path}". route entry not found.`]);
  }

  // ---- tokens -----------------------------------------------------------------------------------

  private authenticate(header: string | undefined): TokenEntry {
    const token = header ? this.tokens.get(header) : undefined;
    if (!token || token.wrapped || (token.expiresAt !== 0 && token.expiresAt <= this.nowSeconds())) {
      throw new VaultHttpError(403, ['permission denied']);
    }
    return token;
  }

  private authorize(token: TokenEntry, path: string, capability: Capability): void {
    if (token.policies.includes('root')) return;
    const rules = token.policies.flatMap((name) => this.policies.get(name) ?? []);
    const matching = rules.filter((rule) => pathMatches(rule.path, path));
    const allowed =
      !matching.some((rule) => rule.capabilities.includes('deny')) &&
      matching.some(
        (rule) =>
          rule.capabilities.includes(capability) ||
          (capability === 'update' && rule.capabilities.includes('create')),
      );
    if (!allowed) throw new VaultHttpError(403, ['1 error occurred:\n\t* permission denied\n\n']);
  }

  private hasSudo(token: TokenEntry, path: string): boolean {
    if (token.policies.includes('root')) return true;
    return token.policies
      .flatMap((name) => this.policies.get(name) ?? [])
      .some((rule) => pathMatches(rule.path, path) && rule.capabilities.includes('sudo'));
  }

  private createToken(caller: TokenEntry, input: Record<string, unknown>, roleName: string | undefined) {
    const role = roleName === undefined ? undefined : this.tokenRoles.get(roleName);
    if (roleName !== undefined && !role) throw new VaultHttpError(400, [`unknown role ${roleName}`]);
    const requested = stringList(input.policies);
    const noDefault = input.no_default_policy === true;
    let policies: string[];
    if (role) {
      const wanted = requested.length > 0 ? requested : role.allowedPolicies;
      const outside = wanted.filter((p) => p !== 'default' && !role.allowedPolicies.includes(p));
      if (outside.length > 0) {
        throw new VaultHttpError(400, [
          `token policies (${JSON.stringify(outside)}) must be subset of the role's allowed policies`,
        ]);
      }
      policies = wanted;
    } else {
      const isRoot = caller.policies.includes('root');
      const wanted = requested.length > 0 ? requested : caller.policies;
      const outside = wanted.filter((p) => p !== 'default' && !caller.policies.includes(p));
      if (!isRoot && !this.hasSudo(caller, 'auth/token/create') && outside.length > 0) {
        throw new VaultHttpError(400, ['child policies must be subset of parent']);
      }
      policies = wanted;
    }
    if (!noDefault && !policies.includes('root') && !policies.includes('default'))
      policies = [...policies, 'default'];
    policies = [...new Set(policies)].sort();

    const orphan = role ? role.orphan : input.no_parent === true;
    if (!role && orphan && !this.hasSudo(caller, 'auth/token/create')) {
      throw new VaultHttpError(400, ['root or sudo privileges required to create orphan token']);
    }
    let ttl = input.ttl === undefined ? DEFAULT_TOKEN_TTL : parseDuration(input.ttl, 'ttl');
    if (role && role.explicitMaxTtl > 0) ttl = Math.min(ttl, role.explicitMaxTtl);
    const now = this.nowSeconds();
    const entry: TokenEntry = {
      id: `hvs.${randomBase62(24)}`,
      accessor: randomBase62(24),
      policies,
      displayName: tokenDisplayName(typeof input.display_name === 'string' ? input.display_name : undefined),
      path: roleName ? `auth/token/create/${roleName}` : 'auth/token/create',
      meta: (input.meta as Record<string, string> | undefined) ?? {},
      orphan,
      ...(orphan ? {} : { parent: caller.id }),
      issuedAt: now,
      expiresAt: now + ttl,
      creationTtl: ttl,
      numUses: typeof input.num_uses === 'number' ? input.num_uses : 0,
      renewable: role ? role.renewable : input.renewable !== false,
      ...(roleName ? { role: roleName } : {}),
    };
    this.tokens.set(entry.id, entry);
    return this.authReply(entry);
  }

  private writeTokenRole(name: string, input: Record<string, unknown>) {
    this.tokenRoles.set(name, {
      allowedPolicies: stringList(input.allowed_policies),
      orphan: input.orphan === true,
      explicitMaxTtl:
        input.token_explicit_max_ttl === undefined
          ? 0
          : parseDuration(input.token_explicit_max_ttl, 'token_explicit_max_ttl'),
      renewable: input.renewable !== false,
    });
    return { status: 204 };
  }

  private readTokenRole(name: string) {
    const role = this.tokenRoles.get(name);
    if (!role) return { status: 404, body: { errors: [] } };
    return this.reply({
      data: {
        name,
        allowed_policies: role.allowedPolicies,
        orphan: role.orphan,
        token_explicit_max_ttl: role.explicitMaxTtl,
        renewable: role.renewable,
      },
    });
  }

  private lookupData(token: TokenEntry) {
    const now = this.nowSeconds();
    return {
      accessor: token.accessor,
      creation_time: token.issuedAt,
      creation_ttl: token.creationTtl,
      display_name: token.displayName,
      entity_id: '',
      expire_time: token.expiresAt === 0 ? null : new Date(token.expiresAt * 1000).toISOString(),
      explicit_max_ttl: 0,
      id: token.id,
      issue_time: new Date(token.issuedAt * 1000).toISOString(),
      meta: token.meta,
      num_uses: token.numUses,
      orphan: token.orphan,
      path: token.path,
      policies: token.policies,
      renewable: token.renewable,
      ttl: token.expiresAt === 0 ? 0 : Math.max(0, token.expiresAt - now),
      ...(token.role ? { role: token.role } : {}),
    };
  }

  /** A token and its children revoked; every lease they created is revoked with them. */
  private async revokeToken(token: TokenEntry): Promise<void> {
    this.tokens.delete(token.id);
    for (const child of [...this.tokens.values()])
      if (child.parent === token.id) await this.revokeToken(child);
    for (const lease of [...this.leaseStore.values()]) {
      if (lease.token === token.id) await this.revokeLease(lease).catch(() => {});
    }
  }

  // ---- AWS IAM auth -----------------------------------------------------------------------------

  /**
   * `auth/aws/login` with a signed sts:GetCallerIdentity: Vault forwards it to STS; the emulator
   * checks what STS would (the SigV4 signature of those exact bytes, by known keys) and what Vault
   * does (POST, the STS URL and body, the server-id header signed when configured, the role's
   * bound principals).
   */
  private async awsLogin(input: Record<string, unknown>) {
    const roleName = typeof input.role === 'string' ? input.role : '';
    const role = this.awsRoles.get(roleName);
    if (!role) throw new VaultHttpError(400, [`entry for role ${roleName} not found`]);
    const decode = (field: string) => {
      const value = input[field];
      if (typeof value !== 'string') throw new VaultHttpError(400, [`missing ${field}`]);
      return Buffer.from(value, 'base64').toString('utf8');
    };
    if (input.iam_http_request_method !== 'POST')
      throw new VaultHttpError(400, ['invalid iam_http_request_method; only POST is supported']);
    const url = decode('iam_request_url');
    const body = decode('iam_request_body');
    let headers: Record<string, string>;
    try {
      const parsed = JSON.parse(decode('iam_request_headers')) as Record<string, string | string[]>;
      headers = Object.fromEntries(
        Object.entries(parsed).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(',') : v]),
      );
    } catch {
      throw new VaultHttpError(400, ['error parsing iam_request_headers']);
    }
    if (url !== 'https://sts.amazonaws.com/' || body !== 'Action=GetCallerIdentity&Version=2011-06-15') {
      throw new VaultHttpError(400, [
        'iam_request_url and iam_request_body must be a GetCallerIdentity request to the STS endpoint',
      ]);
    }
    const authorization =
      /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/sts\/aws4_request, SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$/.exec(
        headers.authorization ?? '',
      );
    if (!authorization)
      throw new VaultHttpError(400, [
        'error making upstream request: received error code 403 from STS: missing or malformed Authorization',
      ]);
    const [, accessKeyId = '', , region = '', signedHeaders = '', signature = ''] = authorization;
    if (this.awsServerId !== undefined) {
      const signed = signedHeaders.split(';');
      if (
        headers['x-vault-aws-iam-server-id'] !== this.awsServerId ||
        !signed.includes('x-vault-aws-iam-server-id')
      ) {
        throw new VaultHttpError(400, [
          'expected X-Vault-AWS-IAM-Server-ID header value to be signed and to match',
        ]);
      }
    }
    const identity = this.awsIdentities.get(accessKeyId);
    const amzDate = headers['x-amz-date'] ?? '';
    const expected = identity
      ? await signatureFor(identity, region, headers, signedHeaders.split(';'), body, amzDate)
      : undefined;
    if (!identity || expected !== signature) {
      throw new VaultHttpError(400, [
        'error making upstream request: received error code 403 from STS: SignatureDoesNotMatch',
      ]);
    }
    const principal = canonicalArn(identity.arn);
    if (
      !role.boundPrincipals.some((bound) =>
        bound.endsWith('*') ? principal.startsWith(bound.slice(0, -1)) : bound === principal,
      )
    ) {
      throw new VaultHttpError(400, [
        `IAM Principal "${principal}" does not belong to the role "${roleName}"`,
      ]);
    }
    const now = this.nowSeconds();
    const entry: TokenEntry = {
      id: `hvs.${randomBase62(24)}`,
      accessor: randomBase62(24),
      policies: [...new Set([...role.policies, 'default'])].sort(),
      displayName: `aws-${principal.split('/').at(-1) ?? ''}`,
      path: 'auth/aws/login',
      meta: { role: roleName },
      orphan: true,
      issuedAt: now,
      expiresAt: now + role.ttl,
      creationTtl: role.ttl,
      numUses: 0,
      renewable: true,
    };
    this.tokens.set(entry.id, entry);
    return this.authReply(entry);
  }

  private writePolicyText(name: string, input: Record<string, unknown>) {
    const text = typeof input.policy === 'string' ? input.policy : '';
    if (!text.trim()) throw new VaultHttpError(400, ["'policy' parameter not supplied or empty"]);
    const rules = parsePolicy(text);
    if (!rules)
      throw new VaultHttpError(400, [
        'failed to parse policy: the emulator reads path blocks with capabilities only',
      ]);
    const unknown = rules
      .flatMap((rule) => rule.capabilities)
      .filter((c) => !CAPABILITIES.includes(c as Capability));
    if (unknown.length > 0)
      throw new VaultHttpError(400, [`failed to parse policy: invalid capability "${unknown[0]}"`]);
    this.policies.set(name, rules as VaultPolicyRule[]);
    this.policyTexts.set(name, text);
    return { status: 204 };
  }

  private readPolicyText(name: string) {
    const text = this.policyTexts.get(name);
    if (text === undefined) return { status: 404, body: { errors: [] } };
    return this.reply({ data: { name, policy: text } });
  }

  // ---- database secrets engine ------------------------------------------------------------------

  private writeConnection(name: string, input: Record<string, unknown>) {
    const pluginName = typeof input.plugin_name === 'string' ? input.plugin_name : '';
    if (!pluginName) throw new VaultHttpError(400, ['empty plugin name']);
    const template = typeof input.username_template === 'string' ? input.username_template : undefined;
    if (template !== undefined) {
      try {
        renderUsernameTemplate(template, { DisplayName: 'token', RoleName: 'role' });
      } catch (error) {
        if (error instanceof UsernameTemplateError)
          throw new VaultHttpError(400, [`invalid username template: ${error.message}`]);
        throw error;
      }
    }
    const previous = this.connections.get(name);
    const stale = previous ? this.pools.get(previous) : undefined;
    if (previous) this.pools.delete(previous);
    void stale?.end().catch(() => undefined);
    this.connections.set(name, {
      pluginName,
      connectionUrl: String(input.connection_url ?? ''),
      username: String(input.username ?? ''),
      password: String(input.password ?? ''),
      allowedRoles: stringList(input.allowed_roles),
      ...(template !== undefined ? { usernameTemplate: template } : {}),
    });
    return { status: 204 };
  }

  private readConnection(name: string) {
    const connection = this.connections.get(name);
    if (!connection) return { status: 404, body: { errors: [] } };
    // The password is never returned.
    return this.reply({
      data: {
        plugin_name: connection.pluginName,
        allowed_roles: connection.allowedRoles,
        connection_details: {
          connection_url: connection.connectionUrl,
          username: connection.username,
          ...(connection.usernameTemplate ? { username_template: connection.usernameTemplate } : {}),
        },
      },
    });
  }

  private writeRole(name: string, input: Record<string, unknown>) {
    const dbName = typeof input.db_name === 'string' ? input.db_name : '';
    if (!dbName) throw new VaultHttpError(400, ['empty database name attribute']);
    const creation = statementList(input.creation_statements);
    if (creation.length === 0) throw new VaultHttpError(400, ['creation_statements are required']);
    this.roles.set(name, {
      dbName,
      creationStatements: creation,
      revocationStatements: statementList(input.revocation_statements),
      defaultTtl: input.default_ttl === undefined ? 3600 : parseDuration(input.default_ttl, 'default_ttl'),
      maxTtl: input.max_ttl === undefined ? 24 * 3600 : parseDuration(input.max_ttl, 'max_ttl'),
    });
    return { status: 204 };
  }

  private readRole(name: string) {
    const role = this.roles.get(name);
    if (!role) return { status: 404, body: { errors: [] } };
    return this.reply({
      data: {
        db_name: role.dbName,
        creation_statements: role.creationStatements,
        revocation_statements: role.revocationStatements,
        default_ttl: role.defaultTtl,
        max_ttl: role.maxTtl,
      },
    });
  }

  private async creds(caller: TokenEntry, roleName: string, headers: Record<string, string>) {
    const role = this.roles.get(roleName);
    if (!role) throw new VaultHttpError(400, [`unknown role: ${roleName}`]);
    const connection = this.connections.get(role.dbName);
    if (!connection) throw new VaultHttpError(400, [`failed to get connection: ${role.dbName}`]);
    if (!allowedRole(connection.allowedRoles, roleName)) {
      throw new VaultHttpError(500, [`"${roleName}" is not an allowed role`]);
    }
    const template =
      connection.usernameTemplate ??
      (connection.pluginName === 'mysql-database-plugin'
        ? DEFAULT_USERNAME_TEMPLATE
        : LEGACY_USERNAME_TEMPLATE);
    const username = renderUsernameTemplate(
      template,
      { DisplayName: caller.displayName, RoleName: roleName },
      { now: () => this.clock.now() },
    );
    const password = `A1a-${randomBase62(20)}`;
    const ttl = Math.min(role.defaultTtl, role.maxTtl);
    const expiration = formatExpiration(new Date((this.nowSeconds() + ttl + 5) * 1000));
    await this.runStatements(connection, role.creationStatements, { name: username, password, expiration });
    const lease: EmulatedLease = {
      id: `database/creds/${roleName}/${randomBase62(24)}`,
      role: roleName,
      username,
      token: caller.id,
      issuedAt: this.nowSeconds(),
      expiresAt: this.nowSeconds() + ttl,
      revokeAttempts: 0,
      irrevocable: false,
    };
    this.leaseStore.set(lease.id, lease);
    const reply = {
      request_id: randomUUID(),
      lease_id: lease.id,
      renewable: true,
      lease_duration: ttl,
      data: { username, password },
      wrap_info: null,
      warnings: null,
      auth: null,
      mount_type: 'database',
    };
    const wrapTtl = headers['x-vault-wrap-ttl'];
    return wrapTtl === undefined
      ? { status: 200, body: reply }
      : this.wrapReply(reply, wrapTtl, `database/creds/${roleName}`);
  }

  private async revokeLease(lease: EmulatedLease): Promise<void> {
    const role = this.roles.get(lease.role);
    const connection = role ? this.connections.get(role.dbName) : undefined;
    const statements =
      role && role.revocationStatements.length > 0
        ? role.revocationStatements
        : ["REVOKE ALL PRIVILEGES, GRANT OPTION FROM '{{name}}'@'%'", "DROP USER '{{name}}'@'%'"];
    try {
      if (!connection) throw new Error(`failed to get connection: ${role?.dbName ?? lease.role}`);
      await this.runStatements(connection, statements, { name: lease.username });
      this.leaseStore.delete(lease.id);
    } catch (error) {
      lease.revokeAttempts += 1;
      const message = `failed to revoke entry: resp: (*logical.Response)(nil) err: ${error instanceof Error ? error.message : String(error)}`;
      lease.revokeError = message;
      if (lease.revokeAttempts >= MAX_REVOKE_ATTEMPTS) {
        lease.irrevocable = true;
        lease.revokeError = `out of retries: ${message}`.slice(0, 240);
      }
      throw new VaultHttpError(400, [message]);
    }
  }

  /** Vault splits statements on `;` and replaces placeholders as plain text, without escaping. */
  private async runStatements(
    connection: DatabaseConnection,
    statements: readonly string[],
    values: { name: string; password?: string; expiration?: string },
  ): Promise<void> {
    let pool = this.pools.get(connection);
    if (!pool) {
      pool = createPool({ ...parseConnectionUrl(connection), connectTimeout: 3000, connectionLimit: 4 });
      this.pools.set(connection, pool);
    }
    const db = await pool.getConnection();
    try {
      for (const statement of statements
        .flatMap((s) => s.split(';'))
        .map((s) => s.trim())
        .filter(Boolean)) {
        const sql = statement
          .replaceAll('{{name}}', values.name)
          .replaceAll('{{username}}', values.name)
          .replaceAll('{{password}}', values.password ?? '')
          .replaceAll('{{expiration}}', values.expiration ?? '');
        await db.query(sql);
      }
    } finally {
      db.release();
    }
  }

  // ---- leases -----------------------------------------------------------------------------------

  private leaseLookup(input: Record<string, unknown>) {
    const id = typeof input.lease_id === 'string' ? input.lease_id : '';
    if (!id) throw new VaultHttpError(400, ['lease_id must be specified']);
    const lease = this.leaseStore.get(id);
    if (!lease) throw new VaultHttpError(400, ['invalid lease']);
    const data = {
      id: lease.id,
      issue_time: new Date(lease.issuedAt * 1000).toISOString(),
      expire_time: new Date(lease.expiresAt * 1000).toISOString(),
      last_renewal: null,
      ttl: Math.max(0, lease.expiresAt - this.nowSeconds()),
      renewable: !lease.irrevocable,
      path: `database/creds/${lease.role}`,
      ...(lease.revokeError ? { revoke_error: lease.revokeError } : {}),
    };
    // On sys/ paths Vault copies the data keys to the top level too.
    return this.reply({ ...data, data });
  }

  /** LIST sys/leases/lookup/<prefix>/: the ids under the prefix, relative to it; 404 when none. */
  private listLeases(prefix: string) {
    const keys = [...this.leaseStore.keys()]
      .filter((id) => id.startsWith(prefix))
      .map((id) => id.slice(prefix.length))
      .sort();
    if (keys.length === 0) return { status: 404, body: { errors: [] } };
    return this.reply({ data: { keys } });
  }

  /** Renews a token by its accessor, within the token role's explicit maximum. */
  private renewToken(input: Record<string, unknown>) {
    const token = [...this.tokens.values()].find((entry) => entry.accessor === input.accessor);
    if (!token) throw new VaultHttpError(400, ['invalid accessor']);
    if (!token.renewable) throw new VaultHttpError(400, ['lease is not renewable']);
    const now = this.nowSeconds();
    const wanted =
      input.increment === undefined ? token.creationTtl : parseDuration(input.increment, 'increment');
    const explicitMax = token.role ? (this.tokenRoles.get(token.role)?.explicitMaxTtl ?? 0) : 0;
    token.expiresAt = explicitMax > 0 ? Math.min(now + wanted, token.issuedAt + explicitMax) : now + wanted;
    return this.authReply(token, token.expiresAt - now);
  }

  private leaseRenew(id: string, increment: unknown) {
    const lease = this.leaseStore.get(id);
    if (!lease) throw new VaultHttpError(400, ['lease not found']);
    const now = this.nowSeconds();
    if (lease.expiresAt <= now) throw new VaultHttpError(400, ['lease expired']);
    const role = this.roles.get(lease.role);
    const wanted =
      increment === undefined ? (role?.defaultTtl ?? 3600) : parseDuration(increment, 'increment');
    const ceiling = lease.issuedAt + (role?.maxTtl ?? wanted);
    lease.expiresAt = Math.min(now + wanted, ceiling);
    return this.reply({ lease_id: lease.id, renewable: true, lease_duration: lease.expiresAt - now });
  }

  private async leaseRevoke(id: string, sync: unknown) {
    const lease = this.leaseStore.get(id);
    // Revoking a lease that does not exist revokes nothing and succeeds.
    if (!lease) return { status: sync === false ? 202 : 204 };
    if (sync === false) {
      void this.revokeLease(lease).catch(() => {});
      return { status: 202 };
    }
    await this.revokeLease(lease);
    return { status: 204 };
  }

  // ---- response wrapping ------------------------------------------------------------------------

  /** Wraps the body as given; unwrapping returns it as `data`. */
  private wrap(input: Record<string, unknown>, ttlHeader: string | undefined) {
    if (ttlHeader === undefined)
      throw new VaultHttpError(400, ['endpoint requires response wrapping to be used']);
    return this.wrapReply({ data: input }, ttlHeader, 'sys/wrapping/wrap');
  }

  private wrapReply(reply: unknown, ttlHeader: string, creationPath: string) {
    let ttl: number;
    try {
      ttl = parseDuration(/^\d+$/.test(ttlHeader) ? Number(ttlHeader) : ttlHeader, 'X-Vault-Wrap-TTL');
    } catch {
      throw new VaultHttpError(400, [
        `error parsing X-Vault-Wrap-TTL header: invalid duration "${ttlHeader}"`,
      ]);
    }
    const now = this.nowSeconds();
    const token: TokenEntry = {
      id: `hvs.${randomBase62(24)}`,
      accessor: randomBase62(24),
      policies: ['response-wrapping'],
      displayName: 'response-wrapping',
      path: creationPath,
      meta: {},
      orphan: true,
      issuedAt: now,
      expiresAt: now + ttl,
      creationTtl: ttl,
      numUses: 1,
      renewable: false,
      wrapped: { body: reply, creationPath },
    };
    this.tokens.set(token.id, token);
    return this.reply({
      request_id: '',
      lease_id: '',
      renewable: false,
      lease_duration: 0,
      data: null,
      wrap_info: {
        token: token.id,
        accessor: token.accessor,
        ttl,
        creation_time: new Date(now * 1000).toISOString(),
        creation_path: creationPath,
      },
      warnings: null,
      auth: null,
    });
  }

  private wrappingToken(input: Record<string, unknown>, headers: Record<string, string>): TokenEntry {
    const fromBody = typeof input.token === 'string' ? input.token : undefined;
    const id = fromBody ?? headers['x-vault-token'];
    const token = id ? this.tokens.get(id) : undefined;
    if (!token?.wrapped || token.expiresAt <= this.nowSeconds()) {
      throw new VaultHttpError(400, ['wrapping token is not valid or does not exist']);
    }
    return token;
  }

  private unwrap(input: Record<string, unknown>, headers: Record<string, string>) {
    const token = this.wrappingToken(input, headers);
    // Single use: spent by this unwrap, whoever made it.
    this.tokens.delete(token.id);
    const wrapped = token.wrapped?.body as { data?: unknown } | undefined;
    if (token.wrapped?.creationPath === 'sys/wrapping/wrap') {
      return this.reply({
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: wrapped?.data ?? null,
        wrap_info: null,
        warnings: null,
        auth: null,
      });
    }
    return { status: 200, body: wrapped };
  }

  private wrappingLookup(input: Record<string, unknown>) {
    const token = this.wrappingToken(input, {});
    return this.reply({
      data: {
        creation_ttl: token.creationTtl,
        creation_time: new Date(token.issuedAt * 1000).toISOString(),
        creation_path: token.wrapped?.creationPath ?? '',
      },
    });
  }

  // ---- helpers ----------------------------------------------------------------------------------

  /** A login or token-create answer: the new token under `auth`. */
  private authReply(entry: TokenEntry, leaseDuration = entry.creationTtl): { status: number; body: unknown } {
    return this.reply({
      auth: {
        client_token: entry.id,
        accessor: entry.accessor,
        policies: entry.policies,
        token_policies: entry.policies,
        metadata: entry.meta,
        lease_duration: leaseDuration,
        renewable: entry.renewable,
        entity_id: '',
        token_type: 'service',
        orphan: entry.orphan,
        num_uses: entry.numUses,
        mfa_requirement: null,
      },
    });
  }

  private reply(fields: Record<string, unknown>): { status: number; body: unknown } {
    return {
      status: 200,
      body: {
        request_id: randomUUID(),
        lease_id: '',
        renewable: false,
        lease_duration: 0,
        data: null,
        wrap_info: null,
        warnings: null,
        auth: null,
        ...fields,
      },
    };
  }

  private nowSeconds(): number {
    return Math.floor(this.clock.now().getTime() / 1000);
  }
}

export async function startVaultEmulator(options: VaultEmulatorOptions = {}): Promise<VaultEmulator> {
  const emulator = new VaultEmulator(options);
  await emulator.start();
  return emulator;
}

/** Vault's policy paths: exact, `*` at the end for a prefix, `+` for exactly one segment. */
function pathMatches(pattern: string, path: string): boolean {
  const source = pattern
    .split('/')
    .map((segment) => (segment === '+' ? '[^/]+' : segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/')
    .replace(/\\\*$/, '.*');
  return new RegExp(`^${source}$`).test(path);
}

function allowedRole(allowed: readonly string[], role: string): boolean {
  return allowed.some((pattern) => pattern === '*' || pathMatches(pattern, role));
}

function stringList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String).filter(Boolean);
  if (typeof value === 'string')
    return value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  return [];
}

/** Statements as a JSON array or one `;`-separated string (Vault's base64 form is not emulated). */
function statementList(value: unknown): string[] {
  if (Array.isArray(value)) return value.map(String);
  return typeof value === 'string' && value.trim() !== '' ? [value] : [];
}

/** Seconds from a Go-style duration string (`90s`, `5m`, `1h30m`) or a number of seconds. */
export function parseDuration(value: unknown, field: string): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return Math.floor(value);
  if (typeof value === 'string') {
    if (/^\d+$/.test(value)) return Number(value);
    const parts = [...value.matchAll(/(\d+)(h|m|s)/g)];
    if (parts.length > 0 && parts.map((p) => p[0]).join('') === value) {
      return parts.reduce(
        (sum, [, n, unit]) => sum + Number(n) * (unit === 'h' ? 3600 : unit === 'm' ? 60 : 1),
        0,
      );
    }
  }
  throw new VaultHttpError(400, [`error converting input ${JSON.stringify(value)} for field "${field}"`]);
}

/** `{{username}}:{{password}}@tcp(host:port)/` with the connection's credentials. */
function parseConnectionUrl(connection: DatabaseConnection): {
  host: string;
  port: number;
  user: string;
  password: string;
} {
  const match = /@tcp\(([^:)]+):(\d+)\)/.exec(connection.connectionUrl);
  if (!match) throw new Error(`error verifying connection: cannot parse connection_url`);
  return {
    host: match[1] ?? '127.0.0.1',
    port: Number(match[2]),
    user: connection.username,
    password: connection.password,
  };
}

/** Go layout `2006-01-02 15:04:05-0700`, in UTC. */
function formatExpiration(at: Date): string {
  return `${at.toISOString().slice(0, 19).replace('T', ' ')}+0000`;
}

/** Assumed-role ARNs become the role's IAM ARN, as Vault resolves them. */
function canonicalArn(arn: string): string {
  const assumed = /^arn:aws:sts::(\d+):assumed-role\/([^/]+)\//.exec(arn);
  return assumed ? `arn:aws:iam::${assumed[1]}:role/${assumed[2]}` : arn;
}

/** The SigV4 signature STS would compute for the request as it was signed. */
async function signatureFor(
  identity: AwsIdentityFixture,
  region: string,
  headers: Record<string, string>,
  signedHeaders: readonly string[],
  body: string,
  amzDate: string,
): Promise<string | undefined> {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(amzDate);
  if (!match) return undefined;
  const [, y, mo, d, h, mi, se] = match;
  const signingDate = new Date(`${y}-${mo}-${d}T${h}:${mi}:${se}Z`);
  const signer = new SignatureV4({
    credentials: { accessKeyId: identity.accessKeyId, secretAccessKey: identity.secretAccessKey },
    region,
    service: 'sts',
    sha256: Sha256,
  });
  const kept = Object.fromEntries(
    Object.entries(headers).filter(([name]) => signedHeaders.includes(name) && name !== 'authorization'),
  );
  const signed = await signer.sign(
    { method: 'POST', protocol: 'https:', hostname: 'sts.amazonaws.com', path: '/', headers: kept, body },
    { signingDate },
  );
  return /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
}
