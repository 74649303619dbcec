import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest } from '../../domain/access-request.js';
import { formatDuration } from '../../domain/duration.js';
import type { ChatMessage } from '../../ports/chat.js';
import { ACTION_IDS } from './action-ids.js';
import { SLASH_COMMAND } from './intake-messages.js';
import { escapeMrkdwn } from './mrkdwn.js';

const section = (markdown: string) => ({ type: 'section', text: { type: 'mrkdwn', text: markdown } });
const context = (markdown: string) => ({ type: 'context', elements: [{ type: 'mrkdwn', text: markdown }] });
const link = (url: string, label: string) => `<${url}|${escapeMrkdwn(label)}>`;

function what(request: AccessRequest, catalog: Catalog): string {
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

/** The approvers' channel message, with the decision buttons. */
export function approvalRequestMessage(request: AccessRequest, catalog: Catalog): ChatMessage {
  const level = catalog.databases[request.database]?.levels[request.level];
  const who = request.requester.directoryAccount ?? request.requester.slackUserId;
  const ticket = request.ticket ? link(request.ticket.url, request.ticket.key) : '—';
  return {
    text: `${who} requests ${request.database}/${request.level} for ${formatDuration({ minutes: request.durationMinutes })} (${request.requestId})`,
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
          { type: 'mrkdwn', text: `*Approvals needed*\n${level?.approvalsRequired ?? 1}` },
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
      {
        type: 'actions',
        block_id: `decision:${request.requestId}`,
        elements: [
          {
            type: 'button',
            action_id: ACTION_IDS.approve,
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
            value: request.requestId,
          },
          {
            type: 'button',
            action_id: ACTION_IDS.deny,
            style: 'danger',
            text: { type: 'plain_text', text: 'Deny' },
            value: request.requestId,
          },
        ],
      },
    ],
  };
}

export type RejectionReason =
  | { kind: 'no_email' }
  | { kind: 'no_account'; attribute: string }
  | { kind: 'ambiguous_account'; attribute: string }
  | { kind: 'disabled' }
  | { kind: 'not_eligible'; requesterGroups: readonly string[]; approverGroups: readonly string[] }
  | { kind: 'unknown_level' };

/** Why a request was refused, in words the requester can act on; nothing else about the directory. */
export function rejectionText(reason: RejectionReason): string {
  switch (reason.kind) {
    case 'no_email':
      return 'your Slack profile has no e-mail address I can match to a directory account. Ask your Slack admin to add it.';
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

/** `CN=db-readers,OU=Groups,…` → `db-readers`: the name people know a group by. */
export function commonName(dn: string): string {
  const first = dn.split(/(?<!\\),/)[0] ?? dn;
  return first.replace(/^\s*cn\s*=\s*/i, '').replace(/\\(.)/g, '$1');
}
