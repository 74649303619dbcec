import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS, parseExtendButtonValue } from '../../../shared/adapters/slack/action-ids.js';
import {
  commandQueuedReply,
  notAvailableYetReply,
  notQueuedReply,
  reissueQueuedReply,
} from '../../../shared/adapters/slack/intake-messages.js';
import { queueReissue, queueRevoke } from '../../../shared/use-cases/request-intake.js';
import { actorOf, type ListenerDeps, requestIdOrUndefined, respondOrLog } from './context.js';

/**
 * The buttons on a grant. A fresh token is queued for the worker (which checks it is the
 * requester's). Revoke and Extend are not carried out yet, so nothing is queued for them and the
 * person is told so plainly rather than promised an action that will not happen.
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

  app.action<BlockAction<ButtonAction>>(ACTION_IDS.extend, async ({ ack, action, respond }) => {
    await ack();
    const parsed = parseExtendButtonValue(action.value ?? '');
    const requestId = parsed ? requestIdOrUndefined(parsed.requestId) : undefined;
    if (!requestId) return;
    deps.logger.info('grant action not available yet', { action: 'extend' });
    await respondOrLog(
      respond,
      { ...notAvailableYetReply('extend', requestId), replace_original: false },
      deps.logger,
    );
  });
}
