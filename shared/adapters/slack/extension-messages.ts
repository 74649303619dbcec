import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest, Extension } from '../../domain/access-request.js';
import { formatDuration } from '../../domain/duration.js';
import { findLevel } from '../../domain/eligibility.js';
import { ACTION_IDS } from './action-ids.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { button, type ChatMessage, context, section, slackDate } from './request-messages.js';

/* What people read about an extension of a live grant: the requester's DMs, the approvers' message. */

/** The value an extension's buttons carry: the request and which of its extensions, e.g. `REQ-0K2M9Q7X:2`. */
export function extensionButtonValue(requestId: string, number: number): string {
  return `${requestId}:${number}`;
}

export function parseExtensionButtonValue(value: string): { requestId: string; number: number } | undefined {
  const match = /^(REQ-[0-9A-Z]+):(\d{1,3})$/.exec(value);
  const number = Number(match?.[2]);
  if (!match?.[1] || !(number >= 1 && number <= 100)) return undefined;
  return { requestId: match[1], number };
}

function extensionOf(request: AccessRequest, number?: number): Extension | undefined {
  const all = request.extensions ?? [];
  return number === undefined ? all.at(-1) : all[number - 1];
}

const more = (extension: Extension) => formatDuration({ minutes: extension.minutes });

/** The requester's DM once the approvers have been asked. */
export function extensionAskedDm(request: AccessRequest): ChatMessage {
  const extension = extensionOf(request);
  const until = request.grant ? slackDate(request.grant.expiresAt) : 'its current end';
  const text = `${request.requestId}: your request for ${extension ? more(extension) : 'more time'} is with the approvers. Your access keeps working until ${until} meanwhile.`;
  return { text, blocks: [section(`:hourglass_flowing_sand: ${escapeMrkdwn(text)}`)] };
}

/** The requester's DM once an extension is decided: the new end, or why not and the old end. */
export function extensionDecidedDm(request: AccessRequest): ChatMessage {
  const extension = extensionOf(request);
  const until = request.grant ? slackDate(request.grant.expiresAt) : 'its end';
  if (extension?.status === 'approved') {
    const text = `${request.requestId}: ${escapeMrkdwn(extension.decision?.account ?? 'an approver')} approved ${more(extension)} more. Your access now works until ${until}; keep using the session and credentials you have.`;
    return { text, blocks: [section(`:white_check_mark: ${text}`)] };
  }
  const reason = extension?.decision?.reason ? `: ${escapeMrkdwn(extension.decision.reason)}` : '';
  const text = `${request.requestId}: ${escapeMrkdwn(extension?.decision?.account ?? 'an approver')} denied more time${reason}. Your access still ends at ${until}.`;
  return { text, blocks: [section(`:no_entry: ${text}`)] };
}

/** The approvers' message for one extension: who asks for how much and why, and its buttons while it waits. */
export function extensionApprovalMessage(
  request: AccessRequest,
  catalog: Catalog,
  number: number,
): ChatMessage {
  const extension = extensionOf(request, number);
  if (!extension) return { text: `${request.requestId}: no such extension`, blocks: [] };
  const who = escapeMrkdwn(
    request.requester.directoryAccount ?? request.requester.slackUserName ?? 'the requester',
  );
  const required = findLevel(catalog, request)?.approvalsRequired ?? 1;
  const headline = `*${who}* asks for *${more(extension)}* more on *${request.requestId}* (\`${request.database}\` / \`${request.level}\`): from ${slackDate(extension.fromExpiresAt)} to ${slackDate(extension.toExpiresAt)}.`;
  const blocks: Record<string, unknown>[] = [
    section(`:hourglass: ${headline}\n>${escapeMrkdwn(extension.reason)}`),
  ];
  const live = request.state === 'GRANTED' && !request.revocation;
  if (extension.status === 'pending' && live) {
    const approvers = extension.approvals.map((a) => escapeMrkdwn(a.account)).join(', ');
    blocks.push(
      context(
        `Approvals: ${extension.approvals.length} of ${required}${approvers ? ` (${approvers})` : ''}.`,
      ),
      {
        type: 'actions',
        block_id: `extension:${request.requestId}:${number}`,
        elements: [
          button(
            ACTION_IDS.approveExtension,
            'Approve more time',
            extensionButtonValue(request.requestId, number),
            'primary',
          ),
          button(ACTION_IDS.denyExtension, 'Deny', extensionButtonValue(request.requestId, number), 'danger'),
        ],
      },
    );
  } else {
    const by = escapeMrkdwn(extension.decision?.account ?? '');
    blocks.push(
      context(
        extension.status === 'approved'
          ? `:white_check_mark: Approved by ${by}; access now ends ${request.grant ? slackDate(request.grant.expiresAt) : 'later'}.`
          : extension.status === 'denied'
            ? `:no_entry: Denied by ${by}.`
            : ':lock: The grant ended before a decision; nothing was extended.',
      ),
    );
  }
  return { text: `${request.requestId}: ${more(extension)} more asked`, blocks };
}
