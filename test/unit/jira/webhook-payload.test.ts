import { describe, expect, it } from 'vitest';
import { parseJiraStatusChange } from '../../../shared/adapters/jira/webhook-payload.js';

const statusItem = {
  field: 'status',
  fieldtype: 'jira',
  fieldId: 'status',
  fromString: 'To Do',
  toString: 'Approved',
};
const body = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    timestamp: 1763719200000,
    webhookEvent: 'jira:issue_updated',
    issue_event_type_name: 'issue_generic',
    user: { accountId: '712020:frank', displayName: 'Frank' },
    issue: { id: '10042', key: 'DBA-7', fields: { customfield_10001: { anything: true } } },
    changelog: { id: '55001', items: [{ field: 'resolution', fieldtype: 'jira' }, statusItem] },
    ...overrides,
  });

describe('parseJiraStatusChange', () => {
  it('reads who moved which issue from where to where, ignoring everything else Jira sends', () => {
    expect(parseJiraStatusChange(body(), 'b1c2-0001')).toEqual({
      ok: true,
      change: {
        issueId: '10042',
        accountId: '712020:frank',
        fromStatus: 'To Do',
        toStatus: 'Approved',
        deliveryKey: 'b1c2-0001',
      },
    });
  });

  it('keys a delivery without an identifier (an Automation request) by the issue and changelog entry', () => {
    expect(parseJiraStatusChange(body(), undefined)).toMatchObject({
      ok: true,
      change: { deliveryKey: '10042:55001' },
    });
  });

  it.each([
    ['not JSON', '{"webhookEvent":', 'not_json'],
    ['another event', body({ webhookEvent: 'comment_created' }), 'not_an_issue_update'],
    [
      'an issue id that is not a number',
      body({ issue: { id: '../10042', key: 'DBA-7' } }),
      'not_an_issue_update',
    ],
    ['no author', body({ user: undefined }), 'not_an_issue_update'],
    [
      'a change of another field',
      body({ changelog: { id: '1', items: [{ field: 'summary', toString: 'x' }] } }),
      'no_status_change',
    ],
    ['a comment (no changelog items)', body({ changelog: { id: '1', items: [] } }), 'no_status_change'],
  ])('reports no status change for %s', (_case, raw, why) => {
    expect(parseJiraStatusChange(raw, 'id-1')).toEqual({ ok: false, why });
  });
});
