import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AmbiguousUserError,
  type Directory,
  type UserLookupAttribute,
} from '../../shared/ports/directory.js';

/** A person as the contract needs to know them. */
export interface DirectoryContractPerson {
  dn: string;
  sAMAccountName: string;
  mail: string;
  userPrincipalName: string;
}

/**
 * What the directory behind a Directory must hold. Mirrors the seed of local/active-directory.ts;
 * any other implementation (a fake, another server) must be seeded the same way.
 */
export interface DirectoryContractFixtures {
  /** Enabled; direct member of `groups.direct` only. */
  engineer: DirectoryContractPerson;
  /** Enabled; direct member of `groups.intermediate`, which is a member of `groups.nested`. */
  approver: DirectoryContractPerson;
  /** userAccountControl has ACCOUNTDISABLE. */
  disabled: DirectoryContractPerson;
  /** In no group. */
  noGroups: DirectoryContractPerson;
  /** Two distinct accounts with this same mail. */
  sharedMail: string;
  groups: {
    /** eng-db-readers: has the engineer as a direct member. */
    direct: string;
    /** db-approvers: reached by the approver only through `intermediate`. */
    nested: string;
    /** dba-oncall: has the approver and `unrelated` as direct members. */
    intermediate: string;
    /** platform-leads: a member of `intermediate`, with no person in it. */
    unrelated: string;
  };
}

export interface DirectoryContractSetup {
  directory: Directory;
  fixtures: DirectoryContractFixtures;
  teardown?: () => Promise<void>;
}

const ATTRIBUTES: readonly UserLookupAttribute[] = ['mail', 'userPrincipalName'];

/** Latin letters swapped for Cyrillic ones that render the same. */
function cyrillicLookalike(text: string): string {
  const map: Record<string, string> = { a: 'а', c: 'с', e: 'е', o: 'о', p: 'р', x: 'х' };
  const swapped = text.replace(/[aceopx]/, (letter) => map[letter] ?? letter);
  if (swapped === text) throw new Error(`no letter of ${text} has a Cyrillic look-alike`);
  return swapped;
}

/** Printable ASCII mapped to the fullwidth forms (U+FF01..U+FF5E) that AD may ignore the width of. */
function fullwidth(text: string): string {
  return text.replace(/[!-~]/g, (char) => String.fromCodePoint((char.codePointAt(0) ?? 0) + 0xfee0));
}

/** Values an attacker could type where the worker expects an address; none may match anyone. */
function hostileValues(value: string): [string, string][] {
  const [local = value, domain = ''] = value.split('@');
  const encodedLetter = `\\${local.charCodeAt(0).toString(16)}${value.slice(1)}`;
  return [
    ['a lone wildcard', '*'],
    ['a filter breaking out of the assertion', '*)(|(mail=*))'],
    ['a closing paren and a new clause', `${value})(objectClass=*`],
    ['a prefix wildcard on a real address', `${local}*`],
    ['a wildcard local part', `*@${domain}`],
    ['a wildcard in the middle', `${local.slice(0, 1)}*${local.slice(-1)}@${domain}`],
    ['a lone backslash', '\\'],
    ['an escaped star', '\\2a'],
    ['a pre-escaped letter of a real address', encodedLetter],
    ['a NUL byte', '\u0000'],
    ['the escaped form of NUL', '\\00'],
    ['a real address followed by NUL', `${value}\u0000`],
    ['a real address followed by a newline', `${value}\n`],
    ['a real address with a leading space', ` ${value}`],
    ['a real address with a trailing space', `${value} `],
    ['an empty string', ''],
    ['a 10,000-character string', 'a'.repeat(10_000)],
    ['a 10,000-character string ending in a real address', `${'a'.repeat(10_000)}${value}`],
    ['a Cyrillic look-alike', cyrillicLookalike(value)],
    ['a Cyrillic look-alike in upper case', cyrillicLookalike(value).toUpperCase()],
    ['the fullwidth form', fullwidth(value)],
    ['the fullwidth form in upper case', fullwidth(value.toUpperCase())],
    ['a lone surrogate', `${value}\ud800`],
    ['a right-to-left override', `\u202e${value}`],
  ];
}

/**
 * What the worker relies on from any Directory: exact, case-insensitive lookups that refuse to
 * guess, nested group membership in the caller's order, and no way for a typed value to widen
 * either answer.
 */
