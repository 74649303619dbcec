import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest } from '../../domain/access-request.js';
import { commonName } from '../../domain/dn.js';
import {
  type DecisionRefusal,
  explainGrantFailure,
  explainRefusal,
  NON_MEMBER_WORDS,
  type RejectionReason,
  STATE_WORDS,
} from '../../domain/refusals.js';
import { formatDuration } from '../../domain/duration.js';
import type { Notice, Recipient } from '../../ports/chat.js';
import { ACTION_IDS } from './action-ids.js';
import { SLASH_COMMAND } from './intake-messages.js';
import { extensionAskedDm, extensionDecidedDm } from './extension-messages.js';
import { grantEndedDm, grantFailedDm, grantReadyDm } from './grant-messages.js';
import { escapeMrkdwn } from './mrkdwn.js';

/** A Block Kit message with its plain-text fallback (notifications, screen readers). */
export interface ChatMessage {
  readonly text: string;
  readonly blocks: readonly Record<string, unknown>[];
}

export const section = (markdown: string) => ({ type: 'section', text: { type: 'mrkdwn', text: markdown } });
export const context = (markdown: string) => ({
  type: 'context',
  elements: [{ type: 'mrkdwn', text: markdown }],
});
/** A Block Kit button whose value is the request id it acts on. */
export const button = (actionId: string, label: string, requestId: string, style?: 'primary' | 'danger') => ({
  type: 'button',
  action_id: actionId,
  ...(style ? { style } : {}),
  text: { type: 'plain_text', text: label },
  value: requestId,
});
export const link = (url: string, label: string) => `<${url}|${escapeMrkdwn(label)}>`;

export function what(request: AccessRequest, catalog: Catalog): string {
  const environment = catalog.databases[request.database]?.environment ?? '?';
  return `\`${request.database}\` (${environment}) / \`${request.level}\` for ${formatDuration({ minutes: request.durationMinutes })}`;
}

/** DM to the requester once the ticket is open. */
export function requestPendingDm(request: AccessRequest, catalog: Catalog): ChatMessage {
  const level = catalog.databases[request.database]?.levels[request.level];
  const approvals =
    level && level.approvalsRequired > 1 ? `${level.approvalsRequired} approvers` : 'an approver';
  const ticket = request.ticket ? link(request.ticket.url, request.ticket.key) : 'the ticket';
  const summary = `Request ${request.requestId} is waiting for approval: ${what(request, catalog)}.`;
  return {
    text: summary,
    blocks: [
      section(
        `:hourglass_flowing_sand: *${request.requestId}* is waiting for approval\n${what(request, catalog)}`,
      ),
      section(
        `Ticket: ${ticket}. Once ${approvals} approve, I DM you a single-use token to fetch your credentials; the ${formatDuration({ minutes: request.durationMinutes })} start then.`,
      ),
      context(`Changed your mind? \`${SLASH_COMMAND} cancel ${request.requestId}\``),
    ],
  };
}

/**
 * The approvers' channel message. While the request is pending it carries the decision buttons
 * (and who approved so far); once decided, the same message shows the outcome and who decided,
 * so nobody clicks on a request that is already settled.
 */
