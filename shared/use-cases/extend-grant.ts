import type { AccessRequest, Approval, Extension } from '../domain/access-request.js';
import { findLevel } from '../domain/eligibility.js';
import type { DecisionRefusal } from '../domain/refusals.js';
import type { GrantExtend, RequestDecided } from '../messages/commands.js';
import { StaleStateError } from '../ports/request-store.js';
import { type DecideDeps, verifyApprover } from './decide-request.js';
import {
  isSlackRequester,
  patchLatest,
  recordRefusal,
  refuseSlackAction,
  ticketMayRefuse,
} from './decision-effects.js';
import { type GrantDeps, heldByAnother, leaseFor, recheckRequester, released } from './grant-access.js';

export type ExtendDeps = GrantDeps & DecideDeps;

export type ExtendOutcome =
  | { kind: 'asked'; request: AccessRequest }
  | { kind: 'extended'; request: AccessRequest }
  | { kind: 'extension_denied'; request: AccessRequest }
  | { kind: 'approval_recorded'; request: AccessRequest; remaining: number }
  | { kind: 'refused'; refusal: DecisionRefusal['kind'] }
  | { kind: 'ignored'; why: 'repeated_refusal' };

const MAX_ROUNDS = 5;

/**
 * `grant.extend` → extension N of a live grant, before the level's approvers: only by the
 * requester, only while the grant lives, one at a time, within the level's `maxExtension` in
 * total, and only while the requester is still enabled in the level's groups. The grant is not
 * touched: it ends at its old time unless the approvers approve in time.
 */
export async function askExtension(deps: ExtendDeps, command: GrantExtend): Promise<ExtendOutcome> {
  let request = await deps.store.get(command.requestId);
  if (!request) return refuseAsk(deps, command, undefined, { kind: 'unknown_request' });
  if (!isSlackRequester(request, command.actor))
    return refuseAsk(deps, command, request, { kind: 'not_your_grant' });

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const extensions = request.extensions ?? [];
    if (extensions.some((extension) => extension.commandId === command.commandId)) {
      return { kind: 'asked', request: await finishAsk(deps, request) };
    }
    const grant = request.grant;
    const now = deps.clock.now();
    if (
      request.state !== 'GRANTED' ||
      !grant ||
      request.revocation ||
      Date.parse(grant.expiresAt) <= now.getTime()
    ) {
      const state = request.state === 'GRANTED' ? 'EXPIRED' : request.state;
      return refuseAsk(deps, command, request, { kind: 'not_granted', state });
    }
    const level = findLevel(deps.catalog, request);
    if (!level?.maxExtension) return refuseAsk(deps, command, request, { kind: 'extension_not_allowed' });
    const pending = extensions.find((extension) => extension.status === 'pending');
    if (pending)
      return refuseAsk(deps, command, request, { kind: 'extension_pending', number: pending.number });
    const used = extensions.filter((e) => e.status === 'approved').reduce((sum, e) => sum + e.minutes, 0);
    const remainingMinutes = level.maxExtension.minutes - used;
    if (command.durationMinutes > remainingMinutes) {
      return refuseAsk(deps, command, request, {
        kind: 'extension_ceiling',
        remainingMinutes: Math.max(0, remainingMinutes),
      });
    }
    if (await recheckRequester(deps, request)) {
      return refuseAsk(deps, command, request, { kind: 'no_longer_eligible' });
    }
    const extension: Extension = {
      number: extensions.length + 1,
      commandId: command.commandId,
      status: 'pending',
      minutes: command.durationMinutes,
      reason: command.reason,
      askedAt: now.toISOString(),
      fromExpiresAt: grant.expiresAt,
      toExpiresAt: new Date(Date.parse(grant.expiresAt) + command.durationMinutes * 60_000).toISOString(),
      approvals: [],
    };
    try {
      request = await deps.store.transition(request.requestId, {
        event: 'ask_extension',
        by: 'requester',
        expectedVersion: request.version,
        changes: { extensions: [...extensions, extension] },
        audit: {
          at: extension.askedAt,
          action: 'extension.asked',
          actor: {
            kind: 'slack',
            id: command.actor.userId,
            ...(request.requester.directoryAccount ? { account: request.requester.directoryAccount } : {}),
          },
          channel: 'slack',
          reason: `${extension.minutes} more minutes: ${extension.reason}`,
        },
      });
      return { kind: 'asked', request: await finishAsk(deps, request) };
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      request = error.current;
    }
  }
  throw new StaleStateError(command.requestId, request);
}

