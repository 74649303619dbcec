import { randomUUID } from 'node:crypto';
import { type Connection, createConnection } from 'mysql2/promise';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { runCli } from '../../bin/cli.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { scheduleName } from '../../shared/adapters/scheduler/eventbridge-expiry-scheduler.js';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import { grantExpireCommand, type TopicCommand } from '../../shared/messages/commands.js';
import vault from 'node-vault';
import { VaultCredentialBroker } from '../../shared/adapters/vault/vault-credential-broker.js';
import type { WrappedConnection } from '../../shared/ports/credential-broker.js';
import { slashCommand } from '../../local/slack/signed-request.js';
import { LambdaEmulator } from '../../local/emulators/lambda/lambda-emulator.js';
import type { SNSEvent } from 'aws-lambda';
import { capturingLogger } from '../fixtures/capturing-logger.js';
import {
  APPROVERS,
  buttonClick,
  decisionPeople,
  decisionStack,
  submittedBy,
  TEAM,
} from '../fixtures/decision-stack.js';

/*
 * The end of a grant, on the real MariaDB through the real handlers: the expiry schedule the
 * worker made in the (emulated) EventBridge Scheduler fires at the grant's end, the worker
 * revokes the Vault lease, and Vault's revocation statements drop the user and end the session it
 * still had open. Also: Vault's own TTL alone, redeliveries, a user already dropped, Vault down.
 */

const ad = inject('activeDirectory');
const db = inject('mariadb');
const PEOPLE = decisionPeople(ad);
const SCHEMA = 'orders';
const logLines: string[] = [];
let clockNow = new Date('2026-11-21T10:00:00Z');
const clock = { now: () => clockNow };
let stack: LocalStack;
let admin: Connection;
const metrics = new Metrics({ namespace: 'jit-access-test' });

