/**
 * npm run bench:ack — how fast the ack Lambda answers Slack.
 *
 * - bundle size of dist/lambdas/ack/index.js;
 * - cold init: time to require() the built bundle in a fresh Node process (median of RUNS),
 *   side by side with a minimal Bolt AwsLambdaReceiver app built with the same esbuild options,
 *   alternating the two so machine noise hits both alike; also import + first answered request;
 * - warm latency: p50/p99 over 1,000 signed slash commands through the handler, each publishing
 *   to the SNS emulator over HTTP with the real SNS client.
 * Writes bench/results/ack.json and prints a table. Not a test: numbers vary by machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SnsEmulator } from '../local/emulators/sns/sns-emulator.js';
import { slashCommand, toLambdaEvent } from '../local/slack/signed-request.js';
import { COMMON_BUILD_OPTIONS } from '../scripts/esbuild/options.js';
import { median, percentile, round } from './stats.js';

const root = join(import.meta.dirname, '..');
const RUNS = Number(process.env.BENCH_COLD_RUNS ?? 21);
const WARM_REQUESTS = Number(process.env.BENCH_WARM_REQUESTS ?? 1000);
const SIGNING_SECRET = 'bench-signing-secret-0123456789abcdef';
const TEAM = 'T0BENCH01';

const targets = { coldInitRatio: 0.5, bundleBytes: 800 * 1024, warmP99Ms: 5 };

// Runs in the fresh process: require the bundle, then answer one signed `help` command.
const PROBE = `
const t0 = process.hrtime.bigint();
const { handler } = require(process.env.PROBE_BUNDLE);
const t1 = process.hrtime.bigint();
handler(JSON.parse(process.env.PROBE_EVENT), {}).then((r) => {
  const t2 = process.hrtime.bigint();
  process.stdout.write('\\nPROBE ' + JSON.stringify({ importMs: Number(t1 - t0) / 1e6, firstRequestMs: Number(t2 - t0) / 1e6, status: r.statusCode }));
});`;

interface ColdSample {
  importMs: number;
  firstRequestMs: number;
  status: number;
}

function probe(bundle: string, env: Record<string, string>): ColdSample {
  const event = toLambdaEvent(
    slashCommand({ text: 'help', userId: 'U0BENCH01', teamId: TEAM, channelId: 'C0BENCH01' }),
    {
      signingSecret: SIGNING_SECRET,
    },
  );
  const result = spawnSync(process.execPath, ['--no-warnings', '-e', PROBE], {
    env: { PATH: process.env.PATH, ...env, PROBE_BUNDLE: bundle, PROBE_EVENT: JSON.stringify(event) },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`probe of ${bundle} failed: ${result.stderr}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('PROBE '));
  if (!line) throw new Error(`probe of ${bundle} printed no result: ${result.stdout}`);
  const sample = JSON.parse(line.slice('PROBE '.length)) as ColdSample;
  if (sample.status !== 200) throw new Error(`probe of ${bundle} answered ${sample.status}`);
  return sample;
}

async function main(): Promise<void> {
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  const ackBundle = join(root, 'dist/lambdas/ack/index.js');
  const baselineDir = mkdtempSync(join(tmpdir(), 'jit-bench-'));
  const baselineBundle = join(baselineDir, 'index.js');
  writeFileSync(join(baselineDir, 'package.json'), '{ "type": "commonjs" }\n');
  await build({
    ...COMMON_BUILD_OPTIONS,
    entryPoints: [join(root, 'bench/baseline/minimal-bolt-app.ts')],
    outfile: baselineBundle,
  });

  const lambdaEnv = {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: 'xoxb-bench',
    ACCESS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:jit-bench',
    AWS_REGION: 'us-east-1',
  };
  const cold = { ack: [] as ColdSample[], baseline: [] as ColdSample[] };
  for (let i = 0; i < RUNS; i++) {
    cold.baseline.push(probe(baselineBundle, lambdaEnv));
    cold.ack.push(probe(ackBundle, lambdaEnv));
  }

  // Warm: the built bundle in this process, publishing to the SNS emulator with the real client.
  const sns = new SnsEmulator();
  await sns.start();
  const topicArn = sns.createTopic('jit-bench');
  Object.assign(process.env, {
    ...lambdaEnv,
    ACCESS_TOPIC_ARN: topicArn,
    AWS_ENDPOINT_URL_SNS: sns.url,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    POWERTOOLS_LOG_LEVEL: 'ERROR',
  });
  const { handler } = createRequire(import.meta.url)(ackBundle) as {
    handler: (event: unknown, context: unknown) => Promise<{ statusCode: number; body?: string }>;
  };
  const events = Array.from({ length: WARM_REQUESTS + 50 }, (_, i) =>
    toLambdaEvent(
      slashCommand({
        text: `orders read 1h INC-${i} checking stuck orders`,
        userId: 'U0BENCH01',
        teamId: TEAM,
        channelId: 'C0BENCH01',
      }),
      { signingSecret: SIGNING_SECRET, base64: true },
    ),
  );
  const latencies: number[] = [];
  for (const [i, event] of events.entries()) {
    const start = process.hrtime.bigint();
    const response = await handler(event, {});
    const elapsed = Number(process.hrtime.bigint() - start) / 1e6;
    if (response.statusCode !== 200 || !response.body?.includes('received')) {
      throw new Error(`request ${i} was not queued: ${response.statusCode} ${response.body}`);
    }
    if (i >= 50) latencies.push(elapsed); // the first 50 warm the JIT and the connection pool
  }
  const publishedCount = sns.publishedTo(topicArn).length;
  await sns.stop();
  if (publishedCount !== events.length)
    throw new Error(`expected ${events.length} publishes, saw ${publishedCount}`);

  const ackImport = median(cold.ack.map((s) => s.importMs));
  const baselineImport = median(cold.baseline.map((s) => s.importMs));
  const results = {
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: (await import('node:os')).cpus().length },
    bundleBytes: { ack: statSync(ackBundle).size, baseline: statSync(baselineBundle).size },
    coldInitMs: {
      runs: RUNS,
      ackImportMedian: round(ackImport),
      baselineImportMedian: round(baselineImport),
      ratio: round(ackImport / baselineImport),
      ackImportAndFirstRequestMedian: round(median(cold.ack.map((s) => s.firstRequestMs))),
      baselineImportAndFirstRequestMedian: round(median(cold.baseline.map((s) => s.firstRequestMs))),
    },
    warmLatencyMs: {
      requests: latencies.length,
      p50: round(percentile(latencies, 50)),
      p99: round(percentile(latencies, 99)),
      max: round(Math.max(...latencies)),
    },
    targets,
  };
  const pass = {
    coldInit: results.coldInitMs.ratio <= targets.coldInitRatio,
    bundle: results.bundleBytes.ack <= targets.bundleBytes,
    warmP99: results.warmLatencyMs.p99 <= targets.warmP99Ms,
  };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, 'bench/results/ack.json'), `${JSON.stringify({ ...results, pass }, null, 2)}\n`);

  const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
  console.table({
    'bundle size': {
      ack: kb(results.bundleBytes.ack),
      baseline: kb(results.bundleBytes.baseline),
      target: '≤ 800 KB',
      ok: pass.bundle,
    },
    'cold init (import, median)': {
      ack: `${results.coldInitMs.ackImportMedian} ms`,
      baseline: `${results.coldInitMs.baselineImportMedian} ms`,
      target: `≤ 0.5× baseline (${results.coldInitMs.ratio}×)`,
      ok: pass.coldInit,
    },
    'cold import + first request (median)': {
      ack: `${results.coldInitMs.ackImportAndFirstRequestMedian} ms`,
      baseline: `${results.coldInitMs.baselineImportAndFirstRequestMedian} ms`,
      target: '(reported)',
      ok: '',
    },
    'warm p50': { ack: `${results.warmLatencyMs.p50} ms`, baseline: '', target: '', ok: '' },
    'warm p99': { ack: `${results.warmLatencyMs.p99} ms`, baseline: '', target: '≤ 5 ms', ok: pass.warmP99 },
  });
  console.log('written to bench/results/ack.json');
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
