import type { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import {
  App,
  AwsLambdaReceiver,
  type BlockAction,
  type ButtonAction,
  LogLevel,
  type Logger as SlackLogger,
  type StaticSelectAction,
} from '@slack/bolt';
import { ACTION_IDS, parseExtendButtonValue } from '../../shared/adapters/slack/action-ids.js';
import {
  commandQueuedReply,
  denyFormUnavailableReply,
  helpReply,
  invalidRequestReply,
  notQueuedReply,
  SLASH_COMMAND,
  submittedReply,
} from '../../shared/adapters/slack/intake-messages.js';
import {
  DURATION_ACTION_ID,
  isDurationBlockId,
  JUSTIFICATION_ACTION_ID,
  JUSTIFICATION_BLOCK_ID,
  modalErrors,
  parseTargetValue,
  REQUEST_MODAL_CALLBACK_ID,
  requestModal,
  requestQueuedModal,
  TARGET_ACTION_ID,
  TARGET_BLOCK_ID,
} from '../../shared/adapters/slack/request-modal.js';
import {
  DENY_MODAL_CALLBACK_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  denyReasonModal,
  denyReasonProblem,
  parseDenyModalMetadata,
} from '../../shared/adapters/slack/deny-modal.js';
import type { Catalog } from '../../shared/config/catalog-schema.js';
import { parseRequestId, type RequestId } from '../../shared/domain/request-id.js';
import { COMMAND_VERSION, type SlackActor, type TopicCommand } from '../../shared/messages/commands.js';
import {
  type IntakeDeps,
  interpretSlashText,
  queueCommand,
  stableCommandId,
  submitAccessRequest,
  validateAccessRequest,
} from '../../shared/use-cases/request-intake.js';

export interface SlackAppDeps extends IntakeDeps {
  readonly catalog: Catalog;
  readonly botToken: string;
  readonly logger: PowertoolsLogger;
  readonly slackApiUrl?: string;
}

import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** Function URL / HTTP API v2 in, structured result out: the handler Lambda invokes. */
export type AwsHandler = (
  event: APIGatewayProxyEventV2,
  context: unknown,
) => Promise<APIGatewayProxyStructuredResultV2>;

/**
 * The Bolt app: it turns Slack payloads into use-case calls and their outcomes into replies.
 * It decides nothing about who may do what; the worker verifies every actor.
 */
export function createSlackApp(deps: SlackAppDeps): AwsHandler {
  const { catalog } = deps;
  const receiver = new AwsLambdaReceiver({
    // The request was verified by verifySlackRequest before it reaches Bolt (Bolt cannot refuse
    // future timestamps, and its clock cannot be injected), so Bolt's own check is off.
    signingSecret: 'verified-upstream',
    signatureVerification: false,
    logger: boltLogger(deps.logger),
  });
  const app = new App({
    receiver,
    // authorize instead of token: Bolt would otherwise call auth.test on every cold start.
    authorize: async () => ({ botToken: deps.botToken }),
    logger: boltLogger(deps.logger),
    clientOptions: {
      ...(deps.slackApiUrl ? { slackApiUrl: deps.slackApiUrl } : {}),
      retryConfig: { retries: 0 },
    },
  });

  app.command(SLASH_COMMAND, async ({ command, ack, client }) => {
    const actor = slackActor(command.user_id, command.team_id, command.user_name);
    const origin = { actor, channelId: command.channel_id, responseUrl: command.response_url };
    const intent = interpretSlashText(command.text ?? '', catalog);
    deps.logger.info('slash command', { intent: intent.kind, team: actor.teamId, user: actor.userId });
    switch (intent.kind) {
      case 'help':
        return ack(helpReply(catalog));
      case 'invalid':
        return ack(invalidRequestReply(intent.problems, catalog));
      case 'open_modal':
        try {
          await client.views.open({
            trigger_id: command.trigger_id,
            view: requestModal(catalog, { channelId: command.channel_id }),
          });
          return ack();
        } catch (error) {
          deps.logger.warn('views.open failed', { error: slackErrorCode(error) });
          return ack(
            invalidRequestReply(
              [
                'the form could not be opened (Slack said it took too long); run the command again, or type the request on one line',
              ],
              catalog,
            ),
          );
        }
      case 'submit': {
        const outcome = await submitAccessRequest(deps, intent.request, origin, 'slash_command');
        return ack(
          outcome.queued
            ? submittedReply(outcome.value.requestId, intent.request, catalog)
            : notQueuedReply(),
        );
      }
      case 'cancel':
      case 'revoke': {
        const common = envelope(
          deps,
          stableCommandId(intent.kind, [actor.teamId, actor.userId, intent.requestId]),
        );
        const queued: TopicCommand =
          intent.kind === 'cancel'
            ? {
                type: 'request.cancel',
                ...common,
                requestId: intent.requestId,
                actor,
                responseUrl: command.response_url,
              }
            : {
                type: 'grant.revoke',
                ...common,
                requestId: intent.requestId,
                actor,
                via: 'slash_command',
                responseUrl: command.response_url,
              };
        const outcome = await queueCommand(deps, queued);
        return ack(outcome.queued ? commandQueuedReply(intent.kind, intent.requestId) : notQueuedReply());
      }
      case 'approve':
      case 'deny': {
        const reason = intent.kind === 'deny' ? intent.reason : undefined;
        const problem = reason === undefined ? undefined : denyReasonProblem(reason);
        if (problem) return ack(invalidRequestReply([`deny: ${problem}`], catalog));
        const outcome = await queueCommand(deps, {
          type: 'request.decided',
          // A typed command is one decision per user and request within the resubmit window.
          ...envelope(
            deps,
            stableCommandId('decide', [
              actor.teamId,
              actor.userId,
              intent.requestId,
              intent.kind,
              command.trigger_id,
            ]),
          ),
          requestId: intent.requestId,
          decision: intent.kind,
          source: 'slack',
          actor,
          ...(reason ? { reason } : {}),
          responseUrl: command.response_url,
        });
        return ack(outcome.queued ? commandQueuedReply(intent.kind, intent.requestId) : notQueuedReply());
      }
    }
  });

  app.view(REQUEST_MODAL_CALLBACK_ID, async ({ ack, view, body }) => {
    const values = view.state.values;
    const target = parseTargetValue(
      values[TARGET_BLOCK_ID]?.[TARGET_ACTION_ID]?.selected_option?.value ?? '',
    );
    const durationBlock = Object.keys(values).find(isDurationBlockId) ?? 'duration';
    const validation = validateAccessRequest(catalog, {
      database: target?.database ?? '',
      level: target?.level ?? '',
      duration: values[durationBlock]?.[DURATION_ACTION_ID]?.selected_option?.value ?? '',
      justification: values[JUSTIFICATION_BLOCK_ID]?.[JUSTIFICATION_ACTION_ID]?.value ?? '',
    });
    if (!validation.ok) {
      const problems = target
        ? validation.problems
        : { ...validation.problems, target: 'choose a database and access level' };
      return ack({ response_action: 'errors', errors: modalErrors(problems, durationBlock) });
    }
    const actor = slackActor(body.user.id, body.user.team_id ?? body.team?.id ?? '', body.user.name);
    const channelId = modalChannel(view.private_metadata);
    const origin = { actor, ...(channelId ? { channelId } : {}) };
    // The view id is the same however often Submit is clicked, so it is the dedupe scope.
    const outcome = await submitAccessRequest(deps, validation.request, origin, 'modal', view.id);
    if (!outcome.queued) {
      return ack({
        response_action: 'errors',
        errors: { [JUSTIFICATION_BLOCK_ID]: notQueuedReply().text.replace(/^:warning: /, '') },
      });
    }
    return ack({
      response_action: 'update',
      view: requestQueuedModal(outcome.value.requestId, validation.request),
    });
  });

  app.action<BlockAction<StaticSelectAction>>(TARGET_ACTION_ID, async ({ ack, body, action, client }) => {
    await ack();
    const ref = parseTargetValue(action.selected_option.value);
    if (!body.view || !ref) return;
    const metadata = { channelId: modalChannel(body.view.private_metadata) ?? '' };
    try {
      await client.views.update({
        view_id: body.view.id,
        hash: body.view.hash,
        view: requestModal(catalog, metadata, ref),
      });
    } catch (error) {
      // A hash conflict means the user already changed the form again; their newer choice wins.
      deps.logger.info('views.update skipped', { error: slackErrorCode(error) });
    }
  });

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.approve, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    const actor = slackActor(body.user.id, body.user.team_id ?? body.team?.id ?? '', body.user.name);
    const message = buttonMessage(body);
    // Slack redelivers one click with the same action_ts; a second click is a new (repeated) decision.
    const outcome = await queueCommand(deps, {
      type: 'request.decided',
      ...envelope(
        deps,
        stableCommandId('decide', [actor.teamId, actor.userId, requestId, 'approve', action.action_ts]),
      ),
      requestId,
      decision: 'approve',
      source: 'slack',
      actor,
      ...(message ? { slackMessage: message } : {}),
      ...(body.response_url ? { responseUrl: body.response_url } : {}),
    });
    await respond(
      outcome.queued
        ? { ...commandQueuedReply('approve', requestId), replace_original: false }
        : { ...notQueuedReply(), replace_original: false },
    );
  });

  // Deny asks why first: the reason reaches the requester and the ticket.
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.deny, async ({ ack, body, action, client, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    const message = buttonMessage(body);
    try {
      await client.views.open({
        trigger_id: body.trigger_id,
        view: denyReasonModal({ requestId, ...(message ?? {}) }),
      });
    } catch (error) {
      deps.logger.warn('views.open failed for the deny form', { error: slackErrorCode(error) });
      await respond({
        ...denyFormUnavailableReply(requestId),
        replace_original: false,
      });
    }
  });

  app.view(DENY_MODAL_CALLBACK_ID, async ({ ack, view, body }) => {
    const metadata = parseDenyModalMetadata(view.private_metadata);
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_ACTION_ID]?.value ?? '';
    const problem = metadata ? denyReasonProblem(reason) : 'this form is no longer valid; click Deny again';
    if (problem || !metadata) {
      return ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: problem ?? '' } });
    }
    const actor = slackActor(body.user.id, body.user.team_id ?? body.team?.id ?? '', body.user.name);
    const outcome = await queueCommand(deps, {
      type: 'request.decided',
      // The view id is the same however often Deny is submitted, so it is the dedupe scope.
      ...envelope(
        deps,
        stableCommandId('decide', [actor.teamId, actor.userId, metadata.requestId, 'deny', view.id]),
      ),
      requestId: metadata.requestId as RequestId,
      decision: 'deny',
      source: 'slack',
      actor,
      reason: reason.trim(),
      ...(metadata.channelId && metadata.ts
        ? { slackMessage: { channelId: metadata.channelId, ts: metadata.ts } }
        : {}),
    });
    if (!outcome.queued) {
      return ack({
        response_action: 'errors',
        errors: { [DENY_REASON_BLOCK_ID]: notQueuedReply().text.replace(/^:warning: /, '') },
      });
    }
    return ack();
  });

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.revoke, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    const actor = slackActor(body.user.id, body.user.team_id ?? body.team?.id ?? '', body.user.name);
    const outcome = await queueCommand(deps, {
      type: 'grant.revoke',
      ...envelope(deps, stableCommandId('revoke', [actor.teamId, actor.userId, requestId])),
      requestId,
      actor,
      via: 'button',
      ...(body.response_url ? { responseUrl: body.response_url } : {}),
    });
    await respond(
      outcome.queued
        ? { ...commandQueuedReply('revoke', requestId), replace_original: false }
        : { ...notQueuedReply(), replace_original: false },
    );
  });

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.extend, async ({ ack, body, action, respond }) => {
    await ack();
    const parsed = parseExtendButtonValue(action.value ?? '');
    const requestId = parsed ? requestIdOrUndefined(parsed.requestId) : undefined;
    if (!parsed || !requestId) return;
    const actor = slackActor(body.user.id, body.user.team_id ?? body.team?.id ?? '', body.user.name);
    // One click is one extension: the click's own timestamp keeps a double-click to one.
    const outcome = await queueCommand(deps, {
      type: 'grant.extend',
      ...envelope(deps, stableCommandId('extend', [actor.teamId, actor.userId, requestId, action.action_ts])),
      requestId,
      actor,
      durationMinutes: parsed.minutes,
      ...(body.response_url ? { responseUrl: body.response_url } : {}),
    });
    await respond(
      outcome.queued
        ? { ...commandQueuedReply('extend', requestId), replace_original: false }
        : { ...notQueuedReply(), replace_original: false },
    );
  });

  app.error(async (error) => {
    deps.logger.error('unhandled error in a Slack listener', { error: error.name, code: error.code });
  });

  return receiver.toHandler() as unknown as AwsHandler;
}

