/*
 * tsx scripts/bundle-lambda.ts <name> <outdir> <catalog.yaml> — one Lambda's bundle, as
 * `npm run build` makes it, for `cdk synth` (lib/lambda-code.ts runs this: the stack deploys the
 * same bundle the build measures, with the local esbuild and no Docker).
 */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadCatalogFile } from '../shared/config/load-catalog.js';
import { bundleLambda } from './esbuild/lambda-bundle.js';

const [name, outdir, catalogPath] = process.argv.slice(2);
if (!name || !outdir || !catalogPath) {
  console.error('usage: tsx scripts/bundle-lambda.ts <lambda> <outdir> <catalog.yaml>');
  process.exit(2);
}
loadCatalogFile(catalogPath);
await bundleLambda(name, outdir, JSON.stringify(parse(readFileSync(catalogPath, 'utf8'))));
