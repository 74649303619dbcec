import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it, vi } from 'vitest';
import { jiraWebhookEvent } from '../../local/function-url.js';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import { blockActions, slashCommand, viewSubmission } from '../../local/slack/signed-request.js';
import { jiraWebhookSignature } from '../../shared/adapters/jira/webhook-verification.js';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import type { TopicCommand } from '../../shared/messages/commands.js';
import { capturingLogger as captureLogs } from '../fixtures/capturing-logger.js';
import {
  APPROVERS,
  decisionPeople,
  decisionStack,
  type Person,
  submittedBy,
  TEAM,
} from '../fixtures/decision-stack.js';

/*
 * Decisions end to end, on the real Samba AD and dynalite, with the Slack, Jira and SNS emulators:
 * Slack buttons go through the ack Lambda, Jira moves through signed webhooks to the jira-webhook
 * Lambda, both publish to the topic, and the worker decides. An approval goes on to the grant
 * (the Vault emulator on the run's MariaDB): tests check it happened, or that nothing was minted
 * when nothing was approved; worker-grant.test.ts covers the credential itself.
 */

const ad = inject('activeDirectory');
const db = inject('mariadb');
const PEOPLE = decisionPeople(ad);

let clockNow = new Date('2026-11-21T10:00:00Z');
const clock = { now: () => clockNow };
const logLines: string[] = [];
const metrics = new Metrics({ namespace: 'jit-access-test' });
let stack: LocalStack;
// Set once the stack is up; the tests below read them as they read any emulator.
let slack: LocalStack['slack'];
let jira: LocalStack['jira'];

const store = () => stack.store();

beforeAll(async () => {
  // The SNS emulator, not the in-process topic: the ack and jira-webhook Lambdas publish through
  // their own SNS client over HTTP, as in AWS.
  stack = await startLocalStack({
    ...decisionStack(ad),
    database: db,
    clock,
    topic: 'sns',
    logger: (service) => captureLogs(service, logLines),
    metrics,
  });
  ({ slack, jira } = stack);
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  clockNow = new Date('2026-11-21T10:00:00Z');
  logLines.length = 0;
  vi.restoreAllMocks();
  await stack.reset();
});

/** Lets every webhook, topic message and the ticket moves they cause play out. */
async function settle(options: { failedAttempts?: number } = {}): Promise<void> {
  await stack.settle();
  expect(stack.topic.failedAttempts()).toHaveLength(options.failedAttempts ?? 0);
}

/** A request from alice, verified and waiting for approval, with its ticket and approvers message. */
async function pendingRequest(
  level: 'read' | 'write' = 'read',
): Promise<{ requestId: string; ticket: string }> {
  const command = submittedBy({ slackId: PEOPLE.alice.slackId, userName: 'alice' }, clockNow, {
    target: { database: 'orders', level },
  });
  await publishCommand(command);
  await settle();
  const request = await store().get(command.requestId);
  expect(request?.state).toBe('PENDING_APPROVAL');
  return { requestId: command.requestId, ticket: request?.ticket?.key ?? '' };
}

const approversMessage = (requestId: string) =>
  slack.messagesIn(APPROVERS).find((m) => !m.ephemeral && m.text.includes(requestId));

/** `person` clicks Approve on the approvers' message. */
async function clickApprove(
  person: Person,
  requestId: string,
  actionTs = `${Date.now() / 1000}`,
  channelId = APPROVERS,
) {
  const message = approversMessage(requestId);
  const reply = await stack.ack(
    stack.signed(
      blockActions({
        actions: [{ action_id: 'request.approve', value: requestId, type: 'button', action_ts: actionTs }],
        userId: PEOPLE[person].slackId,
        userName: person,
        teamId: TEAM,
        channel: { id: channelId },
        message: { ts: message?.ts ?? '1.1' },
        responseUrl: slack.newResponseUrl(),
      }),
    ),
    {},
  );
  expect(reply.statusCode).toBe(200);
}

