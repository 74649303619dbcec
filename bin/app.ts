import { join, resolve } from 'node:path';
import { App } from 'aws-cdk-lib';
import { JitAccessStack } from '../lib/jit-access-stack.js';
import {
  chooseCatalog,
  exampleCatalogWarning,
  HOW_TO_NAME_A_CATALOG,
} from '../shared/config/catalog-choice.js';
import {
  CatalogError,
  CatalogValidationError,
  formatProblem,
  loadCatalogFile,
} from '../shared/config/load-catalog.js';

// `cdk synth` refuses an invalid catalog with the same messages as `jit-access validate-config`,
// so a broken catalog can never be deployed.
// The catalog is chosen as `npm run build` chooses it: named (-c catalog=… or JIT_ACCESS_CONFIG),
// else ./jit-access.config.yaml, else the example with a loud warning.
const app = new App();
const root = join(import.meta.dirname, '..');
const context: unknown = app.node.tryGetContext('catalog');
const named =
  typeof context === 'string' && context !== ''
    ? { path: resolve(context), via: `-c catalog=${context}` }
    : process.env.JIT_ACCESS_CONFIG
      ? { path: resolve(process.env.JIT_ACCESS_CONFIG), via: 'JIT_ACCESS_CONFIG' }
      : undefined;
let catalogPath = named?.path ?? 'jit-access.config.yaml';
try {
  const chosen = chooseCatalog(root, named);
  catalogPath = chosen.path;
  if (chosen.source === 'example')
    process.stderr.write(`jit-access: ${exampleCatalogWarning('cdk synth')}\n`);
  new JitAccessStack(app, 'JitAccess', { catalog: loadCatalogFile(catalogPath) });
} catch (error) {
  if (!(error instanceof CatalogError)) throw error;
  const lines = error instanceof CatalogValidationError ? error.problems.map(formatProblem) : [error.message];
  process.stderr.write(
    `jit-access: cannot synthesize with catalog ${catalogPath}:\n${lines.join('\n')}\n(${HOW_TO_NAME_A_CATALOG})\n`,
  );
  process.exit(1);
}
