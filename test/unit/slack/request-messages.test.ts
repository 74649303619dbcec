import { describe, expect, it } from 'vitest';
import {
  approvalRequestMessage,
  decisionRefusedMessage,
  rejectionText,
  requestDecidedDm,
  requestPendingDm,
  requestRejectedDm,
} from '../../../shared/adapters/slack/request-messages.js';
import { commonName } from '../../../shared/domain/dn.js';
import { explainRefusal } from '../../../shared/domain/refusals.js';
import { accessRequest } from '../../fixtures/access-request.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();

describe('the approvers message', () => {
  const message = approvalRequestMessage(
    accessRequest({ justification: '<!channel> look <https://evil|here>' }),
    catalog,
  );
  const json = JSON.stringify(message);

  it('carries Approve and Deny buttons whose value is the request id', () => {
    const actions = message.blocks.find((b) => b.type === 'actions') as {
      elements: { action_id: string; value: string }[];
    };
    expect(actions.elements.map((e) => [e.action_id, e.value])).toEqual([
      ['request.approve', 'REQ-0K2M9Q7X'],
      ['request.deny', 'REQ-0K2M9Q7X'],
    ]);
  });

  it('links the ticket and names the eligible group', () => {
    expect(json).toContain('<https://example.atlassian.net/browse/DBA-42|DBA-42>');
    expect(json).toContain('CN=eng-db-readers,OU=Groups,DC=example,DC=com');
  });

  it('shows the justification as plain text, so it cannot ping a channel or hide a link', () => {
    const block = message.blocks.find((b) => JSON.stringify(b).includes('Justification')) as {
      text: { type: string };
    };
    expect(block.text.type).toBe('plain_text');
  });

  it('has a fallback text for notifications', () => {
    expect(message.text).toBe('alice requests orders/read for 1h (REQ-0K2M9Q7X)');
  });
});

describe('the requester DMs', () => {
  it('says what happens next and how to cancel', () => {
    const json = JSON.stringify(requestPendingDm(accessRequest(), catalog));
    expect(json).toContain('*REQ-0K2M9Q7X* is waiting for approval');
    expect(json).toContain('<https://example.atlassian.net/browse/DBA-42|DBA-42>');
    expect(json).toContain('cancel REQ-0K2M9Q7X');
  });

  it.each([
    [{ kind: 'no_email' as const }, 'your Slack profile has no e-mail address'],
    [
      { kind: 'no_account' as const, attribute: 'mail' },
      "no directory account matches your Slack profile's mail",
    ],
    [{ kind: 'ambiguous_account' as const, attribute: 'mail' }, 'more than one directory account matches'],
    [{ kind: 'disabled' as const }, 'your directory account is disabled'],
    [
      {
        kind: 'not_eligible' as const,
        requesterGroups: ['CN=eng-db-readers,OU=Groups,DC=x'],
        approverGroups: ['CN=db-approvers,OU=Groups,DC=x'],
      },
      'this level is granted to members of `eng-db-readers`. Ask a member of `db-approvers` to add you',
    ],
  ])('explains a rejection (%o)', (reason, text) => {
    expect(rejectionText(reason)).toContain(text);
    expect(requestRejectedDm(accessRequest({ state: 'REJECTED' }), catalog, reason).text).toContain(text);
  });

  it('reveals nothing about the directory beyond the groups of the level', () => {
    const text = rejectionText({
      kind: 'not_eligible',
      requesterGroups: ['CN=eng-db-readers,OU=Groups,DC=x'],
      approverGroups: ['CN=db-approvers,OU=Groups,DC=x'],
    });
    expect(text).not.toMatch(/OU=|DC=|member of CN/);
  });
});

describe('commonName', () => {
  it.each([
    ['CN=db-readers,OU=Groups,DC=example,DC=com', 'db-readers'],
    ['cn=Smith\\, John,OU=People,DC=x', 'Smith, John'],
    ['db-readers', 'db-readers'],
  ])('%s → %s', (dn, name) => {
    expect(commonName(dn)).toBe(name);
  });
});

