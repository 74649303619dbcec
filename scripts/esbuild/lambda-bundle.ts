import { join } from 'node:path';
import { build } from 'esbuild';
import { COMMON_BUILD_OPTIONS } from './options.js';
import { trimLambdaDeps } from './trim-lambda-deps.js';

const root = join(import.meta.dirname, '../..');

/**
 * One Lambda's bundle, `<outdir>/index.js` (and its source map), with the catalog built in: what
 * `npm run build` writes to dist/lambdas/<name>/ and what `cdk synth` packs as the function's code.
 */
export async function bundleLambda(name: string, outdir: string, catalogJson: string): Promise<void> {
  await build({
    ...COMMON_BUILD_OPTIONS,
    entryPoints: [join(root, 'lambdas', name, 'handler.ts')],
    outfile: join(outdir, 'index.js'),
    define: { __JIT_ACCESS_CATALOG__: catalogJson, 'process.env.JIT_ACCESS_BUNDLED': '"true"' },
    plugins: [trimLambdaDeps],
    metafile: true,
  });
}
