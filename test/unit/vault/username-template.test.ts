import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_USERNAME_TEMPLATE,
  LEGACY_USERNAME_TEMPLATE,
  renderUsernameTemplate,
  tokenDisplayName,
  UsernameTemplateError,
} from '../../../shared/adapters/vault/username-template.js';
import { suggestedTemplate } from '../../../bin/vault-sync.js';

const environment = {
  now: () => new Date('2023-11-14T22:13:20Z'), // unix 1700000000
  random: (length: number) => 'R'.repeat(length),
};
const alice = { DisplayName: tokenDisplayName('alice'), RoleName: 'orders-read' };
const render = (template: string, metadata = alice) =>
  renderUsernameTemplate(template, metadata, environment);

describe('tokenDisplayName', () => {
  it.each([
    [undefined, 'token'],
    ['', 'token'],
    ['alice', 'token-alice'],
    ['alice.smith', 'token-alice-smith'],
    ['a b!', 'token-a-b'],
    ['Bob_O', 'token-Bob-O'],
    // strings.TrimSuffix: one trailing hyphen goes, not all of them.
    ['  ', 'token--'],
  ])('%j → %s, as Vault forms it', (name, displayName) => {
    expect(tokenDisplayName(name)).toBe(displayName);
  });
});

describe('renderUsernameTemplate', () => {
  it("renders Vault's default: only 4 characters of the account survive `token-` and truncate 10", () => {
    const name = render(DEFAULT_USERNAME_TEMPLATE);
    expect(name).toBe('v-token-alic-orders-rea-RRRRRRRR');
    expect(name).toHaveLength(32);
  });

  it('renders the legacy default (RDS, Aurora): 16 characters and no account at all', () => {
    expect(render(LEGACY_USERNAME_TEMPLATE)).toBe('v-orde-RRRRRRRRR');
  });

  it.each([
    ['plain text', 'jit', 'jit'],
    ['a field', '{{.RoleName}}', 'orders-read'],
    ['a pipeline into a function', '{{ .DisplayName | replace "token-" "" }}', 'alice'],
    ['printf with a sub-pipeline', '{{ printf "%s_%d" (.RoleName | uppercase) 7 }}', 'ORDERS-READ_7'],
    ['a chain', '{{ .DisplayName | replace "token-" "" | uppercase | truncate 3 }}', 'ALI'],
    ['text around actions', 'u-{{ random 3 }}-x', 'u-RRR-x'],
    ['trim markers', 'a  {{- "b" -}}  c', 'abc'],
    ['raw strings', '{{ `x"y` }}', 'x"y'],
    ['unix time', '{{ unix_time }}', '1700000000'],
    ['unix time in ms', '{{ unix_time_millis }}', '1700000000000'],
    ['a Go timestamp layout', '{{ timestamp "2006-01-02T15:04:05Z07:00" }}', '2023-11-14T22:13:20Z'],
    ['sha256', '{{ "a" | sha256 | truncate 8 }}', 'ca978112'],
    ['base64', '{{ "alice" | base64 }}', 'YWxpY2U='],
    ['lowercase', '{{ "ABC" | lowercase }}', 'abc'],
    // Vault keeps maxLen-8 characters and appends the first 8 hex of the sha256 of the rest.
    [
      'truncate_sha256 when too long',
      '{{ "abcdefghijklmnop" | truncate_sha256 10 }}',
      `ab${createHash('sha256').update('cdefghijklmnop').digest('hex').slice(0, 8)}`,
    ],
    ['truncate_sha256 when short enough', '{{ "abc" | truncate_sha256 10 }}', 'abc'],
  ])('%s', (_case, template, expected) => {
    expect(render(template)).toBe(expected);
  });

  it('gives random characters from base62 by default', () => {
    const name = renderUsernameTemplate('{{ random 20 }}', alice);
    expect(name).toMatch(/^[A-Za-z0-9]{20}$/);
  });

  it.each([
    ['an unclosed action', '{{ .RoleName', 'unclosed action'],
    ['an unknown function', '{{ shout .RoleName }}', 'function "shout" not defined'],
    ['an unknown field', '{{ .Account }}', "can't evaluate field Account"],
    ['truncate to nothing', '{{ .RoleName | truncate 0 }}', 'max length must be > 0 but was 0'],
    ['truncate_sha256 too short', '{{ .RoleName | truncate_sha256 8 }}', 'must be > 8'],
    ['a missing argument', '{{ truncate 3 }}', 'wrong number of args for truncate: want 2 got 1'],
    ['an unclosed paren', '{{ printf "%s" (.RoleName }}', 'unclosed left paren'],
    ['an unterminated string', '{{ "abc }}', 'unterminated quoted string'],
    ['an argument to a value', '{{ .RoleName | .DisplayName }}', "can't give argument to non-function"],
  ])('refuses %s, saying what is wrong', (_case, template, message) => {
    expect(() => render(template)).toThrow(UsernameTemplateError);
    expect(() => render(template)).toThrow(message);
  });
});

describe('property: the defaults keep within the server limits', () => {
  it('any display name and role: default ≤ 32 characters, legacy ≤ 16, never throwing (1000 cases)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 60 }), fc.string({ minLength: 1, maxLength: 60 }), (name, role) => {
        const metadata = { DisplayName: tokenDisplayName(name), RoleName: role };
        expect(renderUsernameTemplate(DEFAULT_USERNAME_TEMPLATE, metadata).length).toBeLessThanOrEqual(32);
        expect(renderUsernameTemplate(LEGACY_USERNAME_TEMPLATE, metadata).length).toBeLessThanOrEqual(16);
        expect(tokenDisplayName(name)).toMatch(/^token(-[a-zA-Z0-9-]*)?$/);
      }),
      { numRuns: 1000 },
    );
  });
});

describe('the templates docs/credentials.md recommends', () => {
  const page = readFileSync(join(import.meta.dirname, '../../../docs/credentials.md'), 'utf8');
  const recommended = [...page.matchAll(/`(\{\{ printf[^`]+\}\})`/g)].map((m) => m[1] ?? '');

  it('are there, one per server family', () => {
    expect(recommended).toHaveLength(2);
  });

  it('are the ones `vault sync` suggests, and the ones the example catalog gives', () => {
    expect(recommended).toEqual([suggestedTemplate(32), suggestedTemplate(16)]);
    const example = readFileSync(
      join(import.meta.dirname, '../../../examples/jit-access.config.yaml'),
      'utf8',
    );
    for (const template of recommended) expect(example).toContain(`username_template='${template}'`);
  });

  it.each([
    [0, 32],
    [1, 16],
  ])(
    'template %i keeps the account and stays within %i characters, even for a long account',
    (index, limit) => {
      const template = recommended[index] ?? '';
      expect(render(template)).toMatch(/^alice-R+$/);
      const long = render(template, {
        DisplayName: tokenDisplayName('alexandra-konstantinopoulou'),
        RoleName: 'r',
      });
      expect(long.length).toBeLessThanOrEqual(limit);
      expect(long).toMatch(/^alexandra-/);
    },
  );
});
