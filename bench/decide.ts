/**
 * npm run bench:decide — what a decision costs, from the webhook's door to the request APPROVED.
 *
 * - jira-webhook bundle: size of dist/lambdas/jira-webhook/index.js, and cold init: time to
 *   require() it in a fresh Node process (median of COLD_RUNS), plus import + one refused webhook;
 * - jira-webhook warm refusals, in process: p50/p99 over 1,000 forged webhooks (wrong signature,
 *   401) and 1,000 ignored ones (a correctly signed comment event, 204 after parsing, no Jira call);
 * - decisions end to end on the local stack (local/stack.ts, as test/integration/worker-decide.test.ts
 *   runs them): the Slack, Jira and SNS emulators, dynalite and the real Samba AD; from a signed
 *   Slack Approve click through the ack Lambda, or from a Jira move through the signed webhook and the jira-webhook
 *   Lambda, until the worker has the request APPROVED with every effect done (ticket moved and
 *   commented, approvers' message updated, requester DM'd) and, as the worker goes straight on to
 *   the grant, GRANTED with the token DM'd (bench:grant measures the grant on its own).
 *   p50/p95 over E2E_REQUESTS each.
 * Writes bench/results/decide.json and prints a table. Not a test: numbers vary by machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { startActiveDirectory } from '../local/active-directory.js';
import { startMariaDb } from '../local/mariadb.js';
import { EMULATED_JIRA_OPERATIONS } from '../local/emulators/jira/jira-emulator.js';
import { jiraWebhookEvent } from '../local/function-url.js';
import { type LocalStack, startLocalStack } from '../local/stack.js';
import { blockActions, toLambdaEvent } from '../local/slack/signed-request.js';
import { jiraWebhookSignature } from '../shared/adapters/jira/webhook-verification.js';
import type { EventPublisher } from '../shared/ports/event-publisher.js';
import { openSlotKeyOf } from '../shared/use-cases/submit-request.js';
import {
  APPROVERS,
  decisionPeople,
  decisionStack,
  submittedBy,
  TEAM,
} from '../test/fixtures/decision-stack.js';
import { LAMBDA_TEST_ENV } from '../test/fixtures/lambda-env.js';
import { median, msSince, percentile, round, summary } from './stats.js';

const root = join(import.meta.dirname, '..');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const WARM_REQUESTS = Number(process.env.BENCH_WARM_REQUESTS ?? 1000);
const WARM_DISCARDED = 50; // as bench/ack.ts: the first 50 warm the JIT
const E2E_REQUESTS = Number(process.env.BENCH_E2E_REQUESTS ?? 50);
const E2E_WARMUP = 3; // per path, reported apart: the first decisions open LDAP, HTTP and DynamoDB connections

// Lambdas log at ERROR here, as bench/ack.ts runs them (POWERTOOLS_LOG_LEVEL=ERROR).
const LOG_LEVEL = 'ERROR';

const webhookEvent = (body: string, headers: Record<string, string>) => jiraWebhookEvent(body, headers);

const forgedHeaders = () => ({
  'x-hub-signature': `sha256=${'0f'.repeat(32)}`,
  'x-atlassian-webhook-identifier': randomUUID(),
});

// ---- 1. bundle and cold init -----------------------------------------------------------------

// Runs in the fresh process: require the bundle, then answer one forged webhook (401, no network).
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

function probe(bundle: string): ColdSample {
  const event = webhookEvent(
    JSON.stringify({ webhookEvent: 'jira:issue_updated', timestamp: Date.now() }),
    forgedHeaders(),
  );
  const result = spawnSync(process.execPath, ['--no-warnings', '-e', PROBE], {
    env: {
      PATH: process.env.PATH,
      ...LAMBDA_TEST_ENV['jira-webhook'],
      PROBE_BUNDLE: bundle,
      PROBE_EVENT: JSON.stringify(event),
    },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`probe of ${bundle} failed: ${result.stderr}`);
  const line = result.stdout.split('\n').find((l) => l.startsWith('PROBE '));
  if (!line) throw new Error(`probe of ${bundle} printed no result: ${result.stdout}`);
  const sample = JSON.parse(line.slice('PROBE '.length)) as ColdSample;
  if (sample.status !== 401) throw new Error(`probe of ${bundle} answered ${sample.status}, not 401`);
  return sample;
}

// ---- 3. the decision path, on the local stack -------------------------------------------------

const quietLogger = (service: string) => new Logger({ serviceName: service, logLevel: LOG_LEVEL });

interface DecisionSample {
  /** Click or move → the request APPROVED with every effect done. */
  totalMs: number;
  /** Click → the ack Lambda's 200, or move → the jira-webhook Lambda's 202 to Jira. */
  acknowledgedMs: number;
}

