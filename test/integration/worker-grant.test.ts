import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { type Connection, createConnection } from 'mysql2/promise';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { runCli } from '../../bin/cli.js';
import { type ActiveDirectoryUser, DirectoryAdmin } from '../../local/active-directory.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import type { WrappedConnection } from '../../shared/ports/credential-broker.js';
import { capturingLogger } from '../fixtures/capturing-logger.js';
import { holdToVaultSpec } from '../fixtures/vault-world.js';
import {
  APPROVERS,
  buttonClick,
  decisionPeople,
  decisionStack,
  submittedBy,
} from '../fixtures/decision-stack.js';

/*
 * The grant end to end: the real handlers in the local stack, the Vault emulator configured by
 * `jit-access vault sync` on the run's MariaDB, Samba AD, the Slack and Jira emulators. From a
 * Slack approval to a login as the temporary user through `jit-access creds` and `connect` as a
 * requester types them; and every way the grant can go wrong on the way.
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
let directory: DirectoryAdmin;
/** A person of this file's own, whose account the tests disable; nobody else's tests see them. */
let grace: ActiveDirectoryUser;
const GRACE_SLACK = 'U0GRACE001';

beforeAll(async () => {
  admin = await createConnection({ host: db.host, port: db.port, user: db.user, password: db.password });
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${SCHEMA}`);
  await admin.query(`CREATE TABLE IF NOT EXISTS ${SCHEMA}.items (id INT PRIMARY KEY, name VARCHAR(40))`);
  await admin.query(`INSERT IGNORE INTO ${SCHEMA}.items VALUES (1, 'widget')`);
  directory = await DirectoryAdmin.connect(ad);
  grace = await directory.addUser(`grace${randomUUID().slice(0, 8)}`, ['eng-db-readers']);
  const base = decisionStack(ad);
  stack = await startLocalStack({
    ...base,
    database: db,
    slack: {
      ...base.slack,
      users: [
        ...(base.slack.users ?? []),
        { id: GRACE_SLACK, name: 'grace', realName: 'Grace Engineer', email: grace.mail },
      ],
    },
    clock,
    logger: (service) => capturingLogger(service, logLines),
  });
}, 90_000);

afterAll(async () => {
  await stack?.stop();
  await directory?.close();
  await admin?.end();
});

beforeEach(async () => {
  clockNow = new Date('2026-11-21T10:00:00Z');
  logLines.length = 0;
  stack.vault.unseal();
  await stack.reset();
});

// Every call the worker and the CLI made to Vault, and every answer, as Vault's description has them.
holdToVaultSpec(() => stack.vault);

const store = () => stack.store();
const dmsTo = (slackId: string) => stack.slack.messagesIn(slackId).filter((m) => !m.ephemeral);
const readyDms = (slackId = PEOPLE.alice.slackId) =>
  dmsTo(slackId).filter((m) => m.text.includes('is ready'));
const approversMessage = (requestId: string) =>
  stack.slack.messagesIn(APPROVERS).find((m) => !m.ephemeral && m.text.includes(requestId));
const commentsOn = (ticket: string) =>
  (stack.jira.issue(ticket)?.comments ?? []).map((c) => JSON.stringify(c.body));
const audit = async (requestId: string) => (await store().auditTrail(requestId)).map((e) => e.action);
/** How often Vault was asked for database credentials: one per minted user. */
const mints = () => stack.vault.requests.filter((r) => r.path.startsWith('database/creds/')).length;

async function settle(failedAttempts = 0): Promise<void> {
  await stack.settle();
  expect(stack.topic.failedAttempts()).toHaveLength(failedAttempts);
}

/** A request waiting for approval (alice's, unless another requester is named). */
async function pendingRequest(slackId = PEOPLE.alice.slackId): Promise<AccessRequest> {
  const command = submittedBy({ slackId, userName: 'requester' }, clockNow, {
    target: { database: 'orders', level: 'read' },
  });
  await stack.topic.publish(command);
  await settle();
  const request = (await store().get(command.requestId)) as AccessRequest;
  expect(request.state).toBe('PENDING_APPROVAL');
  return request;
}

/** A button in Slack, clicked: Approve on the approvers' message, or one on the DM. */
async function click(slackId: string, actionId: string, requestId: string, channelId = APPROVERS) {
  const reply = await stack.ack(buttonClick(stack, { slackId, actionId, requestId, channelId }), {});
  expect(reply.statusCode).toBe(200);
}

async function approvedRequest(): Promise<AccessRequest> {
  const pending = await pendingRequest();
  await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
  await settle();
  return (await store().get(pending.requestId)) as AccessRequest;
}

/** The token exactly as the DM shows it in the command to run. */
function tokenIn(message: { blocks?: unknown[] } | undefined): string {
  const match = /jit-access connect (\S+?)(?:`|\\n|")/.exec(JSON.stringify(message?.blocks ?? []));
  if (!match?.[1]) throw new Error('no jit-access connect command in the message');
  return match[1];
}

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    out: (l) => out.push(l),
    err: (l) => err.push(l),
    env: { VAULT_ADDR: stack.vault.url },
  });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

