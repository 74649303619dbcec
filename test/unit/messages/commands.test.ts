import { describe, expect, it } from 'vitest';
import { InvalidCommandError, parseTopicCommand } from '../../../shared/messages/commands.js';

const submitted = {
  type: 'request.submitted',
  version: 1,
  commandId: 'submit:0123456789abcdef0123456789abcdef',
  issuedAt: '2026-11-21T10:00:00.000Z',
  requestId: 'REQ-0K2M9Q7X',
  requester: { kind: 'slack', userId: 'U0ALICE', teamId: 'T0TEAM' },
  channelId: 'C0GENERAL',
  via: 'slash_command',
  target: { database: 'orders', level: 'read' },
  durationMinutes: 60,
  justification: 'INC-1 checking rows',
};

describe('parseTopicCommand', () => {
  it('accepts a well-formed command whose attributes match', () => {
    expect(parseTopicCommand(JSON.stringify(submitted), { type: 'request.submitted', version: '1' })).toEqual(
      submitted,
    );
  });

  it.each([
    ['not JSON', '{oops', undefined, 'the message is not JSON'],
    [
      'an unknown type',
      JSON.stringify({ ...submitted, type: 'request.approve_all' }),
      undefined,
      'not a valid command',
    ],
    ['a future version', JSON.stringify({ ...submitted, version: 2 }), undefined, 'not a valid command'],
    ['an extra field', JSON.stringify({ ...submitted, isAdmin: true }), undefined, 'not a valid command'],
    [
      'a bad request id',
      JSON.stringify({ ...submitted, requestId: 'REQ-1' }),
      undefined,
      'not a valid command',
    ],
    [
      'a duration over 24h',
      JSON.stringify({ ...submitted, durationMinutes: 1441 }),
      undefined,
      'not a valid command',
    ],
    [
      'a type attribute that disagrees',
      JSON.stringify(submitted),
      { type: 'grant.revoke' as const },
      'type attribute does not match',
    ],
    [
      'a version attribute that disagrees',
      JSON.stringify(submitted),
      { version: '2' },
      'version attribute does not match',
    ],
  ])('refuses %s', (_what, message, attributes, text) => {
    expect(() => parseTopicCommand(message, attributes)).toThrow(InvalidCommandError);
    expect(() => parseTopicCommand(message, attributes)).toThrow(text);
  });

  it('names the fields at fault without echoing their values', () => {
    try {
      parseTopicCommand(JSON.stringify({ ...submitted, requestId: 'secret-value-xyz' }));
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidCommandError).issues).toEqual(['requestId: must be a request id']);
      expect(JSON.stringify((error as InvalidCommandError).issues)).not.toContain('secret-value-xyz');
    }
  });
});
