import type { AccessRequest, AuditActor, Revocation } from '../domain/access-request.js';
import type { ActorRole } from '../domain/lifecycle.js';
import type { CredentialBroker } from '../ports/credential-broker.js';
import { CredentialBrokerError } from '../ports/credential-broker.js';
import type { ExpiryScheduler } from '../ports/expiry-scheduler.js';
import { StaleStateError } from '../ports/request-store.js';
import { type EffectDeps, patchLatest, ticketMayRefuse } from './decision-effects.js';
import { openSlotKeyOf } from './submit-request.js';

export interface EndGrantDeps extends EffectDeps {
  readonly broker: CredentialBroker;
  readonly scheduler: ExpiryScheduler;
  /** Identifies this invocation while it tells everyone (the Lambda request id). */
  readonly invocationId: string;
}

/** Why a grant ends, and who caused it (already verified by the caller). */
export interface EndOfGrant {
  readonly requestId: string;
  readonly why: 'expired' | 'revoked';
  /** `system` for expiry (the schedule, reconcile); the requester or an approver for an early revoke. */
  readonly role: ActorRole;
  readonly actor: AuditActor;
  readonly channel: 'slack' | 'jira' | 'system';
  readonly reason?: string;
}

export type EndOutcome =
  | { kind: 'ended'; request: AccessRequest }
  | { kind: 'not_granted'; state: AccessRequest['state'] }
  /** The schedule fired before the grant's end (it was extended): nothing to do yet. */
  | { kind: 'not_due'; expiresAt: string };

const MAX_ROUNDS = 5;

/**
 * GRANTED → EXPIRED or REVOKED, with the user gone before the state says so. The revocation is
 * recorded as pending first, then Vault revokes the lease synchronously (its statements drop the
 * user if it exists and end its sessions; a lease already gone is done), and only then the
 * conditional transition. A failed revocation is counted on the request and rethrown: the command
 * is retried, and reconcile keeps retrying a pending revocation until it succeeds. Redelivered
 * and concurrent ends make one revocation, one DM, one comment.
 */
export async function endGrant(deps: EndGrantDeps, end: EndOfGrant): Promise<EndOutcome> {
  let request = await deps.store.get(end.requestId);
  for (let round = 0; request && round < MAX_ROUNDS; round++) {
    if (request.state === 'EXPIRED' || request.state === 'REVOKED') {
      // A concurrent delivery that ended it first holds the telling lease; completeEndNotes leaves it.
      return { kind: 'ended', request: await completeEndNotes(deps, request) };
    }
    if (request.state !== 'GRANTED' || !request.grant) return { kind: 'not_granted', state: request.state };
    if (
      end.why === 'expired' &&
      !request.revocation &&
      Date.parse(request.grant.expiresAt) > deps.clock.now().getTime() + 1000
    ) {
      // Extended since it was scheduled: the schedule that fired is spent, so set the new end.
      await deps.scheduler.schedule(request.requestId, new Date(request.grant.expiresAt));
      return { kind: 'not_due', expiresAt: request.grant.expiresAt };
    }
    try {
      const pending = request.revocation?.pending ? request : await markPending(deps, request, end);
      await revokeLeases(deps, pending);
      const ended = await deps.store.transition(pending.requestId, {
        event: pending.revocation?.why === 'revoked' ? 'revoke' : 'expire',
        by: pending.revocation?.why === 'revoked' ? roleOf(pending, end) : 'system',
        changes: {
          revocation: {
            ...(pending.revocation as Revocation),
            pending: false,
            revokedAt: deps.clock.now().toISOString(),
          },
        },
        audit: {
          at: deps.clock.now().toISOString(),
          action: pending.revocation?.why === 'revoked' ? 'revoke' : 'expire',
          actor: pending.revocation?.by ?? end.actor,
          channel: end.channel,
          reason: `user ${pending.grant?.username} dropped and its sessions ended${pending.revocation?.reason ? `: ${pending.revocation.reason}` : ''}`,
        },
      });
      await deps.store.releaseOpenSlot(openSlotKeyOf(ended), ended.requestId);
      return { kind: 'ended', request: await completeEndNotes(deps, ended) };
    } catch (error) {
      if (error instanceof StaleStateError && error.current) {
        request = error.current;
        continue;
      }
      throw error;
    }
  }
  if (!request) return { kind: 'not_granted', state: 'SUBMITTED' };
  throw new StaleStateError(end.requestId, request);
}

/** The role the lifecycle records for an early revoke: whoever asked first. */
function roleOf(request: AccessRequest, end: EndOfGrant): ActorRole {
  const by = request.revocation?.by;
  if (!by || by.id === end.actor.id) return end.role;
  return by.id === request.requester.slackUserId ? 'requester' : 'approver';
}

