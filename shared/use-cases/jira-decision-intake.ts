import { createHash } from 'node:crypto';
import * as z from 'zod';
import type { Catalog } from '../config/catalog-schema.js';
import { COMMAND_VERSION, type RequestDecided } from '../messages/commands.js';
import type { Clock } from '../ports/clock.js';
import { type EventPublisher, PublishFailedError } from '../ports/event-publisher.js';
import { type TicketTracker, TrackerUnavailableError } from '../ports/ticket-tracker.js';

export interface JiraIntakeDeps {
  readonly catalog: Catalog;
  readonly tickets: TicketTracker;
  readonly publisher: EventPublisher;
  readonly clock: Clock;
}

export type JiraIntakeOutcome =
  | { kind: 'queued'; command: RequestDecided }
  | { kind: 'ignored'; why: IgnoredWhy }
  /** Jira or the topic could not be reached: answer 5xx so Jira delivers it again. */
  | { kind: 'retry_later'; why: string };

export type IgnoredWhy =
  | 'not_json'
  | 'not_an_issue_update'
  | 'no_status_change'
  | 'not_a_decision_status'
  | 'own_change'
  | 'ticket_not_found'
  | 'not_a_request_ticket'
  | 'status_moved_on';

/**
 * Only what the decision needs is read from the body; everything else Jira sends (custom fields,
 * rendered HTML, whatever apps add) is let through unread, so a site's extra fields never break it.
 */
const statusChange = z.looseObject({
  field: z.string().optional(),
  fieldId: z.string().optional(),
  fieldtype: z.string().optional(),
  fromString: z.string().nullish(),
  toString: z.string().nullish(),
});
const issueUpdated = z.looseObject({
  webhookEvent: z.literal('jira:issue_updated'),
  user: z.looseObject({ accountId: z.string().min(1).max(128) }),
  issue: z.looseObject({ id: z.string().regex(/^\d{1,18}$/), key: z.string().max(255) }),
  changelog: z.looseObject({ id: z.string().max(64).optional(), items: z.array(statusChange).max(200) }),
});

/**
 * A verified Jira webhook → `request.decided`, or a reason to ignore it. The webhook is only a
 * hint: the request id comes from the ticket's entity property (never from text anyone can type),
 * and the ticket is re-read so a late or out-of-order delivery of an older status is not acted on.
 */
export async function intakeJiraWebhook(
  deps: JiraIntakeDeps,
  rawBody: string,
  identifier: string | undefined,
): Promise<JiraIntakeOutcome> {
  let json: unknown;
  try {
    json = JSON.parse(rawBody);
  } catch {
    return { kind: 'ignored', why: 'not_json' };
  }
  const parsed = issueUpdated.safeParse(json);
  if (!parsed.success) return { kind: 'ignored', why: 'not_an_issue_update' };
  const event = parsed.data;
  const change = event.changelog.items.find(
    (item) => item.fieldId === 'status' || (item.field === 'status' && item.fieldtype === 'jira'),
  );
  if (!change?.toString || !change.fromString) return { kind: 'ignored', why: 'no_status_change' };
  const statuses = deps.catalog.global.jira.statuses;
  const decision =
    change.toString === statuses.approved
      ? 'approve'
      : change.toString === statuses.denied
        ? 'deny'
        : undefined;
  if (!decision) return { kind: 'ignored', why: 'not_a_decision_status' };

  try {
    if (event.user.accountId === (await deps.tickets.selfAccountId()))
      return { kind: 'ignored', why: 'own_change' };
    const ticket = await deps.tickets.read(event.issue.id);
    if (!ticket) return { kind: 'ignored', why: 'ticket_not_found' };
    if (!ticket.requestId) return { kind: 'ignored', why: 'not_a_request_ticket' };
    if (ticket.status !== change.toString) return { kind: 'ignored', why: 'status_moved_on' };

    const command: RequestDecided = {
      type: 'request.decided',
      version: COMMAND_VERSION,
      // Jira repeats a delivery with the same identifier; without one (an Automation request),
      // the issue's changelog entry is just as unique.
      commandId: `jira:${digest(identifier ?? `${event.issue.id}:${event.changelog.id ?? rawBody}`)}`,
      issuedAt: deps.clock.now().toISOString(),
      requestId: ticket.requestId,
      decision,
      source: 'jira',
      actor: { kind: 'jira', accountId: event.user.accountId },
      jira: { issueKey: ticket.key, fromStatus: change.fromString, toStatus: change.toString },
    };
    await deps.publisher.publish(command);
    return { kind: 'queued', command };
  } catch (error) {
    if (error instanceof PublishFailedError)
      return { kind: 'retry_later', why: 'the topic refused the command' };
    if (error instanceof TrackerUnavailableError) {
      return { kind: 'retry_later', why: 'Jira could not be read' };
    }
    throw error;
  }
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 40);
}
