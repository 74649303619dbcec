import { describe, expect, it } from 'vitest';
import { type Duration, formatDuration, parseDuration } from '../../../shared/domain/duration.js';
import { DurationError } from '../../../shared/domain/errors.js';

const FOUR_HOURS: Duration = { minutes: 240 };

describe('parseDuration', () => {
  it.each([
    ['30m', 30],
    ['2h', 120],
    ['1d', 1440],
    ['90m', 90],
    [' 4H ', 240],
    ['1m', 1],
  ])('reads %j as %i minutes', (input, minutes) => {
    expect(parseDuration(input)).toEqual({ minutes });
  });

  it.each([
    ['0m', /"0m" is zero; ask for at least 1m/],
    ['0h', /is zero/],
    ['-1h', /"-1h" is negative/],
    ['2 hours', /"2 hours" is not a duration; write it as 2h/],
    ['30 minutes', /write it as 30m/],
    ['1 day', /write it as 1d/],
    ['999999d', /"999999d" is far too long/],
    ['99999999999999999999m', /far too long/],
    ['2', /"2" has no unit; add m, h or d, e.g. 2h/],
    ['1.5h', /not a whole number; use a smaller unit instead, e.g. 90m/],
    ['2w', /"2w" is not a duration; use a whole number followed by m, h or d/],
    ['1h30m', /is not a duration/],
    ['', /a duration is required/],
    ['   ', /a duration is required/],
  ])('refuses %j with a message saying how to fix it', (input, message) => {
    expect(() => parseDuration(input)).toThrow(message);
    expect(() => parseDuration(input)).toThrow(DurationError);
  });

  it.each([
    ['4h', true],
    ['240m', true],
    ['241m', false],
    ['5h', false],
    ['1d', false],
  ])('bounded by a 4h maximum, %j is allowed: %s', (input, allowed) => {
    const attempt = () => parseDuration(input, { max: FOUR_HOURS });
    if (allowed) expect(attempt()).toEqual(parseDuration(input));
    else expect(attempt).toThrow(`"${input}" exceeds the maximum of 4h`);
  });

  it('names the level maximum when the number is absurd', () => {
    expect(() => parseDuration('999999d', { max: FOUR_HOURS })).toThrow('the maximum is 4h');
  });

  it('carries the maximum on the error for callers that offer choices', () => {
    try {
      parseDuration('5h', { max: FOUR_HOURS });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(DurationError);
      expect((error as DurationError).details.maxMinutes).toBe(240);
      expect((error as DurationError).input).toBe('5h');
    }
  });
});

describe('formatDuration', () => {
  it.each([
    [30, '30m'],
    [90, '90m'],
    [120, '2h'],
    [1440, '1d'],
    [1500, '25h'],
  ])('writes %i minutes as %s', (minutes, text) => {
    expect(formatDuration({ minutes })).toBe(text);
    expect(parseDuration(text).minutes).toBe(minutes);
  });
});
