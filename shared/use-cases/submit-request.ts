import type { Catalog } from '../config/catalog-schema.js';
import type { AccessRequest, AuditActor } from '../domain/access-request.js';
import { findLevel } from '../domain/eligibility.js';
import { isTerminal } from '../domain/lifecycle.js';
import { explainRejection, type RejectionReason } from '../domain/refusals.js';
import type { RequestSubmitted } from '../messages/commands.js';
import type { ChatIdentity, Notifier } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import {
  AmbiguousUserError,
  type Directory,
  DirectoryUnavailableError,
  type UserLookupAttribute,
} from '../ports/directory.js';
import { type RequestStore, StaleStateError } from '../ports/request-store.js';
import type { TicketTracker } from '../ports/ticket-tracker.js';

export interface SubmitDeps {
  readonly catalog: Catalog;
  readonly directory: Directory;
  readonly identity: ChatIdentity;
  readonly notifier: Notifier;
  readonly tickets: TicketTracker;
  readonly store: RequestStore;
  readonly clock: Clock;
  readonly lookupAttribute: UserLookupAttribute;
  /** Identifies this invocation in leases (the Lambda request id). */
  readonly invocationId: string;
  /** How long slow steps may hold the request before a redelivery may take over. */
  readonly leaseSeconds?: number;
  /** A directory outage older than this is told to the requester (once) while retries go on. */
  readonly delayNoticeAfterSeconds?: number;
}

export type SubmitOutcome =
  | { kind: 'pending'; request: AccessRequest }
  | { kind: 'rejected'; request: AccessRequest; reason: RejectionReason['kind'] }
  | { kind: 'already_open'; openRequestId: string }
  | { kind: 'duplicate'; originalRequestId: string }
  | { kind: 'in_progress_elsewhere'; requestId: string };

const SYSTEM: AuditActor = { kind: 'system', id: 'worker' };

export function openSlotKey(command: Pick<RequestSubmitted, 'requester' | 'target'>): string {
  return [
    command.requester.teamId,
    command.requester.userId,
    command.target.database,
    command.target.level,
  ].join('#');
}

/** The same slot key, from a stored request (to release it when the request ends). */
export function openSlotKeyOf(request: AccessRequest): string {
  return openSlotKey({
    requester: {
      kind: 'slack',
      userId: request.requester.slackUserId,
      teamId: request.requester.slackTeamId,
    },
    target: { database: request.database, level: request.level },
  });
}

/**
 * `request.submitted` → a verified, stored request with one Jira ticket, the requester told and
 * the approvers asked. Safe to run any number of times, concurrently or after a crash at any step:
 * each step either finds its work done or does it under a conditional write.
 */
export async function submitRequest(deps: SubmitDeps, command: RequestSubmitted): Promise<SubmitOutcome> {
  const { store } = deps;

  const remembered = await store.rememberCommand(command.commandId, command.requestId);
  if (!remembered.first && remembered.requestId !== command.requestId) {
    await deps.notifier.notify({
      kind: 'request.duplicate',
      to: { userId: command.requester.userId },
      requestId: command.requestId,
      originalRequestId: remembered.requestId,
    });
    return { kind: 'duplicate', originalRequestId: remembered.requestId };
  }

  let request = await store.get(command.requestId);
  if (!request) {
    const slot = openSlotKey(command);
    const holder = await claimSlot(deps, slot, command.requestId);
    if (holder !== command.requestId) {
      await deps.notifier.notify({
        kind: 'request.already_open',
        to: { userId: command.requester.userId },
        openRequestId: holder,
        database: command.target.database,
        level: command.target.level,
      });
      return { kind: 'already_open', openRequestId: holder };
    }
    ({ request } = await store.create(newRequest(command, deps.clock), {
      at: deps.clock.now().toISOString(),
      action: 'submit',
      actor: { kind: 'slack', id: command.requester.userId },
      channel: 'slack',
      to: 'SUBMITTED',
      reason: command.justification,
    }));
  }

  if (request.state === 'SUBMITTED') {
    const checked = await verifyRequester(deps, command, request);
    if (checked.kind !== 'eligible') return checked;
    request = checked.request;
    if (!request) return { kind: 'in_progress_elsewhere', requestId: command.requestId };
    request = await openTicket(deps, request);
    if (!request) return { kind: 'in_progress_elsewhere', requestId: command.requestId };
  }

  if (request.state === 'PENDING_APPROVAL') {
    if (heldByAnother(deps, request)) return { kind: 'in_progress_elsewhere', requestId: request.requestId };
    return { kind: 'pending', request: await notifyPending(deps, request) };
  }
  if (request.state === 'REJECTED') {
    return {
      kind: 'rejected',
      request,
      reason: (request.rejectionReason as RejectionReason['kind']) ?? 'not_eligible',
    };
  }
  // Already decided, granted or ended: this delivery is a late repeat with nothing left to do.
  return { kind: 'pending', request };
}

