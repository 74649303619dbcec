import type { AccessRequest, AuditActor } from '../domain/access-request.js';
import type { Reconcile } from '../messages/commands.js';
import { CredentialBrokerError } from '../ports/credential-broker.js';
import { StaleStateError } from '../ports/request-store.js';
import { TicketTrackerError } from '../ports/ticket-tracker.js';
import { completeDecisionEffects } from './decision-effects.js';
import { type EndGrantDeps, endGrant } from './end-grant.js';
import { type GrantDeps, grantAccess } from './grant-access.js';
import { type DecideDeps, decideRequest } from './decide-request.js';
import { digest } from './jira-decision-intake.js';
import { COMMAND_VERSION } from '../messages/commands.js';
import { openSlotKeyOf } from './submit-request.js';

export type ReconcileDeps = GrantDeps & EndGrantDeps & DecideDeps;

/** What one run did, for the log and the metrics. */
export interface ReconcileReport {
  /** Grants past their end that the schedule had not ended (or whose revocation was pending). */
  readonly expired: number;
  /** Revocations that failed again and stay pending (what the alarm counts). */
  readonly revocationsPending: number;
  readonly timedOut: number;
  /** Decisions taken in Jira whose webhook never arrived, taken now through the same checks. */
  readonly decidedFromJira: number;
  /** Approved requests whose grant had stalled, granted (or failed) now. */
  readonly regranted: number;
  /** Vault leases under the catalog's roles that no grant knew, revoked now (what an alarm watches). */
  readonly orphansSwept: number;
  /** Their lease ids: the log line of the run is their record, as no request owns them. */
  readonly orphanLeases: readonly string[];
  /** Levels whose leases could not be listed (Vault down): swept on a later run. */
  readonly sweepFailures: number;
  /** Whether a category had more due than one run takes: the next run goes on. */
  readonly truncated: boolean;
}

/** Each category is bounded per run, so a backlog never makes one run time out. */
export const RECONCILE_BATCH = 100;
/** An approval whose grant has not finished in this long is stuck (its retries are spent). */
export const STALLED_GRANT_MS = 5 * 60_000;
const SYSTEM: AuditActor = { kind: 'system', id: 'reconcile' };

/**
 * The periodic guard behind the schedule and Vault's TTL: ends grants past their end (and retries
 * pending revocations with backoff), times out requests nobody decided, finishes approvals
 * whose grant stalled, and revokes Vault leases no grant knows. Idempotent: every step is one of the use cases' own conditional paths.
 */
export async function reconcile(deps: ReconcileDeps, _command?: Reconcile): Promise<ReconcileReport> {
  const now = deps.clock.now().getTime();
  let truncated = false;
  /*
   * The state index is ordered by last change, not by when something falls due, so GRANTED is read
   * whole: live grants are few (hundreds) however many requests are stored, and a due one must not
   * hide behind the first page. Waiting and approved requests are read up to a cap, oldest first.
   */
  const listings = new Map<AccessRequest['state'], AccessRequest[]>();
  const batch = async (state: AccessRequest['state'], due: (r: AccessRequest) => boolean) => {
    const cap = state === 'GRANTED' ? undefined : RECONCILE_BATCH * 10;
    const listed = await deps.store.listByState(state, cap);
    listings.set(state, listed);
    const found = listed.filter(due);
    if (found.length > RECONCILE_BATCH || (cap !== undefined && listed.length === cap)) truncated = true;
    return found.slice(0, RECONCILE_BATCH);
  };

  let expired = 0;
  let revocationsPending = 0;
  for (const request of await batch('GRANTED', (r) => grantIsDue(r, now))) {
    try {
      const outcome = await endGrant(deps, {
        requestId: request.requestId,
        why: request.revocation?.why ?? 'expired',
        role: 'system',
        actor: SYSTEM,
        channel: 'system',
      });
      if (outcome.kind === 'ended') expired += 1;
    } catch {
      // Recorded on the request by endGrant; the next run tries again, later each time.
      revocationsPending += 1;
    }
  }

  // Before time-outs: a decision someone took in Jira counts, even if its webhook was lost.
  const pending = await deps.store.listByState('PENDING_APPROVAL', RECONCILE_BATCH * 10);
  const decidedFromJira = await recoverJiraDecisions(deps, pending);

  let timedOut = 0;
  const timeout = deps.catalog.global.decisionTimeout.minutes * 60_000;
  for (const request of await batch('PENDING_APPROVAL', (r) => Date.parse(r.createdAt) + timeout <= now)) {
    if (await timeOut(deps, request)) timedOut += 1;
  }

  let regranted = 0;
  for (const request of await batch('APPROVED', (r) => Date.parse(r.updatedAt) + STALLED_GRANT_MS <= now)) {
    const outcome = await grantAccess(deps, request.requestId).catch(() => undefined);
    if (outcome?.kind === 'granted' || outcome?.kind === 'failed') regranted += 1;
  }

  // Listed before this run changed anything: a grant that ended meanwhile only makes a lease
  // look known for one more run, never the other way round.
  const known = new Set(
    [...(listings.get('GRANTED') ?? []), ...(listings.get('APPROVED') ?? [])].flatMap((request) => [
      ...(request.grant ? [request.grant.leaseId] : []),
      ...(request.grant?.superseded ?? []).map((old) => old.leaseId),
    ]),
  );
  const sweep = await sweepOrphans(deps, known, now);
  if (sweep.truncated) truncated = true;
  return {
    expired,
    revocationsPending,
    timedOut,
    decidedFromJira,
    regranted,
    orphansSwept: sweep.swept.length,
    orphanLeases: sweep.swept,
    sweepFailures: sweep.failures,
    truncated,
  };
}

