import { describe, expect, it } from 'vitest';
import { InvalidRequestIdError } from '../../../shared/domain/errors.js';
import {
  createRequestIdGenerator,
  isRequestId,
  parseRequestId,
  requestIdTime,
} from '../../../shared/domain/request-id.js';
import type { Clock } from '../../../shared/ports/clock.js';

const clockAt = (iso: string): Clock => ({ now: () => new Date(iso) });
const fixedRandom = (value: number) => (length: number) => new Uint8Array(length).fill(value);

describe('request ids', () => {
  it('look like REQ- and 8 unambiguous characters', () => {
    const next = createRequestIdGenerator(clockAt('2026-11-21T10:00:00Z'));
    const id = next();
    expect(id).toMatch(/^REQ-[0-9A-HJKMNP-TV-Z]{8}$/);
    expect(isRequestId(id)).toBe(true);
  });

  it('sort by creation time, including across the string length boundary of the time part', () => {
    const times = [
      '2025-01-01T00:00:01Z',
      '2025-01-01T00:00:32Z',
      '2026-03-01T12:00:00Z',
      '2026-11-21T10:00:00Z',
      '2058-12-31T00:00:00Z',
    ];
    const ids = times.map((t) => createRequestIdGenerator(clockAt(t), fixedRandom(31))());
    expect([...ids].sort()).toEqual(ids);
  });

  it('record the second they were issued', () => {
    const id = createRequestIdGenerator(clockAt('2026-11-21T10:11:12.987Z'))();
    expect(requestIdTime(id).toISOString()).toBe('2026-11-21T10:11:12.000Z');
  });

  it('are unique within one second across many draws', () => {
    const next = createRequestIdGenerator(clockAt('2026-11-21T10:00:00Z'));
    const ids = new Set(Array.from({ length: 20 }, () => next()));
    // 1,024 suffixes: 20 draws collide with probability ~17%; the store's conditional put is
    // the real guarantee, so this only checks the suffix is random, not constant.
    expect(ids.size).toBeGreaterThan(1);
  });

  it('refuse a clock outside the representable range instead of wrapping around', () => {
    expect(() => createRequestIdGenerator(clockAt('2024-12-31T23:59:59Z'))()).toThrow(RangeError);
  });
});

describe('parseRequestId', () => {
  it.each([
    ['REQ-0K2M9Q7X', 'REQ-0K2M9Q7X'],
    ['req-0k2m9q7x', 'REQ-0K2M9Q7X'],
    [' REQ-0K2M-9Q7X ', 'REQ-0K2M9Q7X'],
    ['0K2M9Q7X', 'REQ-0K2M9Q7X'],
    ['REQ-OK2M9Q7X', 'REQ-0K2M9Q7X'],
    ['REQ-1K2M9QIL', 'REQ-1K2M9Q11'],
  ])('reads %j as %s', (input, id) => {
    expect(parseRequestId(input)).toBe(id);
  });

  it.each([
    '',
    'REQ-',
    'REQ-0K2M9Q7',
    'REQ-0K2M9Q7XX',
    'REQ-0K2M9Q7U',
    'TICKET-1',
    '<@U123>',
    'REQ-0K2M9Q7X; DROP',
  ])('refuses %j with an example of the right form', (input) => {
    expect(() => parseRequestId(input)).toThrow(InvalidRequestIdError);
    expect(() => parseRequestId(input)).toThrow(/looks like REQ-0K2M9Q7X/);
  });
});
