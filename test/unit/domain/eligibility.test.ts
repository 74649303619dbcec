import { describe, expect, it } from 'vitest';
import {
  approverGroupFor,
  evaluateEligibility,
  findLevel,
  GroupMembership,
  requesterGroupFor,
} from '../../../shared/domain/eligibility.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();
const READERS = 'CN=eng-db-readers,OU=Groups,DC=example,DC=com';
const ONCALL = 'CN=eng-oncall,OU=Groups,DC=example,DC=com';
const APPROVERS = 'CN=db-approvers,OU=Groups,DC=example,DC=com';
const ENGINEERING = 'CN=engineering,OU=Groups,DC=example,DC=com';

const refs = (levels: readonly { database: string; level: string }[]) =>
  levels.map((l) => `${l.database}/${l.level}`);

describe('evaluateEligibility', () => {
  it.each([
    ['no groups', [], [], []],
    ['a reader', [READERS], ['orders/read'], []],
    ['an on-call engineer', [ONCALL, ENGINEERING], ['orders/write', 'billing-staging/read'], []],
    [
      'an approver',
      [APPROVERS],
      [],
      ['orders/read', 'orders/write', 'billing-staging/read', 'billing-staging/admin'],
    ],
    ['a group the catalog does not name', ['CN=marketing,OU=Groups,DC=example,DC=com'], [], []],
  ])('%s may request %j and approve %j', (_who, groups, requestable, approvable) => {
    const result = evaluateEligibility(catalog, new GroupMembership(groups as string[]));
    expect(refs(result.requestable)).toEqual(requestable);
    expect(refs(result.approvable)).toEqual(approvable);
  });

  it('matches DNs whatever their case and spacing, as the directory returns them', () => {
    const membership = new GroupMembership(['cn=ENG-DB-READERS, ou=groups, dc=EXAMPLE, dc=com']);
    const result = evaluateEligibility(catalog, membership);
    expect(result.requestable).toEqual([{ database: 'orders', level: 'read', viaGroup: READERS }]);
  });

  it('does not treat a group whose name merely contains another as the same group', () => {
    const membership = new GroupMembership(['CN=eng-db-readers-old,OU=Groups,DC=example,DC=com']);
    expect(evaluateEligibility(catalog, membership).requestable).toEqual([]);
  });

  it('names the catalog group that grants each level', () => {
    const level = findLevel(catalog, { database: 'orders', level: 'read' });
    if (!level) throw new Error('fixture level missing');
    expect(requesterGroupFor(level, new GroupMembership([READERS]))).toBe(READERS);
    expect(approverGroupFor(level, new GroupMembership([READERS]))).toBeUndefined();
    expect(approverGroupFor(level, new GroupMembership([APPROVERS]))).toBe(APPROVERS);
  });
});

describe('findLevel', () => {
  it.each([
    ['orders', 'read', true],
    ['orders', 'admin', false],
    ['nope', 'read', false],
    ['orders', '__proto__', false],
    ['constructor', 'read', false],
  ])('%s/%s exists: %s', (database, level, exists) => {
    expect(findLevel(catalog, { database, level }) !== undefined).toBe(exists);
  });
});
