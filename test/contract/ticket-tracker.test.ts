import { createServer } from 'node:net';
import { inspect } from 'node:util';
import { ManualClock } from '../fixtures/manual-clock.js';
import { Version3Client } from 'jira.js';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  CLOUD_UNAUTHORIZED_TEXT,
  ISSUE_NOT_FOUND_MESSAGE,
  type JiraEmulator,
  type RecordedJiraCall,
  SEARCH_REMOVED_MESSAGE,
  startJiraEmulator,
} from '../../local/emulators/jira/jira-emulator.js';
import {
  jiraSpecAvailable,
  loadJiraSpec,
  validateJiraRequest,
  validateJiraResponse,
} from '../../local/emulators/jira/jira-spec.js';
import {
  JiraTicketTracker,
  type JiraTicketTrackerOptions,
  jqlString,
} from '../../shared/adapters/jira/jira-ticket-tracker.js';
import { InvalidRequestIdError } from '../../shared/domain/errors.js';
import type { AdfDocument, TicketDraft } from '../../shared/adapters/jira/adf.js';
import {
  REQUEST_ID_PROPERTY,
  TrackerRejectedError,
  TrackerUnavailableError,
} from '../../shared/ports/ticket-tracker.js';
import {
  contractCatalog,
  contractDraft,
  freshRequestId,
  ticketTrackerContract,
  type TicketTrackerContractSubject,
} from './ticket-tracker.contract.js';

const EMAIL = 'jit-access-bot@example.com';
const API_TOKEN = 'test-jira-api-token-contract';
const ACCESS_TOKEN = 'eyJoauth2.access.token.for-contract-tests';
const APP_USER = { accountId: '712020:app-jit-access', displayName: 'jit-access', emailAddress: EMAIL };
const ALICE = '712020:alice-0001';
const BOB = '712020:bob-0002';
const CAROL = '712020:carol-0003';
/** Deactivated, with an e-mail address the profile would show. */
const DAVE = '712020:dave-0004';
/** Accounts that are not people, with visible addresses all the same. */
const OTHER_APP = '712020:app-other-bot';
const CUSTOMER = 'qm:1a2b3c4d-customer-0005';
const START = new Date('2025-03-01T09:00:00.000Z');

const availability = jiraSpecAvailable();
const spec = availability.available ? loadJiraSpec(availability.path) : undefined;

const clock = new ManualClock(START);
let emulator: JiraEmulator;
/** Waits the adapter asked for, instead of waiting them. */
let sleeps: number[] = [];
/** What the spec check in afterEach must find; tests that send off-spec requests on purpose set it. */
let expectedSpecProblems: string[] = [];

const sleep = (ms: number): Promise<void> => {
  sleeps.push(ms);
  return Promise.resolve();
};

function tracker(overrides: Partial<JiraTicketTrackerOptions> = {}): JiraTicketTracker {
  return new JiraTicketTracker({
    catalog: contractCatalog('DBA', 'Access Request'),
    host: emulator.url,
    email: EMAIL,
    apiToken: API_TOKEN,
    projectKeys: ['DBA'],
    sleep,
    random: () => 0.5,
    ...overrides,
  });
}

function draft(requestId: string, overrides: Partial<TicketDraft> = {}): TicketDraft {
  return { ...contractDraft({ projectKey: 'DBA', issueType: 'Access Request' }, requestId), ...overrides };
}

function basic(email = EMAIL, token = API_TOKEN): string {
  return `Basic ${Buffer.from(`${email}:${token}`).toString('base64')}`;
}

