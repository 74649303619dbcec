import type { App, BlockAction, StaticSelectAction } from '@slack/bolt';
import { notQueuedReply } from '../../../shared/adapters/slack/intake-messages.js';
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
} from '../../../shared/adapters/slack/request-modal.js';
import { validateAccessRequest } from '../../../shared/domain/request-validation.js';
import { submitAccessRequest } from '../../../shared/use-cases/request-intake.js';
import { actorOf, type ListenerDeps, slackErrorCode } from './context.js';

/** The request form: picking a level narrows the durations; submitting validates and queues. */
export function registerRequestModal(app: App, deps: ListenerDeps): void {
  const { catalog } = deps;

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
    const channelId = modalChannel(view.private_metadata);
    const origin = { actor: actorOf(body), ...(channelId ? { channelId } : {}) };
    // The view id is the same however often Submit is clicked, so it is the dedupe scope.
    const outcome = await submitAccessRequest(deps, validation.request, origin, 'modal', view.id);
    if (!outcome.queued) {
      return ack({
        response_action: 'errors',
        errors: { [JUSTIFICATION_BLOCK_ID]: notQueuedReply(outcome).text.replace(/^:warning: /, '') },
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