/** `person` clicks Deny and submits the reason form. */
async function clickDeny(person: Person, requestId: string, reason = 'use the read replica instead') {
  const message = approversMessage(requestId);
  const reply = await stack.ack(
    stack.signed(
      viewSubmission({
        userId: PEOPLE[person].slackId,
        userName: person,
        teamId: TEAM,
        view: {
          callback_id: 'request.deny_reason',
          private_metadata: JSON.stringify({ requestId, channelId: APPROVERS, ts: message?.ts }),
          state: {
            values: { deny_reason: { 'deny_reason.input': { type: 'plain_text_input', value: reason } } },
          },
        },
      }),
    ),
    {},
  );
  expect(reply.statusCode).toBe(200);
}

/** `person` moves the ticket in Jira's UI; the signed webhook follows. */
function jiraMove(person: Person, ticket: string, transition: 'Approve' | 'Decline' | 'Back to review') {
  jira.transitionAs(ticket, PEOPLE[person].jiraId, transition);
}

/** Publishes through the real SNS client, as the ack Lambda does. */
const publishCommand = (command: TopicCommand) => stack.topic.publish(command);

const audit = async (requestId: string) => (await store().auditTrail(requestId)).map((e) => e.action);
const ephemeralsTo = (person: Person) =>
  slack.messagesIn(APPROVERS).filter((m) => m.ephemeral && m.user === PEOPLE[person].slackId);
const dmsTo = (person: Person) => slack.messagesIn(PEOPLE[person].slackId).filter((m) => !m.ephemeral);
const commentsOn = (ticket: string) =>
  (jira.issue(ticket)?.comments ?? []).map((c) => JSON.stringify(c.body));
const hasButtons = (requestId: string) =>
  JSON.stringify(approversMessage(requestId)?.blocks).includes('request.approve');

/** The audit trail of a request approved at once and granted. */
const APPROVED_TRAIL = ['submit', 'requester.verified', 'open', 'approve', 'grant.minted', 'grant'];

/** What an approval leads to: the temporary user minted, its token sent, the ticket moved on. */
async function expectGranted(requestId: string) {
  const request = (await store().get(requestId)) as AccessRequest;
  expect(request.state).toBe('GRANTED');
  const trail = await audit(requestId);
  expect(trail.filter((a) => a === 'grant.minted' || a === 'grant')).toEqual(['grant.minted', 'grant']);
  expect(dmsTo('alice').filter((m) => m.text.includes('is ready'))).toHaveLength(1);
}

/** Nothing past the decision: nothing approved, so nothing was minted. */
async function expectNothingMinted(requestId: string) {
  const request = (await store().get(requestId)) as AccessRequest;
  expect(['GRANTED', 'EXPIRED', 'REVOKED', 'FAILED']).not.toContain(request.state);
  expect(await audit(requestId)).not.toContain('grant');
  expect(jira.issue(request.ticket?.key ?? '')?.status).not.toBe('Access Granted');
}

