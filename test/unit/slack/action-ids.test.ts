import { describe, expect, it } from 'vitest';
import { extendButtonValue, parseExtendButtonValue } from '../../../shared/adapters/slack/action-ids.js';

describe('the Extend button value', () => {
  it('round-trips a request id and minutes', () => {
    expect(parseExtendButtonValue(extendButtonValue('REQ-0K2M9Q7X', 60))).toEqual({
      requestId: 'REQ-0K2M9Q7X',
      minutes: 60,
    });
  });

  it.each([
    'REQ-0K2M9Q7U:60',
    'REQ-0K2M9Q7O:60',
    'req-0k2m9q7x:60',
    'REQ-0K2M9Q7X:',
    'REQ-0K2M9Q7X:99999',
    'REQ-0K2M9Q7X:0',
    'REQ-0K2M9Q7X:9999',
    'REQ-0K2M9Q7X:1441',
    'x',
  ])('refuses %j: the same request id pattern as the topic contract', (value) => {
    expect(parseExtendButtonValue(value)).toBeUndefined();
  });
});
