import type { Catalog } from '../../config/catalog-schema.js';
import type { AccessRequest } from '../../domain/access-request.js';
import { formatDuration } from '../../domain/duration.js';
import { type DecisionRefusal, explainGrantFailure, explainRefusal } from '../../domain/refusals.js';
import type { MoveBack, MoveOutcome, TicketNote } from '../../ports/ticket-tracker.js';
import type { AdfDocument, AdfNode, TicketDraft } from './adf.js';

const text = (value: string, marks?: AdfNode['marks']): AdfNode => ({
  type: 'text',
  text: value,
  ...(marks ? { marks } : {}),
});
const paragraph = (...content: AdfNode[]): AdfNode => ({ type: 'paragraph', content });
const cell = (type: 'tableHeader' | 'tableCell', ...content: AdfNode[]): AdfNode => ({
  type,
  content: [paragraph(...content)],
});
const row = (label: string, ...value: AdfNode[]): AdfNode => ({
  type: 'tableRow',
  content: [cell('tableHeader', text(label)), cell('tableCell', ...(value.length ? value : [text('—')]))],
});

/** Labels filter and report in Jira; they cannot contain spaces. */
function label(value: string): string {
  return value.replace(/[^A-Za-z0-9_.-]+/g, '-').slice(0, 255);
}

/**
 * The ticket DevOps reads to decide. Everything comes from the catalog and the verified request:
 * user text (the justification) is carried as ADF text, which Jira never interprets as markup.
 */
export function ticketDraft(catalog: Catalog, request: AccessRequest, slackPermalink?: string): TicketDraft {
  const database = catalog.databases[request.database];
  const level = database?.levels[request.level];
  const duration = formatDuration({ minutes: request.durationMinutes });
  const who =
    request.requester.directoryAccount ?? request.requester.slackUserName ?? request.requester.slackUserId;
  const grants: AdfNode = {
    type: 'codeBlock',
    attrs: { language: 'sql' },
    content: [text((level?.grants ?? []).join('\n'))],
  };
  const description: AdfDocument = {
    type: 'doc',
    version: 1,
    content: [
      paragraph(
        text(`${who} asks for temporary `),
        text(`${request.level}`, [{ type: 'strong' }]),
        text(` access to `),
        text(`${request.database}`, [{ type: 'strong' }]),
        text(
          ` (${database?.environment ?? 'unknown environment'}) for ${duration}. Approve or decline by moving this ticket; the duration starts when access is granted.`,
        ),
      ),
      {
        type: 'table',
        attrs: { isNumberColumnEnabled: false, layout: 'default' },
        content: [
          row(
            'Requester',
            text(`${request.requester.slackUserName ?? ''} (Slack ${request.requester.slackUserId})`.trim()),
          ),
          row('AD account', text(request.requester.directoryAccount ?? 'not resolved')),
          row('Eligible through', text(request.eligibleVia ?? '—')),
          row('Database', text(`${request.database} — ${database?.host ?? '?'}:${database?.port ?? '?'}`)),
          row('Environment', text(database?.environment ?? '?')),
          row('Access level', text(`${request.level}${level?.description ? ` — ${level.description}` : ''}`)),
          row('Duration', text(duration)),
          row('Approvals required', text(String(level?.approvalsRequired ?? 1))),
          row('Justification', text(request.justification)),
          row('Request id', text(request.requestId, [{ type: 'code' }])),
          row(
            'Slack',
            ...(slackPermalink
              ? [text('conversation', [{ type: 'link', attrs: { href: slackPermalink } }])]
              : []),
          ),
        ],
      },
      paragraph(text('SQL grants the temporary user receives:')),
      grants,
    ],
  };
  return {
    requestId: request.requestId,
    projectKey: catalog.global.jira.projectKey,
    issueType: catalog.global.jira.issueType,
    summary: `MySQL access: ${who} → ${request.database}/${request.level} for ${duration}`.slice(0, 255),
    description,
    labels: [
      'jit-access',
      label(`db-${request.database}`),
      label(`level-${request.level}`),
      label(`env-${database?.environment ?? 'unknown'}`),
    ],
  };
}

const mention = (accountId: string): AdfNode => ({ type: 'mention', attrs: { id: accountId } });
const comment = (...content: AdfNode[]): AdfDocument => ({ type: 'doc', version: 1, content });