async function main(): Promise<void> {
  const benchStart = process.hrtime.bigint();

  // 1. Bundle and cold init.
  execFileSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  const bundle = join(root, 'dist/lambdas/jira-webhook/index.js');
  const cold: ColdSample[] = [];
  for (let i = 0; i < COLD_RUNS; i++) cold.push(probe(bundle));
  process.stdout.write(`cold init: ${COLD_RUNS} fresh processes measured\n`);

  // The stack: Samba AD (started here, to time it), then dynalite, the emulators, the three Lambdas.
  const adStart = process.hrtime.bigint();
  const [adHandle, dbHandle] = await Promise.all([startActiveDirectory(), startMariaDb()]);
  const adStartMs = msSince(adStart);
  const ad = adHandle.connection;
  process.stdout.write(`Samba AD up in ${(adStartMs / 1000).toFixed(1)} s\n`);

  // Only these three act in the bench: alice requests, bob approves in Slack, frank in Jira.
  const PEOPLE = decisionPeople(ad);
  // Real time: each request, click and ticket gets its own timestamp, as in production.
  const clock = { now: () => new Date() };
  let stack: LocalStack | undefined;

  try {
    // The SNS emulator: the ack and jira-webhook Lambdas publish through their SNS client over HTTP.
    // Each Lambda is built once and kept: warm containers, as under steady traffic.
    stack = await startLocalStack({
      ...decisionStack(ad, ['alice', 'bob', 'frank']),
      database: dbHandle.connection,
      clock,
      topic: 'sns',
      logger: quietLogger,
      redeliverOnError: 0,
    });
    const { slack, jira, topic } = stack;
    const store = stack.store();
    const ack = stack.ack;

    /** Lets every webhook, topic message and the ticket moves they cause play out. */
    const settle = async () => {
      await stack!.settle();
      if (topic.failedAttempts().length > 0) {
        throw new Error(`worker failed: ${JSON.stringify(topic.failedAttempts().map(String))}`);
      }
    };

    const approversMessage = (requestId: string) =>
      slack.messagesIn(APPROVERS).find((m) => !m.ephemeral && m.text.includes(requestId));

    /** A request from alice, verified and waiting for approval, with its ticket and approvers message. */
    const pendingRequest = async (): Promise<{ requestId: string; ticket: string }> => {
      const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clock.now());
      await topic.publish(command);
      await settle();
      const request = await store.get(command.requestId);
      if (request?.state !== 'PENDING_APPROVAL' || !request.ticket || !approversMessage(request.requestId)) {
        throw new Error(`${command.requestId} is not pending with a ticket: ${JSON.stringify(request)}`);
      }
      return { requestId: command.requestId, ticket: request.ticket.key };
    };

    /** Everything APPROVED means, checked from the outside after the clock stopped. */
    const expectApproved = async (requestId: string, ticket: string, channel: 'slack' | 'jira') => {
      const request = await store.get(requestId);
      const problems = [
        // The worker goes on to the grant in the same invocation: approved means granted here.
        request?.state === 'GRANTED' || `state ${request?.state}`,
        request?.decision?.channel === channel || `decided in ${request?.decision?.channel}`,
        (request?.effects?.ticket && request.effects.approversMessage && request.effects.requester) ||
          `effects ${JSON.stringify(request?.effects)}`,
        jira.issue(ticket)?.status === 'Access Granted' || `ticket in ${jira.issue(ticket)?.status}`,
        !JSON.stringify(approversMessage(requestId)?.blocks).includes('request.approve') ||
          'approvers message still has buttons',
        slack
          .messagesIn(PEOPLE.alice.slackId)
          .some((m) => !m.ephemeral && m.text === `Request ${requestId} was approved.`) || 'no DM to alice',
      ].filter((p) => p !== true);
      if (problems.length > 0) throw new Error(`${requestId} (${channel}): ${problems.join('; ')}`);
      // The grant holds alice's one open slot for orders/read until it ends: free it (untimed) so
      // the next request can open.
      await store.releaseOpenSlot(openSlotKeyOf(request!), requestId);
    };

    const decideInSlack = async (requestId: string, ticket: string): Promise<DecisionSample> => {
      // What Slack sends is built and signed before the clock starts: that is Slack's time.
      const event = toLambdaEvent(
        blockActions({
          actions: [
            {
              action_id: 'request.approve',
              value: requestId,
              type: 'button',
              action_ts: `${Date.now() / 1000}`,
            },
          ],
          userId: PEOPLE.bob.slackId,
          userName: 'bob',
          teamId: TEAM,
          channel: { id: APPROVERS },
          message: { ts: approversMessage(requestId)?.ts ?? '1.1' },
          responseUrl: slack.newResponseUrl(),
        }),
        { signingSecret: stack!.signingSecret },
      );
      const start = process.hrtime.bigint();
      const reply = await ack(event, {});
      const acknowledgedMs = msSince(start);
      await topic.drain();
      const totalMs = msSince(start);
      if (reply.statusCode !== 200) throw new Error(`ack answered ${reply.statusCode} to the click`);
      await expectApproved(requestId, ticket, 'slack');
      return { totalMs, acknowledgedMs };
    };

    const decideInJira = async (requestId: string, ticket: string): Promise<DecisionSample> => {
      const before = jira.webhookDeliveries().length;
      const start = process.hrtime.bigint();
      jira.transitionAs(ticket, PEOPLE.frank.jiraId, 'Approve');
      await jira.deliverWebhooks();
      const acknowledgedMs = msSince(start);
      await topic.drain();
      const totalMs = msSince(start);
      const statuses = jira
        .webhookDeliveries()
        .slice(before)
        .map((d) => d.status);
      if (statuses.join() !== '202') throw new Error(`the move's webhook was answered ${statuses.join()}`);
      await expectApproved(requestId, ticket, 'jira');
      return { totalMs, acknowledgedMs };
    };

    const e2e = { slack: [] as DecisionSample[], jira: [] as DecisionSample[] };
    const e2eWarmup = { slack: [] as DecisionSample[], jira: [] as DecisionSample[] };
    for (let i = 0; i < E2E_WARMUP + E2E_REQUESTS; i++) {
      // Alternate which path goes first, so drift over the run hits both alike.
      for (const path of i % 2 ? (['jira', 'slack'] as const) : (['slack', 'jira'] as const)) {
        const { requestId, ticket } = await pendingRequest();
        const sample = await (path === 'slack' ? decideInSlack : decideInJira)(requestId, ticket);
        (i < E2E_WARMUP ? e2eWarmup : e2e)[path].push(sample);
        await settle(); // the echoes of jit-access's own ticket move and comment, untimed
      }
      if ((i + 1) % 10 === 0) process.stdout.write(`e2e: ${i + 1}/${E2E_WARMUP + E2E_REQUESTS} pairs\n`);
    }

    // 2. Warm refusals. Real bodies, as this Jira sent them during the run above: frank's status
    // change (forged: a well-formed, wrong signature) and a person's comment (correctly signed).
    const { ticket: lastTicket } = await pendingRequest();
    jira.commentAs(lastTicket, PEOPLE.bob.jiraId, 'Looks fine to me, approving in a minute');
    await jira.deliverWebhooks();
    await settle();
    const deliveries = jira.webhookDeliveries();
    const approvalBody = deliveries.find(
      (d) => d.status === 202 && d.body.includes(PEOPLE.frank.jiraId) && d.body.includes('"changelog"'),
    )?.body;
    const commentDelivery = deliveries.at(-1);
    if (
      !approvalBody ||
      !commentDelivery?.body.includes('issue_commented') ||
      commentDelivery.status !== 204
    ) {
      throw new Error('did not capture an approval and a comment webhook body');
    }
    const commentBody = commentDelivery.body;

    let published = 0;
    const countingPublisher: EventPublisher = {
      publish: async () => {
        published++;
      },
    };
    // A warm jira-webhook container of the stack's, publishing to a counter instead of the topic.
    const inProcess = stack.jiraWebhookWith({ publisher: countingPublisher });
    const jiraCalls = () => EMULATED_JIRA_OPERATIONS.reduce((n, op) => n + jira.callsTo(op).length, 0);
    const callsBefore = jiraCalls();
    const commentSignature = jiraWebhookSignature(stack.webhookSecret, commentBody);
    const warmEvents = Array.from({ length: WARM_REQUESTS + WARM_DISCARDED }, () => ({
      forged: webhookEvent(approvalBody, forgedHeaders()),
      ignored: webhookEvent(commentBody, {
        'x-hub-signature': commentSignature,
        'x-atlassian-webhook-identifier': randomUUID(),
      }),
    }));
    const warm = { forged: [] as number[], ignored: [] as number[] };
    for (const [i, events] of warmEvents.entries()) {
      for (const kind of ['forged', 'ignored'] as const) {
        const start = process.hrtime.bigint();
        const reply = await inProcess(events[kind], {});
        const elapsed = msSince(start);
        const expected = kind === 'forged' ? 401 : 204;
        if (reply.statusCode !== expected)
          throw new Error(`${kind} webhook ${i} answered ${reply.statusCode}, not ${expected}`);
        if (i >= WARM_DISCARDED) warm[kind].push(elapsed);
      }
    }
    if (published !== 0 || jiraCalls() !== callsBefore) {
      throw new Error(
        `refusals queued ${published} commands and made ${jiraCalls() - callsBefore} Jira calls`,
      );
    }

    const e2eSummary = (samples: DecisionSample[], warmup: DecisionSample[]) => ({
      requests: samples.length,
      p50: round(
        percentile(
          samples.map((s) => s.totalMs),
          50,
        ),
      ),
      p95: round(
        percentile(
          samples.map((s) => s.totalMs),
          95,
        ),
      ),
      max: round(Math.max(...samples.map((s) => s.totalMs))),
      acknowledgedP50: round(
        percentile(
          samples.map((s) => s.acknowledgedMs),
          50,
        ),
      ),
      acknowledgedP95: round(
        percentile(
          samples.map((s) => s.acknowledgedMs),
          95,
        ),
      ),
      warmupExcluded: warmup.length,
      warmupTotalMs: warmup.map((s) => round(s.totalMs)),
    });
    const results = {
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpus: cpus().length },
      logLevel: LOG_LEVEL,
      bundleBytes: { jiraWebhook: statSync(bundle).size },
      coldInitMs: {
        runs: COLD_RUNS,
        importMedian: round(median(cold.map((s) => s.importMs))),
        importMin: round(Math.min(...cold.map((s) => s.importMs))),
        importMax: round(Math.max(...cold.map((s) => s.importMs))),
        importAndFirstRefusalMedian: round(median(cold.map((s) => s.firstRequestMs))),
      },
      warmRefusalsMs: {
        note: 'in-process handler, real JiraTicketTracker against the emulator, no-op publisher',
        discardedWarmup: WARM_DISCARDED,
        forged401: summary(warm.forged),
        ignoredComment204: summary(warm.ignored),
      },
      decisionE2eMs: {
        note:
          "Slack: signed block_actions → ack handler → SNS emulator → worker (dynalite, Samba AD over LDAPS, Jira and Slack emulators) until APPROVED with ticket, approvers message and DM done, then GRANTED (Vault emulator on MariaDB) with the token DM'd. " +
          'Jira: jira.transitionAs → signed webhook over HTTP to the jira-webhook handler → SNS → worker, same end. ' +
          'acknowledged = until the ack 200 / the webhook 202. All in one Node process.',
        slackApprove: e2eSummary(e2e.slack, e2eWarmup.slack),
        jiraMove: e2eSummary(e2e.jira, e2eWarmup.jira),
      },
      sambaAdStartMs: round(adStartMs),
      benchSeconds: 0,
    };
    results.benchSeconds = round(msSince(benchStart) / 1000);
    mkdirSync(join(root, 'bench/results'), { recursive: true });
    writeFileSync(join(root, 'bench/results/decide.json'), `${JSON.stringify(results, null, 2)}\n`);

    const ms = (n: number) => `${n} ms`;
    const { forged401, ignoredComment204 } = results.warmRefusalsMs;
    const { slackApprove, jiraMove } = results.decisionE2eMs;
    console.table({
      'jira-webhook bundle': { value: `${(results.bundleBytes.jiraWebhook / 1024).toFixed(0)} KB`, n: '' },
      'cold import (median)': { value: ms(results.coldInitMs.importMedian), n: COLD_RUNS },
      'cold import + 1st refusal (median)': {
        value: ms(results.coldInitMs.importAndFirstRefusalMedian),
        n: COLD_RUNS,
      },
      'forged webhook 401 p50 / p99': {
        value: `${forged401.p50} / ${forged401.p99} ms`,
        n: forged401.samples,
      },
      'ignored comment 204 p50 / p99': {
        value: `${ignoredComment204.p50} / ${ignoredComment204.p99} ms`,
        n: ignoredComment204.samples,
      },
      'Slack Approve → APPROVED p50 / p95': {
        value: `${slackApprove.p50} / ${slackApprove.p95} ms`,
        n: slackApprove.requests,
      },
      'Jira move → APPROVED p50 / p95': {
        value: `${jiraMove.p50} / ${jiraMove.p95} ms`,
        n: jiraMove.requests,
      },
    });
    console.log(
      `${results.machine.cpus} CPUs, Node ${results.node}; ran ${results.benchSeconds} s; written to bench/results/decide.json`,
    );
  } finally {
    await stack?.stop();
    await Promise.all([adHandle.stop(), dbHandle.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