async function credsFor(token: string): Promise<WrappedConnection> {
  const result = await cli(['creds', token, '--format', 'json']);
  expect(result).toMatchObject({ code: 0, err: '' });
  return JSON.parse(result.out) as WrappedConnection;
}

async function userExists(username: string): Promise<boolean> {
  const [rows] = await admin.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [username]);
  return (rows as { n: number }[])[0]?.n === 1;
}

describe('grant: from the approval to a working login', () => {
  it('approved → a DM with a single-use token and no password → creds → a login that can SELECT, not INSERT', async () => {
    const request = await approvedRequest();
    expect(request).toMatchObject({
      state: 'GRANTED',
      grant: {
        leaseId: expect.stringMatching(/^database\/creds\/jit-orders-read\//),
        username: expect.stringContaining(ad.users.engineer.sAMAccountName),
        tokenAccessor: expect.any(String),
        // The duration starts at the grant, not at the request.
        expiresAt: new Date(clockNow.getTime() + request.durationMinutes * 60_000).toISOString(),
      },
    });
    expect(request.grant?.delivery).toBeUndefined();

    const [dm] = readyDms();
    const token = tokenIn(dm);
    expect(token).toMatch(new RegExp(`^${request.requestId}:`));
    // The token is in the message, never in its notification text.
    expect(dm?.text).not.toContain(token.split(':')[1]);

    const creds = await credsFor(token);
    expect(creds).toMatchObject({
      host: db.host,
      port: db.port,
      database: SCHEMA,
      username: request.grant?.username,
      requestId: request.requestId,
      expiresAt: request.grant?.expiresAt,
    });
    const session = await createConnection({
      host: creds.host,
      port: creds.port,
      user: creds.username,
      password: creds.password,
      database: creds.database,
    });
    try {
      const [rows] = await session.query('SELECT name FROM items WHERE id = 1');
      expect(rows).toEqual([{ name: 'widget' }]);
      await expect(session.query("INSERT INTO items VALUES (2, 'gadget')")).rejects.toMatchObject({
        code: 'ER_TABLEACCESS_DENIED_ERROR',
      });
    } finally {
      await session.end();
    }

    // The ticket and the approvers' message say whose user it is and until when; never the password.
    const ticket = request.ticket?.key ?? '';
    expect(stack.jira.issue(ticket)?.status).toBe('Access Granted');
    expect(commentsOn(ticket).at(-1)).toContain(`until ${request.grant?.expiresAt}`);
    expect(commentsOn(ticket).at(-1)).toContain(request.grant?.username);
    expect(JSON.stringify(approversMessage(request.requestId)?.blocks)).toContain('*Granted* until');
    expect(await audit(request.requestId)).toEqual([
      'submit',
      'requester.verified',
      'open',
      'approve',
      'grant.minted',
      'grant',
    ]);
  });

  it('jit-access connect <token>, as typed in a shell, logs in as the temporary user', async () => {
    const request = await approvedRequest();
    const token = tokenIn(readyDms()[0]);
    const run = promisify(execFile);
    const result = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        join(import.meta.dirname, '../../bin/cli-main.ts'),
        'connect',
        token,
        '--',
        '--batch',
        '--skip-column-names',
        '-e',
        'SELECT CURRENT_USER(), DATABASE()',
      ],
      { env: { ...process.env, VAULT_ADDR: stack.vault.url } },
    );
    expect(result.stdout.trim()).toBe(`${request.grant?.username}@%\t${SCHEMA}`);
  });

  it('a token opened twice: the second says it was used, and names the request to report', async () => {
    const request = await approvedRequest();
    const token = tokenIn(readyDms()[0]);
    await credsFor(token);
    const again = await cli(['creds', token]);
    expect(again.code).toBe(2);
    expect(again.err).toContain('already used, or it expired');
    expect(again.err).toContain(`report ${request.requestId} to security`);
    expect(again.out).toBe('');
  });
});

