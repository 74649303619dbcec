import type { App } from '@slack/bolt';
import {
  commandQueuedReply,
  helpReply,
  invalidRequestReply,
  notQueuedReply,
  SLASH_COMMAND,
  submittedReply,
} from '../../../shared/adapters/slack/intake-messages.js';
import { denyReasonProblem } from '../../../shared/adapters/slack/deny-modal.js';
import { requestModal } from '../../../shared/adapters/slack/request-modal.js';
import { interpretSlashText } from '../../../shared/adapters/slack/slash-command.js';
import {
  queueCancel,
  queueExtend,
  queueRevoke,
  queueSlackDecision,
  submitAccessRequest,
} from '../../../shared/use-cases/request-intake.js';
import { type ListenerDeps, slackActor, slackErrorCode } from './context.js';

/** `/request_mysql_access …`: a request typed on one line, a form, help, or a typed decision. */
export function registerSlashCommand(app: App, deps: ListenerDeps): void {
  const { catalog } = deps;
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
                // A timeout may hide a form that did open: say what is known, not the opposite.
                'the form did not open in time. If it did not appear, run the command again, or type the request on one line',
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
            : notQueuedReply(outcome),
        );
      }
      case 'cancel': {
        const outcome = await queueCancel(deps, origin, intent.requestId);
        return ack(outcome.queued ? commandQueuedReply('cancel', intent.requestId) : notQueuedReply(outcome));
      }
      case 'revoke': {
        const outcome = await queueRevoke(
          deps,
          origin,
          intent.requestId,
          'slash_command',
          command.trigger_id,
        );
        return ack(outcome.queued ? commandQueuedReply('revoke', intent.requestId) : notQueuedReply(outcome));
      }
      case 'extend': {
        const outcome = await queueExtend(deps, origin, intent, command.trigger_id);
        return ack(outcome.queued ? commandQueuedReply('extend', intent.requestId) : notQueuedReply(outcome));
      }
      case 'approve':
      case 'deny': {
        const reason = intent.kind === 'deny' ? intent.reason : undefined;
        const problem = reason === undefined ? undefined : denyReasonProblem(reason);
        if (problem) return ack(invalidRequestReply([`deny: ${problem}`], catalog));
        // A typed command is one decision per user, request and trigger.
        const outcome = await queueSlackDecision(
          deps,
          origin,
          { requestId: intent.requestId, decision: intent.kind, ...(reason ? { reason } : {}) },
          command.trigger_id,
        );
        return ack(
          outcome.queued ? commandQueuedReply(intent.kind, intent.requestId) : notQueuedReply(outcome),
        );
      }
    }
  });
}
