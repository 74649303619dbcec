/**
 * npm run bench:decide — what a decision costs, from the webhook's door to the request APPROVED.
 *
 * - jira-webhook bundle: size of dist/lambdas/jira-webhook/index.js, and cold init: time to
 *   require() it in a fresh Node process (median of COLD_RUNS), plus import + one refused webhook;
 * - jira-webhook warm refusals, in process: p50/p99 over 1,000 forged webhooks (wrong signature,
 *   401) and 1,000 ignored ones (a correctly signed comment event, 204 after parsing, no Jira call);
 * - decisions end to end on the Slack, Jira and SNS emulators, dynalite and the real Samba AD,
 *   wired as test/integration/worker-decide.test.ts wires them: from a signed Slack Approve click
 *   through the ack Lambda, or from a Jira move through the signed webhook and the jira-webhook
 *   Lambda, until the worker has the request APPROVED with every effect done (ticket moved and
 *   commented, approvers' message updated, requester DM'd). p50/p95 over E2E_REQUESTS each.
 * Writes bench/results/decide.json and prints a table. Not a test: numbers vary by machine.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SNSClient } from '@aws-sdk/client-sns';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { createAckHandler } from '../lambdas/ack/wiring.js';
import { createJiraWebhookHandler } from '../lambdas/jira-webhook/wiring.js';
import { createWorkerHandler } from '../lambdas/worker/wiring.js';
import { startActiveDirectory } from '../local/active-directory.js';
import { startDynalite } from '../local/dynalite.js';
import { EMULATED_JIRA_OPERATIONS, JiraEmulator } from '../local/emulators/jira/jira-emulator.js';
import { SlackEmulator } from '../local/emulators/slack/slack-emulator.js';
import { SnsEmulator } from '../local/emulators/sns/sns-emulator.js';
import { serveFunctionUrl } from '../local/function-url.js';
import { blockActions, toLambdaEvent } from '../local/slack/signed-request.js';
import {
  createRequestTable,
  DynamoDbRequestStore,
} from '../shared/adapters/dynamodb/dynamodb-request-store.js';
import { jiraWebhookSignature } from '../shared/adapters/jira/webhook-verification.js';
import { SnsEventPublisher } from '../shared/adapters/sns/sns-event-publisher.js';
import { COMMAND_VERSION, type RequestSubmitted } from '../shared/messages/commands.js';
import type { EventPublisher } from '../shared/ports/event-publisher.js';
import { openSlotKeyOf } from '../shared/use-cases/submit-request.js';
import { DECISION_WORKFLOW, decisionCatalogYaml, decisionPeople } from '../test/fixtures/decision-stack.js';
import { LAMBDA_TEST_ENV } from '../test/fixtures/lambda-env.js';

const root = join(import.meta.dirname, '..');
const COLD_RUNS = Number(process.env.BENCH_COLD_RUNS ?? 15);
const WARM_REQUESTS = Number(process.env.BENCH_WARM_REQUESTS ?? 1000);
const WARM_DISCARDED = 50; // as bench/ack.ts: the first 50 warm the JIT
const E2E_REQUESTS = Number(process.env.BENCH_E2E_REQUESTS ?? 50);
const E2E_WARMUP = 3; // per path, reported apart: the first decisions open LDAP, HTTP and DynamoDB connections

const TEAM = 'T0JITTEAM';
const APPROVERS = 'C0APPROVALS';
const SIGNING_SECRET = 'bench-decide-signing-secret-0123456789';
const WEBHOOK_SECRET = 'bench-decide-webhook-secret-0123456789';
// Lambdas log at ERROR here, as bench/ack.ts runs them (POWERTOOLS_LOG_LEVEL=ERROR).
const LOG_LEVEL = 'ERROR';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

const round = (n: number) => Math.round(n * 100) / 100;
const msSince = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

/** Warm handler latencies: the median and the 99th percentile, with the sample count. */
function summary(values: number[]) {
  return {
    samples: values.length,
    p50: round(percentile(values, 50)),
    p99: round(percentile(values, 99)),
    min: round(Math.min(...values)),
    max: round(Math.max(...values)),
  };
}

/** A Function URL (payload v2) event carrying a Jira webhook, as the test builds one. */
function webhookEvent(body: string, headers: Record<string, string>): APIGatewayProxyEventV2 {
  const now = new Date();
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: '/jira/webhook',
    rawQueryString: '',
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'x',
      domainName: 'x.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'x',
      http: {
        method: 'POST',
        path: '/jira/webhook',
        protocol: 'HTTP/1.1',
        sourceIp: '13.52.5.96',
        userAgent: 'Atlassian Webhook HTTP Client',
      },
      requestId: randomUUID(),
      routeKey: '$default',
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    body,
    isBase64Encoded: false,
  };
}

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

