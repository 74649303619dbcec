import { describe, expect, it } from 'vitest';
import { desiredVaultState, suggestedTemplate, templateProblem } from '../../bin/vault-sync.js';
import { parsePolicy } from '../../shared/adapters/vault/policy-hcl.js';
import { FLAVORS, KILL_SESSIONS_PROCEDURE, SERVER_FLAVORS } from '../../shared/config/server-flavors.js';
import { exampleCatalog } from '../fixtures/catalog.js';

/* What `vault sync` derives from the catalog, before it talks to any Vault. */

describe('desiredVaultState', () => {
  const catalog = exampleCatalog();
  const state = desiredVaultState(catalog);
  const byPath = new Map(state.map((item) => [item.path, item]));

  it('gives each level a role and a policy that reads only its own credentials', () => {
    const levels = Object.entries(catalog.databases).flatMap(([db, entry]) =>
      Object.keys(entry.levels).map((level) => `jit-${db}-${level}`),
    );
    for (const name of levels) {
      expect(byPath.get(`database/roles/${name}`)?.kind).toBe('database role');
      const policy = byPath.get(`sys/policies/acl/${name}`);
      expect(policy?.kind === 'policy' && parsePolicy(policy.text)).toEqual([
        { path: `database/creds/${name}`, capabilities: ['read'] },
      ]);
    }
  });

  it("creates the user, then runs the level's grants; TTLs are the level's, extensions included", () => {
    const role = byPath.get('database/roles/jit-orders-write');
    expect(role?.kind === 'database role' && role.fields).toMatchObject({
      db_name: 'orders-prod-mysql',
      creation_statements: [
        "CREATE USER '{{name}}'@'%' IDENTIFIED BY '{{password}}'",
        "GRANT SELECT, INSERT, UPDATE, DELETE ON orders.* TO '{{name}}'@'%'",
      ],
      default_ttl: 30 * 60,
      // maxDuration 2h plus maxExtension 1h: an approved extension may renew the lease that far.
      max_ttl: 3 * 3600,
    });
  });

  it.each(SERVER_FLAVORS)('%s: revocation drops the user if it exists, then ends its sessions', (flavor) => {
    const statements = FLAVORS[flavor].revocationStatements;
    expect(statements[0]).toBe("DROP USER IF EXISTS '{{name}}'@'%'");
    expect(statements[1]).toBe(
      flavor === 'mariadb'
        ? "KILL CONNECTION USER '{{name}}'"
        : `CALL ${KILL_SESSIONS_PROCEDURE}('{{name}}')`,
    );
  });

  it('makes requester tokens orphans, allowed only the level policies, capped at a day', () => {
    const role = byPath.get('auth/token/roles/jit-access-requester');
    expect(role?.kind === 'token role' && role.fields).toEqual({
      allowed_policies: [
        'jit-billing-staging-admin',
        'jit-billing-staging-read',
        'jit-orders-read',
        'jit-orders-write',
      ],
      orphan: true,
      token_explicit_max_ttl: 86_400,
    });
  });

  it('gives the worker exactly the calls a grant, an extension, a revocation and the sweep make', () => {
    const policy = byPath.get('sys/policies/acl/jit-access-worker');
    const rules = policy?.kind === 'policy' ? (parsePolicy(policy.text) ?? []) : [];
    expect(rules.map((rule) => rule.path)).toEqual([
      'auth/token/create/jit-access-requester',
      'auth/token/revoke-accessor',
      'auth/token/renew-accessor',
      'sys/wrapping/wrap',
      'sys/leases/lookup',
      'sys/leases/renew',
      'sys/leases/revoke',
      ...[...byPath.keys()]
        .filter((path) => path.startsWith('database/roles/'))
        .map((path) => `sys/leases/lookup/database/creds/${path.slice('database/roles/'.length)}/`),
    ]);
    // Listing leases is a sudo path; the worker gets it under the catalog's roles only.
    expect(
      rules
        .filter((rule) => rule.capabilities.includes('sudo'))
        .every((rule) => rule.path.includes('/creds/jit-')),
    ).toBe(true);
  });
});

describe('templateProblem', () => {
  it.each([
    [undefined, 32, /keeps too little of the requester's account/],
    [suggestedTemplate(32), 32, undefined],
    [suggestedTemplate(16), 16, undefined],
    [suggestedTemplate(32), 16, /makes user names of \d+ characters; the server allows 16/],
    ['{{ printf "v-%s" (random 20) }}', 32, /keeps too little/],
    ['{{ .Nope', 32, /cannot render/],
  ])('%s for %i characters', (template, max, problem) => {
    const found = templateProblem(template, max);
    if (problem) expect(found).toMatch(problem);
    else expect(found).toBeUndefined();
  });
});