/** The approvers asked (a message of its own), the ticket commented, the requester told: once each. */
async function finishAsk(deps: ExtendDeps, request: AccessRequest): Promise<AccessRequest> {
  const number = request.extensions?.length ?? 0;
  const claimed = await claimFinish(deps, request, number, ['announced', 'askNoted', 'askTold']);
  if (!claimed) return request;
  const finished = await finishAskClaimed(deps, claimed);
  return patchLatest(deps, finished, () => ({ lease: released(deps) }));
}

async function finishAskClaimed(deps: ExtendDeps, request: AccessRequest): Promise<AccessRequest> {
  let current = request;
  const number = current.extensions?.length ?? 0;
  const latest = () => current.extensions?.[number - 1];
  const mark = (done: Partial<NonNullable<Extension['done']>>, more: Partial<Extension> = {}) =>
    patchLatest(deps, current, (fresh) => ({
      extensions: withExtension(fresh, number, (e) => ({ ...e, ...more, done: { ...e.done, ...done } })),
    }));
  if (!latest()?.done?.announced) {
    const announcement = await deps.notifier.announceExtension(current);
    current = await mark({ announced: true }, { approversMessage: announcement });
  }
  if (!latest()?.done?.askNoted) {
    const ticket = current.ticket;
    if (ticket) {
      const asked = current;
      await ticketMayRefuse(deps, current, () =>
        deps.tickets.comment(ticket.key, { kind: 'extension.asked', request: asked }),
      );
    }
    current = await mark({ askNoted: true });
  }
  if (!latest()?.done?.askTold) {
    await deps.notifier.notify({ kind: 'extension.asked', request: current });
    current = await mark({ askTold: true });
  }
  return current;
}

/**
 * A decision on extension N (`request.decided` with `extension`), from its approvers' message:
 * the same approver checks as the request's, as many distinct approvers as the level needs. One
 * denial ends it. Approved, the credential (Vault's token and lease) is renewed to the new end
 * and the schedule moved; the grant's recorded end is what Vault confirmed.
 */
