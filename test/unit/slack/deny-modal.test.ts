import { describe, expect, it } from 'vitest';
import {
  denyReasonModal,
  denyReasonProblem,
  parseDenyModalMetadata,
} from '../../../shared/adapters/slack/deny-modal.js';

describe('the deny form', () => {
  it('round-trips where the button was through private_metadata', () => {
    const view = denyReasonModal({
      requestId: 'REQ-0K2M9Q7X',
      channelId: 'C0APPROVALS',
      ts: '1763719200.000100',
    });
    expect(parseDenyModalMetadata(view.private_metadata)).toEqual({
      requestId: 'REQ-0K2M9Q7X',
      channelId: 'C0APPROVALS',
      ts: '1763719200.000100',
    });
  });

  it.each([
    ['not JSON', 'REQ-0K2M9Q7X', undefined],
    ['no request id', '{"channelId":"C0APPROVALS"}', undefined],
    ['an injected request id', '{"requestId":"REQ-0K2M9Q7X\\"}"}', undefined],
    [
      'a bad channel',
      '{"requestId":"REQ-0K2M9Q7X","channelId":"#general","ts":"1.2"}',
      { requestId: 'REQ-0K2M9Q7X' },
    ],
  ])('treats metadata with %s as what it can trust', (_case, metadata, expected) => {
    expect(parseDenyModalMetadata(metadata)).toEqual(expected);
  });

  it.each([
    ['', 'at least 5 characters'],
    ['  no  ', 'at least 5 characters'],
    ['x'.repeat(501), 'under 500 characters'],
    ['use the read replica', undefined],
  ])('checks the reason %j', (reason, problem) => {
    const found = denyReasonProblem(reason);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
