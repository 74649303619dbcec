import type { Catalog } from '../shared/config/catalog-schema.js';
import { creationStatements, FLAVORS, type ServerFlavor } from '../shared/config/server-flavors.js';
import { MAX_ACCESS_DURATION } from '../shared/config/catalog-schema.js';
import { type PolicyRule, renderPolicy } from '../shared/adapters/vault/policy-hcl.js';
import {
  DEFAULT_USERNAME_TEMPLATE,
  renderUsernameTemplate,
  UsernameTemplateError,
} from '../shared/adapters/vault/username-template.js';
import { DEFAULT_TOKEN_ROLE, vaultRoleName } from '../shared/adapters/vault/vault-names.js';
import { type VaultAnswer, type VaultTarget, vaultCall } from './vault-http.js';

/*
 * `jit-access vault sync`: the Vault objects jit-access needs, derived from the catalog — one
 * database role and one policy per level, the token role requester tokens are made through, and
 * the worker's policy — compared with what Vault has, shown as a plan, written with --apply.
 * Connections are only checked, never written: they hold the database admin password.
 */

export const WORKER_POLICY = 'jit-access-worker';

export interface SyncOptions {
  readonly tokenRole?: string;
  readonly workerPolicy?: string;
}

type Desired =
  | { kind: 'database role'; name: string; path: string; fields: RoleFields }
  | { kind: 'policy'; name: string; path: string; text: string }
  | { kind: 'token role'; name: string; path: string; fields: TokenRoleFields };

interface RoleFields {
  readonly db_name: string;
  readonly creation_statements: readonly string[];
  readonly revocation_statements: readonly string[];
  readonly default_ttl: number;
  readonly max_ttl: number;
}

interface TokenRoleFields {
  readonly allowed_policies: readonly string[];
  readonly orphan: boolean;
  readonly token_explicit_max_ttl: number;
}

export interface PlanItem {
  readonly kind: Desired['kind'];
  readonly name: string;
  readonly action: 'create' | 'change' | 'unchanged';
  /** `- old` / `+ new` lines of what differs. */
  readonly diff: readonly string[];
  readonly desired: Desired;
}

export interface ConnectionProblem {
  readonly connection: string;
  readonly problem: string;
  readonly fix: string;
}

export interface SyncPlan {
  readonly items: readonly PlanItem[];
  readonly problems: readonly ConnectionProblem[];
}

/** Vault answered something sync cannot work with (permission, unreachable); said plainly. */
export class VaultSyncError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VaultSyncError';
  }
}

