import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { chooseCatalog } from '../../../shared/config/catalog-choice.js';
import { CatalogFileError } from '../../../shared/config/load-catalog.js';

const roots: string[] = [];
afterAll(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A checkout with the example, and optionally a local catalog and a named one. */
function checkout(files: { local?: boolean; named?: boolean } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'jit-choice-'));
  roots.push(root);
  mkdirSync(join(root, 'examples'));
  writeFileSync(join(root, 'examples', 'jit-access.config.yaml'), 'version: 1\n');
  if (files.local) writeFileSync(join(root, 'jit-access.config.yaml'), 'version: 1\n');
  if (files.named) writeFileSync(join(root, 'mine.yaml'), 'version: 1\n');
  return root;
}

describe('chooseCatalog', () => {
  it('takes the named catalog, whatever else exists', () => {
    const root = checkout({ local: true, named: true });
    expect(chooseCatalog(root, { path: join(root, 'mine.yaml'), via: 'JIT_ACCESS_CONFIG' })).toEqual({
      path: join(root, 'mine.yaml'),
      source: 'named',
    });
  });

  it.each([
    ['JIT_ACCESS_CONFIG', { local: true }],
    ['-c catalog=mine.yaml', {}],
  ])('refuses a named catalog that does not exist (%s), never falling back', (via, files) => {
    const root = checkout(files);
    const choose = () => chooseCatalog(root, { path: join(root, 'mine.yaml'), via });
    expect(choose).toThrow(CatalogFileError);
    expect(choose).toThrow(`the catalog named by ${via} does not exist: ${join(root, 'mine.yaml')}`);
  });

  it('takes ./jit-access.config.yaml when nothing is named', () => {
    const root = checkout({ local: true });
    expect(chooseCatalog(root, undefined)).toEqual({
      path: join(root, 'jit-access.config.yaml'),
      source: 'default',
    });
  });

  it('falls back to the example only when nothing is named and there is no local catalog', () => {
    const root = checkout();
    expect(chooseCatalog(root, undefined)).toEqual({
      path: join(root, 'examples', 'jit-access.config.yaml'),
      source: 'example',
    });
  });
});
