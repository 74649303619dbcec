import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type JiraEmulator,
  type JiraEmulatorOptions,
  type JiraWebhookRegistration,
  signWebhookBody,
  startJiraEmulator,
} from '../../local/emulators/jira/jira-emulator.js';
import {
  jiraSpecAvailable,
  loadJiraSpec,
  validateJiraRequest,
  validateJiraSchema,
} from '../../local/emulators/jira/jira-spec.js';
import { ManualClock } from '../fixtures/manual-clock.js';

const START = new Date('2025-03-01T09:00:00.000Z');
const EMAIL = 'jit-access-bot@example.com';
const API_TOKEN = 'test-jira-api-token-webhooks';
const APP_USER = { accountId: '712020:app-jit-access', displayName: 'jit-access', emailAddress: EMAIL };
const ALICE = '712020:alice-0001';
const BOB = '712020:bob-0002';
const CAROL = '712020:carol-0003';
const SECRET = 'whsec-jira-emulator-test-0123456789';

const availability = jiraSpecAvailable();
const spec = availability.available ? loadJiraSpec(availability.path) : undefined;

// ---- a webhook receiver -------------------------------------------------------------------

/** What the receiver answers a request: a status, a dropped connection, or nothing until released. */
type Answer = number | 'drop' | 'hold';

interface Received {
  method: string;
  headers: Record<string, string>;
  body: string;
}

interface Receiver {
  url: string;
  received: Received[];
  /** Answers for the next requests, in order; after them, 200. */
  answer(...answers: Answer[]): void;
  /** Lets held requests answer 200. */
  release(): void;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const received: Received[] = [];
  const answers: Answer[] = [];
  let releaseHeld: () => void = () => undefined;
  let held = new Promise<void>((resolve) => (releaseHeld = resolve));
  const server: Server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string') headers[name] = value;
      }
      received.push({ method: req.method ?? '', headers, body: Buffer.concat(chunks).toString('utf8') });
      const answer = answers.shift() ?? 200;
      if (answer === 'drop') {
        req.socket.destroy();
      } else if (answer === 'hold') {
        void held.then(() => res.writeHead(200, { connection: 'close' }).end());
      } else {
        res.writeHead(answer, { connection: 'close' }).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/jira`,
    received,
    answer: (...next) => answers.push(...next),
    release: () => {
      releaseHeld();
      held = new Promise<void>((resolve) => (releaseHeld = resolve));
    },
    close: () =>
      new Promise<void>((resolve) => {
        releaseHeld();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

// ---- emulators ----------------------------------------------------------------------------

let clock: ManualClock;
let receiver: Receiver;
let emulators: JiraEmulator[] = [];

async function jira(options: JiraEmulatorOptions = {}): Promise<JiraEmulator> {
  const emulator = await startJiraEmulator({
    appUser: APP_USER,
    apiToken: API_TOKEN,
    clock,
    users: [
      {
        accountId: ALICE,
        displayName: 'Alice Approver',
        emailAddress: 'alice@example.com',
        emailVisible: true,
      },
      { accountId: BOB, displayName: 'Bob Builder', emailAddress: 'bob@example.com' },
      { accountId: CAROL, displayName: 'Carol Gone', emailAddress: 'carol@example.com', active: false },
    ],
    ...options,
  });
  emulators.push(emulator);
  return emulator;
}

/** An emulator with one webhook on the receiver. */
async function jiraWithWebhook(
  registration: Partial<JiraWebhookRegistration> = {},
  options: JiraEmulatorOptions = {},
): Promise<{ emulator: JiraEmulator; webhookId: string }> {
  const emulator = await jira(options);
  const { id } = emulator.registerWebhook({ url: receiver.url, ...registration });
  return { emulator, webhookId: id };
}

function seed(emulator: JiraEmulator, summary = 'orders-db read for 2h') {
  return emulator.seedIssue({ projectKey: 'DBA', issueType: 'Access Request', summary });
}

async function api(
  emulator: JiraEmulator,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const headers: Record<string, string> = {
    authorization: `Basic ${Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64')}`,
  };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : (JSON.parse(text) as unknown) };
}