/** A raw request, for what jira.js would not send (or would hide the answer of). */
async function jira(
  method: string,
  path: string,
  options: { body?: unknown; auth?: string | null; contentType?: string } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
  const headers: Record<string, string> = {};
  const auth = options.auth === undefined ? basic() : options.auth;
  if (auth !== null) headers.authorization = auth;
  if (options.body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const response = await fetch(`${emulator.url}${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  return { status: response.status, body: parseMaybeJson(text), headers: response.headers };
}

function parseMaybeJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function client(): Version3Client {
  return new Version3Client({
    host: emulator.url,
    authentication: { basic: { email: EMAIL, apiToken: API_TOKEN } },
  });
}

const adf = (text: string) => ({
  type: 'doc',
  version: 1,
  content: [{ type: 'paragraph', content: [{ type: 'text', text }] }],
});

function validCreateBody(overrides: Record<string, unknown> = {}) {
  return {
    fields: {
      project: { key: 'DBA' },
      issuetype: { name: 'Access Request' },
      summary: 'orders-db read for 2h',
      description: adf('why'),
      labels: ['jit-access'],
      ...overrides,
    },
  };
}

async function createRaw(overrides: Record<string, unknown> = {}): Promise<{ id: string; key: string }> {
  const response = await jira('POST', '/rest/api/3/issue', { body: validCreateBody(overrides) });
  expect(response.status).toBe(201);
  return response.body as { id: string; key: string };
}

function callsOf(operation: RecordedJiraCall['operation']): RecordedJiraCall[] {
  return emulator.calls.filter((call) => call.operation === operation);
}

function propertyRequestId(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const requestId = (value as Record<string, unknown>).requestId;
  return typeof requestId === 'string' ? requestId : undefined;
}

function note(text: string): AdfDocument {
  return { type: 'doc', version: 1, content: [{ type: 'paragraph', content: [{ type: 'text', text }] }] };
}

/** Everything an error could show: message, stack, inspection (with causes) and JSON. */
function exposed(error: unknown): string {
  const asError = error as Error;
  return `${asError.message}\n${asError.stack ?? ''}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
}

function seedTicket(status?: string, issueType = 'Access Request', projectKey = 'DBA') {
  const requestId = freshRequestId();
  const issue = emulator.seedIssue({
    projectKey,
    issueType,
    summary: `ticket for ${requestId}`,
    properties: { [REQUEST_ID_PROPERTY]: { requestId } },
    ...(status ? { status } : {}),
  });
  return { ...issue, requestId };
}

/** A loopback port nothing listens on, so connecting is refused before any request is sent. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

beforeAll(async () => {
  emulator = await startJiraEmulator({
    appUser: APP_USER,
    apiToken: API_TOKEN,
    accessToken: ACCESS_TOKEN,
    clock,
    users: [
      {
        accountId: ALICE,
        displayName: 'Alice Example',
        emailAddress: 'alice@example.com',
        emailVisible: true,
      },
      { accountId: BOB, displayName: 'Bob Approver', emailAddress: 'bob@example.com' },
      { accountId: CAROL, displayName: 'Carol Gone', emailAddress: 'carol@example.com', active: false },
      {
        accountId: DAVE,
        displayName: 'Dave Left',
        emailAddress: 'dave@example.com',
        emailVisible: true,
        active: false,
      },
      {
        accountId: OTHER_APP,
        displayName: 'Some other app',
        emailAddress: 'other-app@example.com',
        emailVisible: true,
        accountType: 'app',
      },
      {
        accountId: CUSTOMER,
        displayName: 'A customer',
        emailAddress: 'customer@example.com',
        emailVisible: true,
        accountType: 'customer',
      },
    ],
    projects: [
      {
        key: 'DBA',
        name: 'Database Access',
        issueTypes: [
          { name: 'Access Request', workflow: 'jit-access request workflow' },
          { name: 'Task', workflow: 'Software Simplified Workflow' },
        ],
      },
      {
        key: 'OPS',
        name: 'Operations',
        issueTypes: [{ name: 'Task', workflow: 'Software Simplified Workflow' }],
      },
      {
        key: 'LOCKED',
        name: 'Read only',
        issueTypes: [{ name: 'Access Request', workflow: 'jit-access request workflow' }],
        permissions: { create: false, edit: false },
      },
      {
        key: 'MUTE',
        name: 'No comments, no transitions',
        issueTypes: [{ name: 'Access Request', workflow: 'jit-access request workflow' }],
        permissions: { comment: false, transition: false },
      },
    ],
  });
});

afterAll(async () => {
  await emulator?.stop();
});

beforeEach(() => {
  emulator.reset();
  emulator.setSearchIndexLag(0);
  emulator.setLatency(undefined);
  clock.set(START);
  sleeps = [];
  expectedSpecProblems = [];
});

// Every request that reached the emulator went out as Jira's OpenAPI description documents it,
// unless the test sent an off-spec request on purpose and said which problems it expects.
afterEach(() => {
  if (!spec) return;
  const problems = emulator.calls.flatMap((call) => validateJiraRequest(call, spec));
  expect(problems).toEqual(expectedSpecProblems);
});

/** The contract's view of the emulator, read around the tracker under test. */
function contractSubject(
  overrides: Partial<TicketTrackerContractSubject> = {},
): TicketTrackerContractSubject {
  return {
    tracker: tracker(),
    projectKey: 'DBA',
    issueType: 'Access Request',
    requestIdOnTicket: (ticket) =>
      Promise.resolve(propertyRequestId(emulator.issue(ticket.key)?.properties[REQUEST_ID_PROPERTY])),
    ticketCount: (requestId) => Promise.resolve(emulator.issuesByRequestId(requestId).length),
    statuses: { initial: 'To Do', reachable: 'Approved', unreachable: 'Access Granted' },
    accounts: {
      self: APP_USER.accountId,
      visible: { accountId: ALICE, email: 'alice@example.com' },
      hidden: BOB,
      deactivated: DAVE,
    },
    statusOf: (ticket) => Promise.resolve(emulator.issue(ticket.key)?.status),
    commentsOn: (ticket) =>
      Promise.resolve(emulator.issue(ticket.key)?.comments.map((comment) => comment.body) ?? []),
    ...overrides,
  };
}

ticketTrackerContract('JiraTicketTracker on the Jira emulator', () => contractSubject());

ticketTrackerContract('JiraTicketTracker on the Jira emulator, search index lagging a minute', () => {
  emulator.setSearchIndexLag(60_000);
  return contractSubject({ settle: () => emulator.indexNow() });
});

describe('JiraTicketTracker', () => {
  describe('what it sends', () => {
    it('searches /rest/api/3/search/jql on the property, scoped to its projects, asking for one small field', async () => {
      const requestId = freshRequestId();
      await tracker({ projectKeys: ['DBA', 'OPS'] }).findByRequestId(requestId);
      const [search] = emulator.calls;
      expect(emulator.calls).toHaveLength(1);
      expect(search?.operation).toBe('searchAndReconsileIssuesUsingJql');
      expect(search?.method).toBe('GET');
      expect(search?.query.jql).toEqual([
        `issue.property[jitAccessRequestId].requestId = "${requestId}" AND project in ("DBA", "OPS")`,
      ]);
      expect(search?.query.fields).toEqual(['created']);
    });

    it('creates the issue with the property in the same call, then sets it again, and sends no body twice', async () => {
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      expect(emulator.calls.map((call) => call.operation)).toEqual(['createIssue', 'setIssueProperty']);
      const [create, put] = emulator.calls;
      expect(create?.body).toEqual({
        fields: {
          project: { key: 'DBA' },
          issuetype: { name: 'Access Request' },
          summary: `MySQL access ${requestId}: orders-db read for 2h`,
          description: draft(requestId).description,
          labels: ['jit-access', 'orders-db'],
        },
        properties: [{ key: REQUEST_ID_PROPERTY, value: { requestId } }],
      });
      expect(put?.path).toBe(`/rest/api/3/issue/${created.id}/properties/${REQUEST_ID_PROPERTY}`);
      expect(put?.body).toEqual({ requestId });
      expect(put?.headers['content-type']).toMatch(/^application\/json/);
      expect(created).toEqual({ id: created.id, key: 'DBA-1', url: `${emulator.url}/browse/DBA-1` });
    });

    it('authenticates with Basic email:apiToken', async () => {
      await tracker().findByRequestId(freshRequestId());
      expect(emulator.calls[0]?.headers.authorization).toBe(basic());
    });

    it('escapes JQL string literals, though request ids are validated before they get there', () => {
      expect(jqlString('REQ-0K2M9Q7X')).toBe('"REQ-0K2M9Q7X"');
      expect(jqlString('a "b" \\ c\nd')).toBe('"a \\"b\\" \\\\ c\\nd"');
    });

    it('sends nothing for an invalid request id', async () => {
      await expect(tracker().findByRequestId('REQ-0K2M9Q7X" OR "1" = "1')).rejects.toBeInstanceOf(
        InvalidRequestIdError,
      );
      await expect(tracker().createTicket(draft('REQ-123'))).rejects.toBeInstanceOf(InvalidRequestIdError);
      expect(emulator.calls).toEqual([]);
    });

    it('refuses a draft for a project it does not search, since that ticket could never be found', async () => {
      await expect(tracker().createTicket(draft(freshRequestId(), { projectKey: 'OPS' }))).rejects.toThrow(
        /project OPS is not one this tracker searches/,
      );
      expect(emulator.calls).toEqual([]);
    });

    it('writes nothing to the console, so request bodies cannot end up in logs', async () => {
      const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((level) =>
        vi.spyOn(console, level).mockImplementation(() => {}),
      );
      try {
        emulator.failNext('createIssue', { status: 503 });
        await tracker().createTicket(draft(freshRequestId()));
        await tracker({ apiToken: 'wrong' })
          .createTicket(draft(freshRequestId()))
          .catch(() => {});
        for (const spy of spies) expect(spy).not.toHaveBeenCalled();
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
    });
  });

  describe('which ticket it finds', () => {
    it('ignores an issue planted in another project with the same property', async () => {
      const requestId = freshRequestId();
      const planted = emulator.seedIssue({
        projectKey: 'OPS',
        issueType: 'Task',
        summary: 'looks like yours',
        properties: { [REQUEST_ID_PROPERTY]: { requestId } },
      });
      expect(await tracker().findByRequestId(requestId)).toBeUndefined();
      const real = await tracker().createTicket(draft(requestId));
      expect(Number(planted.id)).toBeLessThan(Number(real.id));
      expect(await tracker().findByRequestId(requestId)).toEqual(real);
    });

    it('pages through the results to find the oldest, though Jira lists newest first', async () => {
      const requestId = freshRequestId();
      const seeded = Array.from({ length: 60 }, (_, index) =>
        emulator.seedIssue({
          projectKey: 'DBA',
          issueType: 'Access Request',
          summary: `duplicate ${index}`,
          properties: { [REQUEST_ID_PROPERTY]: { requestId } },
        }),
      );
      const found = await tracker().findByRequestId(requestId);
      expect(found?.key).toBe(seeded[0]?.key);
      const searches = callsOf('searchAndReconsileIssuesUsingJql');
      expect(searches).toHaveLength(2);
      expect(searches[1]?.query.nextPageToken).toHaveLength(1);
    });

    it('does not see a ticket the search index has not caught up with (Jira search is eventually consistent)', async () => {
      emulator.setSearchIndexLag(5_000);
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      expect(await tracker().findByRequestId(requestId)).toBeUndefined();
      clock.advance(5_000);
      expect(await tracker().findByRequestId(requestId)).toEqual(created);
    });
  });

  describe('retries', () => {
    it('waits what Retry-After says on 429, then succeeds', async () => {
      emulator.failNext('createIssue', { status: 429, retryAfterSeconds: 3 });
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      expect(sleeps).toEqual([3_000]);
      expect(callsOf('createIssue')).toHaveLength(2);
      // A 429 is refused before anything is done, so no search for a half-made issue is needed.
      expect(callsOf('searchAndReconsileIssuesUsingJql')).toHaveLength(0);
      expect(emulator.issuesByRequestId(requestId).map((issue) => issue.key)).toEqual([created.key]);
    });

    it('gives up at once when Retry-After is longer than it will wait', async () => {
      emulator.failNext('searchAndReconsileIssuesUsingJql', { status: 429, retryAfterSeconds: 60 });
      const error = await tracker()
        .findByRequestId(freshRequestId())
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerUnavailableError);
      expect((error as Error).message).toMatch(/wait 60 s .*at most 10 s/);
      expect(sleeps).toEqual([]);
    });

    it('backs off on 5xx, looks for an issue the failed create may have made, and ends with exactly one', async () => {
      emulator.failNext('createIssue', { status: 503, times: 2 });
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      expect(emulator.calls.map((call) => `${call.operation ?? '?'} ${call.response.status}`)).toEqual([
        'createIssue 503',
        'searchAndReconsileIssuesUsingJql 200',
        'createIssue 503',
        'searchAndReconsileIssuesUsingJql 200',
        'createIssue 201',
        'setIssueProperty 200',
      ]);
      // Half the step plus half of it again times random() = 0.5: 375 ms, then 750 ms.
      expect(sleeps).toEqual([375, 750]);
      expect(emulator.issuesByRequestId(requestId).map((issue) => issue.key)).toEqual([created.key]);
    });

    it('adopts the issue a create made before its 5xx, instead of creating a second', async () => {
      emulator.failNext('createIssue', { status: 504, afterHandling: true });
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      expect(callsOf('createIssue')).toHaveLength(1);
      expect(emulator.issuesByRequestId(requestId).map((issue) => issue.key)).toEqual([created.key]);
      expect(propertyRequestId(emulator.issue(created.key)?.properties[REQUEST_ID_PROPERTY])).toBe(requestId);
    });

    it('retries after a dropped connection', async () => {
      emulator.failNext('createIssue', { status: 0, dropConnection: true });
      const requestId = freshRequestId();
      await tracker().createTicket(draft(requestId));
      expect(emulator.issuesByRequestId(requestId)).toHaveLength(1);
      expect(sleeps).toHaveLength(1);
    });

    it('throws TrackerUnavailableError when 5xx never stops, having created nothing', async () => {
      emulator.failNext('createIssue', { status: 500, times: 100 });
      const requestId = freshRequestId();
      const error = await tracker()
        .createTicket(draft(requestId))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerUnavailableError);
      expect((error as Error).message).toMatch(/after 4 attempts: 500 Internal server error/);
      expect(callsOf('createIssue')).toHaveLength(4);
      expect(sleeps).toHaveLength(3);
      expect(emulator.issuesByRequestId(requestId)).toHaveLength(0);
    });

    it('never makes two issues when every answer is a 5xx that came after the work was done', async () => {
      emulator.failNext('*', { status: 502, times: 100, afterHandling: true });
      const requestId = freshRequestId();
      await expect(tracker().createTicket(draft(requestId))).rejects.toBeInstanceOf(TrackerUnavailableError);
      expect(emulator.issuesByRequestId(requestId)).toHaveLength(1);
    });

    it('retries the property PUT without creating the issue again', async () => {
      emulator.failNext('setIssueProperty', { status: 503, times: 2 });
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      expect(callsOf('createIssue')).toHaveLength(1);
      expect(callsOf('setIssueProperty').map((call) => call.response.status)).toEqual([503, 503, 200]);
      expect(emulator.issuesByRequestId(requestId).map((issue) => issue.key)).toEqual([created.key]);
    });

    it('gives up on a property PUT that keeps failing, leaving one issue that still carries the property', async () => {
      emulator.failNext('setIssueProperty', { status: 500, times: 100 });
      const requestId = freshRequestId();
      await expect(tracker().createTicket(draft(requestId))).rejects.toBeInstanceOf(TrackerUnavailableError);
      expect(callsOf('createIssue')).toHaveLength(1);
      expect(emulator.issuesByRequestId(requestId)).toHaveLength(1);
    });

    it('retries a failed search', async () => {
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      emulator.failNext('searchAndReconsileIssuesUsingJql', { status: 503 });
      expect(await tracker().findByRequestId(requestId)).toEqual(created);
      expect(sleeps).toHaveLength(1);
    });

    it('trap: with a lagging index, a create that failed after committing cannot be found, and a second issue appears', async () => {
      // Documents the limit of the ambiguity check: only the caller's own record of the ticket
      // (the request store) closes this gap. findByRequestId then settles on the oldest.
      emulator.setSearchIndexLag(30_000);
      emulator.failNext('createIssue', { status: 504, afterHandling: true });
      const requestId = freshRequestId();
      const created = await tracker().createTicket(draft(requestId));
      const both = emulator.issuesByRequestId(requestId);
      expect(both).toHaveLength(2);
      expect(created.key).toBe(both[1]?.key);
      emulator.indexNow();
      expect((await tracker().findByRequestId(requestId))?.key).toBe(both[0]?.key);
    });
  });

  describe('refusals', () => {
    it('turns 401 into TrackerRejectedError without the token anywhere in the error', async () => {
      const wrong = 'test-jira-api-token-wrong-one';
      const error = await tracker({ apiToken: wrong })
        .createTicket(draft(freshRequestId()))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerRejectedError);
      expect((error as TrackerRejectedError).status).toBe(401);
      expect((error as Error).message).toBe(
        `Jira refused to create the ticket: 401 ${CLOUD_UNAUTHORIZED_TEXT}`,
      );
      const everything = `${(error as Error).message}\n${(error as Error).stack ?? ''}\n${inspect(error, { depth: 10 })}\n${JSON.stringify(error)}`;
      for (const secret of [wrong, API_TOKEN, Buffer.from(`${EMAIL}:${wrong}`).toString('base64')]) {
        expect(everything).not.toContain(secret);
      }
      expect(sleeps).toEqual([]);
    });

    it("reads Jira Cloud's text/plain 401 as well", async () => {
      const cloudLike = await startJiraEmulator({
        appUser: APP_USER,
        apiToken: API_TOKEN,
        unauthorizedBody: 'text',
      });
      try {
        const error = await new JiraTicketTracker({
          catalog: contractCatalog('DBA', 'Access Request'),
          host: cloudLike.url,
          email: EMAIL,
          apiToken: 'nope',
          sleep,
        })
          .findByRequestId(freshRequestId())
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TrackerRejectedError);
        expect((error as Error).message).toBe(
          `Jira refused to search for the ticket: 401 ${CLOUD_UNAUTHORIZED_TEXT}`,
        );
        expect(cloudLike.calls[0]?.response.headers['x-seraph-loginreason']).toBe('AUTHENTICATED_FAILED');
      } finally {
        await cloudLike.stop();
      }
    });

    it("turns 400 into TrackerRejectedError with Jira's field errors", async () => {
      const error = await tracker()
        .createTicket(draft(freshRequestId(), { issueType: 'Bug' }))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerRejectedError);
      expect(error).toMatchObject({
        status: 400,
        message: 'Jira refused to create the ticket: 400 issuetype: Specify a valid issue type',
      });
      expect(emulator.issues()).toEqual([]);
    });

    it('turns 403 into TrackerRejectedError', async () => {
      const error = await tracker({ projectKeys: ['LOCKED'] })
        .createTicket(draft(freshRequestId(), { projectKey: 'LOCKED' }))
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({
        status: 403,
        message:
          'Jira refused to create the ticket: 403 You do not have permission to create issues in this project.',
      });
    });

    it('turns 404 into TrackerRejectedError', async () => {
      emulator.failNext('searchAndReconsileIssuesUsingJql', { status: 404 });
      await expect(tracker().findByRequestId(freshRequestId())).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 404,
      });
    });
  });
});

