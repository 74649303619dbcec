import type { Catalog } from '../config/catalog-schema.js';
import type { AccessRequest } from '../domain/access-request.js';
import { formatDuration } from '../domain/duration.js';
import type { AdfDocument, AdfNode, TicketDraft } from '../ports/ticket-tracker.js';

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
