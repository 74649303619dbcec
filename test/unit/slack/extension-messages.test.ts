import { describe, expect, it } from 'vitest';
import {
  extensionApprovalMessage,
  extensionAskedDm,
  extensionButtonValue,
  extensionDecidedDm,
  parseExtensionButtonValue,
} from '../../../shared/adapters/slack/extension-messages.js';
import type { AccessRequest, Extension } from '../../../shared/domain/access-request.js';
import { accessRequest } from '../../fixtures/access-request.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();
const at = '2026-11-21T10:05:00.000Z';
const EXTENSION: Extension = {
  number: 1,
  commandId: 'slack:extend:0001',
  status: 'pending',
  minutes: 30,
  reason: 'the backfill runs long <!channel>',
  askedAt: at,
  fromExpiresAt: '2026-11-21T11:00:00.000Z',
  toExpiresAt: '2026-11-21T11:30:00.000Z',
  approvals: [],
};
const granted = (extension: Extension, changes: Partial<AccessRequest> = {}): AccessRequest =>
  accessRequest({
    state: 'GRANTED',
    grant: {
      leaseId: 'database/creds/jit-orders-read/x',
      username: 'alice-x',
      tokenAccessor: 'a',
      mintedAt: '2026-11-21T10:00:00.000Z',
      expiresAt: extension.status === 'approved' ? extension.toExpiresAt : extension.fromExpiresAt,
      origin: 'approval',
    },
    extensions: [extension],
    ...changes,
  });
const buttons = (request: AccessRequest) =>
  JSON.stringify(extensionApprovalMessage(request, catalog, 1).blocks).match(/extension\.(approve|deny)/g) ??
  [];

describe('extension button values', () => {
  it.each([
    ['REQ-0K2M9Q7X:1', { requestId: 'REQ-0K2M9Q7X', number: 1 }],
    ['REQ-0K2M9Q7X:12', { requestId: 'REQ-0K2M9Q7X', number: 12 }],
    ['REQ-0K2M9Q7X:0', undefined],
    ['REQ-0K2M9Q7X', undefined],
    ['REQ-0K2M9Q7X:1:2', undefined],
    ['nope:1', undefined],
  ])('%s → %j', (value, parsed) => {
    expect(parseExtensionButtonValue(value)).toEqual(parsed);
  });

  it('round-trips', () => {
    expect(parseExtensionButtonValue(extensionButtonValue('REQ-0K2M9Q7X', 3))).toEqual({
      requestId: 'REQ-0K2M9Q7X',
      number: 3,
    });
  });
});

describe('extensionApprovalMessage', () => {
  it('asks with both buttons while the extension waits and the grant lives, the reason escaped', () => {
    const message = extensionApprovalMessage(granted(EXTENSION), catalog, 1);
    expect(buttons(granted(EXTENSION))).toEqual(['extension.approve', 'extension.deny']);
    expect(JSON.stringify(message.blocks)).toContain('30m');
    expect(JSON.stringify(message.blocks)).not.toContain('<!channel>');
    expect(message.text).toContain('REQ-');
  });

  it.each([
    [
      'approved',
      granted({
        ...EXTENSION,
        status: 'approved',
        decision: { account: 'bob', actorId: 'U1', channel: 'slack', at },
      }),
      /Approved by bob/,
    ],
    [
      'denied',
      granted({
        ...EXTENSION,
        status: 'denied',
        decision: { account: 'bob', actorId: 'U1', channel: 'slack', at },
      }),
      /Denied by bob/,
    ],
    ['the grant ended first', granted(EXTENSION, { state: 'EXPIRED' }), /ended before a decision/],
  ])('once %s: no buttons, the outcome', (_, request, outcome) => {
    expect(buttons(request)).toEqual([]);
    expect(JSON.stringify(extensionApprovalMessage(request, catalog, 1).blocks)).toMatch(outcome);
  });
});

describe('requester DMs', () => {
  it('says the grant keeps working while the approvers decide', () => {
    expect(extensionAskedDm(granted(EXTENSION)).text).toMatch(/with the approvers.*keeps working/);
  });

  it.each([
    [
      {
        ...EXTENSION,
        status: 'approved' as const,
        decision: { account: 'bob', actorId: 'U1', channel: 'slack' as const, at },
      },
      /bob approved 30m more/,
    ],
    [
      {
        ...EXTENSION,
        status: 'denied' as const,
        decision: { account: 'bob', actorId: 'U1', channel: 'slack' as const, reason: 'wrap it up', at },
      },
      /bob denied more time: wrap it up\. Your access still ends/,
    ],
  ])('tells the outcome (%#)', (extension, text) => {
    expect(extensionDecidedDm(granted(extension)).text).toMatch(text);
  });
});
