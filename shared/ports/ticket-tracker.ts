/** Atlassian Document Format: Jira Cloud's rich text (a `doc` node with content). */
export interface AdfDocument {
  readonly type: 'doc';
  readonly version: 1;
  readonly content: readonly AdfNode[];
}
export interface AdfNode {
  readonly type: string;
  readonly attrs?: Record<string, unknown>;
  readonly content?: readonly AdfNode[];
  readonly text?: string;
  readonly marks?: readonly { type: string; attrs?: Record<string, unknown> }[];
}

export interface TicketDraft {
  readonly requestId: string;
  readonly projectKey: string;
  readonly issueType: string;
  readonly summary: string;
  readonly description: AdfDocument;
  readonly labels: readonly string[];
}

export interface Ticket {
  readonly id: string;
  readonly key: string;
  /** Browse URL for people, e.g. https://acme.atlassian.net/browse/DBA-42 */
  readonly url: string;
}

/** The issue entity property that ties a ticket to its request without trusting free text. */
export const REQUEST_ID_PROPERTY = 'jitAccessRequestId';

/** Jira as jit-access needs it for opening tickets. Decisions arrive with a later issue. */
export interface TicketTracker {
  /** The ticket carrying `requestId` in its entity property, if one exists. */
  findByRequestId(requestId: string): Promise<Ticket | undefined>;
  /** Creates the ticket and sets its request id property. */
  create(draft: TicketDraft): Promise<Ticket>;
}

export class TicketTrackerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Jira is down, rate limiting beyond our patience, or answering 5xx: retry the whole command later. */
export class TrackerUnavailableError extends TicketTrackerError {}

/** Jira refused what we sent (400/401/403/404): retrying will not help; an operator must act. */
export class TrackerRejectedError extends TicketTrackerError {
  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