export function approvalRequestMessage(request: AccessRequest, catalog: Catalog): ChatMessage {
  const level = catalog.databases[request.database]?.levels[request.level];
  const required = level?.approvalsRequired ?? 1;
  const who = request.requester.directoryAccount ?? request.requester.slackUserId;
  const ticket = request.ticket ? link(request.ticket.url, request.ticket.key) : '—';
  const pending = request.state === 'PENDING_APPROVAL' || request.state === 'SUBMITTED';
  const approvals = request.approvals ?? [];
  const grantLine = grantOutcomeLine(request);
  const outcome = pending ? [] : [section(outcomeLine(request)), ...(grantLine ? [section(grantLine)] : [])];
  const progress =
    pending && approvals.length > 0
      ? [context(`Approved so far by ${approvers(request)} (${approvals.length} of ${required})`)]
      : [];
  // While the grant lives, an approver can pull it (an incident, a mistake).
  const revoke =
    request.state === 'GRANTED'
      ? [
          {
            type: 'actions',
            block_id: `grant:${request.requestId}`,
            elements: [button(ACTION_IDS.revoke, 'Revoke', request.requestId, 'danger')],
          },
        ]
      : [];
  const buttons = pending
    ? [
        {
          type: 'actions',
          block_id: `decision:${request.requestId}`,
          elements: [
            button(ACTION_IDS.approve, 'Approve', request.requestId, 'primary'),
            button(ACTION_IDS.deny, 'Deny', request.requestId, 'danger'),
          ],
        },
      ]
    : [];
  const headline = `${who} requests ${request.database}/${request.level} for ${formatDuration({ minutes: request.durationMinutes })} (${request.requestId})`;
  return {
    text: pending ? headline : `${headline}: ${STATE_WORDS[request.state]}`,
    blocks: [
      section(
        `*<@${request.requester.slackUserId}>* (${escapeMrkdwn(who)}) requests ${what(request, catalog)}`,
      ),
      {
        type: 'section',
        fields: [
          { type: 'mrkdwn', text: `*Request*\n${request.requestId}` },
          { type: 'mrkdwn', text: `*Ticket*\n${ticket}` },
          { type: 'mrkdwn', text: `*Eligible through*\n${escapeMrkdwn(request.eligibleVia ?? '—')}` },
          { type: 'mrkdwn', text: `*Approvals needed*\n${required}` },
        ],
      },
      // User text goes in plain_text: Slack renders it verbatim, no mentions, no links.
      {
        type: 'section',
        text: {
          type: 'plain_text',
          text: `Justification: ${request.justification}`.slice(0, 3000),
          emoji: false,
        },
      },
      ...progress,
      ...outcome,
      ...buttons,
      ...revoke,
    ],
  };
}

/** `<@U…> (bob) in Slack and carol in Jira`: each approver once, with where they approved. */
function approvers(request: AccessRequest): string {
  return (request.approvals ?? [])
    .map((approval) =>
      approval.channel === 'slack'
        ? `<@${approval.actorId}> (${escapeMrkdwn(approval.account)}) in Slack`
        : `${escapeMrkdwn(approval.account)} in Jira`,
    )
    .join(', ');
}

function outcomeLine(request: AccessRequest): string {
  const decision = request.decision;
  const reason = decision?.reason ? `: ${escapeMrkdwn(decision.reason)}` : '';
  switch (decision?.outcome) {
    case 'approved':
      return `:white_check_mark: *Approved* by ${approvers(request)}`;
    case 'denied':
      return `:no_entry: *Denied* by ${decider(decision)}${reason}`;
    case 'cancelled':
      return ':leftwards_arrow_with_hook: *Cancelled* by the requester';
    case 'timed_out':
      return ':hourglass: *Timed out* without a decision';
    default:
      return `:information_source: This request is ${STATE_WORDS[request.state]}.`;
  }
}

/** After the approval: the temporary user that was made, or why none was. */
function grantOutcomeLine(request: AccessRequest): string | undefined {
  if (request.state === 'GRANTED' && request.grant) {
    return `:key: *Granted* until ${slackDate(request.grant.expiresAt)} as \`${escapeMrkdwn(request.grant.username)}\``;
  }
  if ((request.state === 'EXPIRED' || request.state === 'REVOKED') && request.grant) {
    const by =
      request.revocation?.why === 'revoked'
        ? ` by ${escapeMrkdwn(request.revocation.by.account ?? request.revocation.by.id)}`
        : '';
    return `:lock: *${request.state === 'EXPIRED' ? 'Expired' : 'Revoked'}*${by}: \`${escapeMrkdwn(request.grant.username)}\` is gone`;
  }
  if (request.state === 'FAILED' && request.failure) {
    return `:x: *Not granted*: ${escapeMrkdwn(explainGrantFailure(request.failure.reason))}`;
  }
  return undefined;
}

/** A time every reader sees in their own time zone; the ISO text where Slack cannot format it. */
export function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return `<!date^${seconds}^{date_short_pretty} {time}|${iso}>`;
}

