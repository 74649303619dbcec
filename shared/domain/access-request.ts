import type { RequestState } from './lifecycle.js';

/** Who acted, as recorded in the audit trail. */
export interface AuditActor {
  readonly kind: 'slack' | 'jira' | 'system';
  /** Slack user id, Jira accountId, or the component for `system`. */
  readonly id: string;
  /** The directory account (sAMAccountName) once verified. */
  readonly account?: string;
}

/** One entry of a request's audit trail: who, what, when, from which channel, why. */
export interface AuditEvent {
  readonly requestId: string;
  /** 1, 2, 3…: the event's place in the request's trail (events that change nothing count too). */
  readonly sequence: number;
  readonly at: string;
  readonly action: string;
  readonly actor: AuditActor;
  readonly channel: 'slack' | 'jira' | 'system';
  readonly from?: RequestState;
  readonly to?: RequestState;
  readonly reason?: string;
}

/** One verified approval, kept until the level's number of distinct approvers is reached. */
export interface Approval {
  /** The approver's directory account (sAMAccountName): what makes two approvals distinct. */
  readonly account: string;
  readonly dn: string;
  readonly channel: 'slack' | 'jira';
  /** Slack user id or Jira accountId the approval came from. */
  readonly actorId: string;
  /** The approver group that entitled them. */
  readonly via: string;
  readonly at: string;
}

/** How a pending request ended, and by whom; what the messages and the ticket show. */
export interface Decision {
  readonly outcome: 'approved' | 'denied' | 'cancelled' | 'timed_out';
  /** `system` for a time-out, which nobody decided. */
  readonly channel: 'slack' | 'jira' | 'system';
  readonly actorId: string;
  /** Directory account of the person who decided (the requester, for a cancellation). */
  readonly account?: string;
  readonly reason?: string;
  readonly at: string;
}

/**
 * What still has to be told after a decision, so a redelivery (or the next command touching the
 * request) finishes it: the ticket, the approvers' message, the requester.
 */
export interface DecisionEffects {
  readonly ticket?: boolean;
  readonly approversMessage?: boolean;
  readonly requester?: boolean;
}

/**
 * The temporary database user a grant made, as far as jit-access may keep it: how to revoke it
 * and when it ends. Never the password (that lives only inside Vault's wrap).
 */
export interface GrantRecord {
  readonly leaseId: string;
  readonly username: string;
  /** The requester token's accessor: revoking it revokes the lease too. */
  readonly tokenAccessor: string;
  readonly mintedAt: string;
  readonly expiresAt: string;
  /** The command this credential was minted for (the approval, or a fresh-token request). */
  readonly origin: string;
  /**
   * The single-use wrap, kept only until the requester's DM went out, so a redelivery after a
   * crash sends it instead of minting again; removed in the write that records the delivery.
   */
  readonly delivery?: { readonly wrappedToken: string; readonly wrapExpiresAt: string };
  /** Leases of credentials this one replaced (a fresh token), until their revocation is done. */
  readonly superseded?: readonly { readonly leaseId: string; readonly username: string }[];
  /** Which of the grant's notes went out (the requester's DM is the GRANTED transition itself). */
  readonly told?: {
    readonly ticket?: boolean;
    readonly approversMessage?: boolean;
    readonly scheduled?: boolean;
  };
}

/** Why a grant could not be made; what the requester, the ticket and the approvers are told. */
export type GrantFailureReason =
  | 'requester_not_found'
  | 'requester_disabled'
  | 'requester_not_eligible'
  | 'unknown_level'
  | 'directory_unavailable'
  | 'broker_unavailable'
  | 'broker_rejected';

export interface GrantFailure {
  readonly reason: GrantFailureReason;
  readonly at: string;
  readonly told?: {
    readonly requester?: boolean;
    readonly ticket?: boolean;
    readonly approversMessage?: boolean;
  };
}

/**
 * The end of a grant: why and by whom, each failed attempt to revoke it (Vault down, the database
 * unreachable), and who has been told. `pending` until Vault confirmed the revocation; a pending
 * revocation is retried until it succeeds, however long that takes.
 */
