import type { Catalog } from '../../config/catalog-schema.js';
import { DurationError, InvalidRequestIdError } from '../../domain/errors.js';
import { parseDuration } from '../../domain/duration.js';
import { MAX_ACCESS_DURATION } from '../../config/catalog-schema.js';
import { parseRequestId, type RequestId } from '../../domain/request-id.js';
import {
  normalizeJustification,
  type ValidatedRequest,
  validateAccessRequest,
} from '../../domain/request-validation.js';

/** What the text after `/request_mysql_access` asks for. */
export type SlashIntent =
  | { kind: 'open_modal' }
  | { kind: 'help' }
  | { kind: 'cancel' | 'revoke' | 'approve'; requestId: RequestId }
  | { kind: 'deny'; requestId: RequestId; reason: string }
  | { kind: 'extend'; requestId: RequestId; minutes: number; reason: string }
  | { kind: 'submit'; request: ValidatedRequest }
  | { kind: 'invalid'; problems: readonly string[] };

export function interpretSlashText(text: string, catalog: Catalog): SlashIntent {
  const trimmed = text.trim();
  if (trimmed === '') return { kind: 'open_modal' };
  const [first = '', ...rest] = trimmed.split(/\s+/);
  const keyword = first.toLowerCase();
  if (keyword === 'help' && rest.length === 0) return { kind: 'help' };
  if (keyword === 'deny') {
    const reason = trimmed.replace(/^\S+\s+\S+\s*/, '');
    if (rest.length < 2)
      return {
        kind: 'invalid',
        problems: [
          'deny takes a request id and the reason the requester will read, e.g. deny REQ-0K2M9Q7X use the replica',
        ],
      };
    try {
      return {
        kind: 'deny',
        requestId: parseRequestId(rest[0] ?? ''),
        reason: normalizeJustification(reason),
      };
    } catch (error) {
      if (error instanceof InvalidRequestIdError) return { kind: 'invalid', problems: [error.message] };
      throw error;
    }
  }
  if (keyword === 'extend') return interpretExtend(trimmed, rest);
  if (keyword === 'cancel' || keyword === 'revoke' || keyword === 'approve') {
    if (rest.length !== 1)
      return {
        kind: 'invalid',
        problems: [`${keyword} takes exactly one request id, e.g. ${keyword} REQ-0K2M9Q7X`],
      };
    try {
      return { kind: keyword, requestId: parseRequestId(rest[0] ?? '') };
    } catch (error) {
      if (error instanceof InvalidRequestIdError) return { kind: 'invalid', problems: [error.message] };
      throw error;
    }
  }

  const [database = '', level = '', duration = ''] = [first.toLowerCase(), ...rest];
  if (rest.length < 3) {
    const missing = ['<database>', '<level>', '<duration>', '<justification>'].slice(rest.length + 1);
    const known = validateAccessRequest(catalog, {
      database,
      level: level.toLowerCase(),
      duration: '1m',
      justification: '-',
    });
    const target =
      !known.ok && (rest.length > 0 || !Object.hasOwn(catalog.databases, database))
        ? known.problems.target
        : undefined;
    return { kind: 'invalid', problems: [...(target ? [target] : []), `missing ${missing.join(' ')}`] };
  }
  // The justification keeps the user's own spacing; only the first three words are parsed.
  const justification = trimmed.replace(/^\S+\s+\S+\s+\S+\s*/, '');
  const validation = validateAccessRequest(catalog, {
    database,
    level: level.toLowerCase(),
    duration,
    justification,
  });
  if (validation.ok) return { kind: 'submit', request: validation.request };
  const { target, duration: durationProblem, justification: justificationProblem } = validation.problems;
  return {
    kind: 'invalid',
    problems: [target, durationProblem, justificationProblem].filter((p) => p !== undefined),
  };
}

const EXTEND_USAGE =
  'extend takes a request id, how much longer and why, e.g. extend REQ-0K2M9Q7X 30m the migration runs long';

/** `extend REQ-… <duration> <reason>`: how much longer (checked against the level by the worker) and why. */
function interpretExtend(trimmed: string, rest: readonly string[]): SlashIntent {
  if (rest.length < 3) return { kind: 'invalid', problems: [EXTEND_USAGE] };
  const reason = normalizeJustification(trimmed.replace(/^\S+\s+\S+\s+\S+\s*/, ''));
  let requestId: RequestId;
  try {
    requestId = parseRequestId(rest[0] ?? '');
  } catch (error) {
    if (error instanceof InvalidRequestIdError) return { kind: 'invalid', problems: [error.message] };
    throw error;
  }
  let minutes: number;
  try {
    minutes = parseDuration(rest[1] ?? '', { max: MAX_ACCESS_DURATION }).minutes;
  } catch (error) {
    if (error instanceof DurationError) return { kind: 'invalid', problems: [`extend: ${error.message}`] };
    throw error;
  }
  if (reason.length < 5)
    return { kind: 'invalid', problems: ['extend: say in a few words why you need more time'] };
  return { kind: 'extend', requestId, minutes, reason: reason.slice(0, 1000) };
}
