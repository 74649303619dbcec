import { describe, expect, it } from 'vitest';
import {
  CatalogFileError,
  type CatalogProblem,
  CatalogValidationError,
  formatProblem,
  loadCatalogFile,
  parseCatalog,
} from '../../../shared/config/load-catalog.js';
import { EXAMPLE_CATALOG_PATH, exampleCatalogText, exampleWith, lineOf } from '../../fixtures/catalog.js';

function problemsOf(text: string): CatalogProblem[] {
  try {
    parseCatalog(text, 'test.yaml');
  } catch (error) {
    if (error instanceof CatalogValidationError) return [...error.problems];
    throw error;
  }
  throw new Error('expected the catalog to be refused');
}

describe('the shipped example catalog', () => {
  it('is valid, with durations parsed and defaults applied', () => {
    const catalog = loadCatalogFile(EXAMPLE_CATALOG_PATH);
    expect(Object.keys(catalog.databases)).toEqual(['orders', 'billing-staging']);
    const read = catalog.databases.orders?.levels.read;
    expect(read?.maxDuration).toEqual({ minutes: 240 });
    expect(read?.approvalsRequired).toBe(1);
    expect(catalog.databases.orders?.levels.write?.approvalsRequired).toBe(2);
    expect(catalog.databases['billing-staging']?.port).toBe(3306);
    expect(catalog.global.vault.wrapTtl).toEqual({ minutes: 5 });
    expect(catalog.global.jira.site).toBe('https://example.atlassian.net');
  });
});