describe('decisions: the done-when paths', () => {
  it('a Jira approval (signed webhook) by an approver two groups deep → APPROVED, told everywhere', async () => {
    const { requestId, ticket } = await pendingRequest();
    jiraMove('frank', ticket, 'Approve');
    await settle();

    const request = await store().get(requestId);
    expect(request).toMatchObject({
      state: 'GRANTED',
      approvals: [
        { account: 'frank', channel: 'jira', actorId: PEOPLE.frank.jiraId, via: ad.groups['db-approvers'] },
      ],
      decision: { outcome: 'approved', channel: 'jira', account: 'frank' },
      effects: { ticket: true, approversMessage: true, requester: true },
    });
    expect(jira.issue(ticket)?.status).toBe('Access Granted');
    expect(commentsOn(ticket).join()).toContain('Approved');
    expect(hasButtons(requestId)).toBe(false);
    expect(JSON.stringify(approversMessage(requestId)?.blocks)).toContain('*Approved* by frank in Jira');
    expect(dmsTo('alice').map((m) => m.text)).toContain(`Request ${requestId} was approved.`);
    expect(await audit(requestId)).toEqual(APPROVED_TRAIL);
    await expectGranted(requestId);
  });

  it('a Slack Approve by an approver through a nested group → APPROVED, ticket transitioned and commented', async () => {
    const { requestId, ticket } = await pendingRequest();
    await clickApprove('bob', requestId);
    await settle();

    expect(await store().get(requestId)).toMatchObject({
      state: 'GRANTED',
      approvals: [{ account: 'bob', channel: 'slack', via: ad.groups['db-approvers'] }],
    });
    const issue = jira.issue(ticket);
    expect(issue?.status).toBe('Access Granted');
    // Moved by jit-access through the workflow's own transition, looked up by its target status.
    expect(issue?.history.at(-2)).toMatchObject({
      from: 'To Do',
      to: 'Approved',
      accountId: jira.appUser.accountId,
    });
    // The decision's comment; the grant's follows it.
    expect(commentsOn(ticket).at(-2)).toContain('bob');
    expect(commentsOn(ticket).at(-2)).toContain(' (in Slack)');
    const message = approversMessage(requestId);
    // Updated twice: the approval, then the grant.
    expect(message?.history).toHaveLength(2);
    expect(JSON.stringify(message?.blocks)).toContain('*Approved* by <@U0BOB0001> (bob) in Slack');
    expect(hasButtons(requestId)).toBe(false);
    expect(dmsTo('alice').map((m) => m.text)).toContain(`Request ${requestId} was approved.`);
    // The echo of jit-access's own move came back as a webhook and was ignored.
    expect(jira.webhookDeliveries().some((d) => d.status === 204)).toBe(true);
    expect(await audit(requestId)).toEqual(APPROVED_TRAIL);
    await expectGranted(requestId);
  });
});