function approverNodes(request: AccessRequest): AdfNode[] {
  return (request.approvals ?? []).flatMap((approval, i) => [
    ...(i > 0 ? [text(', ')] : []),
    text(approval.account, [{ type: 'strong' }]),
    text(approval.channel === 'slack' ? ' (in Slack)' : ' (in Jira)'),
  ]);
}

/** What a ticket move did, in a sentence a DBA can act on when it did not happen. */
function moveNote(status: string, outcome: MoveOutcome | undefined): AdfNode[] {
  if (outcome === 'no_transition') {
    return [
      paragraph(
        text(
          `This ticket's workflow has no transition to "${status}" from its current status; please move it by hand.`,
        ),
      ),
    ];
  }
  return [];
}

/** The comment that records a decision on the ticket, the system of record. */
export function decisionComment(
  catalog: Catalog,
  request: AccessRequest,
  moved: MoveOutcome | undefined,
): AdfDocument {
  const decision = request.decision;
  const statuses = catalog.global.jira.statuses;
  switch (decision?.outcome) {
    case 'approved':
      return comment(
        paragraph(
          text('Approved', [{ type: 'strong' }]),
          text(' by '),
          ...approverNodes(request),
          text('. Each approver was verified in the directory as an enabled member of an approver group.'),
        ),
        ...moveNote(statuses.approved, moved),
      );
    case 'denied':
      return comment(
        paragraph(
          text('Denied', [{ type: 'strong' }]),
          text(` by `),
          text(decision.account ?? decision.actorId, [{ type: 'strong' }]),
          text(decision.channel === 'slack' ? ' in Slack' : ' in Jira'),
          text(decision.reason ? `. Reason: ${decision.reason}` : '. No reason was given.'),
        ),
        ...moveNote(statuses.denied, moved),
      );
    case 'timed_out':
      return comment(
        paragraph(
          text('Timed out', [{ type: 'strong' }]),
          text(
            ` without a decision after ${formatDuration(catalog.global.decisionTimeout)}; nothing was granted. The requester was told how to ask again.`,
          ),
        ),
        ...moveNote(statuses.closed, moved),
      );
    case 'cancelled':
      return comment(
        paragraph(text('Cancelled', [{ type: 'strong' }]), text(' by the requester in Slack.')),
        ...moveNote(statuses.closed, moved),
      );
    default:
      return comment(paragraph(text(`The request is ${request.state}.`)));
  }
}

/** One approval of several needed: recorded, and the ticket waits for the others. */
export function approvalRecordedComment(
  request: AccessRequest,
  required: number,
  movedBack?: MoveBack,
): AdfDocument {
  const count = request.approvals?.length ?? 0;
  const back =
    movedBack === undefined
      ? []
      : movedBack.outcome === 'no_transition'
        ? [
            paragraph(
              text(
                `The request is not approved until ${required} approvers agree, but the workflow has no transition back to "${movedBack.status}"; the status here is ahead of the request.`,
              ),
            ),
          ]
        : [paragraph(text(`Moved back to "${movedBack.status}" until the remaining approvals arrive.`))];
  return comment(
    paragraph(
      text(`Approval ${count} of ${required} recorded: `),
      ...approverNodes(request),
      text(`. ${required - count} more needed from other approvers.`),
    ),
    ...back,
  );
}

/** Tells the person who moved the ticket why that did not count, and what was done about it. */
export function refusalComment(
  accountId: string,
  refusal: DecisionRefusal,
  movedBack?: MoveBack,
): AdfDocument {
  const back =
    movedBack === undefined
      ? []
      : movedBack.outcome === 'no_transition'
        ? [
            paragraph(
              text(`Please move this ticket back to "${movedBack.status}"; its workflow does not let me.`),
            ),
          ]
        : movedBack.outcome === 'moved'
          ? [paragraph(text(`I moved the ticket back to "${movedBack.status}".`))]
          : [];
  return comment(
    paragraph(
      mention(accountId),
      text(` your change was not taken as a decision: ${explainRefusal(refusal)}`),
    ),
    ...back,
  );
}

/** The grant on the ticket: who may use which user until when; never a secret. */
export function grantedComment(
  catalog: Catalog,
  request: AccessRequest,
  moved: MoveOutcome | undefined,
): AdfDocument {
  const grant = request.grant;
  return comment(
    paragraph(
      text('Granted', [{ type: 'strong' }]),
      text(` until ${grant?.expiresAt ?? '?'} (UTC): temporary MySQL user `),
      text(grant?.username ?? '?', [{ type: 'code' }]),
      text(
        ` for ${request.requester.directoryAccount ?? request.requester.slackUserId}, created by Vault and removed when the grant ends. The requester received the credentials through a single-use token in Slack; they are not stored anywhere else.`,
      ),
    ),
    ...moveNote(catalog.global.jira.statuses.granted, moved),
  );
}

