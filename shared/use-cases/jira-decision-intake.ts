import { createHash } from 'node:crypto';
import type { Catalog } from '../config/catalog-schema.js';
import { COMMAND_VERSION, type RequestDecided } from '../messages/commands.js';
import type { Clock } from '../ports/clock.js';
import { CommandRefusedError, type EventPublisher, EventPublisherError } from '../ports/event-publisher.js';
import {
  type TicketStatusChange,
  type TicketTracker,
  TicketTrackerError,
  TrackerRejectedError,
} from '../ports/ticket-tracker.js';

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
  | { kind: 'retry_later'; why: string }
  /** The change cannot make a valid command (a status name longer than the contract allows…). */
  | { kind: 'malformed'; fields: readonly string[] }
  /** Jira refused jit-access's own calls for good: an operator must change `setting`. */
  | { kind: 'tracker_refused'; status: number; setting: string };

export type IgnoredWhy =
  'not_a_decision_status' | 'own_change' | 'ticket_not_found' | 'not_a_request_ticket' | 'status_moved_on';

/**
 * A status change reported by a verified Jira webhook → `request.decided`, or a reason to ignore
 * it. The webhook is only a hint: the request id comes from the ticket's entity property (never
 * from text anyone can type), and the ticket is re-read so a late or out-of-order delivery of an
 * older status is not acted on.
 */
export async function intakeJiraStatusChange(
  deps: JiraIntakeDeps,
  change: TicketStatusChange,
): Promise<JiraIntakeOutcome> {
  const statuses = deps.catalog.global.jira.statuses;
  const decision =
    change.toStatus === statuses.approved
      ? 'approve'
      : change.toStatus === statuses.denied
        ? 'deny'
        : undefined;
  if (!decision) return { kind: 'ignored', why: 'not_a_decision_status' };

  try {
    if (change.accountId === (await deps.tickets.selfAccountId()))
      return { kind: 'ignored', why: 'own_change' };
    const ticket = await deps.tickets.read(change.issueId);
    if (!ticket) return { kind: 'ignored', why: 'ticket_not_found' };
    if (!ticket.requestId) return { kind: 'ignored', why: 'not_a_request_ticket' };
    if (ticket.status !== change.toStatus) return { kind: 'ignored', why: 'status_moved_on' };

    const command: RequestDecided = {
      type: 'request.decided',
      version: COMMAND_VERSION,
      // Every delivery of one change gives the same command id: the worker acts on it once.
      commandId: `jira:${digest(change.deliveryKey)}`,
      issuedAt: deps.clock.now().toISOString(),
      requestId: ticket.requestId,
      decision,
      source: 'jira',
      actor: { kind: 'jira', accountId: change.accountId },
      jira: { issueKey: ticket.key, fromStatus: change.fromStatus, toStatus: change.toStatus },
    };
    await deps.publisher.publish(command);
    return { kind: 'queued', command };
  } catch (error) {
    if (error instanceof CommandRefusedError) {
      return { kind: 'malformed', fields: error.fields };
    }
    if (error instanceof EventPublisherError)
      return { kind: 'retry_later', why: 'the topic refused the command' };
    if (error instanceof TrackerRejectedError) {
      return { kind: 'tracker_refused', status: error.status, setting: error.setting };
    }
    if (error instanceof TicketTrackerError) return { kind: 'retry_later', why: 'Jira could not be read' };
    throw error;
  }
}

/** A short stable digest of a delivery key: the command id every delivery of one change shares. */
export function digest(value: string): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 40);
}