describe('decisions: who may approve', () => {
  it.each([
    ['the requester (in an approver group)', 'alice', 'own_request', 'you cannot decide on your own request'],
    ['a user in no approver group', 'dave', 'not_approver', 'only members of db-approvers or eng-db-readers'],
    ['a disabled approver', 'carol', 'disabled', 'your directory account is disabled'],
    ["a guest carrying an approver's e-mail", 'guest', 'not_member', 'your Slack account is a guest account'],
    [
      'someone from another organisation (Slack Connect)',
      'outsider',
      'not_member',
      'belongs to another organisation',
    ],
    ['an account whose e-mail Slack has not confirmed', 'unconfirmed', 'not_member', 'has not confirmed'],
  ] as const)(
    'refuses a Slack approval by %s: still pending, told, recorded',
    async (_who, person, kind, text) => {
      const { requestId, ticket } = await pendingRequest();
      await clickApprove(person, requestId);
      await settle();

      expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
      expect(ephemeralsTo(person).map((m) => m.text)).toEqual([expect.stringContaining(text)]);
      const trail = await store().auditTrail(requestId);
      expect(trail.at(-1)).toMatchObject({
        action: 'approve.refused',
        channel: 'slack',
        reason: expect.stringContaining(kind),
      });
      expect(jira.issue(ticket)?.status).toBe('To Do');
      expect(hasButtons(requestId)).toBe(true);
      await expectNothingMinted(requestId);
    },
  );

  it('tells a refused clicker by DM when the channel cannot show them an ephemeral message', async () => {
    slack.addChannel({ id: 'C0PRIVATE', name: 'dba-private', members: [PEOPLE.bob.slackId] });
    const { requestId } = await pendingRequest();
    await clickApprove('dave', requestId, undefined, 'C0PRIVATE');
    await settle();
    expect(dmsTo('dave').map((m) => m.text)).toEqual([expect.stringContaining('only members of')]);
  });

  it.each([
    ['the requester', 'alice', 'you cannot decide on your own request'],
    ['a user in no approver group', 'dave', 'only members of'],
    ['a disabled approver', 'carol', 'your directory account is disabled'],
    ['an approver whose profile hides the e-mail', 'hidden', 'does not show your e-mail address'],
  ] as const)(
    'refuses a Jira approval by %s: commented, ticket moved back, still pending',
    async (_who, person, text) => {
      const { requestId, ticket } = await pendingRequest();
      jiraMove(person, ticket, 'Approve');
      await settle();

      expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
      expect(jira.issue(ticket)?.status).toBe('To Do');
      const comment = jira.issue(ticket)?.comments.at(-1);
      expect(JSON.stringify(comment?.body)).toContain(text);
      expect(JSON.stringify(comment?.body)).toContain(PEOPLE[person].jiraId);
      expect((await store().auditTrail(requestId)).at(-1)).toMatchObject({
        action: 'approve.refused',
        channel: 'jira',
      });
      await expectNothingMinted(requestId);
    },
  );

  it('takes a second approval, when one is needed, once: the second approver is told it is already approved', async () => {
    const { requestId } = await pendingRequest();
    await clickApprove('bob', requestId);
    await settle();
    await clickApprove('frank', requestId);
    await settle();

    const request = await store().get(requestId);
    expect(request?.state).toBe('GRANTED');
    expect(request?.approvals?.map((a) => a.account)).toEqual(['bob']);
    expect(ephemeralsTo('frank').map((m) => m.text)).toEqual([expect.stringContaining('already granted')]);
    expect((await audit(requestId)).filter((a) => a === 'approve')).toHaveLength(1);
    expect(dmsTo('alice').filter((m) => m.text.includes('was approved'))).toHaveLength(1);
    await expectGranted(requestId);
  });

  it('two approvals needed, the same person twice (Slack, then Jira) → still pending', async () => {
    const { requestId, ticket } = await pendingRequest('write');
    await clickApprove('bob', requestId);
    await settle();
    jiraMove('bob', ticket, 'Approve');
    await settle();

    const request = await store().get(requestId);
    expect(request?.state).toBe('PENDING_APPROVAL');
    expect(request?.approvals?.map((a) => a.account)).toEqual(['bob']);
    expect(jira.issue(ticket)?.status).toBe('To Do');
    expect(JSON.stringify(jira.issue(ticket)?.comments.at(-1)?.body)).toContain(
      'your approval is already recorded',
    );
    expect(JSON.stringify(approversMessage(requestId)?.blocks)).toContain('(1 of 2)');
    expect(hasButtons(requestId)).toBe(true);
    await expectNothingMinted(requestId);
  });

  it('two approvals needed, two approvers (Jira, then Slack) → APPROVED once both are in', async () => {
    const { requestId, ticket } = await pendingRequest('write');
    jiraMove('frank', ticket, 'Approve');
    await settle();
    // One of two: the ticket goes back to review and says so.
    expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
    expect(jira.issue(ticket)?.status).toBe('To Do');
    expect(commentsOn(ticket).at(-1)).toContain('Approval 1 of 2 recorded');

    await clickApprove('bob', requestId);
    await settle();
    const request = await store().get(requestId);
    expect(request?.state).toBe('GRANTED');
    expect(request?.approvals?.map((a) => `${a.account}/${a.channel}`)).toEqual(['frank/jira', 'bob/slack']);
    expect(jira.issue(ticket)?.status).toBe('Access Granted');
    expect(await audit(requestId)).toEqual([
      'submit',
      'requester.verified',
      'open',
      'approval.recorded',
      'approve',
      'grant.minted',
      'grant',
    ]);
    await expectGranted(requestId);
  });
});

