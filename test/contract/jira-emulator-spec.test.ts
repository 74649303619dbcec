import { describe, expect, it } from 'vitest';
import {
  jiraSpecAvailable,
  validateJiraRequest,
  validateJiraResponse,
} from '../../local/emulators/jira/jira-spec.js';
import { REQUEST_ID_PROPERTY } from '../../shared/ports/ticket-tracker.js';

import {
  ALICE,
  adf,
  availability,
  createRaw,
  emulator,
  jira,
  note,
  seedTicket,
  spec,
  tracker,
  useJiraEmulator,
  validCreateBody,
} from '../fixtures/jira-world.js';

/* The emulator's answers held to Atlassian's published OpenAPI description of Jira Cloud v3. */

useJiraEmulator();

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
