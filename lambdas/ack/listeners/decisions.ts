import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS } from '../../../shared/adapters/slack/action-ids.js';
import {
  DENY_MODAL_CALLBACK_ID,
  DENY_REASON_ACTION_ID,
  DENY_REASON_BLOCK_ID,
  denyReasonModal,
  denyReasonProblem,
  parseDenyModalMetadata,
} from '../../../shared/adapters/slack/deny-modal.js';
import {
  commandQueuedReply,
  denyFormUnavailableReply,
  notQueuedReply,
} from '../../../shared/adapters/slack/intake-messages.js';
import type { RequestId } from '../../../shared/domain/request-id.js';
import { parseExtensionButtonValue } from '../../../shared/adapters/slack/extension-messages.js';
import { queueSlackDecision } from '../../../shared/use-cases/request-intake.js';
import {
  actorOf,
  buttonMessage,
  type ListenerDeps,
  requestIdOrUndefined,
  respondOrLog,
  slackErrorCode,
} from './context.js';

/** Approve (one click) and Deny (a form asking why) on the approvers' message. */
export function registerDecisions(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.approve, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    const message = buttonMessage(body);
    const origin = { actor: actorOf(body), ...(body.response_url ? { responseUrl: body.response_url } : {}) };
    // Slack redelivers one click with the same action_ts; a second click is a new (repeated) decision.
    const outcome = await queueSlackDecision(
      deps,
      origin,
      { requestId, decision: 'approve', ...(message ? { slackMessage: message } : {}) },
      action.action_ts,
    );
    await respondOrLog(
      respond,
      {
        ...(outcome.queued ? commandQueuedReply('approve', requestId) : notQueuedReply(outcome)),
        replace_original: false,
      },
      deps.logger,
    );
  });

  // An extension's buttons: one click each; the worker checks the approver like any other.
  for (const [actionId, decision] of [
    [ACTION_IDS.approveExtension, 'approve'],
    [ACTION_IDS.denyExtension, 'deny'],
  ] as const) {
    app.action<BlockAction<ButtonAction>>(actionId, async ({ ack, body, action, respond }) => {
      await ack();
      const parsed = parseExtensionButtonValue(action.value ?? '');
      const requestId = parsed ? requestIdOrUndefined(parsed.requestId) : undefined;
      if (!parsed || !requestId) return;
      const message = buttonMessage(body);
      const origin = {
        actor: actorOf(body),
        ...(body.response_url ? { responseUrl: body.response_url } : {}),
      };
      const outcome = await queueSlackDecision(
        deps,
        origin,
        { requestId, decision, extension: parsed.number, ...(message ? { slackMessage: message } : {}) },
        action.action_ts,
      );
      await respondOrLog(
        respond,
        {
          ...(outcome.queued ? commandQueuedReply(decision, requestId) : notQueuedReply(outcome)),
          replace_original: false,
        },
        deps.logger,
      );
    });
  }

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
      await respondOrLog(
        respond,
        { ...denyFormUnavailableReply(requestId), replace_original: false },
        deps.logger,
      );
    }
  });

  app.view(DENY_MODAL_CALLBACK_ID, async ({ ack, view, body }) => {
    const metadata = parseDenyModalMetadata(view.private_metadata);
    const reason = view.state.values[DENY_REASON_BLOCK_ID]?.[DENY_REASON_ACTION_ID]?.value ?? '';
    const problem = metadata ? denyReasonProblem(reason) : 'this form is no longer valid; click Deny again';
    if (problem || !metadata) {
      return ack({ response_action: 'errors', errors: { [DENY_REASON_BLOCK_ID]: problem ?? '' } });
    }
    // The view id is the same however often Deny is submitted, so it is the dedupe scope.
    const outcome = await queueSlackDecision(
      deps,
      { actor: actorOf(body) },
      {
        requestId: metadata.requestId as RequestId,
        decision: 'deny',
        reason: reason.trim(),
        ...(metadata.channelId && metadata.ts
          ? { slackMessage: { channelId: metadata.channelId, ts: metadata.ts } }
          : {}),
      },
      view.id,
    );
    if (!outcome.queued) {
      return ack({
        response_action: 'errors',
        errors: { [DENY_REASON_BLOCK_ID]: notQueuedReply(outcome).text.replace(/^:warning: /, '') },
      });
    }
    return ack();
  });
}
