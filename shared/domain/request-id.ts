import type { Clock } from '../ports/clock.js';
import { InvalidRequestIdError } from './errors.js';

/** `REQ-` and 8 Crockford base-32 characters, e.g. `REQ-0K2M9Q7X`. */
export type RequestId = string & { readonly __brand: 'RequestId' };

// Crockford's alphabet has no I, L, O or U: nothing two people can mishear or misread.
const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const TIME_CHARS = 6; // seconds since EPOCH: 2^30 s, good until 2059
const RANDOM_CHARS = 2; // 1,024 ids per second; the store's conditional put catches a clash
const EPOCH_MS = Date.UTC(2025, 0, 1);
const PREFIX = 'REQ-';
/** The one request id pattern: the topic contract, button values and the stores all use it. */
export const REQUEST_ID_PATTERN = new RegExp(`^${PREFIX}[${ALPHABET}]{${TIME_CHARS + RANDOM_CHARS}}$`);
const ID_PATTERN = REQUEST_ID_PATTERN;

export type RandomSource = (length: number) => Uint8Array;
const cryptoRandom: RandomSource = (length) => crypto.getRandomValues(new Uint8Array(length));

/**
 * Request ids are short enough to read out on an incident bridge and sort by creation time
 * (to the second), because the time comes first. Uniqueness within one second rests on
 * the random part plus the store refusing to overwrite an existing id.
 */
export function createRequestIdGenerator(clock: Clock, random: RandomSource = cryptoRandom) {
  return function nextRequestId(): RequestId {
    const seconds = Math.floor((clock.now().getTime() - EPOCH_MS) / 1000);
    if (seconds < 0 || seconds >= ALPHABET.length ** TIME_CHARS) {
      throw new RangeError(`the clock reads ${clock.now().toISOString()}, outside the request id range`);
    }
    const bytes = random(RANDOM_CHARS);
    let suffix = '';
    for (let i = 0; i < RANDOM_CHARS; i++) suffix += ALPHABET[(bytes[i] ?? 0) % ALPHABET.length];
    return `${PREFIX}${encode(seconds, TIME_CHARS)}${suffix}` as RequestId;
  };
}

function encode(value: number, width: number): string {
  let out = '';
  let rest = value;
  for (let i = 0; i < width; i++) {
    out = ALPHABET[rest % ALPHABET.length] + out;
    rest = Math.floor(rest / ALPHABET.length);
  }
  return out;
}

/**
 * Accepts what people actually type or say: any case, spaces or a missing `REQ-`, and the
 * look-alikes Crockford maps (O→0, I and L→1).
 */
export function parseRequestId(input: string): RequestId {
  let body = input.trim().toUpperCase().replace(/\s+/g, '');
  if (body.startsWith(PREFIX)) body = body.slice(PREFIX.length);
  else if (body.startsWith('REQ')) body = body.slice(3);
  body = body.replace(/-/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  const id = `${PREFIX}${body}`;
  if (!ID_PATTERN.test(id)) throw new InvalidRequestIdError(input);
  return id as RequestId;
}

export function isRequestId(value: string): value is RequestId {
  return ID_PATTERN.test(value);
}

/** When the id was issued, to the second. */
export function requestIdTime(id: RequestId): Date {
  let seconds = 0;
  for (const char of id.slice(PREFIX.length, PREFIX.length + TIME_CHARS)) {
    seconds = seconds * ALPHABET.length + ALPHABET.indexOf(char);
  }
  return new Date(EPOCH_MS + seconds * 1000);
}