// [what is broken, search, replacement, path, message, the text whose line is reported]
const BROKEN: [string, string, string, string, string | RegExp, string][] = [
  [
    'max above the 24h ceiling',
    'maxDuration: 4h',
    'maxDuration: 25h',
    'databases.orders.levels.read.maxDuration',
    '"25h" exceeds the 24h ceiling',
    'maxDuration: 25h',
  ],
  [
    'default above max',
    'defaultDuration: 30m',
    'defaultDuration: 3h',
    'databases.orders.levels.write.defaultDuration',
    '3h is longer than maxDuration 2h',
    'defaultDuration: 3h',
  ],
  [
    'a duration in words',
    'defaultDuration: 1h\n        maxDuration: 4h',
    'defaultDuration: 1 hour\n        maxDuration: 4h',
    'databases.orders.levels.read.defaultDuration',
    '"1 hour" is not a duration; write it as 1h',
    'defaultDuration: 1 hour',
  ],
  ['a zero duration', 'wrapTtl: 5m', 'wrapTtl: 0m', 'global.vault.wrapTtl', '"0m" is zero', 'wrapTtl: 0m'],
  [
    'a wrap TTL of hours',
    'wrapTtl: 5m',
    'wrapTtl: 2h',
    'global.vault.wrapTtl',
    '"2h" exceeds the 60m ceiling',
    'wrapTtl: 2h',
  ],
  [
    'no approver groups',
    'approverGroups:\n          - CN=db-approvers,OU=Groups,DC=example,DC=com\n        justification:\n          minLength: 10',
    'approverGroups: []\n        justification:\n          minLength: 10',
    'databases.orders.levels.read.approverGroups',
    'must name at least one AD group allowed to approve this level',
    'approverGroups: []',
  ],
  [
    'an unknown placeholder',
    "TO '{{name}}'@'%'\"\n        defaultDuration: 1h",
    "TO '{{user}}'@'%'\"\n        defaultDuration: 1h",
    'databases.orders.levels.read.grants[0]',
    'uses the unknown placeholder {{user}}; grants may use {{name}} or {{username}}',
    '{{user}}',
  ],
  [
    'a password placeholder',
    "TO '{{name}}'@'%'\"\n        defaultDuration: 1h",
    "TO '{{name}}'@'%' IDENTIFIED BY '{{password}}'\"\n        defaultDuration: 1h",
    'databases.orders.levels.read.grants[0]',
    'must not contain {{password}}',
    '{{password}}',
  ],
  [
    'GRANT OPTION',
    "TO '{{name}}'@'%'\"\n        defaultDuration: 1h",
    "TO '{{name}}'@'%' WITH GRANT OPTION\"\n        defaultDuration: 1h",
    'databases.orders.levels.read.grants[0]',
    'must not give GRANT OPTION',
    'WITH GRANT OPTION',
  ],
  [
    'a statement that is not a GRANT',
    "\"GRANT SELECT ON orders.* TO '{{name}}'@'%'\"",
    '"DROP DATABASE orders"',
    'databases.orders.levels.read.grants[0]',
    'must be a GRANT statement',
    'DROP DATABASE',
  ],
  [
    'a second statement smuggled after the grant',
    "TO '{{name}}'@'%'\"\n        defaultDuration: 1h",
    "TO '{{name}}'@'%'; DROP DATABASE orders\"\n        defaultDuration: 1h",
    'databases.orders.levels.read.grants[0]',
    'has a second statement after ";" ("DROP DATABASE orders")',
    'DROP DATABASE orders',
  ],
  [
    'a trailing comment',
    "TO '{{name}}'@'%'\"\n        defaultDuration: 1h",
    "TO '{{name}}'@'%' -- read only\"\n        defaultDuration: 1h",
    'databases.orders.levels.read.grants[0]',
    'contains a comment ("-- read only")',
    '-- read only',
  ],
  [
    'a grant to someone else',
    "\"GRANT SELECT ON orders.* TO '{{name}}'@'%'\"",
    "\"GRANT SELECT ON orders.* TO 'mallory'@'%'\"",
    'databases.orders.levels.read.grants[0]',
    "must grant to the temporary user, e.g. TO '{{name}}'@'%'",
    'mallory',
  ],
  [
    'a level name with a space',
    '      read:\n        description: Read-only',
    '      "read only":\n        description: Read-only',
    'databases.orders.levels.read only',
    /"read only" must be lowercase letters, digits/,
    '"read only"',
  ],
  [
    'an unknown field',
    'approvalsRequired: 2',
    'approvalsRequired: 2\n        approvers: 3',
    'databases.orders.levels.write',
    'unknown field "approvers"',
    'approvers: 3',
  ],
  [
    'a missing field',
    '    vaultConnection: orders-prod-mysql\n',
    '',
    'databases.orders.vaultConnection',
    'is required',
    '  orders:',
  ],
  [
    'too many approvals',
    'approvalsRequired: 2',
    'approvalsRequired: 9',
    'databases.orders.levels.write.approvalsRequired',
    'must be at most 5',
    'approvalsRequired: 9',
  ],
  [
    'a fractional count',
    'approvalsRequired: 2',
    'approvalsRequired: 1.5',
    'databases.orders.levels.write.approvalsRequired',
    'must be a whole number',
    'approvalsRequired: 1.5',
  ],
  [
    'a port out of range',
    'port: 3306',
    'port: 70000',
    'databases.orders.port',
    'must be a TCP port, 1 to 65535',
    'port: 70000',
  ],
  [
    'a group that is not a DN',
    '- CN=eng-oncall,OU=Groups,DC=example,DC=com',
    '- eng-oncall',
    'databases.orders.levels.write.requesterGroups[0]',
    'must be a group distinguished name',
    '- eng-oncall',
  ],
  [
    'a group listed twice',
    '- CN=eng-oncall,OU=Groups,DC=example,DC=com',
    '- CN=eng-oncall,OU=Groups,DC=example,DC=com\n          - cn=eng-oncall, ou=Groups, dc=example, dc=com',
    'databases.orders.levels.write.requesterGroups[1]',
    'is listed twice',
    'cn=eng-oncall, ou',
  ],
  [
    'a channel name instead of an id',
    'approversChannel: C0APPROVALS',
    'approversChannel: "#db-approvals"',
    'global.slack.approversChannel',
    'must be a Slack channel id such as C0123456789 (not its #name)',
    '#db-approvals',
  ],
  [
    'an http Jira site',
    'site: https://example.atlassian.net',
    'site: http://example.atlassian.net',
    'global.jira.site',
    'must be the https URL of the Jira site',
    'http://',
  ],
  [
    'two meanings sharing a status',
    'closed: Done',
    'closed: Approved',
    'global.jira.statuses.closed',
    '"Approved" is also the approved status',
    'closed: Approved',
  ],
  [
    'an invalid justification regex',
    'pattern: "(INC|CHG)-[0-9]+"',
    'pattern: "(INC|CHG-[0-9]+"',
    'databases.orders.levels.write.justification.pattern',
    'is not a valid regular expression',
    'pattern: "(INC',
  ],
  ['a wrong version', 'version: 1', 'version: 2', 'version', 'must be 1', 'version: 2'],
  [
    'an unknown server flavor',
    'flavor: aurora-mysql',
    'flavor: postgres',
    'databases.orders.flavor',
    "must be the server's kind: mariadb, mysql8, rds-mysql, aurora-mysql",
    'flavor: postgres',
  ],
  [
    'an empty level map',
    '  billing-staging:\n    description: Billing, staging copy\n    host: billing.staging.db.internal\n    flavor: mysql8\n    schema: billing\n    vaultConnection: billing-staging-mysql\n    environment: staging\n    levels:',
    '  billing-staging:\n    description: Billing, staging copy\n    host: billing.staging.db.internal\n    flavor: mysql8\n    schema: billing\n    vaultConnection: billing-staging-mysql\n    environment: staging\n    levels: {}\n    unused:',
    'databases.billing-staging.levels',
    'must define at least one access level',
    'levels: {}',
  ],
];