describe('decisions: a request decides once', () => {
  it('refuses an approval after a denial, and tells the approver', async () => {
    const { requestId, ticket } = await pendingRequest();
    await clickDeny('bob', requestId, 'use the read replica instead');
    await settle();
    expect(await store().get(requestId)).toMatchObject({
      state: 'DENIED',
      decision: { outcome: 'denied', account: 'bob', reason: 'use the read replica instead' },
    });
    expect(jira.issue(ticket)?.status).toBe('Declined');
    expect(commentsOn(ticket).at(-1)).toContain('Reason: use the read replica instead');
    expect(JSON.stringify(dmsTo('alice').at(-1)?.blocks)).toContain('use the read replica instead');

    await clickApprove('frank', requestId);
    jiraMove('frank', ticket, 'Approve');
    await settle();
    expect((await store().get(requestId))?.state).toBe('DENIED');
    expect(ephemeralsTo('frank').map((m) => m.text)).toEqual([expect.stringContaining('already denied')]);
    // The Jira move is undone: the ticket goes back to the status of the real outcome.
    expect(jira.issue(ticket)?.status).toBe('Declined');
    expect((await audit(requestId)).filter((a) => a === 'approve.refused')).toHaveLength(2);
    await expectNothingMinted(requestId);
  });

  it('refuses a denial after an approval', async () => {
    const { requestId, ticket } = await pendingRequest();
    await clickApprove('bob', requestId);
    await settle();
    // Slack only: by now the ticket is in Access Granted, from which the workflow offers no Decline.
    await clickDeny('frank', requestId);
    await settle();
    expect((await store().get(requestId))?.state).toBe('GRANTED');
    expect(jira.issue(ticket)?.status).toBe('Access Granted');
    expect((await audit(requestId)).filter((a) => a === 'deny.refused')).toHaveLength(1);
    expect(dmsTo('alice').filter((m) => m.text.includes('denied'))).toHaveLength(0);
    await expectGranted(requestId);
  });

  it('the Slack and Jira paths racing on the same request end in exactly one outcome', async () => {
    const { requestId, ticket } = await pendingRequest();
    // frank approves in Jira while bob denies in Slack; both reach the worker together.
    jiraMove('frank', ticket, 'Approve');
    await Promise.all([clickDeny('bob', requestId), jira.deliverWebhooks()]);
    await settle();

    const request = (await store().get(requestId)) as AccessRequest;
    expect(['GRANTED', 'DENIED']).toContain(request.state);
    const trail = await audit(requestId);
    expect(trail.filter((a) => a === 'approve' || a === 'deny')).toHaveLength(1);
    expect(trail.filter((a) => a.endsWith('.refused'))).toHaveLength(1);
    // The ticket ends where the request is, whichever side won.
    expect(jira.issue(ticket)?.status).toBe(request.state === 'GRANTED' ? 'Access Granted' : 'Declined');
    expect(dmsTo('alice').filter((m) => /was (approved|denied)/.test(m.text))).toHaveLength(1);
    if (request.state === 'GRANTED') await expectGranted(requestId);
    else await expectNothingMinted(requestId);
  });
});

describe('decisions: failures on the way', () => {
  it('Jira refusing the transition does not hold the decision back: approved, told, and audited', async () => {
    const { requestId, ticket } = await pendingRequest();
    jira.failNext('doTransition', { status: 403, body: { errorMessages: ['You do not have permission'] } });
    await clickApprove('bob', requestId);
    await settle();
    expect(await store().get(requestId)).toMatchObject({ state: 'GRANTED', effects: { ticket: true } });
    expect(jira.issue(ticket)?.status).toBe('To Do');
    expect(await store().auditTrail(requestId)).toContainEqual(
      expect.objectContaining({ action: 'ticket.not_updated', reason: expect.stringContaining('403') }),
    );
    expect(dmsTo('alice').map((m) => m.text)).toContain(`Request ${requestId} was approved.`);
    expect(hasButtons(requestId)).toBe(false);
  });

  it('Slack failing after the decision was stored: the redelivery finishes the rest, nothing twice', async () => {
    const { requestId, ticket } = await pendingRequest();
    slack.failNext('chat.update', { error: 'internal_error' });
    await clickApprove('bob', requestId);
    await settle({ failedAttempts: 1 });
    expect(await store().get(requestId)).toMatchObject({
      state: 'GRANTED',
      effects: { ticket: true, approversMessage: true, requester: true },
    });
    expect(jira.issue(ticket)?.history.filter((h) => h.to === 'Approved')).toHaveLength(1);
    // The decision and the grant, each once.
    expect(commentsOn(ticket)).toHaveLength(2);
    expect(approversMessage(requestId)?.history).toHaveLength(2);
    expect(dmsTo('alice').filter((m) => m.text.includes('was approved'))).toHaveLength(1);
    expect((await audit(requestId)).filter((a) => a === 'approve')).toHaveLength(1);
  });

  it('the directory down during a decision → the delivery fails for a retry; the retry decides', async () => {
    const { requestId } = await pendingRequest();
    // Nothing listens on port 9 of the loopback: this worker cannot reach a directory.
    stack.subscribeWorker(stack.worker({}, { LDAP_URL: 'ldaps://127.0.0.1:9' }), { redeliverOnError: 0 });
    await clickApprove('bob', requestId);
    await settle({ failedAttempts: 1 });
    expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
    // Nobody was told anything wrong: the approval is neither refused nor lost.
    expect(ephemeralsTo('bob')).toHaveLength(0);
    expect(await audit(requestId)).not.toContain('approve.refused');

    stack.subscribeWorker(stack.worker(), { redeliverOnError: 0 });
    const decided = stack.topic.published().find((c) => c.type === 'request.decided');
    await publishCommand(decided!);
    await settle({ failedAttempts: 1 });
    expect(await store().get(requestId)).toMatchObject({
      state: 'GRANTED',
      approvals: [{ account: 'bob' }],
    });
  });
});