describe('JiraTicketTracker: reading, moving, commenting, accounts', () => {
  describe('read', () => {
    it('reads with one GET of the issue, asking for status, project and the request id property', async () => {
      const ticket = seedTicket('Approved');
      expect(await tracker().read(ticket.key)).toEqual({
        id: ticket.id,
        key: ticket.key,
        projectKey: 'DBA',
        status: 'Approved',
        requestId: ticket.requestId,
      });
      expect(emulator.calls).toHaveLength(1);
      const [call] = emulator.calls;
      expect(call?.operation).toBe('getIssue');
      expect(call?.path).toBe(`/rest/api/3/issue/${ticket.key}`);
      expect(call?.query).toEqual({ fields: ['status,project'], properties: [REQUEST_ID_PROPERTY] });
    });

    it('reads an issue of another project as not found when projectKeys are set, though it carries our property', async () => {
      const planted = seedTicket(undefined, 'Task', 'OPS');
      expect(await tracker().read(planted.key)).toBeUndefined();
      expect(await tracker().read(planted.id)).toBeUndefined();
      // Without projectKeys every project is ours, as with findByRequestId.
      expect(await tracker({ projectKeys: undefined }).read(planted.key)).toEqual({
        id: planted.id,
        key: planted.key,
        projectKey: 'OPS',
        status: 'To Do',
        requestId: planted.requestId,
      });
    });

    it.each<[string, unknown]>([
      ['a bare string', 'REQ-0K2M9Q7X'],
      ['a number', 42],
      ['null', null],
      ['an array holding the object', [{ requestId: 'REQ-0K2M9Q7X' }]],
      ['an object whose request id is a number', { requestId: 42 }],
      ['an object whose request id is not valid', { requestId: 'REQ-0K2M9Q7U' }],
      ['an object whose request id smuggles JQL', { requestId: 'REQ-0K2M9Q7X" OR project = "OPS' }],
      ['an object with the id under another name', { request: 'REQ-0K2M9Q7X' }],
    ])('reads no request id from a property that is %s', async (_, value) => {
      const issue = emulator.seedIssue({
        projectKey: 'DBA',
        issueType: 'Access Request',
        summary: 'odd property',
        properties: { [REQUEST_ID_PROPERTY]: value },
      });
      const state = await tracker().read(issue.key);
      expect(state).toEqual({ id: issue.id, key: issue.key, projectKey: 'DBA', status: 'To Do' });
      expect(state).not.toHaveProperty('requestId');
    });

    it('reads no request id from an issue without the property', async () => {
      const issue = emulator.seedIssue({ projectKey: 'DBA', issueType: 'Access Request', summary: 'bare' });
      expect(await tracker().read(issue.key)).toEqual({
        id: issue.id,
        key: issue.key,
        projectKey: 'DBA',
        status: 'To Do',
      });
    });

    it('reads nothing for a missing issue, after one call and no retry', async () => {
      expect(await tracker().read('DBA-999')).toBeUndefined();
      expect(await tracker().read('99999999')).toBeUndefined();
      expect(emulator.calls.map((call) => call.response.status)).toEqual([404, 404]);
      expect(sleeps).toEqual([]);
    });

    it.each([
      ['a path', '../myself'],
      ['an encoded path', '..%2Fmyself'],
      ['a lower-case key', 'dba-1'],
      ['a one-letter project', 'D-1'],
      ['a key with a query', 'DBA-1?fields=*all'],
      ['a number too long for an id', '1'.repeat(19)],
      ['a key with a line break', 'DBA-1\n'],
    ])('refuses an issue reference that is %s with a TypeError, sending nothing', async (_, reference) => {
      const error = await tracker()
        .read(reference)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/is not a Jira issue id \(digits\) or key \(like DBA-42\)$/);
      expect(emulator.calls).toEqual([]);
    });

    it('retries 503 and 429 on the read', async () => {
      const ticket = seedTicket();
      emulator.failNext('getIssue', { status: 503 });
      emulator.failNext('getIssue', { status: 429, retryAfterSeconds: 2 });
      expect((await tracker().read(ticket.key))?.requestId).toBe(ticket.requestId);
      expect(callsOf('getIssue').map((call) => call.response.status)).toEqual([503, 429, 200]);
      expect(sleeps).toEqual([375, 2_000]);
    });

    it('turns 401 into TrackerRejectedError rather than "not found"', async () => {
      await expect(tracker({ apiToken: 'wrong' }).read('DBA-1')).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 401,
      });
    });
  });

  describe('moveTo', () => {
    it('looks the transition up on every issue: the workflows have their own ids, and nothing is kept between issues', async () => {
      const access = emulator.transitionIds('DBA', 'Access Request');
      const simple = emulator.transitionIds('DBA', 'Task');
      expect(access.Done).not.toBe(simple.Done);
      const task = seedTicket(undefined, 'Task');
      const request = seedTicket(undefined, 'Access Request');
      const one = tracker();
      expect(await one.moveTo(task.key, 'Done')).toBe('moved');
      expect(await one.moveTo(request.key, 'Approved')).toBe('moved');
      expect(await one.moveTo(request.key, 'Access Granted')).toBe('moved');
      expect(await one.moveTo(request.key, 'Done')).toBe('moved');
      expect(callsOf('doTransition').map((call) => call.body)).toEqual([
        { transition: { id: simple.Done } },
        { transition: { id: access.Approve } },
        { transition: { id: access['Grant access'] } },
        { transition: { id: access.Done } },
      ]);
      expect(callsOf('getTransitions')).toHaveLength(4);
      expect(emulator.issue(task.key)?.status).toBe('Done');
      expect(emulator.issue(request.key)?.history.map((entry) => entry.to)).toEqual([
        'Approved',
        'Access Granted',
        'Done',
      ]);
    });

    it('reads, lists the transitions, then posts the one leading to the status, by issue id', async () => {
      const ticket = seedTicket();
      expect(await tracker().moveTo(ticket.key, 'Declined')).toBe('moved');
      expect(emulator.calls.map((call) => `${call.method} ${call.path}`)).toEqual([
        `GET /rest/api/3/issue/${ticket.key}`,
        `GET /rest/api/3/issue/${ticket.id}/transitions`,
        `POST /rest/api/3/issue/${ticket.id}/transitions`,
      ]);
      expect(emulator.issue(ticket.key)?.history).toMatchObject([{ from: 'To Do', to: 'Declined' }]);
    });

    it('takes a global transition', async () => {
      const task = seedTicket('In Progress', 'Task');
      expect(await tracker().moveTo(task.key, 'Done')).toBe('moved');
      expect(emulator.issue(task.key)?.status).toBe('Done');
    });

    it('answers already_there for an issue at the status, without listing transitions or posting', async () => {
      const ticket = seedTicket('Approved');
      expect(await tracker().moveTo(ticket.key, 'Approved')).toBe('already_there');
      expect(await tracker().moveTo(ticket.key, 'approved')).toBe('already_there');
      expect(emulator.calls.map((call) => call.operation)).toEqual(['getIssue', 'getIssue']);
      expect(emulator.issue(ticket.key)?.history).toEqual([]);
    });

    it('answers no_transition when no available transition leads there, and posts nothing', async () => {
      const ticket = seedTicket();
      expect(await tracker().moveTo(ticket.key, 'Done')).toBe('no_transition');
      expect(await tracker().moveTo(ticket.key, 'In Progress')).toBe('no_transition');
      // The second read rules out a move to the status between the first read and the list.
      expect(emulator.calls.map((call) => call.operation)).toEqual([
        'getIssue',
        'getTransitions',
        'getIssue',
        'getIssue',
        'getTransitions',
        'getIssue',
      ]);
      expect(emulator.issue(ticket.key)?.status).toBe('To Do');
    });

    it('answers no_transition where the account may not transition issues (Jira then lists none)', async () => {
      const muted = seedTicket(undefined, 'Access Request', 'MUTE');
      expect(await tracker({ projectKeys: ['MUTE'] }).moveTo(muted.key, 'Approved')).toBe('no_transition');
      expect(callsOf('doTransition')).toEqual([]);
    });

    it('prefers the transition whose status matches exactly over one matching only without case', async () => {
      const odd = await startJiraEmulator({
        appUser: APP_USER,
        apiToken: API_TOKEN,
        workflows: [
          {
            name: 'shouty',
            statuses: [
              { name: 'To Do', category: 'new' },
              { name: 'DONE', category: 'done' },
              { name: 'Done', category: 'done' },
            ],
            transitions: [
              { name: 'Shout', from: ['To Do'], to: 'DONE' },
              { name: 'Finish', from: ['To Do'], to: 'Done' },
            ],
          },
        ],
        projects: [{ key: 'ODD', issueTypes: [{ name: 'Task', workflow: 'shouty' }] }],
      });
      try {
        const oddTracker = tracker({ host: odd.url, projectKeys: ['ODD'] });
        const ids = odd.transitionIds('ODD', 'Task');
        const first = odd.seedIssue({ projectKey: 'ODD', issueType: 'Task', summary: 'a' });
        expect(await oddTracker.moveTo(first.key, 'Done')).toBe('moved');
        const second = odd.seedIssue({ projectKey: 'ODD', issueType: 'Task', summary: 'b' });
        expect(await oddTracker.moveTo(second.key, 'DONE')).toBe('moved');
        const third = odd.seedIssue({ projectKey: 'ODD', issueType: 'Task', summary: 'c' });
        expect(await oddTracker.moveTo(third.key, 'done')).toBe('moved');
        expect(odd.callsTo('doTransition').map((call) => call.body)).toEqual([
          { transition: { id: ids.Finish } },
          { transition: { id: ids.Shout } },
          // Neither matches exactly: the first Jira lists.
          { transition: { id: ids.Shout } },
        ]);
      } finally {
        await odd.stop();
      }
    });

    it('moves an issue once when two moves race: one moved, one already_there, one transition in the history', async () => {
      const ticket = seedTicket('Approved');
      // Both read "Approved" and list the transitions before either post is answered.
      emulator.setLatency((call) => (call.operation === 'doTransition' ? 100 : 0));
      const outcomes = await Promise.all([
        tracker().moveTo(ticket.key, 'Access Granted'),
        tracker().moveTo(ticket.key, 'Access Granted'),
      ]);
      expect([...outcomes].sort()).toEqual(['already_there', 'moved']);
      expect(
        callsOf('doTransition')
          .map((call) => call.response.status)
          .sort(),
      ).toEqual([204, 400]);
      expect(emulator.issue(ticket.key)?.history).toMatchObject([{ from: 'Approved', to: 'Access Granted' }]);
      expect(sleeps).toEqual([]);
    });

    it('moves an issue once when five moves race', async () => {
      const ticket = seedTicket();
      const one = tracker();
      const outcomes = await Promise.all(Array.from({ length: 5 }, () => one.moveTo(ticket.key, 'Approved')));
      expect(outcomes.filter((outcome) => outcome === 'moved')).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === 'already_there')).toHaveLength(4);
      expect(emulator.issue(ticket.key)?.history).toHaveLength(1);
    });

    /** Has `move` carried out by hand while the adapter's transition POST waits to be answered. */
    function raceThePost(move: () => Promise<unknown>): { done: () => Promise<unknown> } {
      let racing: Promise<unknown> | undefined;
      emulator.setLatency((call) => {
        if (call.operation !== 'doTransition' || racing) return 0;
        racing = move();
        return 200;
      });
      return { done: () => racing ?? Promise.resolve() };
    }

    it('answers already_there when someone else made the same move between its read and its post', async () => {
      const ticket = seedTicket();
      const ids = emulator.transitionIds('DBA', 'Access Request');
      const race = raceThePost(() =>
        jira('POST', `/rest/api/3/issue/${ticket.key}/transitions`, {
          body: { transition: { id: ids.Approve } },
        }),
      );
      expect(await tracker().moveTo(ticket.key, 'Approved')).toBe('already_there');
      await race.done();
      // Recorded as they arrived: ours first, answered (400) after the other one's 204.
      expect(callsOf('doTransition').map((call) => call.response.status)).toEqual([400, 204]);
      expect(callsOf('getIssue')).toHaveLength(2);
      expect(emulator.issue(ticket.key)?.history).toHaveLength(1);
    });

    it('answers no_transition when someone moved the issue elsewhere between its read and its post', async () => {
      const ticket = seedTicket();
      const ids = emulator.transitionIds('DBA', 'Access Request');
      const race = raceThePost(() =>
        jira('POST', `/rest/api/3/issue/${ticket.key}/transitions`, {
          body: { transition: { id: ids.Decline } },
        }),
      );
      expect(await tracker().moveTo(ticket.key, 'Approved')).toBe('no_transition');
      await race.done();
      expect(emulator.issue(ticket.key)?.status).toBe('Declined');
      expect(emulator.issue(ticket.key)?.history).toMatchObject([{ to: 'Declined' }]);
    });

    it('answers already_there when someone else made the move between its read and its list', async () => {
      const ticket = seedTicket();
      const ids = emulator.transitionIds('DBA', 'Access Request');
      let racing: Promise<unknown> | undefined;
      // The list is answered after the other move, so it offers nothing leading to Approved.
      emulator.setLatency((call) => {
        if (call.operation !== 'getTransitions' || racing) return 0;
        racing = jira('POST', `/rest/api/3/issue/${ticket.key}/transitions`, {
          body: { transition: { id: ids.Approve } },
        });
        return 200;
      });
      expect(await tracker().moveTo(ticket.key, 'Approved')).toBe('already_there');
      await racing;
      expect(callsOf('doTransition')).toHaveLength(1);
      expect(emulator.issue(ticket.key)?.history).toHaveLength(1);
    });

    it('retries 429 and 503 on the list and the post', async () => {
      const ticket = seedTicket();
      emulator.failNext('getTransitions', { status: 429, retryAfterSeconds: 2 });
      emulator.failNext('doTransition', { status: 503 });
      expect(await tracker().moveTo(ticket.key, 'Approved')).toBe('moved');
      expect(callsOf('getTransitions').map((call) => call.response.status)).toEqual([429, 200]);
      expect(callsOf('doTransition').map((call) => call.response.status)).toEqual([503, 204]);
      expect(sleeps).toEqual([2_000, 375]);
      expect(emulator.issue(ticket.key)?.history).toHaveLength(1);
    });

    it('answers already_there when a 5xx came after the move was made: the retried post is refused, the re-read finds it', async () => {
      const ticket = seedTicket();
      emulator.failNext('doTransition', { status: 504, afterHandling: true });
      expect(await tracker().moveTo(ticket.key, 'Approved')).toBe('already_there');
      expect(callsOf('doTransition').map((call) => call.response.status)).toEqual([504, 400]);
      expect(emulator.issue(ticket.key)?.history).toHaveLength(1);
    });

    it('refuses with TrackerRejectedError when Jira answers 400 and the issue has not moved', async () => {
      const ticket = seedTicket();
      emulator.failNext('doTransition', {
        status: 400,
        body: { errorMessages: [], errors: { resolution: 'Resolution is required.' } },
      });
      const error = await tracker()
        .moveTo(ticket.key, 'Declined')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerRejectedError);
      expect(error).toMatchObject({
        status: 400,
        message: `Jira refused to move ${ticket.key} to "Declined": 400 resolution: Resolution is required.`,
      });
      expect(callsOf('getIssue')).toHaveLength(2);
      expect(emulator.issue(ticket.key)?.status).toBe('To Do');
    });

    it('refuses 403 with TrackerRejectedError, without a re-read', async () => {
      const ticket = seedTicket();
      emulator.failNext('doTransition', { status: 403 });
      await expect(tracker().moveTo(ticket.key, 'Approved')).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 403,
      });
      expect(callsOf('getIssue')).toHaveLength(1);
      expect(sleeps).toEqual([]);
    });

    it('throws TrackerUnavailableError for a 409 conflict that left the status alone', async () => {
      const ticket = seedTicket();
      emulator.failNext('doTransition', { status: 409 });
      await expect(tracker().moveTo(ticket.key, 'Approved')).rejects.toBeInstanceOf(TrackerUnavailableError);
      expect(emulator.issue(ticket.key)?.status).toBe('To Do');
    });

    it('gives up with TrackerUnavailableError when the post keeps failing with 5xx', async () => {
      const ticket = seedTicket();
      emulator.failNext('doTransition', { status: 502, times: 100 });
      const error = await tracker()
        .moveTo(ticket.key, 'Approved')
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerUnavailableError);
      expect((error as Error).message).toMatch(/^could not move DBA-\d+ to "Approved" after 4 attempts: 502/);
    });

    it('refuses a missing issue, and one in another project, with TrackerRejectedError 404, posting nothing', async () => {
      const planted = seedTicket(undefined, 'Task', 'OPS');
      for (const reference of ['DBA-999', planted.key]) {
        const error = await tracker()
          .moveTo(reference, 'Done')
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TrackerRejectedError);
        expect(error).toMatchObject({
          status: 404,
          message: `could not move ${reference} to "Done": no issue ${reference} in DBA visible to jit-access`,
        });
      }
      expect(emulator.calls.map((call) => call.operation)).toEqual(['getIssue', 'getIssue']);
      expect(emulator.issue(planted.key)?.status).toBe('To Do');
    });

    it('refuses an empty status name before asking Jira', async () => {
      const ticket = seedTicket();
      await expect(tracker().moveTo(ticket.key, '')).rejects.toBeInstanceOf(TypeError);
      await expect(tracker().moveTo(ticket.key, '  ')).rejects.toBeInstanceOf(TypeError);
      await expect(tracker().moveTo('../myself', 'Approved')).rejects.toBeInstanceOf(TypeError);
      expect(emulator.calls).toEqual([]);
    });
  });

  describe('comment', () => {
    it('posts the ADF body as given, once, as the app user', async () => {
      const ticket = seedTicket();
      const body: AdfDocument = {
        type: 'doc',
        version: 1,
        content: [
          {
            type: 'paragraph',
            content: [
              { type: 'text', text: 'Approved by ' },
              { type: 'mention', attrs: { id: BOB, text: '@Bob Approver' } },
              { type: 'text', text: ' until 11:00', marks: [{ type: 'em' }] },
            ],
          },
        ],
      };
      await tracker().addComment(ticket.key, body);
      expect(emulator.calls).toHaveLength(1);
      const [call] = emulator.calls;
      expect(call?.operation).toBe('addComment');
      expect(call?.path).toBe(`/rest/api/3/issue/${ticket.key}/comment`);
      expect(call?.body).toEqual({ body });
      expect(emulator.issue(ticket.key)?.comments).toMatchObject([
        { body, authorAccountId: APP_USER.accountId },
      ]);
    });

    it('retries 429, which Jira answers before doing anything', async () => {
      const ticket = seedTicket();
      emulator.failNext('addComment', { status: 429, retryAfterSeconds: 1, times: 2 });
      await tracker().addComment(ticket.key, note('granted'));
      expect(sleeps).toEqual([1_000, 1_000]);
      expect(emulator.issue(ticket.key)?.comments).toHaveLength(1);
    });

    it.each<[string, Parameters<JiraEmulator['failNext']>[1], number]>([
      ['a 503', { status: 503 }, 0],
      ['a 500 that came after the comment was added', { status: 500, afterHandling: true }, 1],
      ['a dropped connection', { status: 0, dropConnection: true }, 0],
    ])(
      'does not retry after %s, which may have posted it, so it cannot post twice',
      async (_, failure, left) => {
        const ticket = seedTicket();
        emulator.failNext('addComment', failure);
        const error = await tracker()
          .addComment(ticket.key, note('granted'))
          .catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TrackerUnavailableError);
        expect((error as Error).message).toMatch(
          new RegExp(
            `^could not comment on ${ticket.key}: .*Jira may have done it all the same, so it was not retried$`,
          ),
        );
        expect(callsOf('addComment')).toHaveLength(1);
        expect(sleeps).toEqual([]);
        expect(emulator.issue(ticket.key)?.comments).toHaveLength(left);
      },
    );

    it('retries a connection that was refused, since nothing reached Jira', async () => {
      const port = await closedPort();
      const error = await tracker({ host: `http://127.0.0.1:${port}` })
        .addComment('DBA-1', note('granted'))
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(TrackerUnavailableError);
      expect((error as Error).message).toBe(
        'could not comment on DBA-1 after 4 attempts: network ECONNREFUSED',
      );
      expect(sleeps).toHaveLength(3);
    });

    it('refuses with TrackerRejectedError: 403 without the permission, 400 for a body Jira cannot take, 404 for no issue', async () => {
      const muted = seedTicket(undefined, 'Access Request', 'MUTE');
      await expect(tracker().addComment(muted.key, note('x'))).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 403,
        message: `Jira refused to comment on ${muted.key}: 403 You do not have permission to comment on this issue.`,
      });
      const ticket = seedTicket();
      const typo: AdfDocument = { type: 'doc', version: 1, content: [{ type: 'paragrah' }] };
      await expect(tracker().addComment(ticket.key, typo)).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 400,
      });
      await expect(tracker().addComment('DBA-999', note('x'))).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 404,
      });
      expect(sleeps).toEqual([]);
      expect(emulator.issue(ticket.key)?.comments).toEqual([]);
    });
  });

  describe('accountEmail', () => {
    it.each([
      ['a person whose profile shows it', ALICE, 'alice@example.com'],
      ['a person whose profile hides it', BOB, undefined],
      ['a deactivated account, though its address shows', DAVE, undefined],
      ['a deactivated account with a hidden address', CAROL, undefined],
      ['an app account, though its address shows', OTHER_APP, undefined],
      ['a customer account, though its address shows', CUSTOMER, undefined],
      ['jit-access itself', APP_USER.accountId, undefined],
      ['an account Jira does not know', '557058:00000000-0000-0000-0000-000000000000', undefined],
    ])('for %s gives %#', async (_, accountId, email) => {
      expect(await tracker().accountEmail(accountId)).toBe(email);
      expect(emulator.calls).toHaveLength(1);
      expect(emulator.calls[0]?.operation).toBe('getUser');
      expect(emulator.calls[0]?.query).toEqual({ accountId: [accountId] });
    });

    it('returns the address as Jira spells it', async () => {
      const shouty = await startJiraEmulator({
        appUser: APP_USER,
        apiToken: API_TOKEN,
        users: [
          {
            accountId: ALICE,
            displayName: 'Alice',
            emailAddress: 'Alice.Example@Example.COM',
            emailVisible: true,
          },
        ],
      });
      try {
        expect(await tracker({ host: shouty.url }).accountEmail(ALICE)).toBe('Alice.Example@Example.COM');
      } finally {
        await shouty.stop();
      }
    });

    it.each([
      ['a path', '../myself'],
      ['a space', 'a b'],
      ['200 characters', 'a'.repeat(200)],
      ['129 characters', 'a'.repeat(129)],
      ['a query string', `${ALICE}&expand=groups`],
      ['a slash', '712020/alice'],
      ['a line break', `${ALICE}\n`],
      ['nothing', ''],
    ])('gives undefined for an account id with %s, and never sends it', async (_, accountId) => {
      expect(await tracker().accountEmail(accountId)).toBeUndefined();
      expect(emulator.calls).toEqual([]);
    });

    it('takes an id of exactly 128 characters', async () => {
      expect(await tracker().accountEmail('a'.repeat(128))).toBeUndefined();
      expect(callsOf('getUser')).toHaveLength(1);
    });

    it('retries 429 and 5xx', async () => {
      emulator.failNext('getUser', { status: 429, retryAfterSeconds: 1 });
      emulator.failNext('getUser', { status: 500 });
      expect(await tracker().accountEmail(ALICE)).toBe('alice@example.com');
      // Retry-After for the 429; the second step of the backoff for the 500.
      expect(sleeps).toEqual([1_000, 750]);
    });

    it('throws TrackerRejectedError for 403 (no Browse users and groups permission), not undefined', async () => {
      emulator.failNext('getUser', { status: 403 });
      await expect(tracker().accountEmail(ALICE)).rejects.toMatchObject({
        name: 'TrackerRejectedError',
        status: 403,
      });
    });
  });

  describe('selfAccountId', () => {
    it('asks /myself once, however often and however concurrently it is asked', async () => {
      const one = tracker();
      const concurrent = await Promise.all(Array.from({ length: 5 }, () => one.selfAccountId()));
      expect(concurrent).toEqual(Array.from({ length: 5 }, () => APP_USER.accountId));
      expect(await one.selfAccountId()).toBe(APP_USER.accountId);
      expect(await one.selfAccountId()).toBe(APP_USER.accountId);
      expect(callsOf('getCurrentUser')).toHaveLength(1);
      // The cache belongs to the tracker.
      expect(await tracker().selfAccountId()).toBe(APP_USER.accountId);
      expect(callsOf('getCurrentUser')).toHaveLength(2);
    });

    it('does not keep a failure: the next call asks again', async () => {
      const one = tracker();
      emulator.failNext('getCurrentUser', { status: 503, times: 4 });
      await expect(one.selfAccountId()).rejects.toBeInstanceOf(TrackerUnavailableError);
      expect(await one.selfAccountId()).toBe(APP_USER.accountId);
      expect(await one.selfAccountId()).toBe(APP_USER.accountId);
      expect(callsOf('getCurrentUser').map((call) => call.response.status)).toEqual([
        503, 503, 503, 503, 200,
      ]);
    });

    it('retries 429 within one call', async () => {
      emulator.failNext('getCurrentUser', { status: 429, retryAfterSeconds: 1 });
      expect(await tracker().selfAccountId()).toBe(APP_USER.accountId);
      expect(sleeps).toEqual([1_000]);
    });
  });

  describe('secrets', () => {
    it('puts no token in any error from read, moveTo, comment, accountEmail or selfAccountId', async () => {
      const wrong = 'test-jira-api-token-wrong-two';
      const secrets = [
        wrong,
        API_TOKEN,
        Buffer.from(`${EMAIL}:${wrong}`).toString('base64'),
        Buffer.from(`${EMAIL}:${API_TOKEN}`).toString('base64'),
      ];
      const ticket = seedTicket();
      const refusedBy = tracker({ apiToken: wrong });
      const calls: (() => Promise<unknown>)[] = [
        () => refusedBy.read(ticket.key),
        () => refusedBy.moveTo(ticket.key, 'Approved'),
        () => refusedBy.addComment(ticket.key, note('x')),
        () => refusedBy.accountEmail(ALICE),
        () => refusedBy.selfAccountId(),
      ];
      for (const call of calls) {
        const error = await call().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TrackerRejectedError);
        expect(error).toMatchObject({ status: 401 });
        for (const secret of secrets) expect(exposed(error)).not.toContain(secret);
      }
      emulator.failNext('*', { status: 503, times: 100 });
      const unavailable = tracker();
      for (const call of [
        () => unavailable.read(ticket.key),
        () => unavailable.moveTo(ticket.key, 'Approved'),
        () => unavailable.addComment(ticket.key, note('x')),
        () => unavailable.accountEmail(ALICE),
        () => unavailable.selfAccountId(),
      ]) {
        const error = await call().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(TrackerUnavailableError);
        expect((error as Error).cause).toBeUndefined();
        for (const secret of secrets) expect(exposed(error)).not.toContain(secret);
      }
    });
  });
});

