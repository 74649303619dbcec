import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CatalogFileError } from './load-catalog.js';

export interface ChosenCatalog {
  readonly path: string;
  /** 'named': the caller named it; 'default': ./jit-access.config.yaml; 'example': nothing else. */
  readonly source: 'named' | 'default' | 'example';
}

/** How the caller named a catalog, to say it back when the file is not there. */
export interface NamedCatalog {
  readonly path: string;
  /** e.g. "JIT_ACCESS_CONFIG" or "-c catalog=…". */
  readonly via: string;
}

export const HOW_TO_NAME_A_CATALOG =
  'name yours with JIT_ACCESS_CONFIG=path/to/jit-access.config.yaml (npm run build, cdk synth) or -c catalog=path/to/jit-access.config.yaml (cdk synth, cdk deploy)';

/**
 * The catalog `npm run build` bundles and `cdk synth` deploys, chosen the same way by both: the
 * one named (which must exist: a typo never ships another catalog), else ./jit-access.config.yaml,
 * else the example, so a fresh clone builds; the caller says loudly when it is the example.
 */
export function chooseCatalog(root: string, named: NamedCatalog | undefined): ChosenCatalog {
  if (named) {
    if (!existsSync(named.path)) {
      throw new CatalogFileError(
        `the catalog named by ${named.via} does not exist: ${named.path}. Check the path; nothing else is used in its place.`,
      );
    }
    return { path: named.path, source: 'named' };
  }
  const local = join(root, 'jit-access.config.yaml');
  if (existsSync(local)) return { path: local, source: 'default' };
  return { path: join(root, 'examples', 'jit-access.config.yaml'), source: 'example' };
}

/** The warning printed whenever the example catalog is chosen. */
export function exampleCatalogWarning(what: string): string {
  return `WARNING: no catalog was named and ./jit-access.config.yaml does not exist, so ${what} uses the EXAMPLE catalog (examples/jit-access.config.yaml). Do not deploy it: ${HOW_TO_NAME_A_CATALOG}.`;
}