export function directoryContract(name: string, setup: () => Promise<DirectoryContractSetup>): void {
  describe(`Directory contract: ${name}`, () => {
    let directory: Directory;
    let fx: DirectoryContractFixtures;
    let teardown: (() => Promise<void>) | undefined;

    beforeAll(async () => {
      ({ directory, fixtures: fx, teardown } = await setup());
    });
    afterAll(async () => {
      await teardown?.();
    });

    describe('findUser', () => {
      it('finds the engineer by mail, enabled, with the attributes the policy needs', async () => {
        const user = await directory.findUser('mail', fx.engineer.mail);
        expect(user).toMatchObject({
          dn: fx.engineer.dn,
          sAMAccountName: fx.engineer.sAMAccountName,
          mail: fx.engineer.mail,
          userPrincipalName: fx.engineer.userPrincipalName,
          enabled: true,
        });
        expect(user).not.toHaveProperty('password');
      });

      it('finds the engineer by userPrincipalName', async () => {
        const user = await directory.findUser('userPrincipalName', fx.engineer.userPrincipalName);
        expect(user).toMatchObject({ dn: fx.engineer.dn, enabled: true });
      });

      it.each(ATTRIBUTES)('compares %s case-insensitively, as AD does', async (attribute) => {
        const value = fx.engineer[attribute];
        for (const variant of [value.toUpperCase(), value.toLowerCase(), alternateCase(value)]) {
          expect(await directory.findUser(attribute, variant), variant).toMatchObject({
            dn: fx.engineer.dn,
          });
        }
      });

      it.each(ATTRIBUTES)('finds the disabled account by %s, with enabled: false', async (attribute) => {
        const user = await directory.findUser(attribute, fx.disabled[attribute]);
        expect(user).toMatchObject({ dn: fx.disabled.dn, enabled: false });
      });

      it.each(ATTRIBUTES)('answers undefined for an unknown %s', async (attribute) => {
        const domain = fx.engineer[attribute].split('@')[1] ?? 'example.test';
        expect(await directory.findUser(attribute, `nobody-here@${domain}`)).toBeUndefined();
      });

      it('refuses to pick one of two accounts sharing a mail', async () => {
        const lookup = directory.findUser('mail', fx.sharedMail);
        await expect(lookup).rejects.toBeInstanceOf(AmbiguousUserError);
        await expect(lookup).rejects.toMatchObject({ attribute: 'mail', matches: 2 });
        // Case does not split them apart either.
        await expect(directory.findUser('mail', fx.sharedMail.toUpperCase())).rejects.toBeInstanceOf(
          AmbiguousUserError,
        );
      });

      it.each(ATTRIBUTES)('matches nobody and raises nothing for hostile %s values', async (attribute) => {
        const cases: [string, string][] = [
          ...hostileValues(fx.engineer[attribute]),
          // Must not reach the two shared-mail accounts either, not even as an ambiguity.
          ['a prefix wildcard on the shared mail', `${fx.sharedMail.split('@')[0] ?? ''}*`],
        ];
        for (const [label, value] of cases) {
          await expect(directory.findUser(attribute, value), label).resolves.toBeUndefined();
        }
      });
    });

    describe('firstGroupOf', () => {
      it('finds a direct membership', async () => {
        expect(await directory.firstGroupOf(fx.engineer.dn, [fx.groups.direct])).toBe(fx.groups.direct);
      });

      it('finds a membership reached only through a nested group', async () => {
        expect(await directory.firstGroupOf(fx.approver.dn, [fx.groups.nested])).toBe(fx.groups.nested);
        expect(await directory.firstGroupOf(fx.approver.dn, [fx.groups.intermediate])).toBe(
          fx.groups.intermediate,
        );
      });

      it('does not infer membership upwards: a group inside my group is not mine', async () => {
        expect(await directory.firstGroupOf(fx.approver.dn, [fx.groups.unrelated])).toBeUndefined();
      });

      it('answers undefined for a user in no group', async () => {
        const all = Object.values(fx.groups);
        expect(await directory.firstGroupOf(fx.noGroups.dn, all)).toBeUndefined();
        expect(await directory.firstGroupOf(fx.engineer.dn, [fx.groups.nested])).toBeUndefined();
      });

      it('answers undefined for an empty list', async () => {
        expect(await directory.firstGroupOf(fx.engineer.dn, [])).toBeUndefined();
      });

      it('returns the first group of the list the user is in, in the order given', async () => {
        const { direct, nested, intermediate, unrelated } = fx.groups;
        expect(await directory.firstGroupOf(fx.approver.dn, [direct, unrelated, nested, intermediate])).toBe(
          nested,
        );
        expect(await directory.firstGroupOf(fx.approver.dn, [intermediate, nested])).toBe(intermediate);
        expect(await directory.firstGroupOf(fx.approver.dn, [nested, intermediate])).toBe(nested);
        expect(await directory.firstGroupOf(fx.engineer.dn, [nested, unrelated, direct])).toBe(direct);
      });

      it('lets no injected group DN widen membership', async () => {
        const { direct, nested } = fx.groups;
        const hostile = [
          '*',
          '',
          ' ',
          '\u0000',
          `${direct})(|(objectClass=*`,
          `${nested})(memberOf=*`,
          `${nested}*`,
          `*${nested}`,
          '(memberOf=*)',
          `${nested}\u0000`,
          'x'.repeat(10_000),
        ];
        expect(await directory.firstGroupOf(fx.noGroups.dn, hostile)).toBeUndefined();
        expect(await directory.firstGroupOf(fx.engineer.dn, hostile)).toBeUndefined();
        // A hostile entry in the list does not stop the real groups after it from being found.
        expect(await directory.firstGroupOf(fx.engineer.dn, [...hostile, direct])).toBe(direct);
      });

      it('grants nothing to a user DN that is empty, a wildcard, unknown or not a person', async () => {
        const all = Object.values(fx.groups);
        const parent = fx.engineer.dn.slice(fx.engineer.dn.indexOf(',') + 1);
        for (const userDn of [
          '',
          ' ',
          '*',
          `CN=Nobody Here,${parent}`,
          `${fx.engineer.dn})(memberOf=*`,
          fx.groups.intermediate,
          'x'.repeat(10_000),
        ]) {
          await expect(
            directory.firstGroupOf(userDn, all),
            JSON.stringify(userDn.slice(0, 80)),
          ).resolves.toBe(undefined);
        }
      });
    });
  });
}

function alternateCase(text: string): string {
  return [...text].map((char, index) => (index % 2 === 0 ? char.toUpperCase() : char.toLowerCase())).join('');
}