function decider(decision: NonNullable<AccessRequest['decision']>): string {
  const account = escapeMrkdwn(decision.account ?? decision.actorId);
  return decision.channel === 'slack' ? `<@${decision.actorId}> (${account}) in Slack` : `${account} in Jira`;
}

/** DM to the requester once the request is decided. */
export function requestDecidedDm(request: AccessRequest, catalog: Catalog): ChatMessage {
  const decision = request.decision;
  const ticket = request.ticket ? ` Ticket: ${link(request.ticket.url, request.ticket.key)}.` : '';
  switch (decision?.outcome) {
    case 'approved':
      return {
        text: `Request ${request.requestId} was approved.`,
        blocks: [
          section(
            `:white_check_mark: *${request.requestId}* (${what(request, catalog)}) was approved by ${approvers(request)}.${ticket}`,
          ),
          context(
            `Next I create your temporary MySQL user and DM you a single-use token to fetch the credentials; the ${formatDuration({ minutes: request.durationMinutes })} start then.`,
          ),
        ],
      };
    case 'denied': {
      const why = decision.reason ? `: ${escapeMrkdwn(decision.reason)}` : ' (no reason given)';
      return {
        text: `Request ${request.requestId} was denied.`,
        blocks: [
          section(
            `:no_entry: *${request.requestId}* (${what(request, catalog)}) was denied by ${decider(decision)}${why}.${ticket}`,
          ),
          context(
            `Ask the approver if you need to know more, or submit a new request with \`${SLASH_COMMAND}\`.`,
          ),
        ],
      };
    }
    case 'timed_out':
      return {
        text: `Request ${request.requestId} timed out without a decision.`,
        blocks: [
          section(
            `:hourglass: *${request.requestId}* (${what(request, catalog)}) got no decision in ${formatDuration(catalog.global.decisionTimeout)}, so it is closed and nothing was granted.${ticket}`,
          ),
          context(`Still need it? Ask again with \`${SLASH_COMMAND}\`, and tell an approver.`),
        ],
      };
    case 'cancelled':
      return {
        text: `Request ${request.requestId} is cancelled.`,
        blocks: [
          section(
            `:leftwards_arrow_with_hook: *${request.requestId}* (${what(request, catalog)}) is cancelled, as you asked; approvers can no longer act on it.${ticket}`,
          ),
        ],
      };
    default:
      return {
        text: `Request ${request.requestId} is ${STATE_WORDS[request.state]}.`,
        blocks: [section(`*${request.requestId}* is ${STATE_WORDS[request.state]}.`)],
      };
  }
}

/** Ephemeral (or DM) answer to a decision or cancellation that was not taken. */
export function decisionRefusedMessage(
  requestId: string,
  action: 'approve' | 'deny' | 'cancel' | 'reissue' | 'revoke' | 'extend',
  refusal: DecisionRefusal,
): ChatMessage {
  const verb = {
    approve: 'approval',
    deny: 'denial',
    cancel: 'cancellation',
    reissue: 'request for a fresh token',
    revoke: 'revocation',
    extend: 'request for more time',
  }[action];
  const text = `Your ${verb} of ${requestId} was not taken: ${explainRefusal(refusal)}`;
  return { text, blocks: [section(`:warning: ${escapeMrkdwn(text)}`)] };
}

/** Ephemeral confirmation for an approval that counted but is not enough yet. */
export function approvalRecordedMessage(request: AccessRequest, remaining: number): ChatMessage {
  const text = `Your approval of ${request.requestId} is recorded; it needs ${remaining} more from other approvers.`;
  return { text, blocks: [section(`:ballot_box_with_check: ${text}`)] };
}

