#!/usr/bin/env node
// Entry point of the `jit-access` command. In a checkout (tsx installed) it runs the TypeScript
// sources, so it is never stale; where only the build exists, it runs dist/cli/index.cjs.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

let tsImport;
try {
  ({ tsImport } = await import('tsx/esm/api'));
} catch {
  tsImport = undefined;
}

if (tsImport) {
  await tsImport('./cli-main.ts', import.meta.url);
} else if (existsSync(join(root, 'dist/cli/index.cjs'))) {
  require(join(root, 'dist/cli/index.cjs'));
} else {
  process.stderr.write('jit-access: not built; run `npm ci && npm run build` first\n');
  process.exitCode = 2;
}
