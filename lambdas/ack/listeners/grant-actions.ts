import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS, parseExtendButtonValue } from '../../../shared/adapters/slack/action-ids.js';
import {
  commandQueuedReply,
  extendFormUnavailableReply,
  notQueuedReply,
  reissueQueuedReply,
} from '../../../shared/adapters/slack/intake-messages.js';
import { queueExtend, queueReissue, queueRevoke } from '../../../shared/use-cases/request-intake.js';
import {
  EXTEND_MODAL_CALLBACK_ID,
  EXTEND_REASON_BLOCK_ID,
  extendModal,
  readExtendModal,
} from '../../../shared/adapters/slack/extend-modal.js';
import type { RequestId } from '../../../shared/domain/request-id.js';
import { actorOf, type ListenerDeps, requestIdOrUndefined, respondOrLog, slackErrorCode } from './context.js';

/**
 * The buttons on a grant's DM: a fresh token and revoke are queued for the worker (which checks
 * who asks); More time opens a form for how much and why, then queues the extension.
 */
export function registerGrantActions(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.reissue, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    const origin = { actor: actorOf(body), ...(body.response_url ? { responseUrl: body.response_url } : {}) };
    const outcome = await queueReissue(deps, origin, requestId, action.action_ts);
    await respondOrLog(
      respond,
      {
        ...(outcome.queued ? reissueQueuedReply(requestId) : notQueuedReply(outcome)),
        replace_original: false,
      },
      deps.logger,
    );
  });

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.revoke, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    const origin = { actor: actorOf(body), ...(body.response_url ? { responseUrl: body.response_url } : {}) };
    const outcome = await queueRevoke(deps, origin, requestId, 'button', action.action_ts);
    await respondOrLog(
      respond,
      {
        ...(outcome.queued ? commandQueuedReply('revoke', requestId) : notQueuedReply(outcome)),
        replace_original: false,
      },
      deps.logger,
    );
  });

  // More time asks how much and why first: the approvers read both.
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.extend, async ({ ack, body, action, client, respond }) => {
    await ack();
    const parsed = parseExtendButtonValue(action.value ?? '');
    const requestId = parsed ? requestIdOrUndefined(parsed.requestId) : undefined;
    if (!parsed || !requestId) return;
    try {
      await client.views.open({ trigger_id: body.trigger_id, view: extendModal(requestId, parsed.minutes) });
    } catch (error) {
      deps.logger.warn('views.open failed for the extend form', { error: slackErrorCode(error) });
      await respondOrLog(
        respond,
        { ...extendFormUnavailableReply(requestId), replace_original: false },
        deps.logger,
      );
    }
  });

  app.view(EXTEND_MODAL_CALLBACK_ID, async ({ ack, view, body }) => {
    const form = readExtendModal(view.private_metadata, view.state.values);
    if (!form.ok) return ack({ response_action: 'errors', errors: form.errors });
    // The view id is the same however often the form is submitted: one extension per form.
    const outcome = await queueExtend(
      deps,
      { actor: actorOf(body) },
      { requestId: form.requestId as RequestId, minutes: form.minutes, reason: form.reason },
      view.id,
    );
    if (!outcome.queued) {
      return ack({
        response_action: 'errors',
        errors: { [EXTEND_REASON_BLOCK_ID]: notQueuedReply(outcome).text.replace(/^:warning: /, '') },
      });
    }
    return ack();
  });
}
