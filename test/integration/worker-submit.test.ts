import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { loadCatalogFile } from '../../shared/config/load-catalog.js';
import type { WorkerOverrides } from '../../lambdas/worker/wiring.js';
import { type LocalStack, startLocalStack, type WorkerHandler } from '../../local/stack.js';
import { slashCommand } from '../../local/slack/signed-request.js';
import { DynamoDbRequestStore } from '../../shared/adapters/dynamodb/dynamodb-request-store.js';
import { JiraTicketTracker } from '../../shared/adapters/jira/jira-ticket-tracker.js';
import type { RequestSubmitted } from '../../shared/messages/commands.js';
import { capturingLogger as captureLogs } from '../fixtures/capturing-logger.js';
import { submittedBy, TEAM } from '../fixtures/decision-stack.js';

const ad = inject('activeDirectory');
const db = inject('mariadb');
const APPROVERS = 'C0APPROVALS';
const SLACK_USERS = {
  alice: { id: 'U0ALICE01', name: 'alice', realName: 'Alice Engineer', email: ad.users.engineer.mail },
  bob: { id: 'U0BOB0001', name: 'bob', realName: 'Bob Approver', email: ad.users.approver.mail },
  carol: { id: 'U0CAROL01', name: 'carol', realName: 'Carol Disabled', email: ad.users.disabled.mail },
  dave: { id: 'U0DAVE001', name: 'dave', realName: 'Dave Nogroups', email: ad.users.noGroups.mail },
  erin: { id: 'U0ERIN001', name: 'erin', realName: 'Erin Twice', email: ad.users.duplicateMailA.mail },
  ghost: { id: 'U0GHOST01', name: 'ghost', realName: 'No Account', email: 'ghost@example.test' },
  // Slack accounts that carry alice's e-mail but may not act: only their standing differs.
  guest: {
    id: 'U0GUEST01',
    name: 'gus',
    realName: 'Gus Guest',
    email: ad.users.engineer.mail,
    guest: 'single' as const,
  },
  outsider: {
    id: 'U0OUTSID1',
    name: 'olga',
    realName: 'Olga Other',
    email: ad.users.engineer.mail,
    homeTeamId: 'T0OTHERORG',
  },
  unconfirmed: {
    id: 'U0UNCONF1',
    name: 'uma',
    realName: 'Uma New',
    email: ad.users.engineer.mail,
    emailConfirmed: false,
  },
};

let clockNow = new Date('2026-11-21T10:00:00Z');
const clock = { now: () => clockNow };
let stack: LocalStack;
// Set once the stack is up; the tests below read them as they read any emulator.
let slack: LocalStack['slack'];
let jira: LocalStack['jira'];
const logLines: string[] = [];

function catalogYaml(): string {
  return `version: 1
global:
  jira:
    site: https://example.atlassian.net
    projectKey: DBA
    issueType: Task
    statuses: { approved: Approved, denied: Declined, granted: Access Granted, closed: Done }
  decisionTimeout: 8h
  slack:
    approversChannel: ${APPROVERS}
  vault:
    wrapTtl: 5m
databases:
  orders:
    host: orders.db.internal
    flavor: mariadb
    vaultConnection: orders-mysql
    environment: prod
    levels:
      read:
        grants: ["GRANT SELECT ON orders.* TO '{{name}}'@'%'"]
        defaultDuration: 1h
        maxDuration: 4h
        requesterGroups: ["${ad.groups['eng-db-readers']}"]
        approverGroups: ["${ad.groups['db-approvers']}"]
`;
}

const worker = (overrides: WorkerOverrides = {}, env: Record<string, string> = {}) =>
  stack.worker(overrides, env);

function submitted(
  user: keyof typeof SLACK_USERS,
  overrides: Partial<RequestSubmitted> = {},
): RequestSubmitted {
  return submittedBy({ slackId: SLACK_USERS[user].id, userName: SLACK_USERS[user].name }, clockNow, {
    channelId: 'C0INCIDENT',
    durationMinutes: 60,
    ...overrides,
  });
}

const invoke = (handler: WorkerHandler, command: RequestSubmitted) =>
  handler(stack.snsEvent(command), { awsRequestId: randomUUID() });

const dmsTo = (user: keyof typeof SLACK_USERS) =>
  slack.messagesIn(SLACK_USERS[user].id).filter((m) => !m.ephemeral);
const approverPosts = (requestId: string) =>
  slack.messagesIn(APPROVERS).filter((m) => m.text.includes(requestId));