/** Another invocation is doing the slow steps for this request and has not given up yet. */
function heldByAnother(deps: SubmitDeps, request: AccessRequest): boolean {
  const { lease } = request;
  return (
    lease !== undefined && lease.owner !== deps.invocationId && lease.until > deps.clock.now().toISOString()
  );
}

function newRequest(command: RequestSubmitted, clock: Clock): AccessRequest {
  const now = clock.now().toISOString();
  return {
    requestId: command.requestId,
    state: 'SUBMITTED',
    version: 1,
    commandId: command.commandId,
    createdAt: now,
    updatedAt: now,
    requester: {
      slackUserId: command.requester.userId,
      slackTeamId: command.requester.teamId,
      ...(command.requester.userName ? { slackUserName: command.requester.userName } : {}),
    },
    database: command.target.database,
    level: command.target.level,
    durationMinutes: command.durationMinutes,
    justification: command.justification,
    slack: {
      ...(command.channelId ? { channelId: command.channelId } : {}),
      ...(command.responseUrl ? { responseUrl: command.responseUrl } : {}),
    },
  };
}

/** The slot holder; a holder whose request has ended (a crash before release) is replaced. */
async function claimSlot(deps: SubmitDeps, slot: string, requestId: string): Promise<string> {
  const { holder } = await deps.store.claimOpenSlot(slot, requestId);
  if (holder === requestId) return holder;
  const held = await deps.store.get(holder);
  if (held && !isTerminal(held.state)) return holder;
  await deps.store.releaseOpenSlot(slot, holder);
  return (await deps.store.claimOpenSlot(slot, requestId)).holder;
}

type Verification =
  | { kind: 'eligible'; request: AccessRequest | undefined }
  | { kind: 'rejected'; request: AccessRequest; reason: RejectionReason['kind'] };

async function verifyRequester(
  deps: SubmitDeps,
  command: RequestSubmitted,
  request: AccessRequest,
): Promise<Verification> {
  const level = findLevel(deps.catalog, command.target);
  if (!level) return reject(deps, command, request, { kind: 'unknown_level' });

  const person = await deps.identity.whoIs(command.requester.userId);
  if (person.kind === 'not_member')
    return reject(deps, command, request, { kind: 'not_member', why: person.why });
  if (person.kind === 'no_email') return reject(deps, command, request, { kind: 'no_email' });
  const { email } = person;
  try {
    const user = await deps.directory.findUser(deps.lookupAttribute, email);
    if (!user) return reject(deps, command, request, { kind: 'no_account', attribute: deps.lookupAttribute });
    if (!user.enabled) return reject(deps, command, request, { kind: 'disabled' });
    const via = await deps.directory.firstGroupOf(user.dn, level.requesterGroups);
    const requester = {
      ...request.requester,
      email,
      directoryAccount: user.sAMAccountName,
      directoryDn: user.dn,
    };
    if (!via) {
      return reject(
        deps,
        command,
        request,
        {
          kind: 'not_eligible',
          requesterGroups: level.requesterGroups,
          approverGroups: level.approverGroups,
        },
        requester,
      );
    }
    // This versioned write is also the lease: of two concurrent deliveries, only one gets past it.
    const lease = {
      owner: deps.invocationId,
      until: new Date(deps.clock.now().getTime() + (deps.leaseSeconds ?? 90) * 1000).toISOString(),
    };
    if (heldByAnother(deps, request)) return { kind: 'eligible', request: undefined };
    try {
      const updated = await deps.store.update(
        request.requestId,
        request.version,
        { requester, eligibleVia: via, lease },
        {
          at: deps.clock.now().toISOString(),
          action: 'requester.verified',
          actor: { kind: 'system', id: 'worker', account: user.sAMAccountName },
          channel: 'system',
          reason: `enabled account, member of ${via}`,
        },
      );
      return { kind: 'eligible', request: updated };
    } catch (error) {
      if (error instanceof StaleStateError) return { kind: 'eligible', request: undefined };
      throw error;
    }
  } catch (error) {
    if (error instanceof AmbiguousUserError) {
      return reject(deps, command, request, { kind: 'ambiguous_account', attribute: deps.lookupAttribute });
    }
    if (error instanceof DirectoryUnavailableError) await noticeDelay(deps, command, request);
    throw error;
  }
}