describe('grant: the requester checked again', () => {
  it('a requester disabled in AD between the request and the approval → FAILED, nothing minted, everyone told', async () => {
    const pending = await pendingRequest(GRACE_SLACK);
    await directory.setEnabled(grace.dn, false);
    try {
      await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
      await settle();
    } finally {
      await directory.setEnabled(grace.dn, true);
    }
    const request = (await store().get(pending.requestId)) as AccessRequest;
    expect(request).toMatchObject({ state: 'FAILED', failure: { reason: 'requester_disabled' } });
    expect(request.grant).toBeUndefined();
    expect(mints()).toBe(0);
    expect(dmsTo(GRACE_SLACK).at(-1)?.text).toContain('nothing was granted');
    expect(dmsTo(GRACE_SLACK).at(-1)?.text).toContain('disabled');
    const ticket = request.ticket?.key ?? '';
    expect(stack.jira.issue(ticket)?.status).toBe('Done');
    expect(commentsOn(ticket).at(-1)).toContain('Not granted');
    expect(JSON.stringify(approversMessage(request.requestId)?.blocks)).toContain('*Not granted*');
    expect(await audit(request.requestId)).toContain('fail');
    // The slot is free again: grace can ask anew.
    await pendingRequest(GRACE_SLACK);
  });
});

describe('grant: at-least-once', () => {
  it('the approval delivered three times at once: one user minted, one DM', async () => {
    const pending = await pendingRequest();
    await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
    const decided = stack.topic.published().find((c) => c.type === 'request.decided');
    await settle();
    const worker = stack.worker();
    const event = stack.snsEvent(decided!);
    await Promise.all([1, 2, 3].map(() => worker(event, { awsRequestId: randomUUID() })));
    await Promise.all([1, 2, 3].map(() => stack.worker()(event, { awsRequestId: randomUUID() })));

    const request = (await store().get(pending.requestId)) as AccessRequest;
    expect(request.state).toBe('GRANTED');
    expect(mints()).toBe(1);
    expect(stack.vault.leases()).toHaveLength(1);
    expect(await userExists(request.grant?.username ?? '')).toBe(true);
    expect(readyDms()).toHaveLength(1);
    expect((await audit(pending.requestId)).filter((a) => a === 'grant')).toHaveLength(1);
  });

  it('concurrent first deliveries of the approval: one user minted, one DM', async () => {
    const pending = await pendingRequest();
    stack.subscribeWorker(undefined, { redeliverOnError: 0 });
    const worker = stack.worker();
    await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
    const decided = stack.topic.published().find((c) => c.type === 'request.decided');
    // The subscribed worker and two more containers take the same command together.
    const event = stack.snsEvent(decided!);
    await Promise.all([
      stack.settle(),
      worker(event, { awsRequestId: randomUUID() }),
      stack.worker()(event, { awsRequestId: randomUUID() }),
    ]);
    const request = (await store().get(pending.requestId)) as AccessRequest;
    expect(request.state).toBe('GRANTED');
    expect(mints()).toBe(1);
    expect(readyDms()).toHaveLength(1);
  });

  it('a crash after the mint and before the DM: the redelivery sends the same token, minting nothing', async () => {
    const pending = await pendingRequest();
    stack.slack.failNext('chat.postMessage', {
      error: 'internal_error',
      matching: (params) => String(params.text ?? '').includes('is ready'),
    });
    await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
    await settle(1);

    const request = (await store().get(pending.requestId)) as AccessRequest;
    expect(request.state).toBe('GRANTED');
    expect(mints()).toBe(1);
    expect(readyDms()).toHaveLength(1);
    const creds = await credsFor(tokenIn(readyDms()[0]));
    expect(creds.username).toBe(request.grant?.username);
  });
});