/**
 * Tickets in the approved or denied status whose request jit-access still has pending: the
 * webhook of that move was lost. Each becomes the `request.decided` the webhook would have made,
 * from the ticket's changelog (who moved it, from where), and goes through decideRequest with
 * every approver check; an approval goes on to the grant, as from the webhook.
 */
async function recoverJiraDecisions(deps: ReconcileDeps, pending: readonly AccessRequest[]): Promise<number> {
  const byKey = new Map(
    pending.flatMap((request) => (request.ticket ? [[request.ticket.key, request]] : [])),
  );
  if (byKey.size === 0) return 0;
  const statuses = deps.catalog.global.jira.statuses;
  let decided = 0;
  for (const [status, decision] of [
    [statuses.approved, 'approve'],
    [statuses.denied, 'deny'],
  ] as const) {
    // Jira down is the next run's to make up: the other guards of this run must still run.
    const keys = await deps.tickets.keysInStatus(status, RECONCILE_BATCH).catch((error: unknown) => {
      if (error instanceof TicketTrackerError) return [];
      throw error;
    });
    for (const key of keys) {
      const request = byKey.get(key);
      if (!request) continue;
      const move = await deps.tickets.lastMoveTo(key, status).catch(() => undefined);
      if (!move) continue;
      const outcome = await decideRequest(deps, {
        type: 'request.decided',
        version: COMMAND_VERSION,
        // The same for every run that finds this move: one decision, one refusal at most.
        commandId: `reconcile:jira:${digest(move.deliveryKey)}`,
        issuedAt: deps.clock.now().toISOString(),
        requestId: request.requestId,
        decision,
        source: 'jira',
        actor: { kind: 'jira', accountId: move.accountId },
        jira: { issueKey: key, fromStatus: move.fromStatus, toStatus: status },
      }).catch(() => undefined);
      if (!outcome) continue;
      // The grant's own failures are recorded on the request; the stalled-grant guard retries it.
      if (outcome.kind === 'approved') await grantAccess(deps, request.requestId).catch(() => undefined);
      if (outcome.kind === 'approved' || outcome.kind === 'denied' || outcome.kind === 'approval_recorded')
        decided += 1;
    }
  }
  return decided;
}

/**
 * Leases Vault holds under the catalog's roles that no live grant knows: a grant whose record
 * was lost, a mint whose store write never happened, a lease someone made by hand with the
 * role. Revoked through Vault (the worker never holds a database admin connection), so the
 * role's statements drop the user and end its sessions. A lease younger than a stalled grant
 * may belong to a mint still in flight, so it is left for a later run.
 */
async function sweepOrphans(
  deps: ReconcileDeps,
  known: ReadonlySet<string>,
  now: number,
): Promise<{ swept: string[]; failures: number; truncated: boolean }> {
  const swept: string[] = [];
  let failures = 0;
  for (const [database, entry] of Object.entries(deps.catalog.databases)) {
    for (const level of Object.keys(entry.levels)) {
      try {
        for (const leaseId of await deps.broker.listLeases(database, level)) {
          if (known.has(leaseId)) continue;
          if (swept.length >= RECONCILE_BATCH) return { swept, failures, truncated: true };
          const lease = await deps.broker.lookup(leaseId);
          if (!lease || Date.parse(lease.issuedAt) + STALLED_GRANT_MS > now) continue;
          await deps.broker.revoke(leaseId);
          swept.push(leaseId);
        }
      } catch (error) {
        if (!(error instanceof CredentialBrokerError)) throw error;
        failures += 1;
      }
    }
  }
  return { swept, failures, truncated: false };
}

/**
 * Past its end, or with a revocation pending whose backoff has run out: 1, 2, 4 … minutes after
 * each failed attempt, at most an hour. jit-access never stops trying.
 */
export function grantIsDue(request: AccessRequest, now: number): boolean {
  const revocation = request.revocation;
  if (revocation?.pending) {
    const since = Date.parse(revocation.lastAttemptAt ?? revocation.requestedAt);
    const wait = Math.min(60, 2 ** Math.max(0, revocation.attempts - 1)) * 60_000;
    return revocation.attempts === 0 || since + wait <= now;
  }
  return request.grant !== undefined && Date.parse(request.grant.expiresAt) <= now;
}

/** PENDING_APPROVAL → TIMED_OUT; the ticket closed, the approvers' message and the requester told. */
async function timeOut(deps: ReconcileDeps, request: AccessRequest): Promise<boolean> {
  const at = deps.clock.now().toISOString();
  let timedOut: AccessRequest;
  try {
    timedOut = await deps.store.transition(request.requestId, {
      event: 'time_out',
      by: 'system',
      expectedVersion: request.version,
      changes: { decision: { outcome: 'timed_out', channel: 'system', actorId: SYSTEM.id, at }, effects: {} },
      audit: {
        at,
        action: 'time_out',
        actor: SYSTEM,
        channel: 'system',
        reason: `no decision within ${deps.catalog.global.decisionTimeout.minutes} minutes`,
      },
    });
  } catch (error) {
    // Decided meanwhile: not ours to time out.
    if (error instanceof StaleStateError) return false;
    throw error;
  }
  await deps.store.releaseOpenSlot(openSlotKeyOf(timedOut), timedOut.requestId);
  await completeDecisionEffects(deps, timedOut);
  return true;
}