/** What Vault should hold for `catalog`: pure, so the plan is reviewable and testable offline. */
export function desiredVaultState(catalog: Catalog, options: SyncOptions = {}): Desired[] {
  const tokenRole = options.tokenRole ?? DEFAULT_TOKEN_ROLE;
  const desired: Desired[] = [];
  const levelRoles: string[] = [];
  for (const [database, entry] of Object.entries(catalog.databases)) {
    for (const [level, spec] of Object.entries(entry.levels)) {
      const name = vaultRoleName(database, level);
      levelRoles.push(name);
      desired.push({
        kind: 'database role',
        name,
        path: `database/roles/${name}`,
        fields: {
          db_name: entry.vaultConnection,
          creation_statements: creationStatements(spec.grants),
          revocation_statements: FLAVORS[entry.flavor].revocationStatements,
          default_ttl: spec.defaultDuration.minutes * 60,
          // An approved extension renews the lease past maxDuration, up to the level's ceiling.
          max_ttl: (spec.maxDuration.minutes + (spec.maxExtension?.minutes ?? 0)) * 60,
        },
      });
      desired.push({
        kind: 'policy',
        name,
        path: `sys/policies/acl/${name}`,
        text: renderPolicy([{ path: `database/creds/${name}`, capabilities: ['read'] }]),
      });
    }
  }
  desired.push({
    kind: 'token role',
    name: tokenRole,
    path: `auth/token/roles/${tokenRole}`,
    fields: {
      allowed_policies: [...levelRoles].sort(),
      // An orphan: a grant must not die with the worker's own login token.
      orphan: true,
      token_explicit_max_ttl: MAX_ACCESS_DURATION.minutes * 60,
    },
  });
  const workerRules: PolicyRule[] = [
    { path: `auth/token/create/${tokenRole}`, capabilities: ['update'] },
    { path: 'auth/token/revoke-accessor', capabilities: ['update'] },
    // An approved extension renews the requester's token with its lease (the lease dies with it).
    { path: 'auth/token/renew-accessor', capabilities: ['update'] },
    { path: 'sys/wrapping/wrap', capabilities: ['update'] },
    { path: 'sys/leases/lookup', capabilities: ['update'] },
    { path: 'sys/leases/renew', capabilities: ['update'] },
    { path: 'sys/leases/revoke', capabilities: ['update'] },
    // The orphan sweep lists the leases under the catalog's roles; Vault wants sudo for that list.
    ...levelRoles.map((role) => ({
      path: `sys/leases/lookup/database/creds/${role}/`,
      capabilities: ['list', 'sudo'],
    })),
  ];
  const workerPolicy = options.workerPolicy ?? WORKER_POLICY;
  desired.push({
    kind: 'policy',
    name: workerPolicy,
    path: `sys/policies/acl/${workerPolicy}`,
    text: renderPolicy(workerRules),
  });
  return desired;
}

/** Reads what Vault has and compares; checks each connection the catalog names. */
export async function planVaultSync(
  catalog: Catalog,
  target: VaultTarget,
  token: string,
  options: SyncOptions = {},
): Promise<SyncPlan> {
  const desired = desiredVaultState(catalog, options);
  const items = await Promise.all(
    desired.map(async (want): Promise<PlanItem> => {
      const answer = await read(target, token, want.path);
      if (answer === undefined)
        return { kind: want.kind, name: want.name, action: 'create', diff: [], desired: want };
      const diff = differences(want, answer);
      return {
        kind: want.kind,
        name: want.name,
        action: diff.length ? 'change' : 'unchanged',
        diff,
        desired: want,
      };
    }),
  );
  const problems = (
    await Promise.all(
      Object.entries(connectionsOf(catalog)).map(([connection, use]) =>
        checkConnection(target, token, connection, use),
      ),
    )
  ).flat();
  return { items, problems };
}

/** Writes every create and change of `plan`; the plan must have no connection problems. */
export async function applyVaultSync(plan: SyncPlan, target: VaultTarget, token: string): Promise<number> {
  let written = 0;
  for (const item of plan.items) {
    if (item.action === 'unchanged') continue;
    const want = item.desired;
    const body = want.kind === 'policy' ? { policy: want.text } : asWritten(want.fields);
    const answer = await call(target, { method: 'POST', path: want.path, token, body });
    if (answer.status >= 300) throw refusal(`write ${want.path}`, answer);
    written += 1;
  }
  return written;
}

/** Vault reads TTLs back as seconds but documents them as duration strings when written. */
function asWritten(fields: RoleFields | TokenRoleFields): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(fields).map(([key, value]) => [
      key,
      key.endsWith('ttl') && typeof value === 'number' ? `${value}s` : value,
    ]),
  );
}

/** The plan as an operator reads it, one object per line, statement diffs indented. */
export function formatPlan(plan: SyncPlan): string[] {
  const lines: string[] = [];
  const mark = { create: '+', change: '~', unchanged: '=' } as const;
  for (const item of plan.items) {
    lines.push(`${mark[item.action]} ${item.action.padEnd(9)} ${item.kind} ${item.name}`);
    for (const line of item.diff) lines.push(`      ${line}`);
  }
  const counts = (action: PlanItem['action']) => plan.items.filter((i) => i.action === action).length;
  lines.push(
    `${counts('create')} to create, ${counts('change')} to change, ${counts('unchanged')} unchanged.`,
  );
  for (const problem of plan.problems) {
    lines.push(`! connection ${problem.connection}: ${problem.problem}`);
    lines.push(`    fix: ${problem.fix}`);
  }
  return lines;
}

