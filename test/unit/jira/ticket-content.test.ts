import { describe, expect, it } from 'vitest';
import {
  approvalRecordedComment,
  decisionComment,
  refusalComment,
  ticketDraft,
} from '../../../shared/adapters/jira/ticket-content.js';
import { accessRequest } from '../../fixtures/access-request.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();

describe('the Jira ticket draft', () => {
  const draft = ticketDraft(catalog, accessRequest(), 'https://acme.slack.com/archives/C0INCIDENT/p1');
  const json = JSON.stringify(draft.description);

  it('goes to the catalog project and issue type, with the summary DevOps scans', () => {
    expect(draft).toMatchObject({ projectKey: 'DBA', issueType: 'Task', requestId: 'REQ-0K2M9Q7X' });
    expect(draft.summary).toBe('MySQL access: alice → orders/read for 1h');
  });

  it('has a table with everything an approver checks', () => {
    const table = draft.description.content.find((n) => n.type === 'table');
    const rows = (table?.content ?? []).map((r) => JSON.stringify(r));
    for (const [label, value] of [
      ['Requester', 'alice (Slack U0ALICE01)'],
      ['AD account', 'alice'],
      ['Eligible through', 'CN=eng-db-readers,OU=Groups,DC=example,DC=com'],
      ['Database', 'orders — orders-prod.db.internal:3306'],
      ['Environment', 'prod'],
      ['Access level', 'read — Read-only access to every table of the orders schema'],
      ['Duration', '1h'],
      ['Justification', 'INC-1234 checking stuck orders'],
      ['Request id', 'REQ-0K2M9Q7X'],
    ]) {
      expect(
        rows.some((r) => r.includes(`"text":"${label}"`) && r.includes(value ?? '')),
        `${label}: ${value}`,
      ).toBe(true);
    }
    expect(json).toContain('https://acme.slack.com/archives/C0INCIDENT/p1');
  });

  it('includes the exact SQL grants in a code block', () => {
    const code = draft.description.content.find((n) => n.type === 'codeBlock');
    expect(code?.content?.[0]?.text).toBe("GRANT SELECT ON orders.* TO '{{name}}'@'%'");
  });

  it('labels without spaces', () => {
    expect(draft.labels).toEqual(['jit-access', 'db-orders', 'level-read', 'env-prod']);
    for (const label of draft.labels) expect(label).not.toMatch(/\s/);
  });

  it('keeps user text as text: Jira wiki markup or HTML in a justification stays inert', () => {
    const sneaky = ticketDraft(
      catalog,
      accessRequest({ justification: '[link|https://evil] <script>x</script> {code}' }),
    );
    const cell = JSON.stringify(sneaky.description).match(
      /"text":"\[link\|https:\/\/evil\] <script>x<\/script> \{code\}"/,
    );
    expect(cell).not.toBeNull();
  });
});

describe('decision comments', () => {
  const at = '2026-11-21T10:05:00.000Z';
  const approval = (account: string, channel: 'slack' | 'jira') => ({
    account,
    dn: `CN=${account}`,
    channel,
    actorId: channel === 'slack' ? 'U0BOB0001' : '712020:carol',
    via: 'CN=db-approvers',
    at,
  });
  const textOf = (doc: unknown) => JSON.stringify(doc);

  it('names every approver and where they approved', () => {
    const doc = decisionComment(
      catalog,
      accessRequest({
        state: 'APPROVED',
        approvals: [approval('bob', 'slack'), approval('carol', 'jira')],
        decision: { outcome: 'approved', channel: 'jira', actorId: '712020:carol', account: 'carol', at },
      }),
      'moved',
    );
    expect(textOf(doc)).toContain('"text":"bob"');
    expect(textOf(doc)).toContain(' (in Slack)');
    expect(textOf(doc)).toContain(' (in Jira)');
    expect(textOf(doc)).not.toContain('by hand');
  });

  it('asks for a manual move when the workflow had no transition', () => {
    const doc = decisionComment(
      catalog,
      accessRequest({
        state: 'DENIED',
        decision: {
          outcome: 'denied',
          channel: 'slack',
          actorId: 'U0BOB0001',
          account: 'bob',
          reason: 'not now',
          at,
        },
      }),
      'no_transition',
    );
    expect(textOf(doc)).toContain('Reason: not now');
    expect(textOf(doc)).toContain('no transition to \\"Declined\\"');
  });

  it('records a partial approval and says how many more are needed', () => {
    const doc = approvalRecordedComment(accessRequest({ approvals: [approval('bob', 'jira')] }), 2, {
      status: 'To Do',
      outcome: 'moved',
    });
    expect(textOf(doc)).toContain('Approval 1 of 2 recorded');
    expect(textOf(doc)).toContain('1 more needed');
    expect(textOf(doc)).toContain('Moved back to \\"To Do\\"');
  });

  it('mentions the person whose move was refused', () => {
    const doc = refusalComment(
      '712020:mallory',
      { kind: 'own_request' },
      {
        status: 'To Do',
        outcome: 'moved',
      },
    );
    expect(doc.content[0]?.content?.[0]).toEqual({ type: 'mention', attrs: { id: '712020:mallory' } });
    expect(textOf(doc)).toContain('I moved the ticket back to \\"To Do\\"');
    expect(textOf(doc)).toContain('you cannot decide on your own request; another approver has to.');
  });
});