// ---- 3. the decision path, wired as test/integration/worker-decide.test.ts wires it ------------

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

  // The stack: Samba AD (once), dynalite, the three emulators, the three Lambdas.
  const adStart = process.hrtime.bigint();
  const adHandle = await startActiveDirectory();
  const adStartMs = msSince(adStart);
  const ad = adHandle.connection;
  process.stdout.write(`Samba AD up in ${(adStartMs / 1000).toFixed(1)} s\n`);

  // Only these three act in the bench: alice requests, bob approves in Slack, frank in Jira.
  const { alice, bob, frank } = decisionPeople(ad);
  const PEOPLE = { alice, bob, frank };
  type Person = keyof typeof PEOPLE;

  const people = Object.keys(PEOPLE) as Person[];
  // Real time: each request, click and ticket gets its own timestamp, as in production.
  const clock = { now: () => new Date() };
  const slack = new SlackEmulator({
    teamId: TEAM,
    users: people.map((p) => ({
      id: PEOPLE[p].slackId,
      name: p,
      realName: PEOPLE[p].name,
      email: PEOPLE[p].email,
    })),
    channels: [{ id: APPROVERS, name: 'db-approvals' }],
    clock,
  });
  const jira = new JiraEmulator({
    clock,
    webhookDelivery: 'manual',
    workflows: [DECISION_WORKFLOW],
    projects: [
      {
        key: 'DBA',
        name: 'Database Access',
        issueTypes: [{ name: 'Access Request', workflow: DECISION_WORKFLOW.name }],
      },
    ],
    users: people.map((p) => ({
      accountId: PEOPLE[p].jiraId,
      displayName: PEOPLE[p].name,
      emailAddress: PEOPLE[p].email,
      emailVisible: true,
    })),
  });
  const sns = new SnsEmulator();
  const dynamo = await startDynalite();
  await Promise.all([slack.start(), jira.start(), sns.start()]);
  const stops: (() => Promise<unknown>)[] = [
    () => adHandle.stop(),
    () => dynamo.stop(),
    () => slack.stop(),
    () => jira.stop(),
    () => sns.stop(),
  ];

  try {
    const catalogPath = join(mkdtempSync(join(tmpdir(), 'jit-bench-decide-')), 'jit-access.config.yaml');
    writeFileSync(catalogPath, decisionCatalogYaml(ad, APPROVERS));
    Object.assign(process.env, {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_SNS: sns.url,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
    });
    const topicArn = sns.createTopic('jit-bench-decide');
    const table = `bench-decide-${process.pid}`;
    await createRequestTable(new DynamoDBClient({ endpoint: dynamo.endpoint }), table);
    const store = new DynamoDbRequestStore({
      client: new DynamoDBClient({ endpoint: dynamo.endpoint }),
      tableName: table,
      clock,
    });

    // Each Lambda built once and kept: warm containers, as under steady traffic.
    const ack = createAckHandler(
      {
        SLACK_SIGNING_SECRET: SIGNING_SECRET,
        SLACK_BOT_TOKEN: slack.token,
        ACCESS_TOPIC_ARN: topicArn,
        SLACK_API_URL: slack.apiUrl,
        JIT_ACCESS_CONFIG: catalogPath,
      },
      { clock, logger: quietLogger('ack') },
    );
    const webhookEnv = {
      JIRA_WEBHOOK_SECRET: WEBHOOK_SECRET,
      JIRA_EMAIL: jira.credentials.email,
      JIRA_API_TOKEN: jira.credentials.apiToken,
      JIRA_BASE_URL: jira.url,
      ACCESS_TOPIC_ARN: topicArn,
      JIT_ACCESS_CONFIG: catalogPath,
    };
    const webhookUrl = await serveFunctionUrl(
      'jira-webhook',
      createJiraWebhookHandler(webhookEnv, { clock, logger: quietLogger('jira-webhook') }),
    );
    stops.push(() => webhookUrl.close());
    jira.registerWebhook({
      url: `${webhookUrl.url}/jira/webhook`,
      secret: WEBHOOK_SECRET,
      events: ['jira:issue_updated'],
    });
    const worker = createWorkerHandler(
      {
        SLACK_BOT_TOKEN: slack.token,
        SLACK_API_URL: slack.apiUrl,
        LDAP_URL: ad.ldapsUrl,
        LDAP_SECURITY: 'ldaps',
        LDAP_CA_CERT: readFileSync(ad.caCertPath, 'utf8'),
        LDAP_TLS_SERVER_NAME: ad.tlsServerName,
        LDAP_BIND_DN: ad.serviceAccount.dn,
        LDAP_BIND_PASSWORD: ad.serviceAccount.password,
        LDAP_BASE_DN: ad.baseDn,
        JIRA_EMAIL: jira.credentials.email,
        JIRA_API_TOKEN: jira.credentials.apiToken,
        JIRA_BASE_URL: jira.url,
        JIT_ACCESS_CONFIG: catalogPath,
        REQUESTS_TABLE: table,
      } as NodeJS.ProcessEnv,
      { clock, logger: quietLogger('worker') },
    );
    sns.subscribe(topicArn, (event) => worker(event, { awsRequestId: randomUUID() }));
    const submitter = new SnsEventPublisher({ client: new SNSClient({}), topicArn });

    /** Lets every webhook, topic message and the ticket moves they cause play out. */
    const settle = async () => {
      for (let round = 0; round < 6; round++) {
        await sns.drain();
        if (jira.pendingWebhooks().length === 0) break;
        await jira.deliverWebhooks();
      }
      await sns.drain();
      if (sns.deliveryErrors.length > 0) {
        throw new Error(`worker failed: ${JSON.stringify(sns.deliveryErrors.map((d) => String(d.error)))}`);
      }
    };

    const approversMessage = (requestId: string) =>
      slack.messagesIn(APPROVERS).find((m) => !m.ephemeral && m.text.includes(requestId));

    /** A request from alice, verified and waiting for approval, with its ticket and approvers message. */
    const pendingRequest = async (): Promise<{ requestId: string; ticket: string }> => {
      const n = randomUUID()
        .replace(/-/g, '')
        .slice(0, 8)
        .toUpperCase()
        .replace(/[ILOU]/g, '7');
      const command: RequestSubmitted = {
        type: 'request.submitted',
        version: COMMAND_VERSION,
        commandId: `submit:${randomUUID().replace(/-/g, '')}`,
        issuedAt: clock.now().toISOString(),
        requestId: `REQ-${n}`,
        requester: { kind: 'slack', userId: PEOPLE.alice.slackId, teamId: TEAM, userName: 'alice' },
        via: 'slash_command',
        target: { database: 'orders', level: 'read' },
        durationMinutes: 30,
        justification: 'INC-1234 checking stuck orders',
      };
      await submitter.publish(command);
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
        request?.state === 'APPROVED' || `state ${request?.state}`,
        request?.decision?.channel === channel || `decided in ${request?.decision?.channel}`,
        (request?.effects?.ticket && request.effects.approversMessage && request.effects.requester) ||
          `effects ${JSON.stringify(request?.effects)}`,
        jira.issue(ticket)?.status === 'Approved' || `ticket in ${jira.issue(ticket)?.status}`,
        !JSON.stringify(approversMessage(requestId)?.blocks).includes('request.approve') ||
          'approvers message still has buttons',
        slack
          .messagesIn(PEOPLE.alice.slackId)
          .some((m) => !m.ephemeral && m.text === `Request ${requestId} was approved.`) || 'no DM to alice',
      ].filter((p) => p !== true);
      if (problems.length > 0) throw new Error(`${requestId} (${channel}): ${problems.join('; ')}`);
      // APPROVED holds alice's one open slot for orders/read until the grant, which does not exist
      // yet: free it (untimed) so the next request can open.
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
        { signingSecret: SIGNING_SECRET },
      );
      const start = process.hrtime.bigint();
      const reply = await ack(event, {});
      const acknowledgedMs = msSince(start);
      await sns.drain();
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
      await sns.drain();
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
    const inProcess = createJiraWebhookHandler(webhookEnv, {
      clock,
      logger: quietLogger('jira-webhook'),
      publisher: countingPublisher,
    });
    const jiraCalls = () => EMULATED_JIRA_OPERATIONS.reduce((n, op) => n + jira.callsTo(op).length, 0);
    const callsBefore = jiraCalls();
    const commentSignature = jiraWebhookSignature(WEBHOOK_SECRET, commentBody);
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
          'Slack: signed block_actions → ack handler → SNS emulator → worker (dynalite, Samba AD over LDAPS, Jira and Slack emulators) until APPROVED with ticket, approvers message and DM done. ' +
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
    await Promise.allSettled(stops.reverse().map((stop) => stop()));
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
