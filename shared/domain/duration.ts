import { DurationError } from './errors.js';

/** A length of time as people type it in Slack and in the catalog: `30m`, `2h`, `1d`. */
export interface Duration {
  readonly minutes: number;
}

const UNIT_MINUTES = { m: 1, h: 60, d: 24 * 60 } as const;
type Unit = keyof typeof UNIT_MINUTES;

// One whole number and one unit. Compound forms (`1h30m`) are left out on purpose: `90m` says
// the same, and a single form keeps the slash command's grammar easy to explain in one line.
const DURATION_PATTERN = /^(\d+)([mhd])$/;
const WORD_UNITS: Record<string, Unit> = {
  min: 'm',
  mins: 'm',
  minute: 'm',
  minutes: 'm',
  hr: 'h',
  hrs: 'h',
  hour: 'h',
  hours: 'h',
  day: 'd',
  days: 'd',
};
// Anything longer than a year is a typo, and refusing it early keeps the number arithmetic exact.
const ABSOLUTE_MAX_MINUTES = 366 * 24 * 60;

export const DURATION_FORMAT_HELP = 'a whole number followed by m, h or d, e.g. 30m, 2h or 1d';

/**
 * Parses `30m`, `2h`, `1d`. `max` bounds the result (the access level's maximum); the message of
 * every refusal says what was wrong and what would be accepted.
 */
export function parseDuration(input: string, bounds: { max?: Duration } = {}): Duration {
  const text = input.trim();
  if (text === '') throw new DurationError(input, `a duration is required: ${DURATION_FORMAT_HELP}`);

  const match = DURATION_PATTERN.exec(text.toLowerCase());
  if (!match) throw new DurationError(input, explainMalformed(text));

  const [, digits = '', unit = 'm'] = match;
  const amount = Number(digits);
  const minutes = amount * UNIT_MINUTES[unit as Unit];
  if (amount === 0) {
    throw new DurationError(input, `"${text}" is zero; ask for at least 1m`);
  }
  if (!Number.isSafeInteger(amount) || minutes > ABSOLUTE_MAX_MINUTES) {
    const limit = bounds.max
      ? `the maximum is ${formatDuration(bounds.max)}`
      : 'durations are capped at 366d';
    throw new DurationError(input, `"${text}" is far too long; ${limit}`);
  }
  if (bounds.max && minutes > bounds.max.minutes) {
    throw new DurationError(input, `"${text}" exceeds the maximum of ${formatDuration(bounds.max)}`, {
      maxMinutes: bounds.max.minutes,
    });
  }
  return { minutes };
}

function explainMalformed(text: string): string {
  if (text.startsWith('-')) return `"${text}" is negative; a duration must be positive, e.g. 1h`;
  const spelled = /^(\d+)\s*([a-z]+)$/i.exec(text);
  const word = spelled?.[2]?.toLowerCase();
  if (spelled && word && WORD_UNITS[word]) {
    return `"${text}" is not a duration; write it as ${spelled[1]}${WORD_UNITS[word]}`;
  }
  if (/^\d+(\.\d+)?$/.test(text)) return `"${text}" has no unit; add m, h or d, e.g. ${text}h`;
  if (/^\d+\.\d+[mhd]$/i.test(text)) {
    return `"${text}" is not a whole number; use a smaller unit instead, e.g. 90m rather than 1.5h`;
  }
  return `"${text}" is not a duration; use ${DURATION_FORMAT_HELP}`;
}

/** The shortest exact form: 90 → `90m`, 120 → `2h`, 1440 → `1d`. */
export function formatDuration(duration: Duration): string {
  const { minutes } = duration;
  if (minutes % UNIT_MINUTES.d === 0) return `${minutes / UNIT_MINUTES.d}d`;
  if (minutes % UNIT_MINUTES.h === 0) return `${minutes / UNIT_MINUTES.h}h`;
  return `${minutes}m`;
}

export function durationFromMinutes(minutes: number): Duration {
  return { minutes };
}

export function toMilliseconds(duration: Duration): number {
  return duration.minutes * 60_000;
}
