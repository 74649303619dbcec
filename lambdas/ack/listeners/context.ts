import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { BlockAction, RespondFn } from '@slack/bolt';
import type { Catalog } from '../../../shared/config/catalog-schema.js';
import { parseRequestId, type RequestId } from '../../../shared/domain/request-id.js';
import type { SlackActor } from '../../../shared/messages/commands.js';
import type { IntakeDeps } from '../../../shared/use-cases/request-intake.js';

export interface ListenerDeps extends IntakeDeps {
  readonly catalog: Catalog;
  readonly logger: PowertoolsLogger;
}

/** The part of any Slack payload that says who acted. */
interface ActingBody {
  readonly user: { readonly id: string; readonly name?: string; readonly team_id?: string };
  readonly team?: { readonly id: string } | null;
}

/** Who acted, as the topic's commands carry them; the worker verifies them, the ack does not. */
export function actorOf(body: ActingBody): SlackActor {
  return slackActor(body.user.id, body.user.team_id ?? body.team?.id ?? '', body.user.name);
}

export function slackActor(userId: string, teamId: string, userName?: string): SlackActor {
  return { kind: 'slack', userId, teamId, ...(userName ? { userName: userName.slice(0, 100) } : {}) };
}

/** The approvers' message a button was on, so the worker can update it in place. */
export function buttonMessage(body: BlockAction): { channelId: string; ts: string } | undefined {
  return body.container?.message_ts && body.channel?.id
    ? { channelId: body.channel.id, ts: body.container.message_ts }
    : undefined;
}

export function requestIdOrUndefined(value: string | undefined): RequestId | undefined {
  try {
    return parseRequestId(value ?? '');
  } catch {
    return undefined;
  }
}

/** Slack's error code only, never the request: it may carry user text. */
export function slackErrorCode(error: unknown): string {
  const data = (error as { data?: { error?: unknown } }).data;
  if (typeof data?.error === 'string') return data.error;
  return error instanceof Error ? error.name : 'unknown';
}

/**
 * Answers on the response_url, and only logs when that fails or runs out of time: what was
 * queued stays queued, and the Lambda still answers Slack in time rather than with an error.
 */
export async function respondOrLog(
  respond: RespondFn,
  message: Parameters<RespondFn>[0],
  logger: PowertoolsLogger,
): Promise<void> {
  try {
    await respond(message);
  } catch (error) {
    logger.warn('response_url answer failed', { error: slackErrorCode(error) });
  }
}
