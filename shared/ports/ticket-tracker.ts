import type { AccessRequest } from '../domain/access-request.js';
import type { DecisionRefusal } from '../domain/refusals.js';

export interface Ticket {
  readonly id: string;
  readonly key: string;
  /** Browse URL for people, e.g. https://acme.atlassian.net/browse/DBA-42 */
  readonly url: string;
}

/** The issue entity property that ties a ticket to its request without trusting free text. */
export const REQUEST_ID_PROPERTY = 'jitAccessRequestId';

/** A ticket as it is now in the tracker, re-read rather than trusted from a webhook. */
export interface TicketState {
  readonly id: string;
  readonly key: string;
  readonly projectKey: string;
  /** The workflow status's name, e.g. "Approved". */
  readonly status: string;
  /** The request id from the entity property; undefined when the ticket has none (not ours). */
  readonly requestId?: string;
}

/** A status change a Jira webhook reports; a hint to check against the ticket, never a decision by itself. */
export interface TicketStatusChange {
  readonly issueId: string;
  /** Who moved the ticket (the changelog's author). */
  readonly accountId: string;
  readonly fromStatus: string;
  readonly toStatus: string;
  /** The same for every delivery of this one change, so repeats can be recognised. */
  readonly deliveryKey: string;
}

/** What `moveTo` did: moved, found the ticket already there, or found no transition leading there. */
export type MoveOutcome = 'moved' | 'already_there' | 'no_transition';

/** A move back made on a ticket before a note about it, so the note can say what happened. */
export interface MoveBack {
  readonly status: string;
  readonly outcome: MoveOutcome;
}

/**
 * What the ticket, the system of record, is told: typed notes the tracker adapter words and
 * formats. Use cases never build the ticket's markup.
 */
export type TicketNote =
  /** The request was approved, denied or cancelled; `moved` is what the move to its status did. */
  | { readonly kind: 'decision'; readonly request: AccessRequest; readonly moved: MoveOutcome | undefined }
  /** One approval of `required` counted; the ticket waits for the others. */
  | {
      readonly kind: 'approval.recorded';
      readonly request: AccessRequest;
      readonly required: number;
      readonly movedBack?: MoveBack;
    }
  /** The temporary user exists until `request.grant.expiresAt`; `moved` is the move to the granted status. */
  | {
      readonly kind: 'grant.granted';
      readonly request: AccessRequest;
      readonly moved: MoveOutcome | undefined;
    }
  /** The requester asked for a fresh token: a new user replaced the old one, which was revoked. */
  | { readonly kind: 'grant.reissued'; readonly request: AccessRequest; readonly replaced: string }
  /** The grant ended and its user is gone; `moved` is the move to the closed status. */
  | { readonly kind: 'grant.ended'; readonly request: AccessRequest; readonly moved: MoveOutcome | undefined }
  /** Nothing was granted (`request.failure` says why); `moved` is the move to the closed status. */
  | {
      readonly kind: 'grant.failed';
      readonly request: AccessRequest;
      readonly moved: MoveOutcome | undefined;
    }
  /** The requester asked for more time (the last of `request.extensions`). */
  | { readonly kind: 'extension.asked'; readonly request: AccessRequest }
  /** Extension `number` was approved (the new end) or denied, and by whom. */
  | { readonly kind: 'extension.decided'; readonly request: AccessRequest; readonly number: number }
  /** The person who moved the ticket (`accountId`) was not taken as a decision, and why. */
  | {
      readonly kind: 'refusal';
      readonly accountId: string;
      readonly refusal: DecisionRefusal;
      readonly movedBack?: MoveBack;
    };

export type TicketNoteKind = TicketNote['kind'];

/** Jira as jit-access needs it: open tickets, follow and drive their status, talk on them. */
export interface TicketTracker {
  /** The ticket carrying `requestId` in its entity property, if one exists. */
  findByRequestId(requestId: string): Promise<Ticket | undefined>;
  /** Opens the ticket approvers read to decide on `request`, with its request id property set. */
  create(request: AccessRequest): Promise<Ticket>;
  /** The ticket's current status and request id; undefined when it does not exist or is not visible. */
  read(issueIdOrKey: string): Promise<TicketState | undefined>;
  /**
   * Moves the ticket to the status named `status` through whichever available transition leads
   * there. Transition ids differ per workflow and site, so they are looked up, never configured.
   * A missing ticket is a TrackerRejectedError (404).
   */
  moveTo(issueIdOrKey: string, status: string): Promise<MoveOutcome>;
  /** Adds the note as a comment by the jit-access account; a missing ticket is a TrackerRejectedError (404). */
  comment(issueIdOrKey: string, note: TicketNote): Promise<void>;
  /**
   * The e-mail address of a person's Jira account, when Jira shows it to jit-access; undefined
   * when the account is unknown, deactivated, not a person (an app), or hides its e-mail.
   */
  accountEmail(accountId: string): Promise<string | undefined>;
  /** The accountId jit-access itself acts as: its own changes come back as webhooks to ignore. */
  selfAccountId(): Promise<string>;
  /**
   * Keys of the project's tickets now in `status`, most recently changed first, at most `limit`:
   * how reconcile finds a decision whose webhook never arrived (a plain JQL search on status).
   */
  keysInStatus(status: string, limit: number): Promise<readonly string[]>;
  /** The ticket's last move into `status` (who, from where), from its changelog; undefined if none. */
  lastMoveTo(issueIdOrKey: string, status: string): Promise<TicketStatusChange | undefined>;
}

export class TicketTrackerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Jira is down, rate limiting beyond our patience, or answering 5xx: retry the whole command later. */
export class TrackerUnavailableError extends TicketTrackerError {}

/**
 * Jira refused what we sent (400/401/403/404/410): retrying will not help; an operator must act,
 * and `setting` says on what.
 */
export class TrackerRejectedError extends TicketTrackerError {
  readonly setting: string;

  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown; setting?: string },
  ) {
    super(message, options);
    this.setting = options?.setting ?? rejectionSetting(status);
  }
}

/** What an operator changes when Jira refuses jit-access's own calls with `status`. */
export function rejectionSetting(status: number): string {
  switch (status) {
    case 401:
      return 'JIRA_EMAIL and JIRA_API_TOKEN: Jira does not accept them (a revoked or expired API token, or another account)';
    case 403:
      return "the Jira permissions of JIRA_EMAIL's account in the catalog's project (Browse projects, Create issues, Transition issues, Add comments)";
    case 404:
      return "the catalog's jira.projectKey and JIRA_BASE_URL, and whether JIRA_EMAIL's account may browse that project";
    case 410:
      return 'the jit-access version: Jira retired an API it calls; upgrade jit-access';
    default:
      return "the catalog's jira settings (project, issue type, statuses): Jira refused the request as sent";
  }
}
