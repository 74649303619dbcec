import type { AccessRequest, AuditActor, GrantFailureReason, GrantRecord } from '../domain/access-request.js';
import { findLevel } from '../domain/eligibility.js';
import { explainGrantFailure } from '../domain/refusals.js';
import {
  BrokerRejectedError,
  BrokerUnavailableError,
  type CredentialBroker,
  type GrantSpec,
  type MintedCredential,
} from '../ports/credential-broker.js';
import { DirectoryUnavailableError, type Directory, type UserLookupAttribute } from '../ports/directory.js';
import type { ExpiryScheduler } from '../ports/expiry-scheduler.js';
import { type RequestChanges, StaleStateError } from '../ports/request-store.js';
import { type EffectDeps, patchLatest, ticketMayRefuse } from './decision-effects.js';
import { openSlotKeyOf } from './submit-request.js';

export interface GrantDeps extends EffectDeps {
  readonly directory: Directory;
  readonly broker: CredentialBroker;
  readonly scheduler: ExpiryScheduler;
  readonly lookupAttribute: UserLookupAttribute;
  /** Identifies this invocation in the request's lease (the Lambda request id). */
  readonly invocationId: string;
  /**
   * How long a mint-and-deliver may hold the request before a redelivery may take over. 30 s: a
   * grant's calls time out well within it (Vault 5 s each, Slack 0.8 s), and it has run out by the
   * time Lambda's first retry of a crashed invocation arrives (about a minute later), so that retry
   * takes over rather than finding the request held.
   */
  readonly leaseSeconds?: number;
  /** Transient failures (Vault, the directory) before the grant ends FAILED; Lambda tries 3 times. */
  readonly maxAttempts?: number;
}

export type GrantOutcome =
  | { kind: 'granted'; request: AccessRequest }
  | { kind: 'failed'; request: AccessRequest; reason: GrantFailureReason }
  | { kind: 'in_progress_elsewhere'; requestId: string }
  | { kind: 'not_approved'; state: AccessRequest['state'] };

const SYSTEM: AuditActor = { kind: 'system', id: 'worker' };
/** The origin of a grant's first credential; a fresh token records its command id instead. */
const APPROVAL_ORIGIN = 'approval';
const GRANT_LEASE_SECONDS = 30;
/** Concurrent writers make a round re-read; more rounds than this means something is wrong. */
const MAX_ROUNDS = 5;

/**
 * An APPROVED request → a temporary database user, delivered to the requester alone. The
 * requester is checked again first (an account disabled or moved out of the groups while the
 * ticket waited gets nothing). The mint happens under the request's lease and is stored at once,
 * so redeliveries, concurrent or after a crash, find it and deliver it rather than minting again.
 * GRANTED is written only after the DM with the token went out; the ticket and the approvers'
 * message follow, each flagged once done.
 */
export async function grantAccess(deps: GrantDeps, requestId: string): Promise<GrantOutcome> {
  let request = await deps.store.get(requestId);
  for (let round = 0; request && round < MAX_ROUNDS; round++) {
    if (request.state === 'GRANTED')
      return { kind: 'granted', request: await completeGrantNotes(deps, request) };
    if (request.state === 'FAILED') {
      const failed = await completeFailureNotes(deps, request);
      return { kind: 'failed', request: failed, reason: failed.failure?.reason ?? 'broker_unavailable' };
    }
    if (request.state !== 'APPROVED') return { kind: 'not_approved', state: request.state };
    if (heldByAnother(deps, request)) return { kind: 'in_progress_elsewhere', requestId };
    try {
      request = request.grant ? await deliverFirst(deps, request) : await mintFirst(deps, request);
    } catch (error) {
      if (error instanceof AttemptsExhausted) request = error.failed;
      else if (error instanceof StaleStateError && error.current) request = error.current;
      else {
        // Whoever retries (Lambda, a redelivery, reconcile) must not wait out this lease.
        await releaseLease(deps, requestId);
        throw error;
      }
    }
  }
  if (!request) return { kind: 'not_approved', state: 'SUBMITTED' };
  throw new StaleStateError(requestId, request);
}

/** Re-check, claim, mint, store; returns the request holding the new grant (still APPROVED). */
async function mintFirst(deps: GrantDeps, request: AccessRequest): Promise<AccessRequest> {
  const refusal = await transientGuard(deps, request, 'directory_unavailable', () =>
    recheckRequester(deps, request),
  );
  if (refusal) return fail(deps, request, refusal);
  const claimed = await deps.store.update(request.requestId, request.version, { lease: leaseFor(deps) });
  const minted = await mintFor(deps, claimed, secondsOf(claimed.durationMinutes));
  if ('failed' in minted) return minted.failed;
  return storeMinted(
    deps,
    claimed,
    minted,
    { grant: { ...recordOf(deps, minted), origin: APPROVAL_ORIGIN } },
    { action: 'grant.minted', reason: `user ${minted.username} until ${minted.expiresAt}` },
  );
}