async function markPending(
  deps: EndGrantDeps,
  request: AccessRequest,
  end: EndOfGrant,
): Promise<AccessRequest> {
  const at = deps.clock.now().toISOString();
  return deps.store.update(
    request.requestId,
    request.version,
    {
      revocation: {
        pending: true,
        why: end.why,
        by: end.actor,
        ...(end.reason ? { reason: end.reason } : {}),
        requestedAt: at,
        attempts: 0,
      },
    },
    {
      at,
      action: 'revocation.requested',
      actor: end.actor,
      channel: end.channel,
      reason:
        end.why === 'expired'
          ? `the grant's time is up (${request.grant?.expiresAt})`
          : (end.reason ?? 'revoked early'),
    },
  );
}

/**
 * Revokes the grant's lease and any it replaced. A failure is recorded on the request (attempts,
 * the last error) before it is rethrown, so operators and reconcile see a pending revocation.
 */
async function revokeLeases(deps: EndGrantDeps, request: AccessRequest): Promise<void> {
  const leases = [
    ...(request.grant?.superseded ?? []).map((old) => old.leaseId),
    ...(request.grant ? [request.grant.leaseId] : []),
  ];
  try {
    for (const leaseId of leases) await deps.broker.revoke(leaseId);
  } catch (error) {
    if (!(error instanceof CredentialBrokerError)) throw error;
    const at = deps.clock.now().toISOString();
    await patchLatest(
      deps,
      request,
      (latest) => ({
        revocation: {
          ...(latest.revocation as Revocation),
          attempts: (latest.revocation?.attempts ?? 0) + 1,
          lastError: error.message.slice(0, 300),
          lastAttemptAt: at,
        },
      }),
      {
        at,
        action: 'revocation.failed',
        actor: { kind: 'system', id: 'worker' },
        channel: 'system',
        reason: error.message.slice(0, 300),
      },
    );
    throw error;
  }
}

/**
 * The right to tell, for 30 s: the one delivery that gets it tells, concurrent ones leave it; a
 * redelivery after a crash finds it run out and tells what is left. Undefined when all was told
 * or another delivery is telling.
 */
async function claimTelling(deps: EndGrantDeps, request: AccessRequest): Promise<AccessRequest | undefined> {
  for (let current = request; ;) {
    const revocation = current.revocation;
    if (!revocation) return undefined;
    const told = revocation.told ?? {};
    if (told.schedule && told.requester && told.approversMessage && told.ticket) return undefined;
    const now = deps.clock.now();
    const telling = revocation.telling;
    if (telling && telling.owner !== deps.invocationId && telling.until > now.toISOString()) return undefined;
    try {
      return await deps.store.update(current.requestId, current.version, {
        revocation: {
          ...revocation,
          telling: { owner: deps.invocationId, until: new Date(now.getTime() + 30_000).toISOString() },
        },
      });
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      current = error.current;
    }
  }
}

/** Cancels the schedule and tells the requester, the approvers' message and the ticket, once each. */
export async function completeEndNotes(deps: EndGrantDeps, request: AccessRequest): Promise<AccessRequest> {
  const claimed = await claimTelling(deps, request);
  if (!claimed) return request;
  let current = claimed;
  const told = () => current.revocation?.told ?? {};
  const mark = (flag: keyof NonNullable<Revocation['told']>) =>
    patchLatest(deps, current, (latest) =>
      latest.revocation
        ? { revocation: { ...latest.revocation, told: { ...latest.revocation.told, [flag]: true } } }
        : {},
    );
  if (!told().schedule) {
    await deps.scheduler.cancel(current.requestId);
    current = await mark('schedule');
  }
  if (!told().requester) {
    await deps.notifier.notify({ kind: 'grant.ended', request: current });
    current = await mark('requester');
  }
  if (!told().approversMessage) {
    const message = current.slack.approversMessage;
    if (message) await deps.notifier.refreshAnnouncement(current, message);
    // An extension still waiting can no longer be approved: its buttons go too.
    const waiting = current.extensions?.at(-1);
    if (waiting?.status === 'pending' && waiting.approversMessage)
      await deps.notifier.refreshExtension(current, waiting.number, waiting.approversMessage);
    current = await mark('approversMessage');
  }
  if (!told().ticket) {
    const ticket = current.ticket;
    if (ticket) {
      const ended = current;
      await ticketMayRefuse(deps, current, async () => {
        const moved = await deps.tickets.moveTo(ticket.key, deps.catalog.global.jira.statuses.closed);
        await deps.tickets.comment(ticket.key, { kind: 'grant.ended', request: ended, moved });
      });
    }
    current = await mark('ticket');
  }
  return current;
}