describe('grant: an invocation that died holding the grant', () => {
  it('keeps others off while its lease runs, and a redelivery after it ran out grants', async () => {
    const pending = await pendingRequest();
    stack.vault.seal();
    stack.subscribeWorker(undefined, { redeliverOnError: 0 });
    await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
    await settle(1);
    stack.vault.unseal();
    // As an invocation that crashed mid-mint leaves it: the grant lease held, nothing stored.
    const approved = (await store().get(pending.requestId)) as AccessRequest;
    await store().update(approved.requestId, approved.version, {
      lease: {
        owner: 'grant:crashed-invocation',
        until: new Date(clockNow.getTime() + 30_000).toISOString(),
      },
    });
    const decided = stack.topic.published().find((c) => c.type === 'request.decided');
    await stack.topic.publish(decided!);
    await settle(1);
    expect((await store().get(pending.requestId))?.state).toBe('APPROVED');
    expect(mints()).toBe(0);

    clockNow = new Date(clockNow.getTime() + 31_000);
    await stack.topic.publish(decided!);
    await settle(1);
    expect((await store().get(pending.requestId))?.state).toBe('GRANTED');
    expect(readyDms()).toHaveLength(1);
  });
});

describe('grant: Vault unavailable', () => {
  it('Vault sealed: retried, each attempt recorded, then FAILED with the requester, ticket and approvers told', async () => {
    const pending = await pendingRequest();
    stack.vault.seal();
    await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
    // Lambda's two retries: the third attempt is the last, and ends the request.
    await settle(2);

    const request = (await store().get(pending.requestId)) as AccessRequest;
    expect(request).toMatchObject({ state: 'FAILED', failure: { reason: 'broker_unavailable' } });
    const trail = await audit(pending.requestId);
    expect(trail.filter((a) => a === 'grant.attempt_failed')).toHaveLength(2);
    expect(trail.at(-1)).toBe('fail');
    expect(dmsTo(PEOPLE.alice.slackId).at(-1)?.text).toContain('Vault could not be reached');
    expect(stack.jira.issue(request.ticket?.key ?? '')?.status).toBe('Done');
    expect(commentsOn(request.ticket?.key ?? '').at(-1)).toContain('Not granted');
    expect(JSON.stringify(approversMessage(request.requestId)?.blocks)).toContain('*Not granted*');
  });

  it('Vault back before the last attempt: granted, once', async () => {
    const pending = await pendingRequest();
    stack.vault.seal();
    stack.subscribeWorker(undefined, { redeliverOnError: 0 });
    await click(PEOPLE.bob.slackId, 'request.approve', pending.requestId);
    await settle(1);
    expect((await store().get(pending.requestId))?.state).toBe('APPROVED');

    stack.vault.unseal();
    stack.subscribeWorker();
    const decided = stack.topic.published().find((c) => c.type === 'request.decided');
    await stack.topic.publish(decided!);
    await settle(1);
    expect((await store().get(pending.requestId))?.state).toBe('GRANTED');
    expect(readyDms()).toHaveLength(1);
  });
});