describe('parseCatalog refuses a broken catalog and says where', () => {
  it.each(BROKEN)('%s', (_what, search, replacement, path, message, lineText) => {
    const text = exampleWith(search, replacement);
    const problems = problemsOf(text);
    const problem = problems.find((p) => p.path === path);
    expect(problem, `problems were: ${problems.map(formatProblem).join(' | ')}`).toBeDefined();
    expect(problem?.message).toMatch(
      typeof message === 'string' ? new RegExp(escapeRegExp(message)) : message,
    );
    expect(problem?.line).toBe(lineOf(text, lineText));
  });

  // Found by the catalog property (test/unit/properties): the name check ran on a missing map
  // and crashed with a TypeError instead of saying what was missing.
  it('reports a missing databases map (its lines deleted) as missing, not with a TypeError', () => {
    const lines = exampleCatalogText().split('\n');
    lines.splice(lines.indexOf('  vault:'), lines.indexOf('databases:') - lines.indexOf('  vault:') + 1);
    const text = lines.join('\n');
    expect(text).not.toContain('databases:');
    expect(() => parseCatalog(text)).toThrow(CatalogValidationError);
    expect(() => parseCatalog(text)).toThrow(/databases: is required/);
  });

  it('reports the line in the one-line form operators read', () => {
    const text = exampleWith('maxDuration: 4h', 'maxDuration: 25h');
    const [problem] = problemsOf(text);
    expect(formatProblem(problem!)).toBe(
      `databases.orders.levels.read.maxDuration: "25h" exceeds the 24h ceiling (line ${lineOf(text, 'maxDuration: 25h')})`,
    );
  });

  it('reports every error at once, in file order', () => {
    const text = exampleWith('maxDuration: 4h', 'maxDuration: 25h')
      .replace('port: 3306', 'port: 0')
      .replace('wrapTtl: 5m', 'wrapTtl: soon');
    const problems = problemsOf(text);
    expect(problems.map((p) => p.path)).toEqual([
      'global.vault.wrapTtl',
      'databases.orders.port',
      'databases.orders.levels.read.maxDuration',
    ]);
  });

  it('refuses a database defined twice, naming it and both places', () => {
    const text = exampleWith('  billing-staging:', '  orders:');
    const problems = problemsOf(text);
    expect(problems).toContainEqual({
      path: '',
      message: '"orders" is defined twice in databases; names must be unique',
      line:
        text.lastIndexOf('  orders:') >= 0
          ? text.slice(0, text.lastIndexOf('  orders:')).split('\n').length
          : -1,
    });
  });

  it('refuses a level defined twice within a database', () => {
    const text = exampleWith('      write:', '      read:');
    expect(problemsOf(text).map((p) => p.message)).toContain(
      '"read" is defined twice in databases.orders.levels; names must be unique',
    );
  });

  it.each([
    [
      'approvalsRequired: 2',
      'approvalsRequierd: 2',
      'databases.orders.levels.write',
      '"approvalsRequierd" (did you mean "approvalsRequired"?)',
    ],
    [
      '    environment: prod',
      '    Environment: prod',
      'databases.orders',
      '"Environment" (did you mean "environment"?)',
    ],
    ['    port: 3306', '    colour: 3306', 'databases.orders', 'unknown field "colour" (line'],
  ])('names the known field a misspelt one was meant to be (%s → %s)', (from, to, path, message) => {
    const text = exampleWith(from, to);
    const problem = problemsOf(text).find((p) => p.path === path);
    expect(formatProblem(problem as CatalogProblem)).toContain(message);
  });

  it('reports a key defined twice once, and nothing false about the complete first definition', () => {
    const text = exampleWith('      write:', '      read:\n        description: a second copy\n      write:');
    expect(problemsOf(text).map(formatProblem)).toEqual([
      `"read" is defined twice in databases.orders.levels; names must be unique (line ${lineOf(text, '      read:\n        description: a second copy')})`,
    ]);
  });

  it.each([
    ['a database', '  billing-staging:', '  Billing_Staging:', 'databases.Billing_Staging'],
    ['a level', '      read:', '      Admin:', 'databases.orders.levels.Admin'],
  ])(
    'reports %s whose name breaks the rule and still every error inside and after it',
    (_, from, to, path) => {
      const text = exampleWith(from, to)
        .replace('maxDuration: 4h', 'maxDuration: 25h')
        .replace('wrapTtl: 5m', 'wrapTtl: soon');
      const problems = problemsOf(text);
      expect(problems.find((p) => p.path === path)).toMatchObject({
        message: expect.stringMatching(/must be lowercase letters, digits/),
        line: lineOf(text, to),
      });
      expect(problems.map((p) => p.path)).toEqual(
        expect.arrayContaining(['global.vault.wrapTtl', expect.stringMatching(/\.maxDuration$/)]),
      );
      expect(problems).toHaveLength(3);
    },
  );
});

