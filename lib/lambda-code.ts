import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { AssetHashType, DockerImage } from 'aws-cdk-lib';
import { Code } from 'aws-cdk-lib/aws-lambda';

const root = join(import.meta.dirname, '..');

/**
 * A Lambda's code as `npm run build` bundles it (scripts/esbuild/lambda-bundle.ts: the same
 * options, the same trimming plugin, the catalog built in), made by the local esbuild at synth
 * time. Not NodejsFunction: it cannot take esbuild plugins, and without the trim the ack Lambda's
 * cold start would not fit Slack's 3 seconds. Never Docker: the image below is never pulled.
 */
export function lambdaCode(name: string, catalogPath: string): Code {
  return Code.fromAsset(join(root, 'lambdas', name), {
    // Hashed on the bundle, not on lambdas/<name>: a change in shared/ or the catalog redeploys.
    assetHashType: AssetHashType.OUTPUT,
    bundling: {
      image: DockerImage.fromRegistry('jit-access/local-bundling-only'),
      local: {
        tryBundle(outputDir: string): boolean {
          const result = spawnSync(
            process.execPath,
            ['--import', 'tsx', join(root, 'scripts/bundle-lambda.ts'), name, outputDir, catalogPath],
            { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] },
          );
          if (result.status !== 0)
            throw new Error(`bundling the ${name} Lambda failed (exit ${result.status})`);
          return true;
        },
      },
    },
  });
}
