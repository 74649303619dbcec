import { describe, expect, it } from 'vitest';
import { interpretSlashText } from '../../../shared/adapters/slack/slash-command.js';
import { exampleCatalog } from '../../fixtures/catalog.js';

const catalog = exampleCatalog();

describe('interpretSlashText', () => {
  it.each([
    ['', { kind: 'open_modal' }],
    ['   ', { kind: 'open_modal' }],
    ['help', { kind: 'help' }],
    ['HELP', { kind: 'help' }],
    ['cancel REQ-0K2M9Q7X', { kind: 'cancel', requestId: 'REQ-0K2M9Q7X' }],
    ['cancel req-0k2m9q7x', { kind: 'cancel', requestId: 'REQ-0K2M9Q7X' }],
    ['revoke REQ-0K2M9Q7X', { kind: 'revoke', requestId: 'REQ-0K2M9Q7X' }],
    ['approve REQ-0K2M9Q7X', { kind: 'approve', requestId: 'REQ-0K2M9Q7X' }],
    [
      'deny req-0k2m9q7x  use the   read replica\u0007',
      { kind: 'deny', requestId: 'REQ-0K2M9Q7X', reason: 'use the read replica' },
    ],
    [
      'deny REQ-0K2M9Q7X',
      { kind: 'invalid', problems: [expect.stringContaining('deny takes a request id and the reason')] },
    ],
    [
      'extend req-0k2m9q7x 30m the backfill runs long',
      { kind: 'extend', requestId: 'REQ-0K2M9Q7X', minutes: 30, reason: 'the backfill runs long' },
    ],
    [
      'EXTEND REQ-0K2M9Q7X 2h  incident INC-42 still open',
      { kind: 'extend', requestId: 'REQ-0K2M9Q7X', minutes: 120, reason: 'incident INC-42 still open' },
    ],
    [
      'extend REQ-0K2M9Q7X 30m',
      {
        kind: 'invalid',
        problems: [expect.stringContaining('extend takes a request id, how much longer and why')],
      },
    ],
    [
      'extend REQ-0K2M9Q7X soon because reasons',
      { kind: 'invalid', problems: [expect.stringMatching(/^extend: /)] },
    ],
    [
      'extend REQ-0K2M9Q7X 25h a whole day and more',
      { kind: 'invalid', problems: [expect.stringMatching(/^extend: .*maximum/)] },
    ],
    [
      'extend REQ-0K2M9Q7X 30m ok',
      { kind: 'invalid', problems: ['extend: say in a few words why you need more time'] },
    ],
    ['extend nope 30m the backfill', { kind: 'invalid', problems: [expect.stringContaining('nope')] }],
    [
      'approve REQ-0K2M9Q7X please',
      { kind: 'invalid', problems: [expect.stringContaining('approve takes exactly one')] },
    ],
  ])('%j → %j', (text, intent) => {
    expect(interpretSlashText(text, catalog)).toEqual(intent);
  });

  it.each([
    ['orders read 1h INC-1234 checking stuck orders', 'orders', 'read', 60, 'INC-1234 checking stuck orders'],
    ['Orders READ 4h looking at the refunds table', 'orders', 'read', 240, 'looking at the refunds table'],
    [
      'billing-staging admin 8h   schema   migration dry run',
      'billing-staging',
      'admin',
      480,
      'schema migration dry run',
    ],
    [
      'orders write 2h INC-99 fix duplicated payment rows',
      'orders',
      'write',
      120,
      'INC-99 fix duplicated payment rows',
    ],
  ])('%j is a request', (text, database, level, minutes, justification) => {
    expect(interpretSlashText(text, catalog)).toEqual({
      kind: 'submit',
      request: { database, level, duration: { minutes }, justification },
    });
  });

  it.each([
    ['orders', ['missing <level> <duration> <justification>']],
    ['orders read', ['missing <duration> <justification>']],
    ['orders read 1h', ['missing <justification>']],
    [
      'payments',
      [
        'unknown database "payments"; choose one of: orders, billing-staging',
        'missing <level> <duration> <justification>',
      ],
    ],
    [
      'orders admin',
      [
        'orders has no access level "admin"; choose one of: read, write',
        'missing <duration> <justification>',
      ],
    ],
    ['payments read 1h because', ['unknown database "payments"; choose one of: orders, billing-staging']],
    ['orders admin 1h because', ['orders has no access level "admin"; choose one of: read, write']],
    ['orders read 5h checking stuck orders', ['"5h" exceeds the maximum of 4h']],
    ['orders read 0m checking stuck orders', ['"0m" is zero; ask for at least 1m']],
    ['orders read -1h checking stuck orders', ['"-1h" is negative; a duration must be positive, e.g. 1h']],
    ['orders read 2 hours of checking', ['"2" has no unit; add m, h or d, e.g. 2h']],
    ['orders read 999999d checking stuck orders', ['"999999d" is far too long; the maximum is 4h']],
    ['orders read 1h short', ['the justification must be at least 10 characters; yours has 5']],
    [
      'orders write 1h fixing the duplicated rows',
      ['the justification must match (INC|CHG)-[0-9]+ (Mention the incident or change key, e.g. INC-1234)'],
    ],
    [
      `orders read 1h ${'x'.repeat(1001)}`,
      ['the justification is 1001 characters; keep it under 1000 and link to details'],
    ],
    ['cancel', ['cancel takes exactly one request id, e.g. cancel REQ-0K2M9Q7X']],
    ['cancel REQ-1 REQ-2', ['cancel takes exactly one request id, e.g. cancel REQ-0K2M9Q7X']],
    [
      'revoke <@U123>',
      ['"<@U123>" is not a request id; it looks like REQ-0K2M9Q7X (REQ- and 8 letters or digits)'],
    ],
    [
      'orders write 9h x',
      [
        '"9h" exceeds the maximum of 2h',
        'the justification must be at least 15 characters; yours has 1 (Mention the incident or change key, e.g. INC-1234)',
      ],
    ],
  ])('%j is refused with %j', (text, problems) => {
    expect(interpretSlashText(text, catalog)).toEqual({ kind: 'invalid', problems });
  });

  it('does not treat an inherited object key as a database', () => {
    expect(interpretSlashText('constructor read 1h checking something', catalog)).toMatchObject({
      kind: 'invalid',
    });
    expect(interpretSlashText('orders __proto__ 1h checking something', catalog)).toMatchObject({
      kind: 'invalid',
    });
  });
});