export async function decideExtension(
  deps: ExtendDeps,
  command: RequestDecided & { extension: number },
): Promise<ExtendOutcome> {
  let request = await deps.store.get(command.requestId);
  if (!request) return refuseDecision(deps, command, undefined, { kind: 'unknown_request' });
  const verified = await verifyApprover(deps, command.actor, request);
  if ('kind' in verified) return refuseDecision(deps, command, request, verified);
  const { user, via } = verified;
  const number = command.extension;

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const extension = request.extensions?.[number - 1];
    if (!extension)
      return refuseDecision(deps, command, request, { kind: 'extension_decided', status: 'unknown' });
    const mine =
      extension.approvals.some((a) => a.account === user.sAMAccountName) ||
      extension.decision?.account === user.sAMAccountName;
    if (extension.status !== 'pending') {
      if (mine)
        return {
          kind: extension.status === 'approved' ? 'extended' : 'extension_denied',
          request: await finishDecision(deps, request, number),
        };
      return refuseDecision(deps, command, request, { kind: 'extension_decided', status: extension.status });
    }
    if (request.state !== 'GRANTED' || request.revocation) {
      return refuseDecision(deps, command, request, {
        kind: 'not_granted',
        state: request.state === 'GRANTED' ? 'EXPIRED' : request.state,
      });
    }
    const required = findLevel(deps.catalog, request)?.approvalsRequired ?? 1;
    if (command.decision === 'approve' && mine) {
      return refuseDecision(deps, command, request, {
        kind: 'already_approved_by_you',
        remaining: required - extension.approvals.length,
      });
    }
    const at = deps.clock.now().toISOString();
    const actorId = command.actor.kind === 'slack' ? command.actor.userId : command.actor.accountId;
    const actor = { kind: command.actor.kind, id: actorId, account: user.sAMAccountName } as const;
    const decision = {
      account: user.sAMAccountName,
      actorId,
      channel: command.source,
      at,
      ...(command.reason ? { reason: command.reason } : {}),
    };
    try {
      if (command.decision === 'deny') {
        request = await deps.store.transition(request.requestId, {
          event: 'deny_extension',
          by: 'approver',
          expectedVersion: request.version,
          changes: {
            extensions: withExtension(request, number, (e) => ({ ...e, status: 'denied', decision })),
          },
          audit: {
            at,
            action: 'extension.denied',
            actor,
            channel: command.source,
            reason: command.reason ?? `extension ${number} denied`,
          },
        });
        return { kind: 'extension_denied', request: await finishDecision(deps, request, number) };
      }
      const approval: Approval = {
        account: user.sAMAccountName,
        dn: user.dn,
        channel: command.source,
        actorId,
        via,
        at,
      };
      const approvals = [...extension.approvals, approval];
      if (approvals.length < required) {
        request = await deps.store.update(
          request.requestId,
          request.version,
          { extensions: withExtension(request, number, (e) => ({ ...e, approvals })) },
          {
            at,
            action: 'extension.approval.recorded',
            actor,
            channel: command.source,
            reason: `member of ${via}; ${approvals.length} of ${required}`,
          },
        );
        const message = request.extensions?.[number - 1]?.approversMessage;
        if (message) await deps.notifier.refreshExtension(request, number, message);
        return { kind: 'approval_recorded', request, remaining: required - approvals.length };
      }
      request = await deps.store.transition(request.requestId, {
        event: 'extend',
        by: 'approver',
        expectedVersion: request.version,
        changes: {
          extensions: withExtension(request, number, (e) => ({
            ...e,
            approvals,
            status: 'approved',
            decision,
          })),
        },
        audit: {
          at,
          action: 'extension.approved',
          actor,
          channel: command.source,
          reason: `member of ${via}; ${extension.minutes} more minutes, to ${extension.toExpiresAt}`,
        },
      });
      return { kind: 'extended', request: await finishDecision(deps, request, number) };
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      request = error.current;
    }
  }
  throw new StaleStateError(command.requestId, request);
}

/**
 * After the decision: an approved extension renews Vault's token and lease to the new end, records
 * the end Vault confirmed, and moves the schedule; then the requester, the approvers' message and
 * the ticket are told. Each step is flagged, so a redelivery does only what is left, and a failure
 * (Vault down) fails the command for a retry while the grant keeps its old, shorter end.
 */
async function finishDecision(
  deps: ExtendDeps,
  request: AccessRequest,
  number: number,
): Promise<AccessRequest> {
  const claimed = await claimFinish(deps, request, number);
  if (!claimed) return request;
  const finished = await finishClaimed(deps, claimed, number);
  return patchLatest(deps, finished, () => ({ lease: released(deps) }));
}

/**
 * The request's lease for the one delivery that finishes an extension's effects: a second click
 * or a concurrent redelivery leaves them to it, a redelivery after a crash takes over once it runs
 * out. Undefined when all is done or another delivery holds it.
 */
async function claimFinish(
  deps: ExtendDeps,
  request: AccessRequest,
  number: number,
  steps: readonly (keyof NonNullable<Extension['done']>)[] = ['requester', 'approversMessage', 'ticket'],
): Promise<AccessRequest | undefined> {
  for (let current = request; ;) {
    const done = current.extensions?.[number - 1]?.done ?? {};
    if (steps.every((step) => done[step])) return undefined;
    if (heldByAnother(deps, current)) return undefined;
    try {
      return await deps.store.update(current.requestId, current.version, { lease: leaseFor(deps) });
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      current = error.current;
    }
  }
}