describe('the jira-webhook Lambda', () => {
  /** The exact body Jira sends for frank approving, captured without anyone acting on it. */
  async function capturedApproval(): Promise<{ requestId: string; ticket: string; body: string }> {
    const { requestId, ticket } = await pendingRequest();
    const [body = ''] = await stack.captureWebhooks(() => jiraMove('frank', ticket, 'Approve'));
    expect(body).toContain('jira:issue_updated');
    return { requestId, ticket, body };
  }

  const webhookEvent = (body: string, headers: Record<string, string>) =>
    jiraWebhookEvent(body, headers, clockNow);

  it.each([
    ['forged', (body: string) => ({ body, headers: { 'x-hub-signature': `sha256=${'0f'.repeat(32)}` } })],
    ['unsigned', (body: string) => ({ body, headers: {} as Record<string, string> })],
    [
      're-signed with a wrong secret',
      (body: string) => ({
        body,
        headers: { 'x-hub-signature': jiraWebhookSignature('not-the-secret-0123456789', body) },
      }),
    ],
    [
      'signed, then edited to name another approver',
      (body: string) => ({
        body: body.replaceAll(PEOPLE.frank.jiraId, PEOPLE.bob.jiraId),
        headers: { 'x-hub-signature': jiraWebhookSignature(stack.webhookSecret, body) },
      }),
    ],
  ])('answers a %s webhook 401 and queues nothing', async (_case, make) => {
    const { requestId, body } = await capturedApproval();
    const before = stack.topic.published().length;
    const attempt = make(body);
    const reply = await stack.jiraWebhook(
      webhookEvent(attempt.body, { ...attempt.headers, 'x-atlassian-webhook-identifier': randomUUID() }),
      {},
    );
    expect(reply.statusCode).toBe(401);
    await settle();
    expect(stack.topic.published()).toHaveLength(before);
    expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
    await expectNothingMinted(requestId);
  });

  it('takes the genuine body, signed with the secret, as one approval', async () => {
    const { requestId, body } = await capturedApproval();
    const reply = await stack.jiraWebhook(
      webhookEvent(body, {
        'x-hub-signature': jiraWebhookSignature(stack.webhookSecret, body),
        'x-atlassian-webhook-identifier': randomUUID(),
      }),
      {},
    );
    expect(reply.statusCode).toBe(202);
    await settle();
    expect((await store().get(requestId))?.state).toBe('GRANTED');
  });

  const signedWebhook = (body: string) =>
    webhookEvent(body, {
      'x-hub-signature': jiraWebhookSignature(stack.webhookSecret, body),
      'x-atlassian-webhook-identifier': randomUUID(),
    });

  it.each([
    ['getCurrentUser', 401, 'JIRA_API_TOKEN'],
    ['getCurrentUser', 403, 'Jira permissions'],
    ['getIssue', 403, 'Jira permissions'],
    ['getIssue', 400, "catalog's jira settings"],
    ['getIssue', 410, 'upgrade jit-access'],
    ['getCurrentUser', 404, 'jira.projectKey'],
  ] as const)(
    'Jira answering its %s with %i: 424 (final, not retried), the setting to fix logged and counted, nothing queued',
    async (operation, status, setting) => {
      const { requestId, body } = await capturedApproval();
      const before = stack.topic.published().length;
      const counted = vi.spyOn(metrics, 'addMetric');
      jira.failNext(operation, { status, times: 5 });
      // A cold container: its own account id is not cached yet, so /myself is asked.
      const reply = await stack.jiraWebhookWith()(signedWebhook(body), {});
      expect(reply.statusCode).toBe(424);
      expect(stack.topic.published()).toHaveLength(before);
      expect(counted).toHaveBeenCalledWith('JiraRefusedOwnCall', 'Count', 1);
      const line = logLines.find((l) => l.includes('Jira refused jit-access for good'));
      expect(line).toContain(setting);
      expect(line).not.toContain(jira.credentials.apiToken);
      expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
    },
  );

  it('Jira unreachable for its own calls: 503, so Jira delivers the webhook again', async () => {
    const { body } = await capturedApproval();
    jira.failNext('getCurrentUser', { status: 503, times: 5 });
    expect((await stack.jiraWebhookWith()(signedWebhook(body), {})).statusCode).toBe(503);
  });

  it('a signed change whose status name is longer than the contract allows: 422, nothing queued', async () => {
    const { requestId, body } = await capturedApproval();
    const before = stack.topic.published().length;
    const long = body.replace('"fromString":"To Do"', `"fromString":"${'T'.repeat(300)}"`);
    expect(long).not.toBe(body);
    const reply = await stack.jiraWebhook(signedWebhook(long), {});
    expect(reply.statusCode).toBe(422);
    expect(stack.topic.published()).toHaveLength(before);
    expect(logLines.join('\n')).toContain('jira.fromStatus');
    expect(logLines.join('\n')).not.toContain('T'.repeat(300));
    expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
  });

  it('takes header names in any case, and never logs a header value that is oversized or odd', async () => {
    const { requestId, body } = await capturedApproval();
    const reply = await stack.jiraWebhook(
      {
        ...webhookEvent(body, {}),
        headers: {
          'Content-Type': 'application/json; charset=utf-8',
          'X-Hub-Signature': jiraWebhookSignature(stack.webhookSecret, body),
          'X-Atlassian-Webhook-Identifier': 'x'.repeat(20_000),
          'User-Agent': 'y'.repeat(20_000),
        },
      },
      {},
    );
    expect(reply.statusCode).toBe(202);
    await settle();
    expect((await store().get(requestId))?.state).toBe('GRANTED');
    for (const line of logLines) expect(line.length).toBeLessThan(2_000);
    expect(logLines.join('\n')).not.toContain('xxxxxxxx');
  });

  it('acts once on the same webhook delivered three times', async () => {
    const { requestId, ticket } = await pendingRequest();
    jiraMove('frank', ticket, 'Approve');
    const [event] = jira.pendingWebhooks();
    await settle();
    // Jira's duplicates carry the same identifier and body. The ticket has moved on to Access
    // Granted, so the Lambda's re-read finds no decision to queue: 204, nothing published.
    const published = stack.topic.published().length;
    expect(await jira.redeliverWebhook(event?.identifier ?? '')).toBe(204);
    expect(await jira.redeliverWebhook(event?.identifier ?? '')).toBe(204);
    expect(stack.topic.published()).toHaveLength(published);
    await settle();

    const request = await store().get(requestId);
    expect(request?.state).toBe('GRANTED');
    expect(request?.approvals?.map((a) => a.account)).toEqual(['frank']);
    expect(await audit(requestId)).toEqual(APPROVED_TRAIL);
    expect(commentsOn(ticket)).toHaveLength(2);
    expect(dmsTo('alice').filter((m) => m.text.includes('was approved'))).toHaveLength(1);
    expect(approversMessage(requestId)?.history).toHaveLength(2);
    await expectGranted(requestId);
  });

  it('a repeated partial approval is stale once the ticket went back to review, and changes nothing', async () => {
    const { requestId, ticket } = await pendingRequest('write');
    jiraMove('frank', ticket, 'Approve');
    const [event] = jira.pendingWebhooks();
    await settle();
    expect(await jira.redeliverWebhook(event?.identifier ?? '')).toBe(204);
    await settle();
    expect((await store().get(requestId))?.approvals?.map((a) => a.account)).toEqual(['frank']);
    expect((await audit(requestId)).filter((a) => a === 'approval.recorded')).toHaveLength(1);
  });

  it('ignores a webhook whose status no longer matches the ticket (late, out of order)', async () => {
    const { requestId, ticket } = await pendingRequest();
    jiraMove('frank', ticket, 'Approve');
    jiraMove('frank', ticket, 'Back to review');
    // Delivered newest first: by the time "→ Approved" arrives, Jira says To Do.
    await jira.deliverWebhooks({ order: 'lifo' });
    await settle();
    expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
    expect(jira.webhookDeliveries().map((d) => d.status)).toEqual([204, 204]);
    expect(logLines.join('\n')).toContain('status_moved_on');
  });

  it('answers 204 to events it does not act on, and queues nothing', async () => {
    const { ticket } = await pendingRequest();
    const before = stack.topic.published().length;
    jira.commentAs(ticket, PEOPLE.bob.jiraId, 'Looks fine to me, approving in a minute');
    await jira.deliverWebhooks();
    expect(jira.webhookDeliveries().at(-1)?.status).toBe(204);
    expect(stack.topic.published()).toHaveLength(before);
  });

  it('never logs the webhook secret, the Jira token, the Slack token or a raw body', async () => {
    const { requestId, ticket } = await pendingRequest();
    jiraMove('frank', ticket, 'Approve');
    await settle();
    expect((await store().get(requestId))?.state).toBe('GRANTED');
    const logs = logLines.join('\n');
    for (const secret of [stack.webhookSecret, jira.credentials.apiToken, slack.token, stack.signingSecret]) {
      expect(logs).not.toContain(secret);
    }
    expect(logs).not.toContain('changelog');
    expect(logs).not.toContain('sha256=');
  });
});