describe('parseCatalog refuses what is not a catalog at all', () => {
  it.each([
    ['broken YAML', 'version: 1\nglobal: [', /is not valid YAML: .* \(line \d+\)/],
    ['a YAML list', '- a\n- b\n', /is not a jit-access catalog: expected a YAML mapping/],
    ['an empty file', '', /is not a jit-access catalog/],
    ['plain text', 'hello world', /is not a jit-access catalog/],
  ])('%s', (_what, text, message) => {
    expect(() => parseCatalog(text, 'x.yaml')).toThrow(CatalogFileError);
    expect(() => parseCatalog(text, 'x.yaml')).toThrow(message);
  });

  it('names a missing file plainly', () => {
    expect(() => loadCatalogFile('/nonexistent/jit.yaml')).toThrow(
      'cannot read catalog /nonexistent/jit.yaml: no such file',
    );
  });

  it('does not expand a billion-laughs alias bomb', () => {
    const bomb = `a: &a ["x","x","x","x","x","x","x","x","x","x"]\n${Array.from(
      { length: 9 },
      (_, i) =>
        `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
          .fill(`*${String.fromCharCode(97 + i)}`)
          .join(',')}]`,
    ).join('\n')}\n`;
    expect(() => parseCatalog(bomb, 'bomb.yaml')).toThrow(CatalogFileError);
    expect(() => parseCatalog(bomb, 'bomb.yaml')).toThrow(/bomb.yaml cannot be read: .*alias/i);
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

it('keeps the example catalog free of tabs and trailing spaces (readable diffs for operators)', () => {
  expect(exampleCatalogText()).not.toMatch(/\t| +\n/);
});