interface ConnectionUse {
  readonly roles: string[];
  readonly flavors: Set<ServerFlavor>;
}

function connectionsOf(catalog: Catalog): Record<string, ConnectionUse> {
  const uses: Record<string, ConnectionUse> = {};
  for (const [database, entry] of Object.entries(catalog.databases)) {
    const use = (uses[entry.vaultConnection] ??= { roles: [], flavors: new Set() });
    use.flavors.add(entry.flavor);
    for (const level of Object.keys(entry.levels)) use.roles.push(vaultRoleName(database, level));
  }
  return uses;
}

async function checkConnection(
  target: VaultTarget,
  token: string,
  connection: string,
  use: ConnectionUse,
): Promise<ConnectionProblem[]> {
  const [flavor] = [...use.flavors];
  const traits = FLAVORS[flavor ?? 'mysql8'];
  const template = suggestedTemplate(traits.maxUserName);
  const answer = await read(target, token, `database/config/${connection}`);
  if (answer === undefined) {
    return [
      {
        connection,
        problem: 'does not exist in Vault',
        fix: `vault write database/config/${connection} plugin_name=${traits.vaultPlugin} connection_url='{{username}}:{{password}}@tcp(<host>:3306)/' username=<admin> password=<admin password> allowed_roles='${use.roles.join(',')}' username_template='${template}'`,
      },
    ];
  }
  const data = (answer.data ?? {}) as {
    plugin_name?: string;
    allowed_roles?: string[];
    connection_details?: { username_template?: string };
  };
  const problems: ConnectionProblem[] = [];
  if (use.flavors.size > 1) {
    problems.push({
      connection,
      problem: `serves databases of different flavors (${[...use.flavors].join(', ')})`,
      fix: 'give each server its own Vault connection, or correct the flavor in the catalog',
    });
  }
  if (data.plugin_name && data.plugin_name !== traits.vaultPlugin) {
    problems.push({
      connection,
      problem: `uses ${data.plugin_name}, but the catalog says ${traits.label}, which uses ${traits.vaultPlugin}`,
      fix: `correct the flavor in the catalog, or vault write database/config/${connection} plugin_name=${traits.vaultPlugin} (with its other settings)`,
    });
  }
  const allowed = data.allowed_roles ?? [];
  const missing = use.roles.filter((role) => !allowed.some((pattern) => globMatches(pattern, role)));
  if (missing.length > 0) {
    problems.push({
      connection,
      problem: `does not allow the role${missing.length === 1 ? '' : 's'} ${missing.join(', ')}`,
      fix: `vault write database/config/${connection} allowed_roles='${[...allowed, ...missing].join(',')}' (with its other settings; Vault replaces the whole connection)`,
    });
  }
  const current = data.connection_details?.username_template;
  const problem = templateProblem(current, traits.maxUserName);
  if (problem) {
    problems.push({
      connection,
      problem,
      fix: `vault write database/config/${connection} username_template='${template}' (with its other settings)`,
    });
  }
  return problems;
}

/** Why a connection's template would hide the account or overflow the server's limit; undefined when fine. */
export function templateProblem(template: string | undefined, maxUserName: number): string | undefined {
  const account = 'averylongaccountname';
  let rendered: string;
  try {
    rendered = renderUsernameTemplate(template ?? DEFAULT_USERNAME_TEMPLATE, {
      DisplayName: `token-${account}`,
      RoleName: 'jit-orders-read',
    });
  } catch (error) {
    if (error instanceof UsernameTemplateError)
      return `has a username_template Vault cannot render: ${error.message}`;
    throw error;
  }
  if (rendered.length > maxUserName)
    return `makes user names of ${rendered.length} characters; the server allows ${maxUserName}`;
  if (!rendered.includes(account.slice(0, 5)))
    return `keeps too little of the requester's account in the user name (${template ? 'its template' : "Vault's default template"} gives ${rendered})`;
  return undefined;
}

