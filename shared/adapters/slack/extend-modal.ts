import type { types } from '@slack/bolt';
import { MAX_ACCESS_DURATION } from '../../config/catalog-schema.js';
import { parseDuration } from '../../domain/duration.js';
import { DurationError } from '../../domain/errors.js';
import { isRequestId } from '../../domain/request-id.js';
import { normalizeJustification } from '../../domain/request-validation.js';

export const EXTEND_MODAL_CALLBACK_ID = 'grant.extend_form';
export const EXTEND_DURATION_BLOCK_ID = 'extend_duration';
export const EXTEND_DURATION_ACTION_ID = 'extend_duration.input';
export const EXTEND_REASON_BLOCK_ID = 'extend_reason';
export const EXTEND_REASON_ACTION_ID = 'extend_reason.input';

/** Asks the requester how much longer and why, for the approvers; opened by the token DM's button. */
export function extendModal(requestId: string, minutes: number): types.ModalView {
  return {
    type: 'modal',
    callback_id: EXTEND_MODAL_CALLBACK_ID,
    private_metadata: JSON.stringify({ requestId }),
    title: { type: 'plain_text', text: 'More time' },
    submit: { type: 'plain_text', text: 'Ask the approvers' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Ask for more time on *${requestId}*. Your access keeps working while the approvers decide, and ends at its current time unless they approve.`,
        },
      },
      {
        type: 'input',
        block_id: EXTEND_DURATION_BLOCK_ID,
        label: { type: 'plain_text', text: 'How much longer' },
        hint: { type: 'plain_text', text: 'e.g. 30m or 1h, within what the access level allows' },
        element: {
          type: 'plain_text_input',
          action_id: EXTEND_DURATION_ACTION_ID,
          initial_value: `${minutes}m`,
          max_length: 8,
        },
      },
      {
        type: 'input',
        block_id: EXTEND_REASON_BLOCK_ID,
        label: { type: 'plain_text', text: 'Why' },
        element: {
          type: 'plain_text_input',
          action_id: EXTEND_REASON_ACTION_ID,
          multiline: true,
          min_length: 5,
          max_length: 1000,
          placeholder: { type: 'plain_text', text: 'e.g. the backfill for INC-1234 needs another half hour' },
        },
      },
    ],
  };
}

/** The submitted form: the extension, or what is wrong per field (Slack shows it under the field). */
export function readExtendModal(
  privateMetadata: string | undefined,
  values: Record<string, Record<string, { value?: string | null }>>,
):
  | { ok: true; requestId: string; minutes: number; reason: string }
  | { ok: false; errors: Record<string, string> } {
  let requestId: string | undefined;
  try {
    const parsed = JSON.parse(privateMetadata ?? '') as { requestId?: unknown };
    requestId =
      typeof parsed.requestId === 'string' && isRequestId(parsed.requestId) ? parsed.requestId : undefined;
  } catch {
    requestId = undefined;
  }
  if (!requestId)
    return {
      ok: false,
      errors: { [EXTEND_DURATION_BLOCK_ID]: 'this form is no longer valid; click the button again' },
    };
  const errors: Record<string, string> = {};
  let minutes = 0;
  try {
    minutes = parseDuration(values[EXTEND_DURATION_BLOCK_ID]?.[EXTEND_DURATION_ACTION_ID]?.value ?? '', {
      max: MAX_ACCESS_DURATION,
    }).minutes;
  } catch (error) {
    if (!(error instanceof DurationError)) throw error;
    errors[EXTEND_DURATION_BLOCK_ID] = error.message;
  }
  const reason = normalizeJustification(
    values[EXTEND_REASON_BLOCK_ID]?.[EXTEND_REASON_ACTION_ID]?.value ?? '',
  );
  if (reason.length < 5) errors[EXTEND_REASON_BLOCK_ID] = 'say in a few words why you need more time';
  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return { ok: true, requestId, minutes, reason: reason.slice(0, 1000) };
}