function slackActor(userId: string, teamId: string, userName?: string): SlackActor {
  return { kind: 'slack', userId, teamId, ...(userName ? { userName: userName.slice(0, 100) } : {}) };
}

/** The approvers' message a button was on, so the worker can update it in place. */
function buttonMessage(body: BlockAction): { channelId: string; ts: string } | undefined {
  return body.container?.message_ts && body.channel?.id
    ? { channelId: body.channel.id, ts: body.container.message_ts }
    : undefined;
}

function envelope(deps: Pick<IntakeDeps, 'clock'>, commandId: string) {
  return { version: COMMAND_VERSION, commandId, issuedAt: deps.clock.now().toISOString() };
}

function requestIdOrUndefined(value: string | undefined): RequestId | undefined {
  try {
    return parseRequestId(value ?? '');
  } catch {
    return undefined;
  }
}

function modalChannel(privateMetadata: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(privateMetadata ?? '') as { channelId?: unknown };
    return typeof parsed.channelId === 'string' && /^[CDG][A-Z0-9]+$/.test(parsed.channelId)
      ? parsed.channelId
      : undefined;
  } catch {
    return undefined;
  }
}

function slackErrorCode(error: unknown): string {
  const data = (error as { data?: { error?: unknown } }).data;
  if (typeof data?.error === 'string') return data.error;
  return error instanceof Error ? error.name : 'unknown';
}

/** Bolt's messages go to the structured logger; its debug level (which prints whole events) never does. */
function boltLogger(logger: PowertoolsLogger): SlackLogger {
  let level = LogLevel.WARN;
  const text = (parts: unknown[]) => parts.map((p) => (p instanceof Error ? p.message : String(p))).join(' ');
  return {
    debug: () => {},
    info: (...msg) => {
      if (level === LogLevel.INFO) logger.info(text(msg));
    },
    warn: (...msg) => logger.warn(text(msg)),
    error: (...msg) => logger.error(text(msg)),
    setLevel: (next) => {
      level = next === LogLevel.DEBUG ? LogLevel.INFO : next;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