beforeAll(async () => {
  admin = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  stack = await startLocalStack({
    ...decisionStack(ad, ['alice', 'bob', 'dave']),
    database: db,
    clock,
    logger: (service) => capturingLogger(service, logLines),
    metrics,
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await admin?.end();
});

beforeEach(async () => {
  clockNow = new Date('2026-11-21T10:00:00Z');
  logLines.length = 0;
  stack.vault.unseal();
  vi.restoreAllMocks();
  await stack.reset();
});

const store = () => stack.store();
const audit = async (requestId: string) => (await store().auditTrail(requestId)).map((e) => e.action);
const dmsTo = (slackId: string) => stack.slack.messagesIn(slackId).filter((m) => !m.ephemeral);

async function settle(failedAttempts = 0): Promise<void> {
  await stack.settle();
  expect(stack.topic.failedAttempts()).toHaveLength(failedAttempts);
}

/** alice's request, approved by bob in Slack, granted; with her credentials opened. */
async function grantedWithSession(): Promise<{
  request: AccessRequest;
  creds: WrappedConnection;
  session: Connection;
}> {
  const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
    target: { database: 'orders', level: 'read' },
  });
  await stack.topic.publish(command);
  await settle();
  const reply = await stack.ack(
    buttonClick(stack, {
      slackId: PEOPLE.bob.slackId,
      actionId: 'request.approve',
      requestId: command.requestId,
    }),
    {},
  );
  expect(reply.statusCode).toBe(200);
  await settle();
  const request = (await store().get(command.requestId)) as AccessRequest;
  expect(request.state).toBe('GRANTED');
  const dm = dmsTo(PEOPLE.alice.slackId).find((m) => m.text.includes('is ready'));
  const token = /jit-access connect (\S+?)(?:`|\\n|")/.exec(JSON.stringify(dm?.blocks ?? []))?.[1] ?? '';
  const out: string[] = [];
  const code = await runCli(['creds', token, '--format', 'json'], {
    out: (l) => out.push(l),
    err: () => undefined,
    env: { VAULT_ADDR: stack.vault.url },
  });
  expect(code).toBe(0);
  const creds = JSON.parse(out.join('\n')) as WrappedConnection;
  const session = await createConnection({
    host: creds.host,
    port: creds.port,
    user: creds.username,
    password: creds.password,
  });
  session.on('error', () => undefined);
  await session.query('SELECT 1');
  return { request, creds, session };
}

async function userExists(username: string): Promise<boolean> {
  const [rows] = await admin.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [username]);
  return (rows as { n: number }[])[0]?.n === 1;
}

/** Nothing of the grant is left: no user, the open session closed, a new login refused. */
async function expectGone(creds: WrappedConnection, session: Connection): Promise<void> {
  expect(await userExists(creds.username)).toBe(false);
  await expect(session.query('SELECT 1')).rejects.toThrow();
  await expect(
    createConnection({ host: creds.host, port: creds.port, user: creds.username, password: creds.password }),
  ).rejects.toMatchObject({ code: 'ER_ACCESS_DENIED_ERROR' });
}

const expireAt = (request: AccessRequest) => new Date(request.grant?.expiresAt ?? 0);

describe('expiry: the schedule', () => {
  it('the grant schedules its end; at that time the user is gone, its session closed, everyone told', async () => {
    const { request, creds, session } = await grantedWithSession();
    expect(stack.scheduler.list()).toEqual([
      expect.objectContaining({
        name: scheduleName(request.requestId),
        groupName: 'jit-access',
        actionAfterCompletion: 'DELETE',
      }),
    ]);
    expect(stack.scheduler.list()[0]?.at.getTime()).toBeGreaterThanOrEqual(expireAt(request).getTime());

    clockNow = new Date(expireAt(request).getTime() - 60_000);
    expect(await stack.scheduler.fireDue()).toBe(0);
    clockNow = new Date(expireAt(request).getTime() + 1000);
    expect(await stack.scheduler.fireDue()).toBe(1);
    await settle();

    const ended = (await store().get(request.requestId)) as AccessRequest;
    expect(ended).toMatchObject({
      state: 'EXPIRED',
      revocation: { pending: false, why: 'expired', attempts: 0 },
    });
    await expectGone(creds, session);
    expect(dmsTo(PEOPLE.alice.slackId).at(-1)?.text).toContain('has ended');
    const ticket = stack.jira.issue(request.ticket?.key ?? '');
    expect(ticket?.status).toBe('Done');
    expect(JSON.stringify(ticket?.comments.at(-1)?.body)).toContain('Expired');
    const approvers = stack.slack
      .messagesIn(APPROVERS)
      .find((m) => !m.ephemeral && m.text.includes(request.requestId));
    expect(JSON.stringify(approvers?.blocks)).toContain('*Expired*');
    expect(stack.scheduler.list()).toEqual([]);
    expect((await audit(request.requestId)).slice(-2)).toEqual(['revocation.requested', 'expire']);
  });

  it('grant.expire delivered three times, and concurrently: one revocation, one DM', async () => {
    const { request, creds, session } = await grantedWithSession();
    clockNow = new Date(expireAt(request).getTime() + 1000);
    const command: TopicCommand = grantExpireCommand(request.requestId, expireAt(request));
    const event = stack.snsEvent(command);
    await Promise.all([1, 2, 3].map(() => stack.worker()(event, { awsRequestId: randomUUID() })));
    await stack.worker()(event, { awsRequestId: randomUUID() });

    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    expect((await audit(request.requestId)).filter((a) => a === 'expire')).toHaveLength(1);
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('has ended'))).toHaveLength(1);
    await expectGone(creds, session);
  });

  it('a user a DBA already dropped by hand: the expiry still succeeds', async () => {
    const { request, creds, session } = await grantedWithSession();
    await admin.query(`DROP USER '${creds.username}'@'%'`);
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await stack.scheduler.fireDue();
    await settle();
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    await expectGone(creds, session);
  });

  it('Vault sealed at expiry: each attempt recorded, the revocation pending; Vault back → done', async () => {
    const { request, creds, session } = await grantedWithSession();
    stack.vault.seal();
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await stack.scheduler.fireDue();
    // Lambda's first try and its two retries all fail.
    await settle(3);
    const pending = (await store().get(request.requestId)) as AccessRequest;
    expect(pending).toMatchObject({ state: 'GRANTED', revocation: { pending: true, attempts: 3 } });
    expect((await audit(request.requestId)).filter((a) => a === 'revocation.failed')).toHaveLength(3);

    stack.vault.unseal();
    await stack.topic.publish(grantExpireCommand(request.requestId, expireAt(request)));
    await settle(3);
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    await expectGone(creds, session);
  });

  it('a schedule that fires early (the grant was extended meanwhile) changes nothing and sets the new end', async () => {
    const { request, session } = await grantedWithSession();
    await stack.topic.publish(grantExpireCommand(request.requestId, new Date(clockNow.getTime() - 1000)));
    await settle();
    expect((await store().get(request.requestId))?.state).toBe('GRANTED');
    await session.query('SELECT 1');
    await session.end();
  });
});

/** `slackId` clicks Revoke (the DM's for the requester, the approvers' message's for others). */
async function clickRevoke(slackId: string, requestId: string): Promise<void> {
  const channelId = slackId === PEOPLE.alice.slackId ? (stack.slack.dmChannelOf(slackId) ?? '') : APPROVERS;
  const reply = await stack.ack(
    buttonClick(stack, { slackId, actionId: 'grant.revoke', requestId, channelId }),
    {},
  );
  expect(reply.statusCode).toBe(200);
}

describe('early revoke', () => {
  it.each([
    ['the requester hands it back', () => PEOPLE.alice.slackId, 'you revoked it'],
    ['an approver of the level pulls it', () => PEOPLE.bob.slackId, 'bob revoked it'],
  ])('%s: REVOKED, user gone, session closed, the schedule cancelled', async (_what, who, said) => {
    const { request, creds, session } = await grantedWithSession();
    await clickRevoke(who(), request.requestId);
    await settle();
    const revoked = (await store().get(request.requestId)) as AccessRequest;
    expect(revoked).toMatchObject({ state: 'REVOKED', revocation: { pending: false, why: 'revoked' } });
    await expectGone(creds, session);
    expect(stack.scheduler.list()).toEqual([]);
    expect(dmsTo(PEOPLE.alice.slackId).at(-1)?.text).toContain('has ended');
    expect(JSON.stringify(dmsTo(PEOPLE.alice.slackId).at(-1)?.blocks)).toContain(said);
    expect(JSON.stringify(stack.jira.issue(request.ticket?.key ?? '')?.comments.at(-1)?.body)).toContain(
      'Revoked early',
    );
    expect((await audit(request.requestId)).at(-1)).toBe('revoke');
  });

  it('anyone else is refused, told why, recorded; the grant lives on', async () => {
    const { request, session } = await grantedWithSession();
    await clickRevoke(PEOPLE.dave.slackId, request.requestId);
    await settle();
    expect((await store().get(request.requestId))?.state).toBe('GRANTED');
    await session.query('SELECT 1');
    await session.end();
    expect(
      stack.slack
        .messagesIn(APPROVERS)
        .filter((m) => m.ephemeral && m.user === PEOPLE.dave.slackId)
        .map((m) => m.text)
        .concat(dmsTo(PEOPLE.dave.slackId).map((m) => m.text)),
    ).toEqual([expect.stringContaining('Your revocation of')]);
    expect(await audit(request.requestId)).toContain('revoke.refused');
  });

  it('revoke and expiry racing, twice each: one revocation, one DM', async () => {
    const { request, creds, session } = await grantedWithSession();
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await Promise.all([
      clickRevoke(PEOPLE.alice.slackId, request.requestId),
      clickRevoke(PEOPLE.alice.slackId, request.requestId),
      stack.topic.publish(grantExpireCommand(request.requestId, expireAt(request))),
      stack.topic.publish(grantExpireCommand(request.requestId, expireAt(request))),
    ]);
    await settle();
    const trail = await audit(request.requestId);
    expect(trail.filter((a) => a === 'expire' || a === 'revoke')).toHaveLength(1);
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('has ended'))).toHaveLength(1);
    await expectGone(creds, session);
  });
});

const reconcileNow = async (failedAttempts = 0) => {
  await stack.topic.publish({
    type: 'reconcile',
    version: 1,
    commandId: `reconcile:${randomUUID()}`,
    issuedAt: clockNow.toISOString(),
  });
  await settle(failedAttempts);
};

describe('reconcile', () => {
  it('a lost schedule: reconcile alone ends the grant on time, session included', async () => {
    const { request, creds, session } = await grantedWithSession();
    stack.scheduler.reset();
    clockNow = new Date(expireAt(request).getTime() - 1000);
    await reconcileNow();
    expect((await store().get(request.requestId))?.state).toBe('GRANTED');
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await reconcileNow();
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    await expectGone(creds, session);
  });

  it('Jira down during reconcile: its search is skipped, and the grant past its end still ends', async () => {
    const { request, creds, session } = await grantedWithSession();
    // A waiting request with a ticket, so reconcile does search Jira for lost decisions.
    const waiting = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
      target: { database: 'orders', level: 'write' },
    });
    await stack.topic.publish(waiting);
    await settle();
    expect((await store().get(waiting.requestId))?.ticket).toBeDefined();
    stack.scheduler.reset();
    clockNow = new Date(expireAt(request).getTime() + 1000);
    const searches = () =>
      stack.jira.calls.filter((c) => c.operation?.startsWith('searchAndReconsile')).length;
    const before = searches();
    // Every attempt of the tracker's retries: the search fails for this whole run.
    stack.jira.failNext('searchAndReconsileIssuesUsingJqlPost', { status: 503, times: 20 });
    stack.jira.failNext('searchAndReconsileIssuesUsingJql', { status: 503, times: 20 });
    await reconcileNow();
    expect(searches()).toBeGreaterThan(before);
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    expect((await store().get(waiting.requestId))?.state).toBe('PENDING_APPROVAL');
    await expectGone(creds, session);
  });

  it("periodic in the local stack: with the schedule lost, the stack's own reconcile ends the grant", async () => {
    const { request, creds, session } = await grantedWithSession();
    stack.scheduler.reset();
    clockNow = new Date(expireAt(request).getTime() + 1000);
    const stop = stack.startPeriodicReconcile(25);
    try {
      await vi.waitFor(
        async () => {
          await stack.settle();
          expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
        },
        { timeout: 5000, interval: 50 },
      );
    } finally {
      stop();
    }
    await stack.settle();
    expect(stack.topic.published().filter((c) => c.type === 'reconcile').length).toBeGreaterThan(0);
    await expectGone(creds, session);
  });

  it('a revocation that fails (the database unreachable from Vault): pending, retried with backoff until the user is gone', async () => {
    const { request, creds, session } = await grantedWithSession();
    const connection = (url: string) =>
      fetch(`${stack.vault.url}/v1/database/config/orders-mysql`, {
        method: 'POST',
        headers: { 'X-Vault-Token': stack.vault.rootToken },
        body: JSON.stringify({
          plugin_name: 'mysql-database-plugin',
          connection_url: url,
          username: db.user,
          password: db.password,
          allowed_roles: ['jit-orders-read', 'jit-orders-write'],
        }),
      });
    await connection('{{username}}:{{password}}@tcp(127.0.0.1:9)/');
    const counted = vi.spyOn(metrics, 'addMetric');
    try {
      clockNow = new Date(expireAt(request).getTime() + 1000);
      await stack.scheduler.fireDue();
      await settle(3);
      let pending = (await store().get(request.requestId)) as AccessRequest;
      expect(pending).toMatchObject({ state: 'GRANTED', revocation: { pending: true, attempts: 3 } });
      expect(pending.revocation?.lastError).toContain('failed to revoke entry');

      // Backoff: after three failures the next try waits 4 minutes.
      clockNow = new Date(clockNow.getTime() + 60_000);
      await reconcileNow(3);
      expect(((await store().get(request.requestId)) as AccessRequest).revocation?.attempts).toBe(3);
      clockNow = new Date(clockNow.getTime() + 4 * 60_000);
      await reconcileNow(3);
      pending = (await store().get(request.requestId)) as AccessRequest;
      expect(pending.revocation).toMatchObject({ pending: true, attempts: 4 });
      // What the alarms watch: each failed attempt, and the pending ones reconcile found.
      expect(counted.mock.calls.filter(([name]) => name === 'RevocationFailed')).toHaveLength(3);
      expect(counted).toHaveBeenCalledWith('RevocationsPending', 'Count', 1);
    } finally {
      await connection(`{{username}}:{{password}}@tcp(${db.host}:${db.port})/`);
    }
    clockNow = new Date(clockNow.getTime() + 8 * 60_000);
    await reconcileNow(3);
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    await expectGone(creds, session);
  });

  it('jit-access revoke --retry: once the cause is fixed, the operator ends it now, without waiting for the backoff', async () => {
    const { request, creds, session } = await grantedWithSession();
    const lambda = new LambdaEmulator();
    await lambda.start();
    const worker = stack.worker();
    lambda.register('jit-access-worker', (event, context) => worker(event as SNSEvent, context));
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDOPERATOR');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'operator-secret');
    const retry = async () => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(['revoke', request.requestId, '--retry', '--function', 'jit-access-worker'], {
        out: (line) => out.push(line),
        err: (line) => err.push(line),
        env: { AWS_ENDPOINT_URL_LAMBDA: lambda.url, AWS_REGION: 'eu-west-1' },
      });
      return { code, out: out.join('\n'), err: err.join('\n') };
    };
    try {
      stack.vault.seal();
      clockNow = new Date(expireAt(request).getTime() + 1000);
      await stack.scheduler.fireDue();
      await settle(3);
      expect((await store().get(request.requestId))?.revocation).toMatchObject({
        pending: true,
        attempts: 3,
      });

      const still = await retry();
      expect(still.code).toBe(1);
      expect(still.err).toContain('failed again');
      expect(still.err).not.toMatch(/hvs\./);
      expect((await store().get(request.requestId))?.revocation?.attempts).toBe(4);

      stack.vault.unseal();
      const fixed = await retry();
      expect(fixed).toMatchObject({ code: 0, out: expect.stringContaining('retried it without an error') });
      await settle(3);
      expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
      await expectGone(creds, session);

      const unknown = await runCli(['revoke', request.requestId, '--retry', '--function', 'nope'], {
        out: () => undefined,
        err: () => undefined,
        env: { AWS_ENDPOINT_URL_LAMBDA: lambda.url, AWS_REGION: 'eu-west-1' },
      });
      expect(unknown).toBe(2);
    } finally {
      vi.unstubAllEnvs();
      await lambda.stop();
    }
  });

  it('a request nobody decided within decisionTimeout: TIMED_OUT, ticket closed, requester told how to ask again', async () => {
    const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
      target: { database: 'orders', level: 'read' },
    });
    await stack.topic.publish(command);
    await settle();
    clockNow = new Date(clockNow.getTime() + 7 * 3_600_000);
    await reconcileNow();
    expect((await store().get(command.requestId))?.state).toBe('PENDING_APPROVAL');
    clockNow = new Date(clockNow.getTime() + 3_600_000 + 1000);
    await reconcileNow();
    const request = (await store().get(command.requestId)) as AccessRequest;
    expect(request.state).toBe('TIMED_OUT');
    expect(stack.jira.issue(request.ticket?.key ?? '')?.status).toBe('Done');
    expect(dmsTo(PEOPLE.alice.slackId).at(-1)?.text).toContain('timed out without a decision');
    expect(JSON.stringify(dmsTo(PEOPLE.alice.slackId).at(-1)?.blocks)).toContain('Ask again');
    // The slot is free: alice can ask again at once.
    const again = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
      target: { database: 'orders', level: 'read' },
    });
    await stack.topic.publish(again);
    await settle();
    expect((await store().get(again.requestId))?.state).toBe('PENDING_APPROVAL');
  });

  it('a lost Jira webhook: reconcile finds the approved ticket and decides through the same checks', async () => {
    const pendingRequest = async () => {
      const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
        target: { database: 'orders', level: 'read' },
      });
      await stack.topic.publish(command);
      await settle();
      return (await store().get(command.requestId)) as AccessRequest;
    };
    const request = await pendingRequest();
    const key = request.ticket?.key ?? '';
    stack.jira.loseNextWebhooks(1);
    stack.jira.transitionAs(key, PEOPLE.bob.jiraId, 'Approve');
    await stack.jira.flushWebhooks();
    await settle();
    expect((await store().get(request.requestId))?.state).toBe('PENDING_APPROVAL');

    await reconcileNow();
    const granted = (await store().get(request.requestId)) as AccessRequest;
    expect(granted.state).toBe('GRANTED');
    expect(granted.decision).toMatchObject({ outcome: 'approved', channel: 'jira', account: 'bob' });
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('is ready'))).toHaveLength(1);
    await reconcileNow();
    expect((await audit(request.requestId)).filter((a) => a === 'approve')).toHaveLength(1);
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('is ready'))).toHaveLength(1);

    // The same checks as the webhook: dave approves nothing, and the ticket goes back.
    await clickRevoke(PEOPLE.alice.slackId, granted.requestId);
    await settle();
    const other = await pendingRequest();
    stack.jira.loseNextWebhooks(1);
    stack.jira.transitionAs(other.ticket?.key ?? '', PEOPLE.dave.jiraId, 'Approve');
    await stack.jira.flushWebhooks();
    await reconcileNow();
    expect((await store().get(other.requestId))?.state).toBe('PENDING_APPROVAL');
    expect(await audit(other.requestId)).toContain('approve.refused');
    expect(stack.jira.issue(other.ticket?.key ?? '')?.status).not.toBe('Approved');
  });

  it('an approval whose grant stalled (its retries spent): reconcile grants it', async () => {
    const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
      target: { database: 'orders', level: 'read' },
    });
    await stack.topic.publish(command);
    await settle();
    stack.vault.seal();
    stack.subscribeWorker(undefined, { redeliverOnError: 0 });
    await stack.ack(
      buttonClick(stack, {
        slackId: PEOPLE.bob.slackId,
        actionId: 'request.approve',
        requestId: command.requestId,
      }),
      {},
    );
    await settle(1);
    expect((await store().get(command.requestId))?.state).toBe('APPROVED');
    stack.vault.unseal();
    clockNow = new Date(clockNow.getTime() + 6 * 60_000);
    await reconcileNow(1);
    expect((await store().get(command.requestId))?.state).toBe('GRANTED');
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('is ready'))).toHaveLength(1);
  });
});

/** `slackId` types `/request_mysql_access <text>` in the approvers' channel (or alice in her DM). */
async function slash(slackId: string, text: string): Promise<string> {
  const reply = await stack.ack(
    stack.signed(
      slashCommand({
        text,
        userId: slackId,
        teamId: TEAM,
        channelId: APPROVERS,
        responseUrl: stack.slack.newResponseUrl(),
      }),
    ),
    {},
  );
  expect(reply.statusCode).toBe(200);
  return reply.body ?? '';
}

/** `slackId` clicks one of an extension's buttons on its approvers' message. */
async function clickExtension(slackId: string, actionId: string, requestId: string, number: number) {
  const reply = await stack.ack(
    buttonClick(stack, {
      slackId,
      actionId,
      requestId,
      value: `${requestId}:${number}`,
      channelId: APPROVERS,
    }),
    {},
  );
  expect(reply.statusCode).toBe(200);
}

describe('extend', () => {
  it('approved: the session keeps working past the original end, and ends at the new one', async () => {
    const { request, creds, session } = await grantedWithSession();
    const originalEnd = expireAt(request);
    await slash(PEOPLE.alice.slackId, `extend ${request.requestId} 30m the backfill runs long`);
    await settle();
    let current = (await store().get(request.requestId)) as AccessRequest;
    expect(current.state).toBe('GRANTED');
    expect(current.extensions?.[0]).toMatchObject({ number: 1, status: 'pending', minutes: 30 });
    expect(dmsTo(PEOPLE.alice.slackId).at(-1)?.text).toContain('with the approvers');
    // alice cannot approve her own extension.
    await clickExtension(PEOPLE.alice.slackId, 'extension.approve', request.requestId, 1);
    await settle();
    expect((await store().get(request.requestId))?.extensions?.[0]?.status).toBe('pending');

    await clickExtension(PEOPLE.bob.slackId, 'extension.approve', request.requestId, 1);
    await clickExtension(PEOPLE.bob.slackId, 'extension.approve', request.requestId, 1);
    await settle();
    current = (await store().get(request.requestId)) as AccessRequest;
    const newEnd = new Date(originalEnd.getTime() + 30 * 60_000);
    expect(current.extensions?.[0]).toMatchObject({ status: 'approved', decision: { account: 'bob' } });
    expect(Math.abs(expireAt(current).getTime() - newEnd.getTime())).toBeLessThan(2000);
    expect(
      stack.vault.leases().find((l) => l.id === current.grant?.leaseId)?.expiresAt,
    ).toBeGreaterThanOrEqual(Math.floor(newEnd.getTime() / 1000) - 1);
    expect((await audit(request.requestId)).filter((a) => a === 'extension.approved')).toHaveLength(1);
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('approved 30m more'))).toHaveLength(1);
    expect(JSON.stringify(stack.jira.issue(current.ticket?.key ?? '')?.comments)).toContain(
      'Extension 1 approved',
    );

    // Past the original end, every guard leaves it alone: the schedule, reconcile, Vault's TTL.
    clockNow = new Date(originalEnd.getTime() + 60_000);
    await stack.scheduler.fireDue();
    await settle();
    await reconcileNow();
    await stack.vault.tick();
    expect((await store().get(request.requestId))?.state).toBe('GRANTED');
    await session.query('SELECT 1');
    expect(await userExists(creds.username)).toBe(true);

    // At the new end it goes, session and all.
    clockNow = new Date(newEnd.getTime() + 1000);
    await stack.scheduler.fireDue();
    await settle();
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    await expectGone(creds, session);
  });

  it('beyond the level ceiling, by someone else, or after the end: refused, and the grant untouched', async () => {
    const { request } = await grantedWithSession();
    await slash(PEOPLE.alice.slackId, `extend ${request.requestId} 3h I want the whole afternoon`);
    await slash(PEOPLE.dave.slackId, `extend ${request.requestId} 30m not my grant at all`);
    await settle();
    const trail = await audit(request.requestId);
    expect(trail.filter((a) => a === 'extend.refused')).toHaveLength(2);
    expect((await store().get(request.requestId))?.extensions ?? []).toEqual([]);
    expect(JSON.stringify(stack.slack.messagesIn(PEOPLE.alice.slackId))).toContain('120 more minutes');

    await clickRevoke(PEOPLE.alice.slackId, request.requestId);
    await settle();
    await slash(PEOPLE.alice.slackId, `extend ${request.requestId} 30m one more try`);
    await settle();
    expect((await audit(request.requestId)).filter((a) => a === 'extend.refused')).toHaveLength(3);
    expect((await store().get(request.requestId))?.state).toBe('REVOKED');
  });

  it('a grant that ends while its extension waits: the extension message loses its buttons', async () => {
    const { request } = await grantedWithSession();
    await slash(PEOPLE.alice.slackId, `extend ${request.requestId} 30m the backfill runs long`);
    await settle();
    const message = (await store().get(request.requestId))?.extensions?.[0]?.approversMessage;
    const shown = () =>
      JSON.stringify(stack.slack.messagesIn(APPROVERS).find((m) => m.ts === message?.ts)?.blocks);
    expect(shown()).toContain('extension.approve');
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await stack.scheduler.fireDue();
    await settle();
    expect(shown()).not.toContain('extension.approve');
    expect(shown()).toContain('ended before a decision');
  });

  it('grant.extend delivered three times at once: one extension, one approvers message, one DM', async () => {
    const { request } = await grantedWithSession();
    const command: TopicCommand = {
      type: 'grant.extend',
      version: 1,
      commandId: `slack:extend:${randomUUID()}`,
      issuedAt: clockNow.toISOString(),
      requestId: request.requestId,
      actor: { kind: 'slack', userId: PEOPLE.alice.slackId, teamId: TEAM },
      durationMinutes: 45,
      reason: 'the report needs another pass',
    };
    const before = stack.slack.messagesIn(APPROVERS).filter((m) => !m.ephemeral).length;
    await Promise.all([1, 2, 3].map(() => stack.topic.publish(command)));
    await settle();
    const current = (await store().get(request.requestId)) as AccessRequest;
    expect(current.extensions).toHaveLength(1);
    expect(stack.slack.messagesIn(APPROVERS).filter((m) => !m.ephemeral)).toHaveLength(before + 1);
    expect(dmsTo(PEOPLE.alice.slackId).filter((m) => m.text.includes('with the approvers'))).toHaveLength(1);
    expect((await audit(request.requestId)).filter((a) => a === 'extension.asked')).toHaveLength(1);
  });

  it('denied: the grant ends at its original time', async () => {
    const { request, creds, session } = await grantedWithSession();
    await slash(PEOPLE.alice.slackId, `extend ${request.requestId} 30m the backfill runs long`);
    await settle();
    await clickExtension(PEOPLE.bob.slackId, 'extension.deny', request.requestId, 1);
    await settle();
    expect((await store().get(request.requestId))?.extensions?.[0]?.status).toBe('denied');
    expect(dmsTo(PEOPLE.alice.slackId).at(-1)?.text).toContain('denied more time');
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await stack.scheduler.fireDue();
    await settle();
    expect((await store().get(request.requestId))?.state).toBe('EXPIRED');
    await expectGone(creds, session);
  });
});

describe('reconcile: the orphan sweep', () => {
  it('a lease no request knows is revoked (user and session gone), counted and logged; a granted one stays', async () => {
    const { request, creds: grantedCreds } = await grantedWithSession();
    // A lease made with the level's role outside jit-access (or whose grant record was lost).
    const outsider = new VaultCredentialBroker({
      endpoint: stack.vault.url,
      token: () => stack.vault.rootToken,
      clock,
    });
    const orphan = await outsider.mint({
      requestId: 'REQ-0RPHAN77',
      account: 'mallory',
      database: 'orders',
      level: 'read',
      connection: { host: db.host, port: db.port, database: SCHEMA },
      ttlSeconds: 3600,
      wrapTtlSeconds: 300,
    });
    const opened = (
      await vault({ apiVersion: 'v1', endpoint: stack.vault.url, noCustomHTTPVerbs: true, token: '' }).unwrap(
        {
          token: orphan.wrappedToken,
        },
      )
    ).data as WrappedConnection;
    const session = await createConnection({
      host: opened.host,
      port: opened.port,
      user: opened.username,
      password: opened.password,
    });
    session.on('error', () => undefined);
    const counted = vi.spyOn(metrics, 'addMetric');

    // Young enough to be a mint still in flight: left alone.
    await reconcileNow();
    expect(await userExists(orphan.username)).toBe(true);
    expect(counted).toHaveBeenCalledWith('OrphansSwept', 'Count', 0);

    clockNow = new Date(clockNow.getTime() + 6 * 60_000);
    await reconcileNow();
    await expectGone(opened, session);
    expect(stack.vault.leases().some((lease) => lease.id === orphan.leaseId)).toBe(false);
    expect(counted).toHaveBeenCalledWith('OrphansSwept', 'Count', 1);
    expect(logLines.join('\n')).toContain(orphan.leaseId);
    // The live grant's lease is known: untouched.
    expect(await userExists(grantedCreds.username)).toBe(true);
    expect((await store().get(request.requestId))?.state).toBe('GRANTED');
    await reconcileNow();
    expect(
      counted.mock.calls.filter(([name, , value]) => name === 'OrphansSwept' && value === 1),
    ).toHaveLength(1);
  });
});

describe("expiry: Vault's own TTL, with the worker down", () => {
  it('the lease and the token end on their own, and the revocation statements close the session too', async () => {
    const { request, creds, session } = await grantedWithSession();
    stack.topic.subscribe(() => Promise.reject(new Error('worker down')), { redeliverOnError: 0 });
    clockNow = new Date(expireAt(request).getTime() + 1000);
    await stack.vault.tick();
    await expectGone(creds, session);
  });
});
