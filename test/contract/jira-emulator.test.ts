import { describe, expect, it, onTestFinished } from 'vitest';
import {
  APP_DECLARED_REQUEST_ID,
  ISSUE_NOT_FOUND_MESSAGE,
  SEARCH_REMOVED_MESSAGE,
} from '../../local/emulators/jira/jira-emulator.js';
import { REQUEST_ID_PROPERTY } from '../../shared/ports/ticket-tracker.js';

import {
  ACCESS_TOKEN,
  ALICE,
  APP_USER,
  BOB,
  CAROL,
  EMAIL,
  adf,
  basic,
  client,
  clock,
  createRaw,
  emulator,
  expectSpecProblems,
  jira,
  useJiraEmulator,
  validCreateBody,
} from '../fixtures/jira-world.js';

/* The Jira emulator answers as Jira Cloud does: auth, issues, properties, workflows, search, users. */

useJiraEmulator();

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

    it('refuses JQL on an entity property, as a plain site (no app declaring it) does', async () => {
      const response = await search(`issue.property[${REQUEST_ID_PROPERTY}].requestId = "REQ-0K2M9Q7X"`);
      expect(response.status).toBe(400);
      expect(response.body).toEqual({
        errorMessages: [
          `Field 'issue.property[${REQUEST_ID_PROPERTY}].requestId' does not exist or you do not have permission to view it.`,
        ],
        errors: {},
      });
    });

    it('finds issues by labels, on any site', async () => {
      const a = emulator.seedIssue({
        projectKey: 'DBA',
        issueType: 'Access Request',
        summary: 'a',
        labels: ['jit-access-REQ-0K2M9Q7X'],
      });
      emulator.seedIssue({
        projectKey: 'DBA',
        issueType: 'Access Request',
        summary: 'b',
        labels: ['jit-access'],
      });
      const response = await search('labels = "jit-access-REQ-0K2M9Q7X" AND project = DBA');
      expect(response.status).toBe(200);
      expect(response.body).toEqual({ issues: [{ id: a.id }], isLast: true });
    });

    it('finds issues by an entity property an app declares, project and AND', async () => {
      emulator.declareIndexedProperties(APP_DECLARED_REQUEST_ID);
      onTestFinished(() => emulator.declareIndexedProperties([]));
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
      expectSpecProblems(['GET /rest/api/3/search: the operation is deprecated (searchForIssuesUsingJql)']);
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
      expectSpecProblems([
        'DELETE /rest/api/3/myself: no such operation in the Jira platform REST description',
      ]);
    });
  });
});
