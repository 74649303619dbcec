import { dirname, resolve } from 'node:path';
import type { Plugin } from 'esbuild';

/**
 * Leaves out of the Lambda bundles the code they can never run, so the ack Lambda starts fast
 * (it must answer Slack within 3 s, cold starts included):
 * - Bolt's other receivers (Express, HTTP, Socket Mode) and what only they load: express,
 *   raw-body and iconv-lite, undici (through @slack/socket-mode), @slack/oauth. The ack Lambda
 *   uses AwsLambdaReceiver alone; Bolt's index requires the others eagerly for its exports.
 * - mime-types' 150 KB database: @slack/web-api loads it through form-data for file uploads,
 *   which jit-access never does.
 * - zod's translations of error messages: jit-access writes its own messages in English.
 * Each stub is small and throws if anything calls into it, so a wrong cut fails loudly in tests.
 */
const BOLT_RECEIVERS =
  /^\.\/receivers\/(ExpressReceiver|HTTPReceiver|SocketModeReceiver|HTTPModuleFunctions)$/;
const WHOLE_PACKAGES = /^(@slack\/socket-mode|@slack\/oauth|express|raw-body)$/;

const THROWING_STUB = `
const fail = (name) => { throw new Error(name + ' was left out of this bundle (scripts/esbuild/trim-lambda-deps.ts)'); };
module.exports = new Proxy({}, { get: (_t, name) => name === '__esModule' ? false : name === 'default' ? undefined : (typeof name === 'string' ? function stub() { return fail(name); } : undefined) });
`;

export const trimLambdaDeps: Plugin = {
  name: 'trim-lambda-deps',
  setup(build) {
    build.onResolve({ filter: BOLT_RECEIVERS }, (args) =>
      args.importer.includes('@slack/bolt') ? { path: args.path, namespace: 'jit-stub' } : undefined,
    );
    build.onResolve({ filter: WHOLE_PACKAGES }, (args) => ({ path: args.path, namespace: 'jit-stub' }));
    build.onResolve({ filter: /^mime-types$/ }, () => ({ path: 'mime-types', namespace: 'jit-mime' }));
    build.onResolve({ filter: /locales\/index\.js$/ }, (args) =>
      args.importer.includes('/zod/')
        ? {
            path: args.path,
            namespace: 'jit-zod-locales',
            pluginData: resolve(args.resolveDir, dirname(args.path)),
          }
        : undefined,
    );

    build.onLoad({ filter: /.*/, namespace: 'jit-stub' }, () => ({ contents: THROWING_STUB, loader: 'js' }));
    // form-data asks for a content type only when a file is attached; none ever is.
    build.onLoad({ filter: /.*/, namespace: 'jit-mime' }, () => ({
      contents:
        'module.exports = { lookup: () => false, contentType: () => false, extension: () => false, charset: () => false, types: {}, extensions: {} };',
      loader: 'js',
    }));
    build.onLoad({ filter: /.*/, namespace: 'jit-zod-locales' }, (args) => ({
      contents: `export { default as en } from './en.js';`,
      loader: 'js',
      resolveDir: args.pluginData as string,
    }));
  },
};