export interface Revocation {
  readonly pending: boolean;
  readonly why: 'expired' | 'revoked';
  readonly by: AuditActor;
  readonly reason?: string;
  readonly requestedAt: string;
  readonly attempts: number;
  readonly lastError?: string;
  readonly lastAttemptAt?: string;
  readonly revokedAt?: string;
  readonly told?: {
    readonly requester?: boolean;
    readonly ticket?: boolean;
    readonly approversMessage?: boolean;
    readonly schedule?: boolean;
  };
  /** Held by the invocation telling everyone, so concurrent deliveries do not tell twice. */
  readonly telling?: { readonly owner: string; readonly until: string };
}

/**
 * One request for more time on a live grant: decided by the level's approvers, as many as the
 * level needs, while the grant runs on. Approved, it moves the end (Vault's lease and token, the
 * schedule); denied, or never decided before the grant ends, it changes nothing.
 */
export interface Extension {
  /** 1, 2, 3…: which extension of this grant; its buttons carry it, so a stale click is refused. */
  readonly number: number;
  /** The `grant.extend` command that asked for it: a redelivery finds it here. */
  readonly commandId: string;
  readonly status: 'pending' | 'approved' | 'denied';
  readonly minutes: number;
  readonly reason: string;
  readonly askedAt: string;
  /** The grant's end when it was asked, and the end it asks for. */
  readonly fromExpiresAt: string;
  readonly toExpiresAt: string;
  readonly approvals: readonly Approval[];
  /** Who approved it last (the approval that made it) or denied it. */
  readonly decision?: {
    readonly account: string;
    readonly actorId: string;
    readonly channel: 'slack' | 'jira';
    readonly reason?: string;
    readonly at: string;
  };
  /** Where the approvers were asked. */
  readonly approversMessage?: { readonly channelId: string; readonly ts: string };
  /** Which of its effects are done, so a redelivery finishes the others only. */
  readonly done?: {
    readonly announced?: boolean;
    readonly askNoted?: boolean;
    readonly askTold?: boolean;
    readonly renewed?: boolean;
    readonly scheduled?: boolean;
    readonly requester?: boolean;
    readonly approversMessage?: boolean;
    readonly ticket?: boolean;
  };
}

/** Transient failures of the grant so far, so retries end in FAILED rather than going on forever. */
export interface GrantAttempts {
  readonly count: number;
  readonly lastError: string;
  readonly at: string;
}

/** One access request: the single DynamoDB item every transition conditionally updates. */
export interface AccessRequest {
  readonly requestId: string;
  readonly state: RequestState;
  /** Incremented by every change; conditional writes compare it. */
  readonly version: number;
  /** The command that created it, for deduplication. */
  readonly commandId: string;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly requester: {
    readonly slackUserId: string;
    readonly slackTeamId: string;
    readonly slackUserName?: string;
    readonly email?: string;
    readonly directoryAccount?: string;
    readonly directoryDn?: string;
  };
  readonly database: string;
  readonly level: string;
  readonly durationMinutes: number;
  readonly justification: string;
  /** The catalog group that made the requester eligible. */
  readonly eligibleVia?: string;
  readonly ticket?: { readonly key: string; readonly url: string };
  readonly slack: {
    readonly channelId?: string;
    readonly responseUrl?: string;
    readonly approversMessage?: { readonly channelId: string; readonly ts: string };
  };
  readonly rejectionReason?: string;
  /**
   * Held by the invocation doing slow, non-idempotent work (opening the ticket, posting to
   * Slack) so a concurrent duplicate delivery backs off; it expires if that invocation dies.
   */
  readonly lease?: { readonly owner: string; readonly until: string };
  /** Which notifications went out, so a redelivery completes the missing ones only. */
  readonly notified?: {
    readonly requester?: boolean;
    readonly approvers?: boolean;
    readonly delay?: boolean;
  };
  /** Verified approvals so far, one per directory account, in the order they came. */
  readonly approvals?: readonly Approval[];
  readonly decision?: Decision;
  readonly effects?: DecisionEffects;
  readonly grant?: GrantRecord;
  readonly grantAttempts?: GrantAttempts;
  readonly failure?: GrantFailure;
  readonly revocation?: Revocation;
  /** Extensions asked for, oldest first; the last one is the current one. */
  readonly extensions?: readonly Extension[];
}