/** The grant exists: send its token (minting a fresh one when the wrap ran out), then GRANTED. */
async function deliverFirst(deps: GrantDeps, request: AccessRequest): Promise<AccessRequest> {
  const grant = request.grant as GrantRecord;
  const held = await deps.store.update(request.requestId, request.version, { lease: leaseFor(deps) });
  const delivery = grant.delivery;
  if (!delivery || delivery.wrapExpiresAt <= deps.clock.now().toISOString()) {
    // The wrap ran out before the DM went out (a long outage): replace the credential.
    const minted = await mintFor(deps, held, secondsOf(held.durationMinutes));
    if ('failed' in minted) return minted.failed;
    return storeMinted(
      deps,
      held,
      minted,
      {
        grant: {
          ...recordOf(deps, minted),
          origin: grant.origin,
          superseded: [...(grant.superseded ?? []), { leaseId: grant.leaseId, username: grant.username }],
        },
      },
      { action: 'grant.reminted', reason: `the token for ${grant.username} expired undelivered` },
    );
  }
  const current = await revokeSuperseded(deps, held);
  await deps.notifier.notify({
    kind: 'grant.ready',
    request: current,
    wrappedToken: delivery.wrappedToken,
    wrapExpiresAt: delivery.wrapExpiresAt,
    fresh: false,
  });
  const granted = await deps.store.transition(current.requestId, {
    event: 'grant',
    by: 'system',
    expectedVersion: current.version,
    changes: { grant: withoutDelivery(current.grant as GrantRecord), lease: released(deps) },
    audit: {
      at: deps.clock.now().toISOString(),
      action: 'grant',
      actor: SYSTEM,
      channel: 'system',
      reason: `user ${grant.username} until ${grant.expiresAt}; token sent to the requester by DM`,
    },
  });
  return completeGrantNotes(deps, granted);
}

/** The ticket ("granted until …", moved to the granted status) and the approvers' message, once each. */
export async function completeGrantNotes(deps: GrantDeps, request: AccessRequest): Promise<AccessRequest> {
  let current = request;
  const told = () => current.grant?.told ?? {};
  // The first guard of the end; reconcile and the lease's own TTL are the others.
  if (!told().scheduled && current.grant) {
    await deps.scheduler.schedule(current.requestId, new Date(current.grant.expiresAt));
    current = await markGrant(deps, current, { scheduled: true });
  }
  if (!told().ticket) {
    const ticket = current.ticket;
    if (ticket) {
      const granted = current;
      await ticketMayRefuse(deps, current, async () => {
        const moved = await deps.tickets.moveTo(ticket.key, deps.catalog.global.jira.statuses.granted);
        await deps.tickets.comment(ticket.key, { kind: 'grant.granted', request: granted, moved });
      });
    }
    current = await markGrant(deps, current, { ticket: true });
  }
  if (!told().approversMessage) {
    const message = current.slack.approversMessage;
    if (message) await deps.notifier.refreshAnnouncement(current, message);
    current = await markGrant(deps, current, { approversMessage: true });
  }
  return current;
}

/** Tells the requester, the ticket (moved to closed) and the approvers' message that nothing was granted. */
export async function completeFailureNotes(deps: EffectDeps, request: AccessRequest): Promise<AccessRequest> {
  let current = request;
  const told = () => current.failure?.told ?? {};
  const mark = (flag: 'requester' | 'ticket' | 'approversMessage') =>
    patchLatest(deps, current, (latest) => ({
      failure: {
        ...(latest.failure ?? failureOf('broker_unavailable', deps)),
        told: { ...latest.failure?.told, [flag]: true },
      },
    }));
  if (!told().requester) {
    await deps.notifier.notify({ kind: 'grant.failed', request: current });
    current = await mark('requester');
  }
  if (!told().ticket) {
    const ticket = current.ticket;
    if (ticket) {
      const failed = current;
      await ticketMayRefuse(deps, current, async () => {
        const moved = await deps.tickets.moveTo(ticket.key, deps.catalog.global.jira.statuses.closed);
        await deps.tickets.comment(ticket.key, { kind: 'grant.failed', request: failed, moved });
      });
    }
    current = await mark('ticket');
  }
  if (!told().approversMessage) {
    const message = current.slack.approversMessage;
    if (message) await deps.notifier.refreshAnnouncement(current, message);
    current = await mark('approversMessage');
  }
  return current;
}