async function transitionByApi(emulator: JiraEmulator, key: string, name: string): Promise<number> {
  const { body } = await api(emulator, 'GET', `/rest/api/3/issue/${key}/transitions`);
  const transitions = (body as { transitions: { id: string; name: string }[] }).transitions;
  const transition = transitions.find((candidate) => candidate.name === name);
  if (!transition) throw new Error(`no transition ${name} on ${key}`);
  const response = await api(emulator, 'POST', `/rest/api/3/issue/${key}/transitions`, {
    transition: { id: transition.id },
  });
  return response.status;
}

const adf = (text: string) => ({
  type: 'doc',
  version: 1,
  content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
});

/** A received body, parsed; fields are read loosely, as a receiver would. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Payload = Record<string, any>;

function payloads(): Payload[] {
  return receiver.received.map((request) => JSON.parse(request.body) as Payload);
}

function hmac(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

beforeEach(async () => {
  clock = new ManualClock(START);
  receiver = await startReceiver();
  emulators = [];
});

afterEach(async () => {
  // Every REST call the tests made went out as Jira's description documents it.
  const problems = spec
    ? emulators.flatMap((emulator) => emulator.calls).flatMap((call) => validateJiraRequest(call, spec))
    : [];
  await Promise.all(emulators.map(async (emulator) => emulator.stop()));
  await receiver.close();
  expect(problems).toEqual([]);
});

// ---- tests ------------------------------------------------------------------------------

describe('Jira emulator webhooks', () => {
  describe('signing', () => {
    it("signs as Atlassian's documented example does", () => {
      expect(signWebhookBody("It's a Secret to Everybody", 'Hello World!')).toBe(
        'sha256=a4771c39fbe90f317c7824e83ddef3caae9cb3d976c214ace1f2937e133263c9',
      );
    });

    it.each([
      { name: 'with a secret', secret: SECRET as string | undefined, signed: true },
      { name: 'without a secret', secret: undefined, signed: false },
    ])('X-Hub-Signature $name', async ({ secret, signed }) => {
      const registration: Partial<JiraWebhookRegistration> = secret === undefined ? {} : { secret };
      const { emulator } = await jiraWithWebhook(registration);
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();

      expect(receiver.received).toHaveLength(1);
      const [request] = receiver.received;
      if (!request) throw new Error('unreachable');
      if (!signed) {
        expect(request.headers['x-hub-signature']).toBeUndefined();
        return;
      }
      const header = request.headers['x-hub-signature'] ?? '';
      expect(header).toMatch(/^sha256=[0-9a-f]{64}$/);
      const expected = hmac(SECRET, request.body);
      expect(timingSafeEqual(Buffer.from(header), Buffer.from(expected))).toBe(true);
      expect(hmac('some other secret', request.body)).not.toBe(header);
      expect(emulator.webhookDeliveries()[0]?.headers['x-hub-signature']).toBe(header);
    });
  });

  describe('a delivery', () => {
    it("is a POST of the event's JSON with Jira's headers and a fresh identifier per event", async () => {
      const { emulator } = await jiraWithWebhook();
      const issue = seed(emulator);
      emulator.transitionAs(issue.key, ALICE, 'Approve');
      clock.advance(60_000);
      emulator.transitionAs(issue.key, ALICE, 'Grant access');
      await emulator.flushWebhooks();

      expect(receiver.received).toHaveLength(2);
      for (const request of receiver.received) {
        expect(request.method).toBe('POST');
        expect(request.headers).toMatchObject({
          'content-type': 'application/json; charset=utf-8',
          'user-agent': 'Atlassian Webhook HTTP Client',
          'x-atlassian-webhook-flow': 'Primary',
        });
        expect(request.headers['x-atlassian-webhook-identifier']).toMatch(/^[0-9a-f-]{36}$/);
        expect(request.headers['x-atlassian-webhook-retry']).toBeUndefined();
      }
      const identifiers = receiver.received.map(
        (request) => request.headers['x-atlassian-webhook-identifier'],
      );
      expect(new Set(identifiers).size).toBe(2);
      expect(payloads().map((payload) => payload.timestamp)).toEqual([
        START.getTime(),
        START.getTime() + 60_000,
      ]);
      expect(
        emulator.webhookDeliveries().map(({ event, attempt, status }) => ({ event, attempt, status })),
      ).toEqual([
        { event: 'jira:issue_updated', attempt: 1, status: 200 },
        { event: 'jira:issue_updated', attempt: 1, status: 200 },
      ]);
    });

    it('does not hold up the change it reports (fire and forget)', async () => {
      const { emulator } = await jiraWithWebhook();
      const issue = seed(emulator);
      receiver.answer('hold');

      expect(await transitionByApi(emulator, issue.key, 'Approve')).toBe(204);
      await vi.waitFor(() => expect(receiver.received).toHaveLength(1));
      expect(emulator.webhookDeliveries()).toEqual([]);

      receiver.release();
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries().map((delivery) => delivery.status)).toEqual([200]);
    });
  });

  describe('retries', () => {
    it('keeps the identifier and body across 500, 500, 200 and counts retries in a header', async () => {
      const { emulator } = await jiraWithWebhook({ secret: SECRET });
      receiver.answer(500, 500, 200);
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();

      expect(receiver.received).toHaveLength(3);
      const identifiers = new Set(receiver.received.map((r) => r.headers['x-atlassian-webhook-identifier']));
      expect(identifiers.size).toBe(1);
      expect(new Set(receiver.received.map((r) => r.body)).size).toBe(1);
      expect(new Set(receiver.received.map((r) => r.headers['x-hub-signature'])).size).toBe(1);
      expect(receiver.received.map((r) => r.headers['x-atlassian-webhook-retry'])).toEqual([
        undefined,
        '1',
        '2',
      ]);
      expect(emulator.webhookDeliveries().map(({ attempt, status }) => ({ attempt, status }))).toEqual([
        { attempt: 1, status: 500 },
        { attempt: 2, status: 500 },
        { attempt: 3, status: 200 },
      ]);
    });

    it.each([408, 409, 425, 429, 500, 502, 503, 504])('tries again after %i', async (status) => {
      const { emulator } = await jiraWithWebhook();
      receiver.answer(status);
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries().map((delivery) => delivery.status)).toEqual([status, 200]);
    });

    it.each([400, 401, 403, 404, 410, 422])('gives up at once after %i', async (status) => {
      const { emulator } = await jiraWithWebhook();
      receiver.answer(status);
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(receiver.received).toHaveLength(1);
      expect(emulator.webhookDeliveries().map((delivery) => delivery.status)).toEqual([status]);
    });

    it('tries again after a dropped connection', async () => {
      const { emulator } = await jiraWithWebhook();
      receiver.answer('drop');
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries().map((delivery) => delivery.status)).toEqual(['network_error', 200]);
      expect(receiver.received.map((r) => r.headers['x-atlassian-webhook-retry'])).toEqual([undefined, '1']);
    });

    it('tries again after an answer that takes too long', async () => {
      const { emulator } = await jiraWithWebhook({}, { webhookTimeoutMs: 200 });
      receiver.answer('hold');
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries().map((delivery) => delivery.status)).toEqual(['network_error', 200]);
    });

    it.each([
      { maxRetries: 0 as number | undefined, attempts: 1 },
      { maxRetries: 2, attempts: 3 },
      { maxRetries: undefined, attempts: 6 },
    ])('stops after webhookMaxRetries=$maxRetries ($attempts attempts)', async ({ maxRetries, attempts }) => {
      const options: JiraEmulatorOptions = maxRetries === undefined ? {} : { webhookMaxRetries: maxRetries };
      const { emulator } = await jiraWithWebhook({}, options);
      receiver.answer(...Array<Answer>(10).fill(503));
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(receiver.received).toHaveLength(attempts);
      expect(emulator.webhookDeliveries().map((delivery) => delivery.attempt)).toEqual(
        Array.from({ length: attempts }, (_, index) => index + 1),
      );
    });

    it('waits webhookRetryDelayMs between attempts', async () => {
      const { emulator } = await jiraWithWebhook({}, { webhookRetryDelayMs: 150 });
      receiver.answer(500);
      const started = Date.now();
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(receiver.received).toHaveLength(2);
    });
  });

  describe('redeliverWebhook', () => {
    it('sends the identical body again under the same identifier', async () => {
      const { emulator } = await jiraWithWebhook({ secret: SECRET });
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      const [first] = emulator.webhookDeliveries();
      if (!first) throw new Error('nothing delivered');

      clock.advance(300_000);
      receiver.answer(202);
      expect(await emulator.redeliverWebhook(first.identifier)).toBe(202);

      const [original, duplicate] = receiver.received;
      expect(duplicate?.body).toBe(original?.body);
      expect(duplicate?.headers['x-atlassian-webhook-identifier']).toBe(first.identifier);
      expect(duplicate?.headers['x-hub-signature']).toBe(original?.headers['x-hub-signature']);
      expect(duplicate?.headers['x-atlassian-webhook-retry']).toBe('1');
      expect(
        emulator.webhookDeliveries().map(({ identifier, attempt }) => ({ identifier, attempt })),
      ).toEqual([
        { identifier: first.identifier, attempt: 1 },
        { identifier: first.identifier, attempt: 2 },
      ]);
    });

    it('reports a network error as such and refuses unknown identifiers', async () => {
      const { emulator } = await jiraWithWebhook();
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      const identifier = emulator.webhookDeliveries()[0]?.identifier ?? '';
      receiver.answer('drop');
      expect(await emulator.redeliverWebhook(identifier)).toBe('network_error');
      await expect(emulator.redeliverWebhook('no-such-delivery')).rejects.toThrow(/no webhook delivery/);
    });
  });

  describe("'manual' delivery", () => {
    it.each([
      { order: 'fifo' as const, expected: ['DBA-1', 'DBA-2', 'DBA-3'] },
      { order: 'lifo' as const, expected: ['DBA-3', 'DBA-2', 'DBA-1'] },
    ])('holds events until deliverWebhooks, then sends them $order', async ({ order, expected }) => {
      const { emulator } = await jiraWithWebhook({}, { webhookDelivery: 'manual' });
      for (const summary of ['first', 'second', 'third']) {
        emulator.transitionAs(seed(emulator, summary).key, ALICE, 'Approve');
      }
      await emulator.flushWebhooks();
      expect(receiver.received).toEqual([]);
      expect(emulator.pendingWebhooks().map(({ event, issueKey }) => ({ event, issueKey }))).toEqual([
        { event: 'jira:issue_updated', issueKey: 'DBA-1' },
        { event: 'jira:issue_updated', issueKey: 'DBA-2' },
        { event: 'jira:issue_updated', issueKey: 'DBA-3' },
      ]);

      await emulator.deliverWebhooks({ order });
      expect(payloads().map((payload) => payload.issue.key)).toEqual(expected);
      expect(emulator.pendingWebhooks()).toEqual([]);
    });

    it('carries the state at the time of each event, however late it arrives', async () => {
      const { emulator } = await jiraWithWebhook({}, { webhookDelivery: 'manual' });
      const issue = seed(emulator);
      emulator.transitionAs(issue.key, ALICE, 'Approve');
      emulator.transitionAs(issue.key, APP_USER.accountId, 'Grant access');
      await emulator.deliverWebhooks({ order: 'lifo' });
      expect(
        payloads().map((payload) => [payload.changelog.items[0].toString, payload.issue.fields.status.name]),
      ).toEqual([
        ['Access Granted', 'Access Granted'],
        ['Approved', 'Approved'],
      ]);
    });

    it('retries each event before sending the next, and cannot redeliver what was not sent', async () => {
      const { emulator } = await jiraWithWebhook({}, { webhookDelivery: 'manual' });
      emulator.transitionAs(seed(emulator, 'first').key, ALICE, 'Approve');
      emulator.transitionAs(seed(emulator, 'second').key, ALICE, 'Decline');
      const [pending] = emulator.pendingWebhooks();
      await expect(emulator.redeliverWebhook(pending?.identifier ?? '')).rejects.toThrow(/not been sent/);

      receiver.answer(500);
      await emulator.deliverWebhooks();
      expect(payloads().map((payload) => payload.issue.key)).toEqual(['DBA-1', 'DBA-1', 'DBA-2']);
    });
  });

  describe('transitionAs', () => {
    it("moves the issue and reports it as the person's change", async () => {
      const { emulator } = await jiraWithWebhook();
      const issue = seed(emulator);
      const moved = emulator.transitionAs(issue.key, ALICE, 'Approve');

      expect(moved.status).toBe('Approved');
      expect(moved.history).toEqual([
        expect.objectContaining({ from: 'To Do', to: 'Approved', accountId: ALICE, at: START }),
      ]);
      await emulator.flushWebhooks();
      const [payload] = payloads();
      expect(payload).toMatchObject({
        timestamp: START.getTime(),
        webhookEvent: 'jira:issue_updated',
        issue_event_type_name: 'issue_generic',
        user: { accountId: ALICE, displayName: 'Alice Approver', accountType: 'atlassian', active: true },
        issue: { id: issue.id, key: issue.key, fields: { status: { name: 'Approved' } } },
        changelog: {
          id: expect.stringMatching(/^\d+$/),
          items: [
            {
              field: 'status',
              fieldtype: 'jira',
              fieldId: 'status',
              fromString: 'To Do',
              toString: 'Approved',
            },
          ],
        },
      });
      // Webhooks never carry an email address or a locale, whatever the profile allows.
      expect(payload?.user).not.toHaveProperty('emailAddress');
      expect(payload?.user).not.toHaveProperty('locale');
      const item = payload?.changelog.items[0];
      expect(item.to).toBe(payload?.issue.fields.status.id);
      expect(item.from).toMatch(/^\d+$/);
      expect(item.from).not.toBe(item.to);
      // Like Jira's, the payload's links are REST v2 ones.
      expect(payload?.issue.self).toBe(`${emulator.url}/rest/api/2/issue/${issue.id}`);
    });

    it.each([
      {
        name: 'an unknown account',
        account: '712020:nobody',
        issue: 'DBA-1',
        transition: 'Approve',
        error: /no user/,
      },
      {
        name: 'a deactivated account',
        account: CAROL,
        issue: 'DBA-1',
        transition: 'Approve',
        error: /deactivated/,
      },
      {
        name: 'an unknown issue',
        account: ALICE,
        issue: 'DBA-99',
        transition: 'Approve',
        error: /no issue DBA-99/,
      },
      {
        name: 'a transition not available from the status',
        account: ALICE,
        issue: 'DBA-1',
        transition: 'Grant access',
        error: /cannot 'Grant access' DBA-1 from 'To Do' \(available: 'Approve', 'Decline'\)/,
      },
      {
        name: "another workflow's transition",
        account: ALICE,
        issue: 'DBA-1',
        transition: 'Start',
        error: /cannot 'Start'/,
      },
    ])('refuses $name and changes nothing', async ({ account, issue, transition, error }) => {
      const { emulator } = await jiraWithWebhook();
      seed(emulator);
      expect(() => emulator.transitionAs(issue, account, transition)).toThrow(error);
      expect(emulator.issue('DBA-1')).toMatchObject({ status: 'To Do', history: [] });
      await emulator.flushWebhooks();
      expect(emulator.webhookDeliveries()).toEqual([]);
    });
  });

  describe('changes made through the REST API', () => {
    it('a transition is reported with the app user as its author (receivers must skip their own echoes)', async () => {
      const { emulator } = await jiraWithWebhook();
      const issue = seed(emulator);
      expect(await transitionByApi(emulator, issue.key, 'Approve')).toBe(204);
      await emulator.flushWebhooks();

      expect(emulator.issue(issue.key)?.history).toEqual([
        expect.objectContaining({ from: 'To Do', to: 'Approved', accountId: APP_USER.accountId }),
      ]);
      expect(payloads()).toEqual([
        expect.objectContaining({
          webhookEvent: 'jira:issue_updated',
          user: expect.objectContaining({ accountId: APP_USER.accountId, accountType: 'app' }),
          changelog: expect.objectContaining({
            items: [expect.objectContaining({ field: 'status', fromString: 'To Do', toString: 'Approved' })],
          }),
        }),
      ]);
    });

    it.each([
      { events: ['jira:issue_created'], expected: ['jira:issue_created'] },
      { events: undefined, expected: [] },
    ])('creating an issue sends $expected to a webhook for $events', async ({ events, expected }) => {
      const { emulator } = await jiraWithWebhook(events === undefined ? {} : { events });
      const created = await api(emulator, 'POST', '/rest/api/3/issue', {
        fields: {
          project: { key: 'DBA' },
          issuetype: { name: 'Access Request' },
          summary: 'orders-db read for 2h',
          description: adf('because'),
        },
      });
      expect(created.status).toBe(201);
      await emulator.flushWebhooks();
      expect(payloads().map((payload) => payload.webhookEvent)).toEqual(expected);
      if (expected.length > 0) {
        expect(payloads()[0]).toMatchObject({
          issue_event_type_name: 'issue_created',
          user: { accountId: APP_USER.accountId },
          issue: { key: 'DBA-1', fields: { summary: 'orders-db read for 2h', description: 'because' } },
        });
        expect(payloads()[0]).not.toHaveProperty('changelog');
      }
    });

    it('a comment is reported with the app user as its author', async () => {
      const { emulator } = await jiraWithWebhook({ events: ['jira:issue_updated', 'comment_created'] });
      const issue = seed(emulator);
      const added = await api(emulator, 'POST', `/rest/api/3/issue/${issue.key}/comment`, {
        body: adf('Access granted until 11:00.'),
      });
      expect(added.status).toBe(201);
      await emulator.flushWebhooks();
      const byEvent = Object.fromEntries(payloads().map((payload) => [payload.webhookEvent, payload]));
      expect(byEvent['jira:issue_updated']?.user.accountId).toBe(APP_USER.accountId);
      expect(byEvent.comment_created?.comment.author.accountId).toBe(APP_USER.accountId);
    });
  });

  describe('commentAs', () => {
    it('reports a comment as an update without a status change, plus comment_created', async () => {
      const { emulator } = await jiraWithWebhook({ events: ['jira:issue_updated', 'comment_created'] });
      const issue = seed(emulator);
      emulator.commentAs(issue.key, BOB, 'Approved for 2h.\nPing me if it runs over.');
      await emulator.flushWebhooks();

      const snapshot = emulator.issue(issue.key);
      expect(snapshot?.status).toBe('To Do');
      expect(snapshot?.comments).toEqual([
        expect.objectContaining({
          authorAccountId: BOB,
          body: {
            type: 'doc',
            version: 1,
            content: [
              { type: 'paragraph', content: [{ type: 'text', text: 'Approved for 2h.' }] },
              { type: 'paragraph', content: [{ type: 'text', text: 'Ping me if it runs over.' }] },
            ],
          },
        }),
      ]);

      const byEvent = Object.fromEntries(payloads().map((payload) => [payload.webhookEvent, payload]));
      expect(Object.keys(byEvent).sort()).toEqual(['comment_created', 'jira:issue_updated']);
      const updated = byEvent['jira:issue_updated'];
      expect(updated).toMatchObject({
        issue_event_type_name: 'issue_commented',
        user: { accountId: BOB },
        issue: { key: issue.key, fields: { status: { name: 'To Do' } } },
        // Webhooks carry comment bodies as wiki-markup text, not ADF.
        comment: { author: { accountId: BOB }, body: 'Approved for 2h.\n\nPing me if it runs over.' },
      });
      expect(updated).not.toHaveProperty('changelog');
      const created = byEvent.comment_created;
      expect(created).toMatchObject({
        timestamp: START.getTime(),
        comment: { id: updated?.comment.id, author: { accountId: BOB } },
        issue: {
          id: issue.id,
          key: issue.key,
          fields: { summary: issue.summary, status: { name: 'To Do' } },
        },
      });
      expect(created).not.toHaveProperty('changelog');
      expect(created).not.toHaveProperty('user');
    });

    it('takes an ADF document and renders mentions as Jira does', async () => {
      const { emulator } = await jiraWithWebhook();
      const issue = seed(emulator);
      emulator.commentAs(issue.key, ALICE, {
        type: 'doc',
        version: 1,
        content: [
          {
            type: 'paragraph',
            content: [
              { type: 'mention', attrs: { id: BOB, text: '@Bob Builder' } },
              { type: 'text', text: ' please check' },
            ],
          },
        ],
      });
      await emulator.flushWebhooks();
      expect(payloads()[0]?.comment.body).toBe(`[~accountid:${BOB}] please check`);
    });

    it.each([
      { name: 'an empty string', body: '  ' as unknown },
      {
        name: 'a document Jira would refuse',
        body: { type: 'doc', version: 1, content: [{ type: 'para' }] },
      },
      { name: 'a number', body: 42 },
    ])('refuses $name', async ({ body }) => {
      const { emulator } = await jiraWithWebhook();
      const issue = seed(emulator);
      expect(() => emulator.commentAs(issue.key, BOB, body)).toThrow(/comment body/);
      expect(emulator.issue(issue.key)?.comments).toEqual([]);
    });

    it('refuses an unknown account', async () => {
      const { emulator } = await jiraWithWebhook();
      expect(() => emulator.commentAs(seed(emulator).key, '712020:nobody', 'hi')).toThrow(/no user/);
    });
  });

  describe('registrations', () => {
    it.each([
      { events: ['comment_created'], expected: [] as string[] },
      { events: ['jira:issue_updated'], expected: ['jira:issue_updated'] },
      { events: ['jira:issue_created', 'jira:issue_updated'], expected: ['jira:issue_updated'] },
    ])('a webhook for $events hears $expected of a transition', async ({ events, expected }) => {
      const { emulator } = await jiraWithWebhook({ events });
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(payloads().map((payload) => payload.webhookEvent)).toEqual(expected);
    });

    it('sends each event to every webhook that listens, each under its own identifier', async () => {
      const { emulator, webhookId } = await jiraWithWebhook();
      const second = emulator.registerWebhook({ url: receiver.url, secret: SECRET });
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      const deliveries = emulator.webhookDeliveries();
      expect(deliveries.map((delivery) => delivery.webhookId).sort()).toEqual([webhookId, second.id].sort());
      expect(new Set(deliveries.map((delivery) => delivery.identifier)).size).toBe(2);
      expect(new Set(deliveries.map((delivery) => delivery.body)).size).toBe(1);
    });

    it.each([
      {
        name: 'an event the emulator cannot raise',
        registration: { url: 'http://127.0.0.1:1/', events: ['jira:issue_deleted'] },
        error: /not emulated/,
      },
      {
        name: 'no events',
        registration: { url: 'http://127.0.0.1:1/', events: [] },
        error: /at least one event/,
      },
      { name: 'a URL that is not one', registration: { url: 'not a url' }, error: /not a URL/ },
      { name: 'an empty secret', registration: { url: 'http://127.0.0.1:1/', secret: '' }, error: /secret/ },
    ])('refuses $name', async ({ registration, error }) => {
      const emulator = await jira();
      expect(() => emulator.registerWebhook(registration)).toThrow(error);
    });

    it('survive reset, which forgets deliveries and what was waiting to be sent', async () => {
      const { emulator } = await jiraWithWebhook({}, { webhookDelivery: 'manual' });
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.deliverWebhooks();
      emulator.transitionAs(seed(emulator, 'second').key, ALICE, 'Approve');
      expect(emulator.webhookDeliveries()).toHaveLength(1);
      expect(emulator.pendingWebhooks()).toHaveLength(1);

      emulator.reset();
      expect(emulator.webhookDeliveries()).toEqual([]);
      expect(emulator.pendingWebhooks()).toEqual([]);

      emulator.transitionAs(seed(emulator).key, ALICE, 'Decline');
      await emulator.deliverWebhooks();
      expect(emulator.webhookDeliveries().map((delivery) => delivery.event)).toEqual(['jira:issue_updated']);
    });

    it('an unregistered webhook hears nothing more', async () => {
      const { emulator, webhookId } = await jiraWithWebhook();
      expect(emulator.unregisterWebhook(webhookId)).toBe(true);
      expect(emulator.unregisterWebhook(webhookId)).toBe(false);
      emulator.transitionAs(seed(emulator).key, ALICE, 'Approve');
      await emulator.flushWebhooks();
      expect(receiver.received).toEqual([]);
    });
  });
});

describe.skipIf(!spec)(
  spec
    ? 'Jira emulator webhook payloads held to the Jira platform REST description'
    : `Jira webhook payload spec checks skipped: ${availability.available ? '' : availability.reason}`,
  () => {
    const theSpec = () => {
      if (!spec) throw new Error('unreachable: the block is skipped without a spec');
      return spec;
    };

    it('builds payloads from the documented component schemas', async () => {
      const { emulator } = await jiraWithWebhook({
        events: ['jira:issue_created', 'jira:issue_updated', 'comment_created'],
      });
      const created = await api(emulator, 'POST', '/rest/api/3/issue', {
        fields: { project: { key: 'DBA' }, issuetype: { name: 'Access Request' }, summary: 'orders-db read' },
      });
      const key = (created.body as { key: string }).key;
      emulator.transitionAs(key, ALICE, 'Approve');
      emulator.commentAs(key, BOB, 'Approved for 2h.');
      await transitionByApi(emulator, key, 'Grant access');
      await emulator.flushWebhooks();

      const all = payloads();
      expect(all.map((payload) => payload.webhookEvent).sort()).toEqual([
        'comment_created',
        'jira:issue_created',
        'jira:issue_updated',
        'jira:issue_updated',
        'jira:issue_updated',
      ]);
      const problems: string[] = [];
      const check = (schema: string, value: unknown) =>
        problems.push(...validateJiraSchema(schema, value, theSpec()));
      for (const payload of all) {
        check('IssueBean', payload.issue);
        if (payload.user !== undefined) check('UserDetails', payload.user);
        if (payload.changelog !== undefined) {
          check('Changelog', payload.changelog);
          for (const item of payload.changelog.items as unknown[]) check('ChangeDetails', item);
        }
        if (payload.comment !== undefined) {
          check('Comment', payload.comment);
          check('UserDetails', payload.comment.author);
        }
      }
      expect(problems).toEqual([]);
      expect(all.filter((payload) => payload.changelog !== undefined)).toHaveLength(2);
    });

    it('names the schema that is missing or not met', () => {
      expect(validateJiraSchema('NoSuchSchema', {}, theSpec())).toEqual([
        'NoSuchSchema: no such component schema in the Jira platform REST description',
      ]);
      expect(
        validateJiraSchema('ChangeDetails', { field: 'status', tmpFromAccountId: null }, theSpec()),
      ).toEqual(['ChangeDetails must NOT have additional properties (tmpFromAccountId)']);
    });
  },
);
