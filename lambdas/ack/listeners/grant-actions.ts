import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION_IDS, parseExtendButtonValue } from '../../../shared/adapters/slack/action-ids.js';
import { notAvailableYetReply } from '../../../shared/adapters/slack/intake-messages.js';
import { type ListenerDeps, requestIdOrUndefined, respondOrLog } from './context.js';

/**
 * Revoke and Extend on a grant. The worker does not carry them out yet, so nothing is queued
 * and the person is told so plainly rather than promised an action that will not happen.
 */
export function registerGrantActions(app: App, deps: ListenerDeps): void {
  app.action<BlockAction<ButtonAction>>(ACTION_IDS.revoke, async ({ ack, action, respond }) => {
    await ack();
    const requestId = requestIdOrUndefined(action.value);
    if (!requestId) return;
    deps.logger.info('grant action not available yet', { action: 'revoke' });
    await respondOrLog(
      respond,
      { ...notAvailableYetReply('revoke', requestId), replace_original: false },
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