describe('Jira emulator', () => {
  describe('authentication', () => {
    it('answers 401 with an ErrorCollection to a missing or wrong credential', async () => {
      for (const auth of [
        null,
        basic(EMAIL, 'wrong'),
        basic('someone@example.com'),
        'Bearer wrong',
        'Digest x',
      ]) {
        const response = await jira('GET', '/rest/api/3/myself', { auth });
        expect(response.status).toBe(401);
        expect(response.body).toEqual({ errorMessages: [expect.any(String)], errors: {} });
      }
    });

    it('takes Basic email:apiToken (email in any case) and an OAuth 2.0 Bearer token', async () => {
      expect((await jira('GET', '/rest/api/3/myself', { auth: basic(EMAIL.toUpperCase()) })).status).toBe(
        200,
      );
      expect((await jira('GET', '/rest/api/3/myself', { auth: `Bearer ${ACCESS_TOKEN}` })).status).toBe(200);
    });
  });

  describe('issues', () => {
    it('creates an issue and answers 201 {id, key, self}', async () => {
      const response = await jira('POST', '/rest/api/3/issue', { body: validCreateBody() });
      expect(response.status).toBe(201);
      const body = response.body as { id: string; key: string; self: string };
      expect(body).toEqual({
        id: expect.stringMatching(/^\d+$/),
        key: 'DBA-1',
        self: `${emulator.url}/rest/api/3/issue/${body.id}`,
      });
    });

    it('takes the project and issue type by id as well as by key and name', async () => {
      const created = await createRaw();
      const issue = (await jira('GET', `/rest/api/3/issue/${created.key}?fields=project,issuetype`)).body as {
        fields: { project: { id: string }; issuetype: { id: string } };
      };
      const again = await jira('POST', '/rest/api/3/issue', {
        body: validCreateBody({
          project: { id: issue.fields.project.id },
          issuetype: { id: issue.fields.issuetype.id },
        }),
      });
      expect(again.status).toBe(201);
    });

    it.each([
      ['no summary', { summary: undefined }, { summary: 'You must specify a summary of the issue.' }],
      [
        'a summary over 255 characters',
        { summary: 'x'.repeat(256) },
        { summary: 'Summary must be less than 255 characters.' },
      ],
      [
        'a summary with a line break',
        { summary: 'a\nb' },
        { summary: 'The summary is invalid because it contains newline characters.' },
      ],
      [
        'a plain-text description',
        { description: 'not ADF' },
        { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' },
      ],
      [
        'an ADF node type that does not exist',
        { description: { type: 'doc', version: 1, content: [{ type: 'paragrah' }] } },
        { description: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)' },
      ],
      [
        'a label with a space',
        { labels: ['jit access'] },
        { labels: "The label 'jit access' contains spaces which is invalid." },
      ],
      ['an unknown project', { project: { key: 'NOPE' } }, { project: 'Specify a valid project ID or key' }],
      ['an unknown issue type', { issuetype: { name: 'Bug' } }, { issuetype: 'Specify a valid issue type' }],
      [
        'a field not on the create screen',
        { priority: { name: 'High' } },
        { priority: "Field 'priority' cannot be set. It is not on the appropriate screen, or unknown." },
      ],
    ])('refuses %s with 400 and the field error', async (_, overrides, errors) => {
      const response = await jira('POST', '/rest/api/3/issue', { body: validCreateBody(overrides) });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ errorMessages: [], errors });
      expect(emulator.issues()).toEqual([]);
      // The description types fields as free-form, so none of these is off-spec.
    });

    it('refuses a create without permission with 403', async () => {
      const response = await jira('POST', '/rest/api/3/issue', {
        body: validCreateBody({ project: { key: 'LOCKED' } }),
      });
      expect(response.status).toBe(403);
      expect(response.body).toEqual({
        errorMessages: ['You do not have permission to create issues in this project.'],
        errors: {},
      });
    });

    it('answers 404 with the message that does not say whether the issue exists', async () => {
      const response = await jira('GET', '/rest/api/3/issue/DBA-999');
      expect(response.status).toBe(404);
      expect(response.body).toEqual({ errorMessages: [ISSUE_NOT_FOUND_MESSAGE], errors: {} });
    });

    it('returns the fields asked for, finds keys in any case, and includes requested properties', async () => {
      const created = await createRaw();
      await jira('PUT', `/rest/api/3/issue/${created.key}/properties/${REQUEST_ID_PROPERTY}`, {
        body: { requestId: 'REQ-0K2M9Q7X' },
      });
      const response = await jira(
        'GET',
        `/rest/api/3/issue/${created.key.toLowerCase()}?fields=summary,status,labels&properties=${REQUEST_ID_PROPERTY}`,
      );
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({
        id: created.id,
        key: created.key,
        fields: {
          summary: 'orders-db read for 2h',
          labels: ['jit-access'],
          status: { name: 'To Do', statusCategory: { key: 'new' } },
        },
        properties: { [REQUEST_ID_PROPERTY]: { requestId: 'REQ-0K2M9Q7X' } },
      });
      expect(Object.keys((response.body as { fields: object }).fields).sort()).toEqual([
        'labels',
        'status',
        'summary',
      ]);
      const all = (await jira('GET', `/rest/api/3/issue/${created.id}`)).body as {
        fields: Record<string, unknown>;
      };
      expect(all.fields).toMatchObject({
        description: adf('why'),
        reporter: { accountId: APP_USER.accountId },
      });
      expect(all.fields.created).toBe('2025-03-01T09:00:00.000+0000');
    });
  });

  describe('entity properties', () => {
    it('answers 201 to a new property and 200 to an update, and lists and returns it', async () => {
      const created = await createRaw();
      const path = `/rest/api/3/issue/${created.key}/properties/${REQUEST_ID_PROPERTY}`;
      expect((await jira('PUT', path, { body: { requestId: 'REQ-0K2M9Q7X' } })).status).toBe(201);
      expect((await jira('PUT', path, { body: { requestId: 'REQ-0K2M9Q7Y' } })).status).toBe(200);
      expect((await jira('GET', path)).body).toEqual({
        key: REQUEST_ID_PROPERTY,
        value: { requestId: 'REQ-0K2M9Q7Y' },
      });
      expect((await jira('GET', `/rest/api/3/issue/${created.key}/properties`)).body).toEqual({
        keys: [
          {
            key: REQUEST_ID_PROPERTY,
            self: `${emulator.url}/rest/api/3/issue/${created.id}${path.slice(path.indexOf('/properties'))}`,
          },
        ],
      });
    });

    it('answers 404 for a property the issue does not have, and 403 without Edit issues', async () => {
      const created = await createRaw();
      const missing = await jira('GET', `/rest/api/3/issue/${created.key}/properties/nothing`);
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({
        errorMessages: ["The property with key 'nothing' does not exist."],
        errors: {},
      });
      const locked = emulator.seedIssue({ projectKey: 'LOCKED', issueType: 'Access Request', summary: 'x' });
      const refused = await jira('PUT', `/rest/api/3/issue/${locked.key}/properties/p`, { body: { a: 1 } });
      expect(refused.status).toBe(403);
    });

    it('takes the create-time properties list, setting the property atomically with the issue', async () => {
      const response = await jira('POST', '/rest/api/3/issue', {
        body: {
          ...validCreateBody(),
          properties: [{ key: REQUEST_ID_PROPERTY, value: { requestId: 'REQ-0K2M9Q7X' } }],
        },
      });
      expect(response.status).toBe(201);
      expect(emulator.issueByRequestId('REQ-0K2M9Q7X')?.key).toBe((response.body as { key: string }).key);
    });
  });

  describe('comments', () => {
    it('adds an ADF comment as the app user and lists it', async () => {
      const created = await createRaw();
      const added = await jira('POST', `/rest/api/3/issue/${created.key}/comment`, {
        body: { body: adf('approved by Bob') },
      });
      expect(added.status).toBe(201);
      expect(added.body).toMatchObject({
        body: adf('approved by Bob'),
        author: { accountId: APP_USER.accountId },
      });
      const listed = await jira('GET', `/rest/api/3/issue/${created.key}/comment`);
      expect(listed.body).toMatchObject({ total: 1, comments: [{ body: adf('approved by Bob') }] });
    });

    it('refuses a comment that is not ADF', async () => {
      const created = await createRaw();
      const response = await jira('POST', `/rest/api/3/issue/${created.key}/comment`, {
        body: { body: 'plain' },
      });
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        errorMessages: [],
        errors: {
          comment: 'Operation value must be an Atlassian Document (see the Atlassian Document Format)',
        },
      });
    });
  });

  describe('workflows and transitions', () => {
    it('gives every workflow its own transition ids, so they must be looked up by name', () => {
      const access = emulator.transitionIds('DBA', 'Access Request');
      const simple = emulator.transitionIds('DBA', 'Task');
      expect(Object.keys(access)).toEqual(['Approve', 'Decline', 'Grant access', 'Done']);
      expect(access.Done).not.toBe(simple.Done);
      const shared = Object.values(access).filter((id) => Object.values(simple).includes(id));
      expect(shared).toEqual([]);
    });

    it('lists the transitions available from the current status and moves the issue through the workflow', async () => {
      const created = await createRaw();
      const jiraClient = client();
      const listed = await jiraClient.issues.getTransitions({ issueIdOrKey: created.key });
      expect(listed.transitions?.map((transition) => transition.name)).toEqual(['Approve', 'Decline']);
      const approve = listed.transitions?.find((transition) => transition.name === 'Approve');
      expect(approve?.to?.name).toBe('Approved');
      await jiraClient.issues.doTransition({
        issueIdOrKey: created.key,
        transition: { id: approve?.id ?? '' },
      });
      expect(emulator.issue(created.key)?.status).toBe('Approved');
      const next = await jiraClient.issues.getTransitions({ issueIdOrKey: created.key });
      expect(next.transitions?.map((transition) => transition.name)).toEqual(['Grant access']);
      expect(emulator.issue(created.key)?.history).toMatchObject([{ from: 'To Do', to: 'Approved' }]);
    });

    it('refuses a transition the status does not offer, and one without an id', async () => {
      const created = await createRaw();
      const done = emulator.transitionIds('DBA', 'Access Request').Done ?? '';
      const wrong = await jira('POST', `/rest/api/3/issue/${created.key}/transitions`, {
        body: { transition: { id: done } },
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body).toEqual({
        errorMessages: [`Transition id '${done}' is not valid for this issue.`],
        errors: {},
      });
      const none = await jira('POST', `/rest/api/3/issue/${created.key}/transitions`, { body: {} });
      expect(none.status).toBe(400);
    });

    it('offers a global transition from every status but its target', async () => {
      const task = await createRaw({ issuetype: { name: 'Task' } });
      const names = async () =>
        (
          (await jira('GET', `/rest/api/3/issue/${task.key}/transitions`)).body as {
            transitions: { name: string }[];
          }
        ).transitions.map((transition) => transition.name);
      expect(await names()).toEqual(['Start', 'Done']);
      const done = emulator.transitionIds('DBA', 'Task').Done ?? '';
      expect(
        (
          await jira('POST', `/rest/api/3/issue/${task.key}/transitions`, {
            body: { transition: { id: done } },
          })
        ).status,
      ).toBe(204);
      expect(await names()).toEqual(['Reopen']);
    });
  });

  describe('search', () => {
    const search = async (jql: string, extra = '') =>
      jira('GET', `/rest/api/3/search/jql?jql=${encodeURIComponent(jql)}${extra}`);

    it('finds issues by an indexed entity property, project and AND', async () => {
      const a = emulator.seedIssue({
        projectKey: 'DBA',
        issueType: 'Access Request',
        summary: 'a',
        properties: { [REQUEST_ID_PROPERTY]: { requestId: 'REQ-0K2M9Q7X' } },
      });
      emulator.seedIssue({
        projectKey: 'OPS',
        issueType: 'Task',
        summary: 'b',
        properties: { [REQUEST_ID_PROPERTY]: { requestId: 'REQ-0K2M9Q7X' } },
      });
      emulator.seedIssue({ projectKey: 'DBA', issueType: 'Access Request', summary: 'c' });
      const response = await search(
        `issue.property[${REQUEST_ID_PROPERTY}].requestId = "REQ-0K2M9Q7X" AND project = DBA`,
        '&fields=summary',
      );
      expect(response.status).toBe(200);
      expect(response.body).toEqual({
        issues: [
          {
            expand: '',
            id: a.id,
            self: `${emulator.url}/rest/api/3/issue/${a.id}`,
            key: a.key,
            fields: { summary: 'a' },
          },
        ],
        isLast: true,
      });
      const both = await search(`issue.property[${REQUEST_ID_PROPERTY}].requestId = 'REQ-0K2M9Q7X'`);
      expect((both.body as { issues: unknown[] }).issues).toHaveLength(2);
    });

    it('returns only ids unless fields are asked for, newest first unless ordered', async () => {
      const first = emulator.seedIssue({ projectKey: 'DBA', issueType: 'Access Request', summary: 'a' });
      const second = emulator.seedIssue({ projectKey: 'DBA', issueType: 'Access Request', summary: 'b' });
      expect((await search('project = DBA')).body).toEqual({
        issues: [{ id: second.id }, { id: first.id }],
        isLast: true,
      });
      expect((await search('project = DBA ORDER BY created ASC, key ASC')).body).toEqual({
        issues: [{ id: first.id }, { id: second.id }],
        isLast: true,
      });
    });

    it('pages with maxResults and nextPageToken', async () => {
      for (let i = 0; i < 5; i++)
        emulator.seedIssue({ projectKey: 'DBA', issueType: 'Access Request', summary: `s${i}` });
      const seen: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const response = await search(
          'project = DBA',
          `&maxResults=2${token ? `&nextPageToken=${encodeURIComponent(token)}` : ''}`,
        );
        const body = response.body as { issues: { id: string }[]; nextPageToken?: string; isLast: boolean };
        seen.push(...body.issues.map((issue) => issue.id));
        token = body.isLast ? undefined : body.nextPageToken;
        pages += 1;
      } while (token);
      expect(pages).toBe(3);
      expect(new Set(seen).size).toBe(5);
      const bad = await search('project = DBA', '&nextPageToken=bogus');
      expect(bad.status).toBe(400);
    });

    it('answers POST /search/jql like GET', async () => {
      const issue = emulator.seedIssue({
        projectKey: 'DBA',
        issueType: 'Access Request',
        summary: 'a',
        labels: ['x'],
      });
      const response = await jira('POST', '/rest/api/3/search/jql', {
        body: { jql: 'labels = x AND status = "To Do"', fields: ['labels'], maxResults: 10 },
      });
      expect(response.body).toMatchObject({
        issues: [{ key: issue.key, fields: { labels: ['x'] } }],
        isLast: true,
      });
    });

    it.each([
      [
        'an unknown field',
        'colour = red',
        "Field 'colour' does not exist or you do not have permission to view it.",
      ],
      [
        'a property no app indexes',
        'issue.property[somethingElse].value = "x"',
        "Field 'issue.property[somethingElse].value' does not exist or you do not have permission to view it.",
      ],
      ['an unknown project', 'project = NOPE', "The value 'NOPE' does not exist for the field 'project'."],
      [
        'an unbounded query',
        'ORDER BY created DESC',
        'Unbounded JQL queries are not allowed here. Please add a search restriction to your query.',
      ],
      [
        'OR, which the emulator does not do',
        'project = DBA OR project = OPS',
        'jira emulator: OR is not emulated; only AND joins clauses.',
      ],
      [
        'an unterminated string',
        'project = "DBA',
        'Error in the JQL Query: The quoted string has not been completed.',
      ],
    ])('refuses %s with 400', async (_, jql, message) => {
      const response = await search(jql);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({ errorMessages: [message], errors: {} });
    });

    it('lags behind writes when told to; reconcileIssues and indexNow see through the lag', async () => {
      emulator.setSearchIndexLag(10_000);
      const created = await createRaw();
      const jql = 'project = DBA';
      expect((await search(jql)).body).toEqual({ issues: [], isLast: true });
      expect((await search(jql, `&reconcileIssues=${created.id}`)).body).toEqual({
        issues: [{ id: created.id }],
        isLast: true,
      });
      clock.advance(9_999);
      expect((await search(jql)).body).toEqual({ issues: [], isLast: true });
      clock.advance(1);
      expect((await search(jql)).body).toEqual({ issues: [{ id: created.id }], isLast: true });
      // A later change lags too: until the index catches up, search sees the issue as it was.
      await jira('POST', `/rest/api/3/issue/${created.key}/transitions`, {
        body: { transition: { id: emulator.transitionIds('DBA', 'Access Request').Approve } },
      });
      expect((await search('project = DBA AND status = Approved')).body).toEqual({
        issues: [],
        isLast: true,
      });
      emulator.indexNow();
      expect((await search('project = DBA AND status = Approved')).body).toEqual({
        issues: [{ id: created.id }],
        isLast: true,
      });
    });

    it('answers 410 on the retired /rest/api/3/search', async () => {
      const response = await jira('GET', '/rest/api/3/search?jql=project%3DDBA');
      expect(response.status).toBe(410);
      expect(response.body).toEqual({ errorMessages: [SEARCH_REMOVED_MESSAGE], errors: {} });
      expectedSpecProblems = [
        'GET /rest/api/3/search: the operation is deprecated (searchForIssuesUsingJql)',
      ];
    });
  });

  describe('users', () => {
    it('shows an email only where the profile allows, and the app user its own through /myself', async () => {
      const alice = await jira('GET', `/rest/api/3/user?accountId=${encodeURIComponent(ALICE)}`);
      expect(alice.body).toMatchObject({
        accountId: ALICE,
        displayName: 'Alice Example',
        emailAddress: 'alice@example.com',
        active: true,
      });
      const bob = await jira('GET', `/rest/api/3/user?accountId=${encodeURIComponent(BOB)}`);
      expect(bob.body).not.toHaveProperty('emailAddress');
      const carol = await jira('GET', `/rest/api/3/user?accountId=${encodeURIComponent(CAROL)}`);
      expect(carol.body).toMatchObject({ active: false });
      const app = await jira('GET', `/rest/api/3/user?accountId=${encodeURIComponent(APP_USER.accountId)}`);
      expect(app.body).not.toHaveProperty('emailAddress');
      const myself = await jira('GET', '/rest/api/3/myself');
      expect(myself.body).toMatchObject({
        accountId: APP_USER.accountId,
        emailAddress: EMAIL,
        accountType: 'app',
      });
      const nobody = await jira('GET', '/rest/api/3/user?accountId=nobody');
      expect(nobody.status).toBe(404);
    });
  });

  describe('failure injection and latency', () => {
    it('answers 429 with Retry-After, as many times as told, then normally', async () => {
      emulator.failNext('getCurrentUser', { status: 429, retryAfterSeconds: 7, times: 2 });
      const first = await jira('GET', '/rest/api/3/myself');
      expect(first.status).toBe(429);
      expect(first.headers.get('retry-after')).toBe('7');
      expect(first.body).toEqual({ errorMessages: ['Rate limit exceeded.'], errors: {} });
      expect((await jira('GET', '/rest/api/3/myself')).status).toBe(429);
      expect((await jira('GET', '/rest/api/3/myself')).status).toBe(200);
      expect(emulator.calls.map((call) => call.injected)).toEqual([true, true, false]);
    });

    it('matches failures by predicate and fails any call with *', async () => {
      emulator.failNext((call) => call.method === 'GET' && call.path.endsWith('/myself'), { status: 500 });
      emulator.failNext('*', { status: 502, body: '<html>Bad gateway</html>' });
      expect((await jira('GET', '/rest/api/3/myself')).status).toBe(500);
      const gateway = await jira('GET', '/rest/api/3/myself');
      expect(gateway.status).toBe(502);
      expect(gateway.body).toBe('<html>Bad gateway</html>');
    });

    it('can commit a write and still fail it, or drop the connection', async () => {
      emulator.failNext('createIssue', { status: 504, afterHandling: true });
      expect((await jira('POST', '/rest/api/3/issue', { body: validCreateBody() })).status).toBe(504);
      expect(emulator.issues()).toHaveLength(1);
      emulator.failNext('getCurrentUser', { status: 0, dropConnection: true });
      await expect(jira('GET', '/rest/api/3/myself')).rejects.toThrow();
    });

    it('waits the configured latency before answering', async () => {
      emulator.setLatency(60);
      const started = performance.now();
      await jira('GET', '/rest/api/3/myself');
      expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    });

    it('answers 404 to operations it does not emulate, and 405 to a wrong method', async () => {
      const unknown = await jira('GET', '/rest/api/3/serverInfo');
      expect(unknown.status).toBe(404);
      expect((await jira('DELETE', '/rest/api/3/myself')).status).toBe(405);
      expectedSpecProblems = [
        'DELETE /rest/api/3/myself: no such operation in the Jira platform REST description',
      ];
    });
  });
});