async function finishClaimed(
  deps: ExtendDeps,
  request: AccessRequest,
  number: number,
): Promise<AccessRequest> {
  let current = request;
  const latest = () => current.extensions?.[number - 1];
  const mark = (done: Partial<NonNullable<Extension['done']>>) =>
    patchLatest(deps, current, (fresh) => ({
      extensions: withExtension(fresh, number, (e) => ({ ...e, done: { ...e.done, ...done } })),
    }));
  const approved = latest()?.status === 'approved';
  if (
    approved &&
    !latest()?.done?.renewed &&
    current.state === 'GRANTED' &&
    current.grant &&
    !current.revocation
  ) {
    const target = Date.parse(latest()?.toExpiresAt ?? current.grant.expiresAt);
    const seconds = Math.max(1, Math.ceil((target - deps.clock.now().getTime()) / 1000));
    const { expiresAt } = await deps.broker.extend(current.grant, seconds);
    current = await patchLatest(
      deps,
      current,
      (fresh) => ({
        ...(fresh.grant ? { grant: { ...fresh.grant, expiresAt } } : {}),
        extensions: withExtension(fresh, number, (e) => ({ ...e, done: { ...e.done, renewed: true } })),
      }),
      {
        at: deps.clock.now().toISOString(),
        action: 'extension.renewed',
        actor: { kind: 'system', id: 'worker' },
        channel: 'system',
        reason: `Vault lease and token renewed to ${expiresAt}`,
      },
    );
  }
  if (approved && !latest()?.done?.scheduled && current.grant && !current.revocation) {
    // The schedule name is the request's: the old one goes, the new end takes its place.
    await deps.scheduler.cancel(current.requestId);
    await deps.scheduler.schedule(current.requestId, new Date(current.grant.expiresAt));
    current = await mark({ scheduled: true });
  }
  if (!latest()?.done?.requester) {
    await deps.notifier.notify({ kind: 'extension.decided', request: current });
    current = await mark({ requester: true });
  }
  if (!latest()?.done?.approversMessage) {
    const message = latest()?.approversMessage;
    if (message) await deps.notifier.refreshExtension(current, number, message);
    current = await mark({ approversMessage: true });
  }
  if (!latest()?.done?.ticket) {
    const ticket = current.ticket;
    if (ticket) {
      const decided = current;
      await ticketMayRefuse(deps, current, () =>
        deps.tickets.comment(ticket.key, { kind: 'extension.decided', request: decided, number }),
      );
    }
    current = await mark({ ticket: true });
  }
  return current;
}

function withExtension(
  request: AccessRequest,
  number: number,
  change: (extension: Extension) => Extension,
): Extension[] {
  return (request.extensions ?? []).map((extension) =>
    extension.number === number ? change(extension) : extension,
  );
}

async function refuseAsk(
  deps: ExtendDeps,
  command: GrantExtend,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<ExtendOutcome> {
  const first = await refuseSlackAction(deps, command, request, 'extend', refusal);
  return first ? { kind: 'refused', refusal: refusal.kind } : { kind: 'ignored', why: 'repeated_refusal' };
}

async function refuseDecision(
  deps: ExtendDeps,
  command: RequestDecided,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<ExtendOutcome> {
  const actorId = command.actor.kind === 'slack' ? command.actor.userId : command.actor.accountId;
  const first = await recordRefusal(deps, command, request, {
    action: `extension.${command.decision}.refused`,
    actor: { kind: command.actor.kind, id: actorId },
    channel: command.source,
    reason: refusal.kind,
  });
  if (!first) return { kind: 'ignored', why: 'repeated_refusal' };
  if (command.actor.kind === 'slack') {
    const actedIn = command.slackMessage?.channelId;
    await deps.notifier.notify({
      kind: 'decision.refused',
      to: { userId: command.actor.userId, ...(actedIn ? { actedIn } : {}) },
      requestId: command.requestId,
      action: command.decision,
      refusal,
    });
  }
  return { kind: 'refused', refusal: refusal.kind };
}
