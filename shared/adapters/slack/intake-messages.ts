import type { Catalog } from '../../config/catalog-schema.js';
import { formatDuration } from '../../domain/duration.js';
import type { RequestId } from '../../domain/request-id.js';
import type { ValidatedRequest } from '../../domain/request-validation.js';
import type { NotQueued } from '../../use-cases/request-intake.js';
import { escapeMrkdwn } from './mrkdwn.js';

/** What a slash command's HTTP answer carries: a message only the person who typed it sees. */
export interface EphemeralReply {
  readonly response_type: 'ephemeral';
  readonly text: string;
}

export const SLASH_COMMAND = '/request_mysql_access';

const ephemeral = (text: string): EphemeralReply => ({ response_type: 'ephemeral', text });

export function catalogSummary(catalog: Catalog): string {
  return Object.entries(catalog.databases)
    .map(([name, db]) => {
      const levels = Object.entries(db.levels)
        .map(([level, def]) => {
          const approvals = def.approvalsRequired > 1 ? `, ${def.approvalsRequired} approvals` : '';
          return `\`${level}\` (up to ${formatDuration(def.maxDuration)}${approvals})`;
        })
        .join(', ');
      return `• \`${name}\` (${db.environment}): ${levels}`;
    })
    .join('\n');
}

export function usageText(catalog: Catalog): string {
  const [firstDb = 'orders', firstEntry] = Object.entries(catalog.databases)[0] ?? [];
  const [firstLevel = 'read', firstLevelDef] = Object.entries(firstEntry?.levels ?? {})[0] ?? [];
  const example = `${SLASH_COMMAND} ${firstDb} ${firstLevel} ${firstLevelDef ? formatDuration(firstLevelDef.defaultDuration) : '1h'} INC-1234 investigating stuck orders`;
  return [
    '*Usage*',
    `\`${SLASH_COMMAND}\` opens a form`,
    `\`${SLASH_COMMAND} <database> <level> <duration> <justification>\`, e.g. \`${example}\``,
    `\`${SLASH_COMMAND} cancel <request id>\` cancels a request still waiting for approval`,
    `\`${SLASH_COMMAND} revoke <request id>\` ends access you were granted`,
    `\`${SLASH_COMMAND} approve <request id>\` / \`deny <request id> <reason>\`: for approvers, like the buttons`,
    "Durations: a whole number and m, h or d (`30m`, `2h`, `1d`), up to the level's maximum.",
    '*Databases and access levels*',
    catalogSummary(catalog),
  ].join('\n');
}

export function helpReply(catalog: Catalog): EphemeralReply {
  return ephemeral(usageText(catalog));
}

export function invalidRequestReply(problems: readonly string[], catalog: Catalog): EphemeralReply {
  const list = problems.map((p) => `• ${escapeMrkdwn(p)}`).join('\n');
  return ephemeral(`Nothing was requested:\n${list}\n\n${usageText(catalog)}`);
}

export function submittedReply(
  requestId: RequestId,
  request: ValidatedRequest,
  catalog: Catalog,
): EphemeralReply {
  const db = catalog.databases[request.database];
  const level = db?.levels[request.level];
  const approvals =
    level && level.approvalsRequired > 1 ? `${level.approvalsRequired} approvers` : 'an approver';
  return ephemeral(
    [
      `Request *${requestId}* received: \`${request.database}\` (${db?.environment ?? '?'}) / \`${request.level}\` for ${formatDuration(request.duration)}.`,
      `Next: I check your directory groups and open a Jira ticket, then DM you its link. Once ${approvals} approve, you get your credentials by DM. The ${formatDuration(request.duration)} start when access is granted.`,
      `Changed your mind? \`${SLASH_COMMAND} cancel ${requestId}\``,
    ].join('\n'),
  );
}

const ACTION_WORDS = {
  cancel: ['Cancellation', 'cancelled'],
  revoke: ['Revocation', 'revoked'],
  approve: ['Approval', 'approved'],
  deny: ['Denial', 'denied'],
  extend: ['Extension', 'extended'],
  reissue: ['Your request for a fresh token', 'reissued'],
} as const;

export function commandQueuedReply(action: keyof typeof ACTION_WORDS, requestId: RequestId): EphemeralReply {
  const [noun] = ACTION_WORDS[action];
  return ephemeral(`${noun} of *${requestId}* received. I check that you may do this and let you know.`);
}

/** The fresh-token button was taken: what happens next, and that the current token stops working. */
export function reissueQueuedReply(requestId: RequestId): EphemeralReply {
  return ephemeral(
    `Making you a fresh credential for *${requestId}*: it arrives by DM in a few seconds, and the current one stops working then.`,
  );
}

/** The extend form could not open: what to type instead, and that nothing changed. */
export function extendFormUnavailableReply(requestId: RequestId): EphemeralReply {
  return ephemeral(
    `The form did not open, so nothing was asked for *${requestId}*. Click More time again, or type \`${SLASH_COMMAND} extend ${requestId} 30m <why>\`; the approvers decide.`,
  );
}

/** Said whenever the topic refused a command: nothing happened, and the user must know it. */
export function notQueuedReply(failure: NotQueued = { queued: false, why: 'unavailable' }): EphemeralReply {
  if (failure.why === 'malformed') {
    const fields = failure.fields.map((field) => `\`${escapeMrkdwn(field)}\``).join(', ');
    return ephemeral(
      `:warning: Nothing was queued: what Slack sent for this is incomplete or malformed (${fields}), so jit-access cannot act on it. Your request was *not* received. Try again from Slack's own client; if it keeps happening, tell the platform team.`,
    );
  }
  return ephemeral(
    ':warning: Nothing was queued: jit-access could not reach its queue just now. Your request was *not* received; please run the command again in a minute. If it keeps failing, tell the platform team.',
  );
}

/** The deny form could not be opened (the click's trigger expired): the typed command does the same. */
export function denyFormUnavailableReply(requestId: RequestId): EphemeralReply {
  return ephemeral(
    `The deny form did not open in time. Nothing was denied; if no form appeared, type \`${SLASH_COMMAND} deny ${requestId} <reason>\` instead.`,
  );
}
