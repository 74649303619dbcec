import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { DeployConfigError, loadDeployConfig } from '../lib/deploy-config.js';
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

// `cdk synth` refuses an invalid deployment file or catalog with the line of each problem, so
// neither can be deployed broken. The deployment is the one named (-c deploy=… or
// JIT_ACCESS_DEPLOY), else ./jit-access.deploy.yaml, else the example (said in one line). The
// catalog is -c catalog=… or JIT_ACCESS_CONFIG, else the deployment's, else as `npm run build`
// chooses it.
const app = new App();
const root = join(import.meta.dirname, '..');
const contextValue = (key: string): string | undefined => {
  const value: unknown = app.node.tryGetContext(key);
  return typeof value === 'string' && value !== '' ? value : undefined;
};

function deploymentPath(): string {
  const named = contextValue('deploy') ?? process.env.JIT_ACCESS_DEPLOY;
  if (named) return resolve(named);
  if (existsSync(join(root, 'jit-access.deploy.yaml'))) return join(root, 'jit-access.deploy.yaml');
  process.stderr.write(
    'jit-access: synthesizing the example deployment (examples/jit-access.deploy.yaml: placeholder VPC and endpoints); a real one names its own with -c deploy=path/to/jit-access.deploy.yaml\n',
  );
  return join(root, 'examples', 'jit-access.deploy.yaml');
}

let catalogPath = 'jit-access.config.yaml';
try {
  const deployment = loadDeployConfig(deploymentPath());
  const catalogContext = contextValue('catalog');
  const named = catalogContext
    ? { path: resolve(catalogContext), via: `-c catalog=${catalogContext}` }
    : process.env.JIT_ACCESS_CONFIG
      ? { path: resolve(process.env.JIT_ACCESS_CONFIG), via: 'JIT_ACCESS_CONFIG' }
      : deployment.catalog
        ? { path: resolve(deployment.directory, deployment.catalog), via: 'the deployment file' }
        : undefined;
  catalogPath = named?.path ?? catalogPath;
  const chosen = chooseCatalog(root, named);
  catalogPath = chosen.path;
  if (chosen.source === 'example')
    process.stderr.write(`jit-access: ${exampleCatalogWarning('cdk synth')}\n`);
  new JitAccessStack(app, 'JitAccess', {
    catalog: loadCatalogFile(catalogPath),
    catalogPath,
    deployment,
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
} catch (error) {
  if (error instanceof DeployConfigError) {
    process.stderr.write(`jit-access: cannot synthesize: ${error.message}\n`);
    process.exit(1);
  }
  if (!(error instanceof CatalogError)) throw error;
  const lines = error instanceof CatalogValidationError ? error.problems.map(formatProblem) : [error.message];
  process.stderr.write(
    `jit-access: cannot synthesize with catalog ${catalogPath}:\n${lines.join('\n')}\n(${HOW_TO_NAME_A_CATALOG})\n`,
  );
  process.exit(1);
}
