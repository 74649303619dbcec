import { App } from 'aws-cdk-lib';
import { JitAccessStack } from '../lib/jit-access-stack.js';
import {
  CatalogError,
  CatalogValidationError,
  formatProblem,
  loadCatalogFile,
} from '../shared/config/load-catalog.js';

// `cdk synth` refuses an invalid catalog with the same messages as `jit-access validate-config`,
// so a broken catalog can never be deployed.
const app = new App();
const catalogPath = String(app.node.tryGetContext('catalog') ?? 'jit-access.config.yaml');
try {
  new JitAccessStack(app, 'JitAccess', { catalog: loadCatalogFile(catalogPath) });
} catch (error) {
  if (!(error instanceof CatalogError)) throw error;
  const lines = error instanceof CatalogValidationError ? error.problems.map(formatProblem) : [error.message];
  process.stderr.write(`jit-access: cannot synthesize with catalog ${catalogPath}:\n${lines.join('\n')}\n`);
  process.exit(1);
}