describe('grant: a fresh token', () => {
  it('the requester asks for one: a new user, the old one revoked, the new token logs in', async () => {
    const granted = await approvedRequest();
    const oldUser = granted.grant?.username ?? '';
    const dmChannel = stack.slack.dmChannelOf(PEOPLE.alice.slackId) ?? '';
    clockNow = new Date('2026-11-21T10:20:00Z');
    await click(PEOPLE.alice.slackId, 'grant.reissue', granted.requestId, dmChannel);
    await settle();

    const request = (await store().get(granted.requestId)) as AccessRequest;
    expect(request.state).toBe('GRANTED');
    expect(request.grant?.username).not.toBe(oldUser);
    // The grant still ends when it did: a fresh token is not more time.
    expect(request.grant?.expiresAt).toBe(granted.grant?.expiresAt);
    expect(request.grant?.superseded).toEqual([]);
    expect(await userExists(oldUser)).toBe(false);
    expect(mints()).toBe(2);

    const fresh = readyDms().at(-1);
    expect(JSON.stringify(fresh?.blocks)).toContain('the previous one is revoked');
    const creds = await credsFor(tokenIn(fresh));
    expect(creds.username).toBe(request.grant?.username);
    const session = await createConnection({ ...creds, user: creds.username });
    await session.query(`SELECT COUNT(*) FROM ${SCHEMA}.items`);
    await session.end();
    expect(commentsOn(request.ticket?.key ?? '').at(-1)).toContain(`replaces`);
    expect(await audit(request.requestId)).toContain('grant.reissued');
  });

  it('someone else clicking it gets nothing, and is told why', async () => {
    const granted = await approvedRequest();
    await click(PEOPLE.bob.slackId, 'grant.reissue', granted.requestId);
    await settle();
    expect((await store().get(granted.requestId))?.grant?.username).toBe(granted.grant?.username);
    expect(mints()).toBe(1);
    expect(dmsTo(PEOPLE.bob.slackId).at(-1)?.text).toContain('only the person the access was granted to');
  });
});

describe('grant: the password goes nowhere but the wrap', () => {
  it('is in no log line, Slack call, Jira ticket, audit event, stored request or command', async () => {
    const granted = await approvedRequest();
    const dmChannel = stack.slack.dmChannelOf(PEOPLE.alice.slackId) ?? '';
    await click(PEOPLE.alice.slackId, 'grant.reissue', granted.requestId, dmChannel);
    await settle();
    // A failed grant too: its errors and notices are scanned as well.
    const other = await pendingRequest(GRACE_SLACK);
    stack.vault.seal();
    await click(PEOPLE.bob.slackId, 'request.approve', other.requestId);
    await settle(2);
    stack.vault.unseal();

    const passwords = [];
    for (const dm of readyDms()) passwords.push((await credsFor(tokenIn(dm))).password);
    expect(passwords).toHaveLength(2);
    const everything = [
      logLines.join('\n'),
      JSON.stringify(stack.slack.calls.map((c) => c.rawBody)),
      JSON.stringify(stack.jira.issues()),
      JSON.stringify(await store().auditTrail(granted.requestId)),
      JSON.stringify(await store().auditTrail(other.requestId)),
      JSON.stringify(await store().get(granted.requestId)),
      JSON.stringify(await store().get(other.requestId)),
      JSON.stringify(stack.topic.published()),
      JSON.stringify(stack.topic.failedAttempts().map((e) => (e instanceof Error ? e.message : String(e)))),
    ].join('\n');
    for (const password of passwords) {
      expect(password.length).toBeGreaterThanOrEqual(16);
      expect(everything).not.toContain(password);
    }
    // Nor the wrapping tokens in any log line.
    for (const dm of readyDms()) expect(logLines.join('\n')).not.toContain(tokenIn(dm).split(':')[1]);
  });
});
