import { describe, expect, it } from 'vitest';
import { normalizeDn } from '../../../shared/domain/dn.js';
import { findLevel } from '../../../shared/domain/eligibility.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();
const READERS = 'CN=eng-db-readers,OU=Groups,DC=example,DC=com';

describe('normalizeDn', () => {
  it.each([
    ['cn=ENG-DB-READERS, ou=groups, dc=EXAMPLE, dc=com', READERS],
    ['CN = eng-db-readers ,OU=Groups,DC=example,DC=com', READERS],
  ])('compares %j equal to the catalog DN, as the directory may spell it', (spelled, catalogDn) => {
    expect(normalizeDn(spelled)).toBe(normalizeDn(catalogDn));
  });

  it('does not treat a group whose name merely contains another as the same group', () => {
    expect(normalizeDn('CN=eng-db-readers-old,OU=Groups,DC=example,DC=com')).not.toBe(normalizeDn(READERS));
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
