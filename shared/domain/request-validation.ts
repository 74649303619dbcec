import type { AccessLevelEntry, Catalog } from '../config/catalog-schema.js';
import { type Duration, formatDuration, parseDuration } from './duration.js';
import { findLevel } from './eligibility.js';
import { DurationError } from './errors.js';

export const MAX_JUSTIFICATION_LENGTH = 1000;

/** A request that passed every check the catalog alone can make (the directory comes later). */
export interface ValidatedRequest {
  readonly database: string;
  readonly level: string;
  readonly duration: Duration;
  readonly justification: string;
}

/** Field-by-field problems, so a modal can show each one under its input. */
export interface RequestProblems {
  target?: string;
  duration?: string;
  justification?: string;
}

export type Validation = { ok: true; request: ValidatedRequest } | { ok: false; problems: RequestProblems };

export interface RawRequest {
  readonly database: string;
  readonly level: string;
  readonly duration: string;
  readonly justification: string;
}

export function validateAccessRequest(catalog: Catalog, raw: RawRequest): Validation {
  const problems: RequestProblems = {};
  const level = findLevel(catalog, raw);
  if (!Object.hasOwn(catalog.databases, raw.database)) {
    problems.target = `unknown database "${raw.database}"; choose one of: ${Object.keys(catalog.databases).join(', ')}`;
  } else if (!level) {
    const levels = Object.keys(catalog.databases[raw.database]?.levels ?? {});
    problems.target = `${raw.database} has no access level "${raw.level}"; choose one of: ${levels.join(', ')}`;
  }

  let duration: Duration | undefined;
  try {
    duration = parseDuration(raw.duration, level ? { max: level.maxDuration } : {});
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    problems.duration = error.message;
  }

  const justification = normalizeJustification(raw.justification);
  const justificationProblem = checkJustification(justification, level);
  if (justificationProblem) problems.justification = justificationProblem;

  if (problems.target || problems.duration || problems.justification || !duration)
    return { ok: false, problems };
  return { ok: true, request: { database: raw.database, level: raw.level, duration, justification } };
}

/** Control characters would survive into Jira and audit records; runs of spaces carry nothing. */
export function normalizeJustification(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '')
    .replace(/[ \t]+/g, ' ')
    .trim();
}

function checkJustification(text: string, level: AccessLevelEntry | undefined): string | undefined {
  if (text === '') return 'a justification is required: say why you need this access';
  if (text.length > MAX_JUSTIFICATION_LENGTH) {
    return `the justification is ${text.length} characters; keep it under ${MAX_JUSTIFICATION_LENGTH} and link to details`;
  }
  const rule = level?.justification;
  if (!rule) return undefined;
  const hint = rule.hint ? ` (${rule.hint})` : '';
  if (rule.minLength !== undefined && text.length < rule.minLength) {
    return `the justification must be at least ${rule.minLength} characters; yours has ${text.length}${hint}`;
  }
  if (rule.pattern !== undefined && !new RegExp(rule.pattern).test(text)) {
    return `the justification must match ${rule.pattern}${hint}`;
  }
  return undefined;
}

export function describeRequest(request: ValidatedRequest): string {
  return `${request.database}/${request.level} for ${formatDuration(request.duration)}`;
}