const store = () => stack.store();

beforeAll(async () => {
  stack = await startLocalStack({
    directory: ad,
    database: db,
    catalog: catalogYaml,
    slack: {
      teamId: TEAM,
      users: Object.values(SLACK_USERS),
      channels: [{ id: APPROVERS, name: 'db-approvals' }],
    },
    clock,
    logger: (service) => captureLogs(service, logLines),
  });
  ({ slack, jira } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  clockNow = new Date('2026-11-21T10:00:00Z');
  await stack.reset();
});

describe('end to end: slash command → ack → topic → worker', () => {
  it('ends with one ticket whose property holds the request id, a DM, an approvers message, and PENDING_APPROVAL', async () => {
    const request = slashCommand({
      text: 'orders read 2h INC-77 reading order_events',
      userId: SLACK_USERS.alice.id,
      userName: 'alice',
      teamId: TEAM,
      channelId: 'C0INCIDENT',
    });
    const reply = await stack.ack(stack.signed(request), {});
    const requestId = /(REQ-[0-9A-Z]{8})/.exec(String(reply.body))?.[1] ?? '';
    expect(requestId).toMatch(/^REQ-/);
    await stack.settle();
    expect(stack.topic.failedAttempts()).toEqual([]);

    const tickets = jira.issuesByRequestId(requestId);
    expect(tickets).toHaveLength(1);
    const stored = await store().get(requestId);
    expect(stored).toMatchObject({
      state: 'PENDING_APPROVAL',
      ticket: { key: tickets[0]?.key },
      requester: { directoryAccount: ad.users.engineer.sAMAccountName, email: ad.users.engineer.mail },
      eligibleVia: ad.groups['eng-db-readers'],
      durationMinutes: 120,
    });
    expect(dmsTo('alice')).toHaveLength(1);
    expect(dmsTo('alice')[0]?.text).toContain(`Request ${requestId} is waiting for approval`);
    expect(approverPosts(requestId)).toHaveLength(1);
    expect(JSON.stringify(approverPosts(requestId)[0]?.blocks)).toContain('request.approve');
    const trail = await store().auditTrail(requestId);
    expect(trail.map((e) => e.action)).toEqual(
      expect.arrayContaining(['submit', 'requester.verified', 'open']),
    );
  });
});

describe('worker: eligibility on the real Active Directory', () => {
  it('accepts a requester in the requester group', async () => {
    const command = submitted('alice');
    await invoke(worker(), command);
    expect((await store().get(command.requestId))?.state).toBe('PENDING_APPROVAL');
    expect(jira.issuesByRequestId(command.requestId)).toHaveLength(1);
  });

  it.each([
    ['a disabled account', 'carol', 'your directory account is disabled'],
    ['a user in no group', 'dave', 'this level is granted to members of `eng-db-readers`'],
    ['a user whose e-mail matches two accounts', 'erin', 'more than one directory account matches'],
    ['a user with no directory account', 'ghost', "no directory account matches your Slack profile's mail"],
    ['a guest account with an eligible e-mail', 'guest', 'your Slack account is a guest account'],
    ['someone from another organisation (Slack Connect)', 'outsider', 'belongs to another organisation'],
    ['an account whose e-mail Slack has not confirmed', 'unconfirmed', 'has not confirmed'],
  ] as const)('rejects %s: REJECTED, told why, no ticket, recorded', async (_what, user, message) => {
    const command = submitted(user);
    await invoke(worker(), command);
    const stored = await store().get(command.requestId);
    expect(stored?.state).toBe('REJECTED');
    expect(jira.issuesByRequestId(command.requestId)).toHaveLength(0);
    expect(dmsTo(user).map((m) => m.text)).toEqual([expect.stringContaining(message)]);
    expect(JSON.stringify(dmsTo(user))).not.toMatch(/OU=|DC=|LDAP|ldap/);
    expect(approverPosts(command.requestId)).toHaveLength(0);
    expect((await store().auditTrail(command.requestId)).at(-1)).toMatchObject({ action: 'reject' });
  });

  it('accepts a user eligible only through a nested group', async () => {
    // bob is in dba-oncall, which is in db-approvers: make db-approvers a requester group too.
    const nested = catalogYaml().replace(
      `requesterGroups: ["${ad.groups['eng-db-readers']}"]`,
      `requesterGroups: ["${ad.groups['db-approvers']}"]`,
    );
    const path = join(mkdtempSync(join(tmpdir(), 'jit-nested-')), 'catalog.yaml');
    writeFileSync(path, nested);
    const command = submitted('bob');
    await invoke(worker({}, { JIT_ACCESS_CONFIG: path }), command);
    const stored = await store().get(command.requestId);
    expect(stored).toMatchObject({ state: 'PENDING_APPROVAL', eligibleVia: ad.groups['db-approvers'] });
  });

  it.each([
    '*',
    '*)(|(mail=*))',
    'alice*',
    '\\',
    'a\u0000b',
    'x'.repeat(10_000),
    'аlice@example.test',
    'ａｌｉｃｅ@example.test',
  ])('treats the e-mail %j as no match: no error text leaked, nobody else matched', async (email) => {
    slack.addUser({ id: 'U0INJECT1', name: 'mallory', realName: 'Mallory', email });
    const command = {
      ...submitted('alice'),
      requester: { kind: 'slack' as const, userId: 'U0INJECT1', teamId: TEAM },
    };
    await invoke(worker(), command);
    const stored = await store().get(command.requestId);
    expect(stored?.state).toBe('REJECTED');
    expect(stored?.requester.directoryAccount).toBeUndefined();
    const dm = slack
      .messagesIn('U0INJECT1')
      .map((m) => m.text)
      .join('\n');
    expect(dm).toContain('no directory account matches');
    expect(dm).not.toMatch(/filter|LDAP|error|\(/i);
  });

  it('refuses a second open request for the same database and level, pointing to the first', async () => {
    const first = submitted('alice');
    const second = submitted('alice', { justification: 'INC-1235 something else entirely' });
    const handler = worker();
    await invoke(handler, first);
    await invoke(handler, second);
    expect(await store().get(second.requestId)).toBeUndefined();
    expect(jira.issues()).toHaveLength(1);
    expect(dmsTo('alice').at(-1)?.text).toContain(
      `You already have request ${first.requestId} open for orders/read`,
    );
  });
});

describe('worker: Slack refusing for good', () => {
  it('the bot removed from the approvers’ channel: the command ends at once, counted for the alarm', async () => {
    const metrics = new Metrics({ namespace: 'jit-access-test' });
    const counted = vi.spyOn(metrics, 'addMetric');
    slack.failNext('chat.postMessage', {
      error: 'not_in_channel',
      matching: (params) => params.channel === APPROVERS,
    });
    const command = submitted('alice');
    // Returns: a refusal retrying cannot fix is not thrown back to Lambda.
    await expect(invoke(worker({ metrics }), command)).resolves.toBeUndefined();
    expect(counted.mock.calls.filter(([name]) => name === 'SlackRejected')).toEqual([
      ['SlackRejected', 'Count', 1],
    ]);
    expect(logLines.join('\n')).toMatch(/Slack refused for good[\s\S]*not_in_channel/);
  });
});

describe('worker: at-least-once delivery', () => {
  function assertExactlyOnce(requestId: string) {
    expect(jira.issuesByRequestId(requestId)).toHaveLength(1);
    expect(dmsTo('alice').filter((m) => m.text.includes(requestId))).toHaveLength(1);
    expect(approverPosts(requestId)).toHaveLength(1);
  }

  it('the same request.submitted twice in a row → one request, one ticket, one DM, one approvers message', async () => {
    const command = submitted('alice');
    const handler = worker();
    await invoke(handler, command);
    await invoke(handler, command);
    assertExactlyOnce(command.requestId);
    expect((await store().listByRequester(TEAM, SLACK_USERS.alice.id)).length).toBe(1);
  });

  it('the same request.submitted twice concurrently → exactly once', async () => {
    const command = submitted('alice');
    const [a, b] = [worker(), worker()];
    const results = await Promise.allSettled([invoke(a, command), invoke(b, command)]);
    // One delivery does the work; the other backs off (or finds it done). Neither may duplicate.
    expect(results.filter((r) => r.status === 'fulfilled').length).toBeGreaterThanOrEqual(1);
    assertExactlyOnce(command.requestId);
  });

  it('a double-submitted command (same command id, new request id) keeps the first request only', async () => {
    const command = submitted('alice');
    const repeat = { ...command, requestId: 'REQ-1ZZZZZZZ' };
    const handler = worker();
    await invoke(handler, command);
    await invoke(handler, repeat);
    expect(await store().get('REQ-1ZZZZZZZ')).toBeUndefined();
    expect(jira.issues()).toHaveLength(1);
    expect(dmsTo('alice').at(-1)?.text).toContain(`REQ-1ZZZZZZZ repeated ${command.requestId}`);
  });

  it('Jira failing several times then recovering → exactly one ticket', async () => {
    const tickets = new JiraTicketTracker({
      catalog: await loadCatalogFile(stack.catalogPath),
      host: jira.url,
      ...jira.credentials,
      projectKeys: ['DBA'],
      baseRetryMs: 1,
      sleep: async () => {},
    });
    jira.failNext('createIssue', { status: 503, times: 2 });
    const command = submitted('alice');
    await invoke(worker({ tickets }), command);
    assertExactlyOnce(command.requestId);
  });

  it('Jira down for good → the delivery fails for a retry, and the redelivery completes with one ticket', async () => {
    const tickets = new JiraTicketTracker({
      catalog: await loadCatalogFile(stack.catalogPath),
      host: jira.url,
      ...jira.credentials,
      projectKeys: ['DBA'],
      maxRetries: 1,
      baseRetryMs: 1,
      sleep: async () => {},
    });
    jira.failNext('createIssue', { status: 500, times: 10 });
    const command = submitted('alice');
    await expect(invoke(worker({ tickets }), command)).rejects.toThrow(/Jira|unavailable|500/i);
    expect((await store().get(command.requestId))?.state).toBe('SUBMITTED');
    jira.reset();
    clockNow = new Date(clockNow.getTime() + 120_000); // Lambda's retry comes minutes later
    await invoke(worker({ tickets }), command);
    assertExactlyOnce(command.requestId);
  });

  it('killed between ticket creation and the state update → the redelivery finishes without a second ticket', async () => {
    const client = new DynamoDBClient({ endpoint: stack.dynamoEndpoint });
    let failed = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = JSON.stringify(args.input);
        if (
          failed === 0 &&
          context.commandName === 'UpdateItemCommand' &&
          input.includes('PENDING_APPROVAL')
        ) {
          failed++;
          throw Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
        }
        return next(args);
      },
      { step: 'build', name: 'killBeforeOpen' },
    );
    const store = new DynamoDbRequestStore({ client, tableName: stack.tableName, clock });
    const command = submitted('alice');
    await expect(invoke(worker({ store }), command)).rejects.toThrow();
    expect(failed).toBe(1);
    expect(jira.issuesByRequestId(command.requestId)).toHaveLength(1);
    clockNow = new Date(clockNow.getTime() + 120_000);
    await invoke(worker({ store }), command);
    assertExactlyOnce(command.requestId);
    expect((await store.get(command.requestId))?.state).toBe('PENDING_APPROVAL');
  });

  it('LDAP unreachable → the delivery fails for a retry; once it persists the requester is told, once', async () => {
    const command = submitted('alice');
    const down = { LDAP_URL: 'ldaps://127.0.0.1:9' };
    await expect(invoke(worker({}, down), command)).rejects.toThrow();
    expect(dmsTo('alice')).toHaveLength(0); // a blip is not worth a message
    clockNow = new Date(clockNow.getTime() + 120_000);
    await expect(invoke(worker({}, down), command)).rejects.toThrow();
    await expect(invoke(worker({}, down), command)).rejects.toThrow();
    expect(dmsTo('alice').map((m) => m.text)).toEqual([
      expect.stringContaining('cannot reach the company directory'),
    ]);
    // The directory comes back: the same command completes.
    await invoke(worker(), command);
    expect((await store().get(command.requestId))?.state).toBe('PENDING_APPROVAL');
  });

  it('drops a message that is not a valid command without retrying it', async () => {
    const event = stack.snsEvent(submitted('alice'));
    event.Records[0]!.Sns.Message = '{"type":"request.submitted","version":1,"requestId":"nope"}';
    await expect(worker()(event, { awsRequestId: randomUUID() })).resolves.toBeUndefined();
    expect(jira.issues()).toHaveLength(0);
  });
});

describe('worker: secrets', () => {
  it('never logs the service account password, the Jira token or the bot token', async () => {
    await invoke(worker(), submitted('alice'));
    await expect(
      invoke(worker({}, { LDAP_BIND_PASSWORD: 'Wrong-Password-123!' }), submitted('dave')),
    ).rejects.toThrow();
    const logs = logLines.join('\n');
    for (const secret of [
      ad.serviceAccount.password,
      'Wrong-Password-123!',
      jira.credentials.apiToken,
      slack.token,
    ]) {
      expect(logs).not.toContain(secret);
    }
  });
});