describe.skipIf(!spec)(
  spec
    ? 'Jira emulator held to the Jira platform REST description'
    : `Jira spec checks skipped: ${availability.available ? '' : availability.reason}`,
  () => {
    const theSpec = () => {
      if (!spec) throw new Error('unreachable: the block is skipped without a spec');
      return spec;
    };

    it('answers in the documented response schemas', async () => {
      const created = await createRaw();
      await jira('GET', `/rest/api/3/issue/${created.key}`);
      await jira('PUT', `/rest/api/3/issue/${created.key}/properties/${REQUEST_ID_PROPERTY}`, {
        body: { requestId: 'REQ-0K2M9Q7X' },
      });
      await jira('GET', `/rest/api/3/issue/${created.key}/properties/${REQUEST_ID_PROPERTY}`);
      await jira('GET', `/rest/api/3/issue/${created.key}/properties`);
      await jira('POST', `/rest/api/3/issue/${created.key}/comment`, { body: { body: adf('x') } });
      await jira('GET', `/rest/api/3/issue/${created.key}/comment`);
      await jira('GET', `/rest/api/3/issue/${created.key}/transitions`);
      await jira('GET', `/rest/api/3/search/jql?jql=project%3DDBA&fields=*all`);
      await jira('POST', '/rest/api/3/search/jql', { body: { jql: 'project = DBA', fields: ['summary'] } });
      await jira('GET', `/rest/api/3/user?accountId=${encodeURIComponent(ALICE)}`);
      await jira('GET', '/rest/api/3/myself');
      await jira('POST', '/rest/api/3/issue', { body: validCreateBody({ summary: undefined }) });
      await jira('GET', '/rest/api/3/issue/DBA-999');
      const problems = emulator.calls.flatMap((call) => validateJiraResponse(call, call.response, theSpec()));
      expect(problems).toEqual([]);
    });

    it("answers the tracker's reads, moves, comments and account look-ups in the documented schemas", async () => {
      const ticket = seedTicket();
      const one = tracker();
      await one.read(ticket.key);
      await one.read('DBA-999');
      await one.moveTo(ticket.key, 'Approved');
      await one.moveTo(ticket.key, 'Done');
      await one.addComment(ticket.key, note('approved'));
      await one.accountEmail(ALICE);
      await one.accountEmail('557058:nobody');
      await one.selfAccountId();
      expect(new Set(emulator.calls.map((call) => call.operation))).toEqual(
        new Set(['getIssue', 'getTransitions', 'doTransition', 'addComment', 'getUser', 'getCurrentUser']),
      );
      expect(emulator.calls.flatMap((call) => validateJiraRequest(call, theSpec()))).toEqual([]);
      expect(emulator.calls.flatMap((call) => validateJiraResponse(call, call.response, theSpec()))).toEqual(
        [],
      );
    });

    it('catches undocumented query parameters, wrong types and repeated scalars', () => {
      const check = (query: Record<string, string[]>) =>
        validateJiraRequest({ method: 'GET', path: '/rest/api/3/search/jql', query }, theSpec());
      expect(check({ jql: ['project = DBA'], fields: ['summary,status'], maxResults: ['10'] })).toEqual([]);
      expect(check({ jql: ['project = DBA'], startAt: ['0'] })).toEqual([
        'GET /rest/api/3/search/jql: query parameter startAt is not documented for this operation',
      ]);
      expect(check({ jql: ['project = DBA'], maxResults: ['lots'] })).toEqual([
        'GET /rest/api/3/search/jql: query parameter maxResults must be integer',
      ]);
      expect(check({ jql: ['a', 'b'] })).toEqual([
        'GET /rest/api/3/search/jql: query parameter jql is sent 2 times but takes one value',
      ]);
    });

    it('catches bodies that do not fit the schema, including read-only properties', () => {
      expect(
        validateJiraRequest(
          {
            method: 'POST',
            path: '/rest/api/3/search/jql',
            query: {},
            body: { jql: 'project = DBA', startAt: 0 },
          },
          theSpec(),
        ),
      ).toEqual(['POST /rest/api/3/search/jql: body must NOT have additional properties (startAt)']);
      expect(
        validateJiraRequest(
          {
            method: 'POST',
            path: '/rest/api/3/issue/DBA-1/comment',
            query: {},
            body: { body: adf('x'), id: '1' },
          },
          theSpec(),
        ),
      ).toEqual(['POST /rest/api/3/issue/{issueIdOrKey}/comment: body/id is read-only and must not be sent']);
      expect(
        validateJiraRequest({ method: 'POST', path: '/rest/api/3/issue', query: {} }, theSpec()),
      ).toEqual(['POST /rest/api/3/issue: missing required JSON body']);
      expect(
        validateJiraRequest(
          {
            method: 'PUT',
            path: '/rest/api/3/issue/DBA-1/properties/p',
            query: {},
            body: { a: 1 },
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
          },
          theSpec(),
        ),
      ).toEqual([
        'PUT /rest/api/3/issue/{issueIdOrKey}/properties/{propertyKey}: body sent as application/x-www-form-urlencoded, not application/json',
      ]);
    });

    it('prefers a literal path segment over a template, and knows retired and unknown operations', () => {
      expect(
        validateJiraRequest({ method: 'GET', path: '/rest/api/3/issue/createmeta', query: {} }, theSpec()),
      ).toEqual(['GET /rest/api/3/issue/createmeta: the operation is deprecated (getCreateIssueMeta)']);
      expect(
        validateJiraRequest({ method: 'GET', path: '/rest/api/3/nothing', query: {} }, theSpec()),
      ).toEqual(['GET /rest/api/3/nothing: no such operation in the Jira platform REST description']);
    });
  },
);

describe('Jira spec availability', () => {
  it('says why when the description is missing', () => {
    expect(jiraSpecAvailable('/nonexistent/specs/jira-platform-openapi-v3.json')).toEqual({
      available: false,
      reason: expect.stringContaining('/nonexistent/specs/jira-platform-openapi-v3.json'),
    });
  });
});
