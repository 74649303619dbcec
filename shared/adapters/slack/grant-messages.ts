import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest } from '../../domain/access-request.js';
import { deliveryToken } from '../../domain/delivery-token.js';
import { formatDuration } from '../../domain/duration.js';
import { explainGrantFailure } from '../../domain/refusals.js';
import { ACTION_IDS, extendButtonValue } from './action-ids.js';
import { findLevel } from '../../domain/eligibility.js';
import { SLASH_COMMAND } from './intake-messages.js';
import { escapeMrkdwn } from './mrkdwn.js';
import { button, type ChatMessage, context, link, section, slackDate, what } from './request-messages.js';

/** The command requesters install (package.json `bin`); the DM tells them to type exactly this. */
export const CLI_COMMAND = 'jit-access';

export interface GrantDelivery {
  readonly wrappedToken: string;
  readonly wrapExpiresAt: string;
  readonly fresh: boolean;
}

/**
 * The DM that carries the single-use wrapping token. The token is only in the blocks, never in
 * the fallback text, which phones show in lock-screen notifications.
 */
export function grantReadyDm(request: AccessRequest, catalog: Catalog, delivery: GrantDelivery): ChatMessage {
  const grant = request.grant;
  const until = grant ? slackDate(grant.expiresAt) : 'the end of the grant';
  const wrapMinutes = Math.max(
    1,
    Math.round(
      (Date.parse(delivery.wrapExpiresAt) - Date.parse(grant?.mintedAt ?? delivery.wrapExpiresAt)) / 60_000,
    ),
  );
  const address = catalog.global.vault.address;
  const maxExtension = findLevel(catalog, request)?.maxExtension;
  const headline = delivery.fresh
    ? `:arrows_counterclockwise: *${request.requestId}*: a fresh credential for ${what(request, catalog)}; the previous one is revoked.`
    : `:key: *${request.requestId}*: your temporary MySQL user for ${what(request, catalog)} is ready.`;
  return {
    text: `${request.requestId}: your access to ${request.database}/${request.level} is ready. Open this message to connect.`,
    blocks: [
      section(`${headline}\nIt works until *${until}*.`),
      section(
        `Connect within ${formatDuration({ minutes: wrapMinutes })} (the token works once):\n\`\`\`${CLI_COMMAND} connect ${deliveryToken(request.requestId, delivery.wrappedToken)}\`\`\``,
      ),
      context(
        [
          address ? `Needs \`VAULT_ADDR=${escapeMrkdwn(address)}\`.` : undefined,
          `\`${CLI_COMMAND} creds <token>\` prints the credentials for other tools instead.`,
          grant ? `Your user: \`${escapeMrkdwn(grant.username)}\`.` : undefined,
        ]
          .filter(Boolean)
          .join(' '),
      ),
      {
        type: 'actions',
        block_id: `grant:${request.requestId}`,
        elements: [
          button(ACTION_IDS.reissue, 'Get a fresh token', request.requestId),
          ...(maxExtension
            ? [
                {
                  ...button(ACTION_IDS.extend, 'More time…', request.requestId),
                  // The form starts at 30 minutes, or the level's whole allowance when smaller.
                  value: extendButtonValue(request.requestId, Math.min(30, maxExtension.minutes)),
                },
              ]
            : []),
          button(ACTION_IDS.revoke, 'Done: revoke now', request.requestId, 'danger'),
        ],
      },
      context(
        `Token expired or lost? The button makes a new credential and revokes this one. If ${CLI_COMMAND} says the token was already used and you did not use it, report ${request.requestId} to security.`,
      ),
    ],
  };
}

/** Who ended a grant, in words: the schedule, the requester, or the approver by account. */
function endedBy(request: AccessRequest): string {
  const revocation = request.revocation;
  if (!revocation || revocation.why === 'expired') return 'its time was up';
  if (revocation.by.id === request.requester.slackUserId) return 'you revoked it';
  return `${escapeMrkdwn(revocation.by.account ?? revocation.by.id)} revoked it${revocation.reason ? `: ${escapeMrkdwn(revocation.reason)}` : ''}`;
}

/** The DM when a grant ends: the user is gone and its sessions are closed. */
export function grantEndedDm(request: AccessRequest, catalog: Catalog): ChatMessage {
  const user = request.grant ? ` \`${escapeMrkdwn(request.grant.username)}\`` : '';
  return {
    text: `${request.requestId}: your access to ${request.database}/${request.level} has ended.`,
    blocks: [
      section(
        `:lock: *${request.requestId}*: your access to ${what(request, catalog)} has ended (${endedBy(request)}). The temporary user${user} is gone and its open sessions are closed.`,
      ),
      context(`Need it again? \`${SLASH_COMMAND}\``),
    ],
  };
}

/** The DM when nothing was granted after the approval. */
export function grantFailedDm(request: AccessRequest, catalog: Catalog): ChatMessage {
  const why = request.failure ? explainGrantFailure(request.failure.reason) : 'the grant could not be made';
  const ticket = request.ticket ? ` Ticket: ${link(request.ticket.url, request.ticket.key)}.` : '';
  return {
    text: `${request.requestId} was approved, but nothing was granted: ${why}.`,
    blocks: [
      section(
        `:x: *${request.requestId}* (${what(request, catalog)}) was approved, but nothing was granted: ${escapeMrkdwn(why)}.${ticket}`,
      ),
      context(`Once that is fixed, submit a new request with \`${SLASH_COMMAND}\`.`),
    ],
  };
}