/** The template the docs recommend for a server whose user names may have `max` characters. */
export function suggestedTemplate(max: number): string {
  return max >= 32
    ? '{{ printf "%s-%s" (.DisplayName | replace "token-" "" | truncate 20) (random 8) | truncate 32 }}'
    : '{{ printf "%s-%s" (.DisplayName | replace "token-" "" | truncate 10) (random 5) }}';
}

function globMatches(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  return pattern.endsWith('*') ? name.startsWith(pattern.slice(0, -1)) : pattern === name;
}

function differences(want: Desired, have: { data?: unknown }): string[] {
  const data = (have.data ?? {}) as Record<string, unknown>;
  if (want.kind === 'policy') {
    const old = String(data.policy ?? '').trim();
    return old === want.text.trim() ? [] : lineDiff(old, want.text.trim());
  }
  const diff: string[] = [];
  for (const [field, value] of Object.entries(want.fields)) {
    let current = data[field];
    let wanted: unknown = value;
    if (field === 'allowed_policies' && Array.isArray(current)) current = [...(current as string[])].sort();
    if (Array.isArray(wanted) && Array.isArray(current) && field.endsWith('statements')) {
      current = (current as string[]).flatMap(splitStatements);
      wanted = (wanted as string[]).flatMap(splitStatements);
    }
    if (JSON.stringify(current) === JSON.stringify(wanted)) continue;
    if (Array.isArray(wanted)) {
      diff.push(`${field}:`);
      const old = Array.isArray(current) ? (current as unknown[]).map(String) : [];
      for (const line of old.filter((l) => !(wanted as unknown[]).includes(l))) diff.push(`  - ${line}`);
      for (const line of (wanted as unknown[]).map(String).filter((l) => !old.includes(l)))
        diff.push(`  + ${line}`);
    } else {
      diff.push(`${field}: ${JSON.stringify(current)} → ${JSON.stringify(wanted)}`);
    }
  }
  return diff;
}

/** Vault keeps statements as given; one entry may hold several, separated by semicolons. */
function splitStatements(entry: string): string[] {
  return entry
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean);
}

function lineDiff(old: string, wanted: string): string[] {
  const before = old ? old.split('\n') : [];
  const after = wanted.split('\n');
  return [
    ...before.filter((l) => !after.includes(l)).map((l) => `- ${l}`),
    ...after.filter((l) => !before.includes(l)).map((l) => `+ ${l}`),
  ];
}

async function read(
  target: VaultTarget,
  token: string,
  path: string,
): Promise<{ data?: unknown } | undefined> {
  const answer = await call(target, { method: 'GET', path, token });
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw refusal(`read ${path}`, answer);
  return answer.body ?? {};
}

async function call(target: VaultTarget, request: Parameters<typeof vaultCall>[1]): Promise<VaultAnswer> {
  try {
    return await vaultCall(target, request);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    throw new VaultSyncError(
      `Cannot reach Vault at ${target.address} (${typeof code === 'string' ? code : 'no answer'}); check VAULT_ADDR.`,
    );
  }
}

function refusal(what: string, answer: VaultAnswer): VaultSyncError {
  const said = answer.body?.errors?.join('; ') ?? 'no message';
  if (answer.status === 403) {
    return new VaultSyncError(
      `Vault refused to ${what} (403 ${said}): VAULT_TOKEN needs a policy allowing read and update on database/roles/jit-*, sys/policies/acl/jit-*, auth/token/roles/* and read on database/config/*.`,
    );
  }
  return new VaultSyncError(`Vault refused to ${what}: ${answer.status} ${said}`);
}
