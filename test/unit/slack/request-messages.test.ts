import { describe, expect, it } from 'vitest';
import {
  approvalRequestMessage,
  commonName,
  rejectionText,
  requestPendingDm,
  requestRejectedDm,
} from '../../../shared/adapters/slack/request-messages.js';
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
