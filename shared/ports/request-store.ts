import type { AccessRequest, AuditEvent } from '../domain/access-request.js';
import type { ActorRole, LifecycleEvent, RequestState } from '../domain/lifecycle.js';

export type NewAuditEvent = Omit<AuditEvent, 'requestId' | 'sequence'>;

/** Changes a transition may carry besides the state; never the identity fields. */
export type RequestChanges = Partial<
  Pick<
    AccessRequest,
    | 'ticket'
    | 'slack'
    | 'eligibleVia'
    | 'rejectionReason'
    | 'requester'
    | 'lease'
    | 'notified'
    | 'approvals'
    | 'decision'
    | 'effects'
    | 'grant'
    | 'grantAttempts'
    | 'failure'
    | 'revocation'
    | 'extensions'
  >
>;

/** A lifecycle event to apply; where it leads is the lifecycle's to say, not the caller's. */
export interface LifecycleMove {
  readonly event: LifecycleEvent;
  /** Who causes it, as the lifecycle table names them; a role that may never cause `event` is refused. */
  readonly by: ActorRole;
  readonly changes?: RequestChanges;
  readonly audit: NewAuditEvent;
  readonly expectedVersion?: number;
}

/**
 * Durable request state. Every write is a single-item conditional write, so concurrent and repeated
 * deliveries can never half-apply a change or apply it twice.
 */
export interface RequestStore {
  /**
   * Stores a new request (state SUBMITTED, version 1) and its first audit event, unless the id
   * exists. Returns the stored request either way and whether this call created it.
   */
  create(request: AccessRequest, audit: NewAuditEvent): Promise<{ created: boolean; request: AccessRequest }>;
  get(requestId: string): Promise<AccessRequest | undefined>;
  /**
   * Applies the lifecycle `event` with `changes`: from the one state the lifecycle allows it from
   * to the state it leads to (`TRANSITIONS`), only if the request is still in that state (and,
   * when `expectedVersion` is given, still at that version: the changes were computed from it).
   * Throws StaleStateError (carrying the current request) when it is not, except when this exact
   * move is what last happened to it (a redelivery): then it returns the request unchanged.
   */
  transition(requestId: string, move: LifecycleMove): Promise<AccessRequest>;
  /** Applies `changes` only if the request is still at `expectedVersion`; StaleStateError otherwise. */
  update(
    requestId: string,
    expectedVersion: number,
    changes: RequestChanges,
    audit?: NewAuditEvent,
  ): Promise<AccessRequest>;
  /** Records an event that changes no state (a refused decision, a dropped duplicate). */
  appendAudit(requestId: string, audit: NewAuditEvent): Promise<void>;
  auditTrail(requestId: string): Promise<AuditEvent[]>;
  /** Requests of one Slack user, newest first (GSI by requester). */
  listByRequester(slackTeamId: string, slackUserId: string, limit?: number): Promise<AccessRequest[]>;
  /** Requests in one state, oldest change first (GSI by state), for time-outs and reconcile. */
  listByState(state: RequestState, limit?: number): Promise<AccessRequest[]>;
  /**
   * Records that `commandId` was handled as `requestId`, once. Returns the request id it was
   * first recorded with, so a repeated command finds the request it already made.
   */
  rememberCommand(commandId: string, requestId: string): Promise<{ first: boolean; requestId: string }>;
  /**
   * Reserves `slot` (one open request per requester, database and level) for `requestId`.
   * Returns the holder: `requestId` itself when reserved (or already held by it), else the other
   * request that holds it. Released when that request ends.
   */
  claimOpenSlot(slot: string, requestId: string): Promise<{ holder: string }>;
  /** Frees `slot` if `requestId` holds it; a no-op otherwise (idempotent). */
  releaseOpenSlot(slot: string, requestId: string): Promise<void>;
}

/** Every failure of the request store. */
export class RequestStoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The request is not in the state (or at the version) the write expected; `current` is what it is. */
export class StaleStateError extends RequestStoreError {
  constructor(
    readonly requestId: string,
    readonly current: AccessRequest | undefined,
    options?: { cause?: unknown },
  ) {
    super(
      `request ${requestId} is ${current ? `${current.state} (version ${current.version})` : 'missing'}`,
      options,
    );
  }
}

/** DynamoDB could not be reached, throttled us, or did not settle: transient, retry the command. */
export class StoreUnavailableError extends RequestStoreError {}