/** Why the requester may no longer have the access, checked in the directory now; undefined when they may. */
export async function recheckRequester(
  deps: Pick<GrantDeps, 'catalog' | 'directory' | 'lookupAttribute'>,
  request: AccessRequest,
): Promise<GrantFailureReason | undefined> {
  const level = findLevel(deps.catalog, request);
  if (!level) return 'unknown_level';
  const email = request.requester.email;
  const user = email ? await deps.directory.findUser(deps.lookupAttribute, email) : undefined;
  if (!user) return 'requester_not_found';
  if (!user.enabled) return 'requester_disabled';
  const via = await deps.directory.firstGroupOf(user.dn, level.requesterGroups);
  return via ? undefined : 'requester_not_eligible';
}

/** What to ask the broker for: the level's user for `request`, for `ttlSeconds`; undefined when the catalog lost it. */
export function grantSpecFor(
  deps: Pick<GrantDeps, 'catalog'>,
  request: AccessRequest,
  ttlSeconds: number,
): GrantSpec | undefined {
  const database = deps.catalog.databases[request.database];
  const account = request.requester.directoryAccount;
  if (!database?.levels[request.level] || !account) return undefined;
  return {
    requestId: request.requestId,
    account,
    database: request.database,
    level: request.level,
    connection: { host: database.host, port: database.port, database: database.schema ?? request.database },
    ttlSeconds,
    wrapTtlSeconds: deps.catalog.global.vault.wrapTtl.minutes * 60,
  };
}

/**
 * Mints for an APPROVED `request`, or ends it FAILED: Vault refusing for good at once, Vault
 * unreachable on the last attempt. An earlier attempt's unavailability is counted and rethrown,
 * so the command is retried.
 */
async function mintFor(
  deps: GrantDeps,
  request: AccessRequest,
  ttlSeconds: number,
): Promise<MintedCredential | { failed: AccessRequest }> {
  const spec = grantSpecFor(deps, request, ttlSeconds);
  if (!spec) return { failed: await fail(deps, request, 'unknown_level') };
  try {
    return await transientGuard(deps, request, 'broker_unavailable', () => deps.broker.mint(spec));
  } catch (error) {
    if (error instanceof BrokerRejectedError) {
      return {
        failed: await fail(deps, request, 'broker_rejected', `${error.message}; fix: ${error.setting}`),
      };
    }
    throw error;
  }
}

/**
 * Stores a fresh mint on the request (conditional on the version the lease was taken at). When
 * another writer got there first the new credential is revoked at once, so a race never leaves
 * a second user behind.
 */
export async function storeMinted(
  deps: GrantDeps,
  request: AccessRequest,
  minted: MintedCredential,
  changes: RequestChanges,
  audit: { action: string; reason: string },
): Promise<AccessRequest> {
  try {
    return await deps.store.update(request.requestId, request.version, changes, {
      at: deps.clock.now().toISOString(),
      actor: SYSTEM,
      channel: 'system',
      ...audit,
    });
  } catch (error) {
    if (error instanceof StaleStateError) await deps.broker.revoke(minted.leaseId);
    throw error;
  }
}

/** Revokes the credentials a newer one replaced, then forgets them. */
export async function revokeSuperseded(deps: GrantDeps, request: AccessRequest): Promise<AccessRequest> {
  const superseded = request.grant?.superseded ?? [];
  if (superseded.length === 0) return request;
  for (const old of superseded) await deps.broker.revoke(old.leaseId);
  return patchLatest(deps, request, (latest) => ({
    grant: { ...(latest.grant as GrantRecord), superseded: [] },
  }));
}

export function recordOf(
  deps: Pick<GrantDeps, 'clock'>,
  minted: MintedCredential,
): Omit<GrantRecord, 'origin'> {
  return {
    leaseId: minted.leaseId,
    username: minted.username,
    tokenAccessor: minted.tokenAccessor,
    mintedAt: deps.clock.now().toISOString(),
    expiresAt: minted.expiresAt,
    delivery: { wrappedToken: minted.wrappedToken, wrapExpiresAt: minted.wrapExpiresAt },
  };
}

export function withoutDelivery(grant: GrantRecord): GrantRecord {
  const { delivery: _delivery, ...rest } = grant;
  return rest;
}

/**
 * The grant's own lease on the request. Named apart from the submit step's: an approval can come
 * while the lease that opened the ticket has not run out, and must not wait for it.
 */
const grantOwner = (deps: Pick<GrantDeps, 'invocationId'>) => `grant:${deps.invocationId}`;