describe('the approvers message after a decision', () => {
  const approval = (account: string, channel: 'slack' | 'jira', actorId: string) => ({
    account,
    dn: `CN=${account},OU=People,DC=example,DC=test`,
    channel,
    actorId,
    via: 'CN=db-approvers,OU=Groups,DC=example,DC=com',
    at: '2026-11-21T10:05:00.000Z',
  });
  const at = '2026-11-21T10:05:00.000Z';
  const hasButtons = (m: ReturnType<typeof approvalRequestMessage>) =>
    m.blocks.some((b) => b.type === 'actions');

  it.each([
    [
      'approved in Slack and Jira',
      accessRequest({
        state: 'APPROVED',
        approvals: [approval('bob', 'slack', 'U0BOB0001'), approval('carol', 'jira', '712020:carol')],
        decision: { outcome: 'approved', channel: 'jira', actorId: '712020:carol', account: 'carol', at },
      }),
      ':white_check_mark: *Approved* by <@U0BOB0001> (bob) in Slack, carol in Jira',
    ],
    [
      'denied with a reason someone typed',
      accessRequest({
        state: 'DENIED',
        decision: {
          outcome: 'denied',
          channel: 'slack',
          actorId: 'U0BOB0001',
          account: 'bob',
          reason: '<!here> use the replica',
          at,
        },
      }),
      ':no_entry: *Denied* by <@U0BOB0001> (bob) in Slack: &lt;!here&gt; use the replica',
    ],
    [
      'cancelled',
      accessRequest({
        state: 'CANCELLED',
        decision: { outcome: 'cancelled', channel: 'slack', actorId: 'U0ALICE01', at },
      }),
      ':leftwards_arrow_with_hook: *Cancelled* by the requester',
    ],
    ['timed out', accessRequest({ state: 'TIMED_OUT' }), 'This request is timed out without a decision.'],
  ])('replaces the buttons with the outcome when %s', (_case, request, line) => {
    const message = approvalRequestMessage(request, catalog);
    expect(hasButtons(message)).toBe(false);
    expect(JSON.stringify(message.blocks)).toContain(JSON.stringify(line).slice(1, -1));
  });

  it('keeps the buttons and shows who approved so far while more approvals are needed', () => {
    const message = approvalRequestMessage(
      accessRequest({ level: 'write', approvals: [approval('bob', 'slack', 'U0BOB0001')] }),
      catalog,
    );
    expect(hasButtons(message)).toBe(true);
    expect(JSON.stringify(message.blocks)).toContain(
      'Approved so far by <@U0BOB0001> (bob) in Slack (1 of 2)',
    );
  });
});

describe('the decision DM to the requester', () => {
  const at = '2026-11-21T10:05:00.000Z';
  it('says who denied and why, escaped', () => {
    const dm = requestDecidedDm(
      accessRequest({
        state: 'DENIED',
        decision: { outcome: 'denied', channel: 'jira', actorId: '712020:carol', account: 'carol', at },
      }),
      catalog,
    );
    expect(dm.text).toBe('Request REQ-0K2M9Q7X was denied.');
    expect(JSON.stringify(dm.blocks)).toContain('was denied by carol in Jira (no reason given)');
  });

  it('says what happens next after an approval', () => {
    const dm = requestDecidedDm(
      accessRequest({
        state: 'APPROVED',
        approvals: [
          { account: 'bob', dn: 'CN=bob', channel: 'slack', actorId: 'U0BOB0001', via: 'CN=g', at },
        ],
        decision: { outcome: 'approved', channel: 'slack', actorId: 'U0BOB0001', account: 'bob', at },
      }),
      catalog,
    );
    expect(JSON.stringify(dm.blocks)).toContain('single-use token');
  });
});

describe('decision refusals', () => {
  it.each([
    [{ kind: 'own_request' as const }, 'you cannot decide on your own request'],
    [
      { kind: 'not_approver' as const, approverGroups: ['CN=db-approvers,OU=Groups,DC=example,DC=com'] },
      'only members of db-approvers may decide',
    ],
    [{ kind: 'disabled' as const }, 'your directory account is disabled'],
    [{ kind: 'no_identity' as const, channel: 'jira' as const }, 'does not show your e-mail address'],
    [{ kind: 'not_pending' as const, state: 'DENIED' as const }, 'the request is already denied'],
    [{ kind: 'already_approved_by_you' as const, remaining: 1 }, 'needs 1 more from other approvers'],
    [{ kind: 'not_requester' as const }, 'only the person who made the request can cancel it'],
  ])('explains %j', (refusal, text) => {
    expect(explainRefusal(refusal)).toContain(text);
    expect(decisionRefusedMessage('REQ-0K2M9Q7X', 'approve', refusal).text).toMatch(
      /^Your approval of REQ-0K2M9Q7X was not taken: /,
    );
  });
});