describe('cancel', () => {
  async function cancel(person: Person, requestId: string) {
    const reply = await stack.ack(
      stack.signed(
        slashCommand({
          text: `cancel ${requestId}`,
          userId: PEOPLE[person].slackId,
          userName: person,
          teamId: TEAM,
          channelId: 'C0INCIDENT',
        }),
      ),
      {},
    );
    expect(reply.statusCode).toBe(200);
    await settle();
  }

  it('by the requester while pending → CANCELLED, ticket commented and closed, buttons gone', async () => {
    const { requestId, ticket } = await pendingRequest();
    await cancel('alice', requestId);
    expect(await store().get(requestId)).toMatchObject({
      state: 'CANCELLED',
      decision: { outcome: 'cancelled' },
    });
    expect(jira.issue(ticket)?.status).toBe('Done');
    expect(commentsOn(ticket).at(-1)).toContain('Cancelled');
    expect(hasButtons(requestId)).toBe(false);
    expect(dmsTo('alice').at(-1)?.text).toBe(`Request ${requestId} is cancelled.`);
    // The slot is free again: alice can ask anew for the same level.
    await pendingRequest();
  });

  it('refuses someone else cancelling, and cancelling a decided request', async () => {
    const { requestId } = await pendingRequest();
    await cancel('bob', requestId);
    expect((await store().get(requestId))?.state).toBe('PENDING_APPROVAL');
    expect(dmsTo('bob').at(-1)?.text).toContain('only the person who made the request can cancel it');

    await clickApprove('frank', requestId);
    await settle();
    await cancel('alice', requestId);
    expect((await store().get(requestId))?.state).toBe('GRANTED');
    expect(dmsTo('alice').at(-1)?.text).toContain('the request is already granted');
    expect((await audit(requestId)).filter((a) => a === 'cancel.refused')).toHaveLength(2);
  });

  it('a cancel delivered twice cancels once and tells once', async () => {
    const { requestId } = await pendingRequest();
    await cancel('alice', requestId);
    const command = stack.topic.published().find((c) => c.type === 'request.cancel');
    await publishCommand(command!);
    await settle();
    expect((await audit(requestId)).filter((a) => a === 'cancel')).toHaveLength(1);
    expect(dmsTo('alice').filter((m) => m.text.includes('is cancelled'))).toHaveLength(1);
  });
});