export function leaseFor(deps: Pick<GrantDeps, 'clock' | 'invocationId' | 'leaseSeconds'>) {
  return {
    owner: grantOwner(deps),
    until: new Date(
      deps.clock.now().getTime() + (deps.leaseSeconds ?? GRANT_LEASE_SECONDS) * 1000,
    ).toISOString(),
  };
}

export function released(deps: Pick<GrantDeps, 'clock' | 'invocationId'>) {
  return { owner: grantOwner(deps), until: deps.clock.now().toISOString() };
}

/** Another invocation is minting or delivering this request's credential and has not given up. */
export function heldByAnother(
  deps: Pick<GrantDeps, 'clock' | 'invocationId'>,
  request: AccessRequest,
): boolean {
  const { lease } = request;
  return (
    lease !== undefined &&
    lease.owner.startsWith('grant:') &&
    lease.owner !== grantOwner(deps) &&
    lease.until > deps.clock.now().toISOString()
  );
}

/** Gives the grant lease up if this invocation holds it; best effort, the lease expires anyway. */
async function releaseLease(deps: GrantDeps, requestId: string): Promise<void> {
  try {
    const current = await deps.store.get(requestId);
    if (current?.lease?.owner !== grantOwner(deps) || current.lease.until <= deps.clock.now().toISOString())
      return;
    await deps.store.update(requestId, current.version, { lease: released(deps) });
  } catch {
    // The original failure is what the caller reports.
  }
}

function secondsOf(minutes: number): number {
  return minutes * 60;
}

function failureOf(reason: GrantFailureReason, deps: Pick<EffectDeps, 'clock'>) {
  return { reason, at: deps.clock.now().toISOString() };
}

class AttemptsExhausted extends Error {
  constructor(readonly failed: AccessRequest) {
    super('attempts exhausted');
  }
}

/**
 * Runs a step that may fail for a while (Vault or the directory unreachable). Each failure is
 * counted on the request and rethrown (so the command is retried); the one that reaches
 * `maxAttempts` ends the request FAILED instead, with everyone told.
 */
async function transientGuard<T>(
  deps: GrantDeps,
  request: AccessRequest,
  reason: 'broker_unavailable' | 'directory_unavailable',
  step: () => Promise<T>,
): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (!(error instanceof BrokerUnavailableError) && !(error instanceof DirectoryUnavailableError))
      throw error;
    const count = (request.grantAttempts?.count ?? 0) + 1;
    if (count >= (deps.maxAttempts ?? 3)) {
      throw new AttemptsExhausted(await fail(deps, request, reason, error.message));
    }
    const at = deps.clock.now().toISOString();
    await patchLatest(
      deps,
      request,
      () => ({ grantAttempts: { count, lastError: error.message.slice(0, 300), at }, lease: released(deps) }),
      {
        at,
        action: 'grant.attempt_failed',
        actor: SYSTEM,
        channel: 'system',
        reason: `attempt ${count} of ${deps.maxAttempts ?? 3}: ${error.message.slice(0, 300)}`,
      },
    );
    throw error;
  }
}

/**
 * APPROVED → FAILED, with the reason on the request and in the audit trail, the open slot freed,
 * any credential already minted revoked, and everyone told.
 */
export async function fail(
  deps: GrantDeps,
  request: AccessRequest,
  reason: GrantFailureReason,
  detail?: string,
): Promise<AccessRequest> {
  const failed = await deps.store.transition(request.requestId, {
    event: 'fail',
    by: 'system',
    changes: { failure: failureOf(reason, deps), lease: released(deps) },
    audit: {
      at: deps.clock.now().toISOString(),
      action: 'fail',
      actor: SYSTEM,
      channel: 'system',
      reason: `${reason}: ${explainGrantFailure(reason)}${detail ? ` (${detail.slice(0, 300)})` : ''}`,
    },
  });
  await deps.store.releaseOpenSlot(openSlotKeyOf(failed), failed.requestId);
  const leftovers = [
    ...(failed.grant ? [failed.grant.leaseId] : []),
    ...(failed.grant?.superseded ?? []).map((old) => old.leaseId),
  ];
  // Best effort: Vault may be the reason for the failure; the lease's own TTL still ends it.
  for (const leaseId of leftovers) await deps.broker.revoke(leaseId).catch(() => undefined);
  return completeFailureNotes(deps, failed);
}

async function markGrant(
  deps: GrantDeps,
  request: AccessRequest,
  flags: NonNullable<GrantRecord['told']>,
): Promise<AccessRequest> {
  return patchLatest(deps, request, (latest) =>
    latest.grant ? { grant: { ...latest.grant, told: { ...latest.grant.told, ...flags } } } : {},
  );
}
