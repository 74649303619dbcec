import { createHash } from 'node:crypto';
import type { AccessLevelEntry, Catalog } from '../config/catalog-schema.js';
import { type Duration, formatDuration, parseDuration } from '../domain/duration.js';
import { findLevel } from '../domain/eligibility.js';
import { DurationError, InvalidRequestIdError } from '../domain/errors.js';
import { parseRequestId, type RequestId } from '../domain/request-id.js';
import { COMMAND_VERSION, type SlackActor, type TopicCommand } from '../messages/commands.js';
import type { Clock } from '../ports/clock.js';
import { type EventPublisher, EventPublisherError } from '../ports/event-publisher.js';

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
function normalizeJustification(text: string): string {
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

/** What the text after `/request_mysql_access` asks for. */
export type SlashIntent =
  | { kind: 'open_modal' }
  | { kind: 'help' }
  | { kind: 'cancel' | 'revoke' | 'approve'; requestId: RequestId }
  | { kind: 'deny'; requestId: RequestId; reason: string }
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

/** Where in Slack a command came from, for the worker to answer there. */
export interface SlackOrigin {
  readonly actor: SlackActor;
  readonly channelId?: string;
  readonly responseUrl?: string;
}

export interface IntakeDeps {
  readonly publisher: EventPublisher;
  readonly clock: Clock;
  readonly newRequestId: () => RequestId;
}

export type IntakeOutcome<T> = { queued: true; value: T } | { queued: false };

// A user who submits the same thing twice within this window meant it once. A repeat that
// straddles two windows is still caught by the worker's one-open-request-per-level rule.
const RESUBMIT_WINDOW_SECONDS = 300;

export function stableCommandId(prefix: string, parts: readonly (string | number)[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
  return `${prefix}:${digest}`;
}

/** Queues `request.submitted`. `dedupeScope` identifies one user action (a modal, or a time window). */
export async function submitAccessRequest(
  deps: IntakeDeps,
  request: ValidatedRequest,
  origin: SlackOrigin,
  via: 'slash_command' | 'modal',
  dedupeScope?: string,
): Promise<IntakeOutcome<{ requestId: RequestId }>> {
  const now = deps.clock.now();
  const scope = dedupeScope ?? String(Math.floor(now.getTime() / 1000 / RESUBMIT_WINDOW_SECONDS));
  const requestId = deps.newRequestId();
  const command: TopicCommand = {
    type: 'request.submitted',
    version: COMMAND_VERSION,
    commandId: stableCommandId('submit', [
      origin.actor.teamId,
      origin.actor.userId,
      request.database,
      request.level,
      request.duration.minutes,
      request.justification.toLowerCase(),
      scope,
    ]),
    issuedAt: now.toISOString(),
    requestId,
    requester: origin.actor,
    ...(origin.channelId ? { channelId: origin.channelId } : {}),
    ...(origin.responseUrl ? { responseUrl: origin.responseUrl } : {}),
    via,
    target: { database: request.database, level: request.level },
    durationMinutes: request.duration.minutes,
    justification: request.justification,
  };
  return publishOrReport(deps, command, { requestId });
}

/** Queues a command that acts on an existing request (cancel, revoke, decide, extend). */
export async function queueCommand(
  deps: Pick<IntakeDeps, 'publisher'>,
  command: TopicCommand,
): Promise<IntakeOutcome<void>> {
  return publishOrReport(deps, command, undefined);
}

async function publishOrReport<T>(
  deps: Pick<IntakeDeps, 'publisher'>,
  command: TopicCommand,
  value: T,
): Promise<IntakeOutcome<T>> {
  try {
    await deps.publisher.publish(command);
    return { queued: true, value };
  } catch (error) {
    if (error instanceof EventPublisherError) return { queued: false };
    throw error;
  }
}

export function describeRequest(request: ValidatedRequest): string {
  return `${request.database}/${request.level} for ${formatDuration(request.duration)}`;
}