async function reject(
  deps: SubmitDeps,
  command: RequestSubmitted,
  request: AccessRequest,
  reason: RejectionReason,
  requester?: AccessRequest['requester'],
): Promise<Verification> {
  let rejected: AccessRequest;
  try {
    rejected = await deps.store.transition(request.requestId, {
      event: 'reject',
      by: 'system',
      changes: { rejectionReason: reason.kind, ...(requester ? { requester } : {}) },
      audit: {
        at: deps.clock.now().toISOString(),
        action: 'reject',
        actor: SYSTEM,
        channel: 'system',
        reason: `${reason.kind}: ${explainRejection(reason)}`,
      },
    });
  } catch (error) {
    // A concurrent delivery rejected it first; it also tells the user.
    if (error instanceof StaleStateError && error.current)
      return { kind: 'rejected', request: error.current, reason: reason.kind };
    throw error;
  }
  await deps.store.releaseOpenSlot(openSlotKey(command), request.requestId);
  await deps.notifier.notify({ kind: 'request.rejected', request: rejected, reason });
  return { kind: 'rejected', request: rejected, reason: reason.kind };
}

async function noticeDelay(
  deps: SubmitDeps,
  command: RequestSubmitted,
  request: AccessRequest,
): Promise<void> {
  const age = (deps.clock.now().getTime() - Date.parse(command.issuedAt)) / 1000;
  if (age < (deps.delayNoticeAfterSeconds ?? 60) || request.notified?.delay) return;
  try {
    await deps.store.update(request.requestId, request.version, {
      notified: { ...request.notified, delay: true },
    });
  } catch (error) {
    if (error instanceof StaleStateError) return;
    throw error;
  }
  await deps.notifier.notify({
    kind: 'request.delayed',
    to: { userId: command.requester.userId },
    requestId: request.requestId,
  });
}

/** One ticket per request: found by its request id property if an earlier attempt made it. */
async function openTicket(deps: SubmitDeps, request: AccessRequest): Promise<AccessRequest | undefined> {
  const ticket =
    request.ticket ??
    (await deps.tickets.findByRequestId(request.requestId)) ??
    (await deps.tickets.create(request));
  try {
    return await deps.store.transition(request.requestId, {
      event: 'open',
      by: 'system',
      changes: { ticket: { key: ticket.key, url: ticket.url } },
      audit: {
        at: deps.clock.now().toISOString(),
        action: 'open',
        actor: SYSTEM,
        channel: 'system',
        reason: `ticket ${ticket.key}`,
      },
    });
  } catch (error) {
    if (error instanceof StaleStateError) return error.current;
    throw error;
  }
}

/** Sends whichever of the two notifications has not gone out yet, recording each. */
async function notifyPending(deps: SubmitDeps, request: AccessRequest): Promise<AccessRequest> {
  let current = request;
  if (!current.notified?.approvers) {
    const posted = await deps.notifier.announce(current);
    current = await recordNotified(
      deps,
      current,
      { approvers: true },
      { slack: { ...current.slack, approversMessage: posted } },
    );
  }
  if (!current.notified?.requester) {
    await deps.notifier.notify({ kind: 'request.pending', request: current });
    current = await recordNotified(deps, current, { requester: true });
  }
  return current;
}

async function recordNotified(
  deps: SubmitDeps,
  request: AccessRequest,
  flags: NonNullable<AccessRequest['notified']>,
  changes: Partial<Pick<AccessRequest, 'slack'>> = {},
): Promise<AccessRequest> {
  for (let current = request; ;) {
    try {
      return await deps.store.update(current.requestId, current.version, {
        ...changes,
        notified: { ...current.notified, ...flags },
      });
    } catch (error) {
      // A decision may have landed meanwhile; the flags still belong on the latest version.
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      current = error.current;
    }
  }
}