/** Why a request was refused, in words the requester can act on; nothing else about the directory. */
export function rejectionText(reason: RejectionReason): string {
  switch (reason.kind) {
    case 'no_email':
      return 'your Slack profile has no e-mail address I can match to a directory account. Ask your Slack admin to add it.';
    case 'not_member':
      return `${NON_MEMBER_WORDS[reason.why]}, and only full members of this workspace with a confirmed e-mail may request access. Ask someone who is to request it, or your Slack admin to change your account.`;
    case 'no_account':
      return `no directory account matches your Slack profile's ${reason.attribute}. Ask IT to check that your account has it set.`;
    case 'ambiguous_account':
      return `more than one directory account matches your Slack profile's ${reason.attribute}, so I cannot tell which is you. Ask IT to fix the duplicate.`;
    case 'disabled':
      return 'your directory account is disabled.';
    case 'not_eligible':
      return `this level is granted to members of ${reason.requesterGroups.map((g) => `\`${escapeMrkdwn(commonName(g))}\``).join(' or ')}. Ask a member of ${reason.approverGroups.map((g) => `\`${escapeMrkdwn(commonName(g))}\``).join(' or ')} to add you if you need it.`;
    case 'unknown_level':
      return 'this database or level is no longer in the catalog.';
  }
}

export function requestRejectedDm(
  request: AccessRequest,
  catalog: Catalog,
  reason: RejectionReason,
): ChatMessage {
  const why = rejectionText(reason);
  return {
    text: `Request ${request.requestId} was not accepted: ${why}`,
    blocks: [
      section(`:no_entry: *${request.requestId}* (${what(request, catalog)}) was not accepted: ${why}`),
    ],
  };
}

export function alreadyOpenDm(openRequestId: string, database: string, level: string): ChatMessage {
  const text = `You already have request ${openRequestId} open for ${database}/${level}, so I did not open another. Cancel it first with \`${SLASH_COMMAND} cancel ${openRequestId}\` if you need different terms.`;
  return { text, blocks: [section(`:information_source: ${text}`)] };
}

export function duplicateSubmissionDm(requestId: string, originalId: string): ChatMessage {
  const text = `${requestId} repeated ${originalId}, which you submitted a moment ago with the same details; I kept ${originalId} only.`;
  return { text, blocks: [section(`:information_source: ${text}`)] };
}

export function directoryDelayDm(requestId: string): ChatMessage {
  const text = `I cannot reach the company directory to check ${requestId} right now. Your request is kept and retried automatically; you do not need to submit it again.`;
  return { text, blocks: [section(`:warning: ${text}`)] };
}

/** Who a notice goes to, and what it says: the whole rendering of the worker's notices. */
export function renderNotice(notice: Notice, catalog: Catalog): { to: Recipient; message: ChatMessage } {
  switch (notice.kind) {
    case 'request.pending':
      return { to: requesterOf(notice.request), message: requestPendingDm(notice.request, catalog) };
    case 'request.rejected':
      return {
        to: requesterOf(notice.request),
        message: requestRejectedDm(notice.request, catalog, notice.reason),
      };
    case 'request.decided':
      return { to: requesterOf(notice.request), message: requestDecidedDm(notice.request, catalog) };
    case 'request.already_open':
      return {
        to: notice.to,
        message: alreadyOpenDm(notice.openRequestId, notice.database, notice.level),
      };
    case 'request.duplicate':
      return { to: notice.to, message: duplicateSubmissionDm(notice.requestId, notice.originalRequestId) };
    case 'request.delayed':
      return { to: notice.to, message: directoryDelayDm(notice.requestId) };
    case 'decision.refused':
      return {
        to: notice.to,
        message: decisionRefusedMessage(notice.requestId, notice.action, notice.refusal),
      };
    case 'approval.recorded':
      return { to: notice.to, message: approvalRecordedMessage(notice.request, notice.remaining) };
    case 'grant.ready':
      return {
        to: requesterOf(notice.request),
        message: grantReadyDm(notice.request, catalog, notice),
      };
    case 'grant.failed':
      return { to: requesterOf(notice.request), message: grantFailedDm(notice.request, catalog) };
    case 'grant.ended':
      return { to: requesterOf(notice.request), message: grantEndedDm(notice.request, catalog) };
    case 'extension.asked':
      return { to: requesterOf(notice.request), message: extensionAskedDm(notice.request) };
    case 'extension.decided':
      return { to: requesterOf(notice.request), message: extensionDecidedDm(notice.request) };
  }
}

const requesterOf = (request: AccessRequest): Recipient => ({ userId: request.requester.slackUserId });
