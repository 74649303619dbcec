import type { types } from '@slack/bolt';
import { isRequestId } from '../../domain/request-id.js';

export const DENY_MODAL_CALLBACK_ID = 'request.deny_reason';
export const DENY_REASON_BLOCK_ID = 'deny_reason';
export const DENY_REASON_ACTION_ID = 'deny_reason.input';
export const DENY_REASON_MIN = 5;
export const DENY_REASON_MAX = 500;

/** Where the Deny button was, carried through the modal so the worker can update that message. */
export interface DenyModalMetadata {
  readonly requestId: string;
  readonly channelId?: string;
  readonly ts?: string;
}

/** Asks the approver why; the requester reads the answer, so it is required. */
export function denyReasonModal(metadata: DenyModalMetadata): types.ModalView {
  return {
    type: 'modal',
    callback_id: DENY_MODAL_CALLBACK_ID,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Deny access' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Deny *${metadata.requestId}*? The requester sees your reason in a DM, and it is recorded on the Jira ticket.`,
        },
      },
      {
        type: 'input',
        block_id: DENY_REASON_BLOCK_ID,
        label: { type: 'plain_text', text: 'Reason' },
        element: {
          type: 'plain_text_input',
          action_id: DENY_REASON_ACTION_ID,
          multiline: true,
          min_length: DENY_REASON_MIN,
          max_length: DENY_REASON_MAX,
          placeholder: {
            type: 'plain_text',
            text: 'e.g. use the read replica for this; write access needs a change ticket',
          },
        },
      },
    ],
  };
}

/** The metadata Slack hands back on submission; anything malformed is treated as absent. */
export function parseDenyModalMetadata(privateMetadata: string | undefined): DenyModalMetadata | undefined {
  try {
    const value = JSON.parse(privateMetadata ?? '') as Record<string, unknown>;
    if (typeof value.requestId !== 'string' || !isRequestId(value.requestId)) return undefined;
    const channelId =
      typeof value.channelId === 'string' && /^[CDG][A-Z0-9]{2,}$/.test(value.channelId)
        ? value.channelId
        : undefined;
    const ts = typeof value.ts === 'string' && /^\d+\.\d+$/.test(value.ts) ? value.ts : undefined;
    return { requestId: value.requestId, ...(channelId && ts ? { channelId, ts } : {}) };
  } catch {
    return undefined;
  }
}

/** A problem with the typed reason, worded for the field, or undefined when it will do. */
export function denyReasonProblem(reason: string): string | undefined {
  const trimmed = reason.trim();
  if (trimmed.length < DENY_REASON_MIN)
    return `say in at least ${DENY_REASON_MIN} characters why, for the requester`;
  if (trimmed.length > DENY_REASON_MAX) return `keep the reason under ${DENY_REASON_MAX} characters`;
  return undefined;
}
