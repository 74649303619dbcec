import { type Catalog, catalogSchema } from './catalog-schema.js';

// Replaced by esbuild with the catalog's YAML content as JSON, validated at build time.
declare const __JIT_ACCESS_CATALOG__: unknown;

/**
 * The catalog a Lambda runs with: the file named by JIT_ACCESS_CONFIG when set (local stack,
 * tests), else the one bundled at build. The YAML parser is loaded only for the file case, and esbuild drops it from Lambda bundles, where
 * `process.env.JIT_ACCESS_BUNDLED` is replaced by the constant "true".
 */
export async function loadRuntimeCatalog(path: string | undefined): Promise<Catalog> {
  if (path) {
    if (process.env.JIT_ACCESS_BUNDLED === 'true') {
      throw new Error(
        'JIT_ACCESS_CONFIG is for local runs; a deployed Lambda uses the catalog bundled at build',
      );
    } else {
      const { loadCatalogFile } = await import('./load-catalog.js');
      return loadCatalogFile(path);
    }
  }
  if (typeof __JIT_ACCESS_CATALOG__ === 'undefined') {
    throw new Error('no catalog: set JIT_ACCESS_CONFIG to the catalog file, or build with one bundled');
  }
  return catalogSchema.parse(__JIT_ACCESS_CATALOG__);
}
