import { describe, expect, it } from 'vitest';
import type { RequestId } from '../../../shared/domain/request-id.js';
import { parseTopicCommand, type TopicCommand } from '../../../shared/messages/commands.js';
import { type EventPublisher, PublishFailedError } from '../../../shared/ports/event-publisher.js';
import {
  interpretSlashText,
  submitAccessRequest,
  validateAccessRequest,
} from '../../../shared/use-cases/request-intake.js';
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

describe('validateAccessRequest', () => {
  it('strips control characters and folds spaces in the justification', () => {
    const result = validateAccessRequest(catalog, {
      database: 'orders',
      level: 'read',
      duration: '1h',
      justification: '  INC-1\u0000234\t\tlooking   at rows\u0007 ',
    });
    expect(result).toEqual({
      ok: true,
      request: {
        database: 'orders',
        level: 'read',
        duration: { minutes: 60 },
        justification: 'INC-1234 looking at rows',
      },
    });
  });

  it('reports each field separately, for inline modal errors', () => {
    expect(
      validateAccessRequest(catalog, { database: 'orders', level: 'read', duration: '', justification: '' }),
    ).toEqual({
      ok: false,
      problems: {
        duration: 'a duration is required: a whole number followed by m, h or d, e.g. 30m, 2h or 1d',
        justification: 'a justification is required: say why you need this access',
      },
    });
  });
});

describe('submitAccessRequest', () => {
  const origin = {
    actor: { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T0TEAM', userName: 'alice' },
    channelId: 'C0GENERAL',
    responseUrl: 'https://hooks.slack.com/commands/T0TEAM/1/abc',
  };
  const request = {
    database: 'orders',
    level: 'read',
    duration: { minutes: 60 },
    justification: 'INC-1 checking rows',
  };

  function recorder(): EventPublisher & { published: TopicCommand[] } {
    const published: TopicCommand[] = [];
    return { published, publish: async (command) => void published.push(command) };
  }

  const deps = (
    publisher: EventPublisher,
    at = '2026-11-21T10:00:00Z',
    ids = ['REQ-0K2M9Q7X', 'REQ-0K2M9Q80'],
  ) => {
    const queue = [...ids];
    return { publisher, clock: { now: () => new Date(at) }, newRequestId: () => queue.shift() as RequestId };
  };

  it('publishes one request.submitted that the worker can parse', async () => {
    const publisher = recorder();
    const outcome = await submitAccessRequest(deps(publisher), request, origin, 'slash_command');
    expect(outcome).toEqual({ queued: true, value: { requestId: 'REQ-0K2M9Q7X' } });
    expect(publisher.published).toHaveLength(1);
    const command = parseTopicCommand(JSON.stringify(publisher.published[0]), {
      type: 'request.submitted',
      version: '1',
    });
    expect(command).toMatchObject({
      type: 'request.submitted',
      version: 1,
      requestId: 'REQ-0K2M9Q7X',
      requester: origin.actor,
      channelId: 'C0GENERAL',
      responseUrl: origin.responseUrl,
      via: 'slash_command',
      target: { database: 'orders', level: 'read' },
      durationMinutes: 60,
      justification: 'INC-1 checking rows',
      issuedAt: '2026-11-21T10:00:00.000Z',
    });
  });

  it('gives the same command id to the same request submitted twice in a row', async () => {
    const publisher = recorder();
    await submitAccessRequest(deps(publisher, '2026-11-21T10:00:01Z'), request, origin, 'slash_command');
    await submitAccessRequest(deps(publisher, '2026-11-21T10:00:09Z'), request, origin, 'slash_command');
    const [first, second] = publisher.published;
    expect(first?.commandId).toBe(second?.commandId);
  });

  it.each([
    ['another user', { ...origin, actor: { ...origin.actor, userId: 'U0BOB' } }, request],
    ['another level', origin, { ...request, level: 'write' }],
    ['another duration', origin, { ...request, duration: { minutes: 30 } }],
    ['another justification', origin, { ...request, justification: 'INC-2 other rows' }],
  ])('gives a different command id for %s', async (_what, otherOrigin, otherRequest) => {
    const publisher = recorder();
    await submitAccessRequest(deps(publisher), request, origin, 'slash_command');
    await submitAccessRequest(deps(publisher), otherRequest, otherOrigin, 'slash_command');
    expect(publisher.published[0]?.commandId).not.toBe(publisher.published[1]?.commandId);
  });

  it('reports "not queued" when the topic refuses, instead of claiming success', async () => {
    const failing: EventPublisher = {
      publish: async (command) => {
        throw new PublishFailedError(command.type, { cause: new Error('connect ECONNREFUSED') });
      },
    };
    expect(await submitAccessRequest(deps(failing), request, origin, 'slash_command')).toEqual({
      queued: false,
    });
  });

  it('does not swallow programming errors as "not queued"', async () => {
    const broken: EventPublisher = {
      publish: async () => {
        throw new TypeError('bug');
      },
    };
    await expect(submitAccessRequest(deps(broken), request, origin, 'slash_command')).rejects.toThrow(
      TypeError,
    );
  });
});