export function reissuedComment(request: AccessRequest, replaced: string): AdfDocument {
  return comment(
    paragraph(
      text('Fresh credential', [{ type: 'strong' }]),
      text(" issued at the requester's request: MySQL user "),
      text(request.grant?.username ?? '?', [{ type: 'code' }]),
      text(' replaces '),
      text(replaced, [{ type: 'code' }]),
      text(`, which was revoked. The grant still ends at ${request.grant?.expiresAt ?? '?'} (UTC).`),
    ),
  );
}

export function grantEndedComment(
  catalog: Catalog,
  request: AccessRequest,
  moved: MoveOutcome | undefined,
): AdfDocument {
  const revocation = request.revocation;
  const how =
    revocation?.why === 'revoked'
      ? `Revoked early by ${revocation.by.account ?? revocation.by.id}${revocation.reason ? ` (${revocation.reason})` : ''}`
      : 'Expired';
  return comment(
    paragraph(
      text(how, [{ type: 'strong' }]),
      text(` at ${revocation?.revokedAt ?? '?'} (UTC): MySQL user `),
      text(request.grant?.username ?? '?', [{ type: 'code' }]),
      text(' was dropped and its open sessions were ended.'),
    ),
    ...moveNote(catalog.global.jira.statuses.closed, moved),
  );
}

export function grantFailedComment(
  catalog: Catalog,
  request: AccessRequest,
  moved: MoveOutcome | undefined,
): AdfDocument {
  const why = request.failure ? explainGrantFailure(request.failure.reason) : 'the grant could not be made';
  return comment(
    paragraph(text('Not granted', [{ type: 'strong' }]), text(`: ${why}. The requester was told.`)),
    ...moveNote(catalog.global.jira.statuses.closed, moved),
  );
}

/** The requester asked for more time: how much, why, and the end it would move to. */
export function extensionAskedComment(request: AccessRequest): AdfDocument {
  const extension = request.extensions?.at(-1);
  return comment(
    paragraph(
      text(`Extension ${extension?.number ?? '?'} asked`, [{ type: 'strong' }]),
      text(
        `: ${extension?.minutes ?? '?'} more minutes, from ${extension?.fromExpiresAt ?? '?'} to ${extension?.toExpiresAt ?? '?'} (UTC). Reason: ${extension?.reason ?? ''}. The approvers decide in Slack; the grant runs on meanwhile.`,
      ),
    ),
  );
}

/** An extension decided: approved (with the grant's new end) or denied, and by whom. */
export function extensionDecidedComment(request: AccessRequest, number: number): AdfDocument {
  const extension = request.extensions?.[number - 1];
  const approved = extension?.status === 'approved';
  const by = approved
    ? extension.approvals.map((approval) => approval.account).join(', ') || '?'
    : (extension?.decision?.account ?? '?');
  return comment(
    paragraph(
      text(`Extension ${number} ${approved ? 'approved' : 'denied'}`, [{ type: 'strong' }]),
      text(
        approved
          ? ` by ${by}: the grant now ends at ${request.grant?.expiresAt ?? '?'} (UTC).`
          : ` by ${by}${extension?.decision?.reason ? ` (${extension.decision.reason})` : ''}: the grant still ends at ${request.grant?.expiresAt ?? '?'} (UTC).`,
      ),
    ),
  );
}

/** The comment for a ticket note. */
export function noteComment(catalog: Catalog, note: TicketNote): AdfDocument {
  switch (note.kind) {
    case 'decision':
      return decisionComment(catalog, note.request, note.moved);
    case 'approval.recorded':
      return approvalRecordedComment(note.request, note.required, note.movedBack);
    case 'refusal':
      return refusalComment(note.accountId, note.refusal, note.movedBack);
    case 'grant.granted':
      return grantedComment(catalog, note.request, note.moved);
    case 'grant.reissued':
      return reissuedComment(note.request, note.replaced);
    case 'grant.failed':
      return grantFailedComment(catalog, note.request, note.moved);
    case 'grant.ended':
      return grantEndedComment(catalog, note.request, note.moved);
    case 'extension.asked':
      return extensionAskedComment(note.request);
    case 'extension.decided':
      return extensionDecidedComment(note.request, note.number);
  }
}
