import { createHash } from 'node:crypto';
import type { RequestId } from '../domain/request-id.js';
import type { ValidatedRequest } from '../domain/request-validation.js';
import { COMMAND_VERSION, type SlackActor, type TopicCommand } from '../messages/commands.js';
import type { Clock } from '../ports/clock.js';
import { CommandRefusedError, type EventPublisher, EventPublisherError } from '../ports/event-publisher.js';

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

/** Why nothing was queued: the topic was out of reach, or what Slack sent cannot make a valid command. */
export type NotQueued =
  | { readonly queued: false; readonly why: 'unavailable' }
  | { readonly queued: false; readonly why: 'malformed'; readonly fields: readonly string[] };

export type IntakeOutcome<T> = { queued: true; value: T } | NotQueued;

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

/** Queues a command that acts on an existing request. */
async function queueCommand(
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
    if (error instanceof CommandRefusedError) {
      // The field names only: the values are what a buggy or hostile client sent.
      return { queued: false, why: 'malformed', fields: error.fields };
    }
    if (error instanceof EventPublisherError) return { queued: false, why: 'unavailable' };
    throw error;
  }
}

/** Queues `request.cancel`: one per user and request (the worker refuses anyone but the requester). */
export function queueCancel(
  deps: Pick<IntakeDeps, 'publisher' | 'clock'>,
  origin: SlackOrigin,
  requestId: RequestId,
): Promise<IntakeOutcome<void>> {
  const { actor } = origin;
  return queueCommand(deps, {
    type: 'request.cancel',
    ...envelope(deps, stableCommandId('cancel', [actor.teamId, actor.userId, requestId])),
    requestId,
    actor,
    ...(origin.responseUrl ? { responseUrl: origin.responseUrl } : {}),
  });
}

/**
 * Queues `grant.revoke`: one per user action (`dedupeScope`: the click's action_ts, the typed
 * command's trigger id). The worker lets only the requester or an approver of the level revoke.
 */
export function queueRevoke(
  deps: Pick<IntakeDeps, 'publisher' | 'clock'>,
  origin: SlackOrigin,
  requestId: RequestId,
  via: 'slash_command' | 'button',
  dedupeScope: string,
): Promise<IntakeOutcome<void>> {
  const { actor } = origin;
  return queueCommand(deps, {
    type: 'grant.revoke',
    ...envelope(deps, stableCommandId('revoke', [actor.teamId, actor.userId, requestId, dedupeScope])),
    requestId,
    actor,
    via,
    ...(origin.responseUrl ? { responseUrl: origin.responseUrl } : {}),
  });
}

/** Queues `grant.extend`: one per typed command (its trigger), however often Slack delivers it. */
export function queueExtend(
  deps: Pick<IntakeDeps, 'publisher' | 'clock'>,
  origin: SlackOrigin,
  extension: { requestId: RequestId; minutes: number; reason: string },
  dedupeScope: string,
): Promise<IntakeOutcome<void>> {
  const { actor } = origin;
  return queueCommand(deps, {
    type: 'grant.extend',
    ...envelope(
      deps,
      stableCommandId('extend', [actor.teamId, actor.userId, extension.requestId, dedupeScope]),
    ),
    requestId: extension.requestId,
    actor,
    durationMinutes: extension.minutes,
    reason: extension.reason,
    ...(origin.responseUrl ? { responseUrl: origin.responseUrl } : {}),
  });
}

/**
 * Queues `grant.reissue`: one per click (`actionTs`), so Slack's redelivery of a click is one
 * fresh credential and a second click another (the worker refuses anyone but the requester).
 */
export function queueReissue(
  deps: Pick<IntakeDeps, 'publisher' | 'clock'>,
  origin: SlackOrigin,
  requestId: RequestId,
  actionTs: string,
): Promise<IntakeOutcome<void>> {
  const { actor } = origin;
  return queueCommand(deps, {
    type: 'grant.reissue',
    ...envelope(deps, stableCommandId('reissue', [actor.teamId, actor.userId, requestId, actionTs])),
    requestId,
    actor,
    ...(origin.responseUrl ? { responseUrl: origin.responseUrl } : {}),
  });
}

/** A decision someone took in Slack, before the worker verifies who they are. */
export interface SlackDecision {
  readonly requestId: RequestId;
  readonly decision: 'approve' | 'deny';
  readonly reason?: string;
  /** The extension decided on (its number), when the button was on an extension. */
  readonly extension?: number;
  /** The approvers' message the decision was taken on, to update in place. */
  readonly slackMessage?: { readonly channelId: string; readonly ts: string };
}

/**
 * Queues `request.decided` from Slack. `dedupeScope` identifies one user action (the click's
 * action_ts, the deny form's view id, the typed command's trigger id): Slack's redelivery of it
 * is one decision, a second click a repeated one.
 */
export function queueSlackDecision(
  deps: Pick<IntakeDeps, 'publisher' | 'clock'>,
  origin: SlackOrigin,
  decision: SlackDecision,
  dedupeScope: string,
): Promise<IntakeOutcome<void>> {
  const { actor } = origin;
  return queueCommand(deps, {
    type: 'request.decided',
    ...envelope(
      deps,
      stableCommandId('decide', [
        actor.teamId,
        actor.userId,
        decision.requestId,
        decision.decision,
        ...(decision.extension ? [`extension-${decision.extension}`] : []),
        dedupeScope,
      ]),
    ),
    requestId: decision.requestId,
    decision: decision.decision,
    source: 'slack',
    actor,
    ...(decision.reason ? { reason: decision.reason } : {}),
    ...(decision.extension ? { extension: decision.extension } : {}),
    ...(decision.slackMessage ? { slackMessage: decision.slackMessage } : {}),
    ...(origin.responseUrl ? { responseUrl: origin.responseUrl } : {}),
  });
}

function envelope(deps: Pick<IntakeDeps, 'clock'>, commandId: string) {
  return { version: COMMAND_VERSION, commandId, issuedAt: deps.clock.now().toISOString() };
}
