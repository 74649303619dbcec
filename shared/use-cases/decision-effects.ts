import type { Catalog } from '../config/catalog-schema.js';
import type { AccessRequest, DecisionEffects } from '../domain/access-request.js';
import type { DecisionRefusal } from '../domain/refusals.js';
import type { Notifier } from '../ports/chat.js';
import type { Clock } from '../ports/clock.js';
import {
  type NewAuditEvent,
  type RequestChanges,
  type RequestStore,
  StaleStateError,
} from '../ports/request-store.js';
import { type MoveOutcome, type TicketTracker, TrackerRejectedError } from '../ports/ticket-tracker.js';

export interface EffectDeps {
  readonly catalog: Catalog;
  readonly store: RequestStore;
  readonly tickets: TicketTracker;
  readonly notifier: Notifier;
  readonly clock: Clock;
}

/**
 * Tells everyone about a decision already stored: the ticket (moved and commented), the approvers'
 * message (buttons replaced by the outcome), the requester (a DM). Each is flagged on the request
 * once done, so a redelivery after a crash finishes only what is missing.
 */
export async function completeDecisionEffects(
  deps: EffectDeps,
  request: AccessRequest,
): Promise<AccessRequest> {
  const decision = request.decision;
  if (!decision) return request;
  let current = request;
  const statuses = deps.catalog.global.jira.statuses;

  if (!current.effects?.ticket) {
    if (current.ticket) {
      const target = {
        approved: statuses.approved,
        denied: statuses.denied,
        cancelled: statuses.closed,
        timed_out: statuses.closed,
      }[decision.outcome];
      const key = current.ticket.key;
      const decided = current;
      await ticketMayRefuse(deps, current, async () => {
        const moved: MoveOutcome = await deps.tickets.moveTo(key, target);
        await deps.tickets.comment(key, { kind: 'decision', request: decided, moved });
      });
    }
    current = await recordEffects(deps, current, { ticket: true });
  }
  if (!current.effects?.approversMessage) {
    const message = current.slack.approversMessage;
    if (message) {
      await deps.notifier.refreshAnnouncement(current, message);
    }
    current = await recordEffects(deps, current, { approversMessage: true });
  }
  if (!current.effects?.requester) {
    await deps.notifier.notify({ kind: 'request.decided', request: current });
    current = await recordEffects(deps, current, { requester: true });
  }
  return current;
}

/**
 * Runs a ticket update that Jira may refuse for good (permissions, a workflow without the
 * transition, a deleted ticket): the decision stands, and the audit trail says the ticket lags.
 * Jira being unreachable still fails the command, so it is retried.
 */
export async function ticketMayRefuse(
  deps: Pick<EffectDeps, 'store' | 'clock'>,
  request: AccessRequest | undefined,
  update: () => Promise<void>,
): Promise<void> {
  try {
    await update();
  } catch (error) {
    if (!(error instanceof TrackerRejectedError) || !request) throw error;
    await deps.store.appendAudit(request.requestId, {
      at: deps.clock.now().toISOString(),
      action: 'ticket.not_updated',
      actor: { kind: 'system', id: 'worker' },
      channel: 'system',
      reason: error.message,
    });
  }
}

/**
 * Records a refusal once per command: false when this command was refused before (a redelivery),
 * so the person is not told again. The claim comes before the audit, so a crash in between loses
 * that one refusal's record rather than repeating it on every retry.
 */
export async function recordRefusal(
  deps: Pick<EffectDeps, 'store' | 'clock'>,
  command: { readonly commandId: string; readonly requestId: string },
  request: AccessRequest | undefined,
  audit: Omit<NewAuditEvent, 'at'>,
): Promise<boolean> {
  const { first } = await deps.store.rememberCommand(`refused:${command.commandId}`, command.requestId);
  if (!first) return false;
  if (request)
    await deps.store.appendAudit(request.requestId, { ...audit, at: deps.clock.now().toISOString() });
  return true;
}

/** Sets effect flags on the latest version of the request, whatever else changed meanwhile. */
export function recordEffects(
  deps: Pick<EffectDeps, 'store'>,
  request: AccessRequest,
  flags: DecisionEffects,
): Promise<AccessRequest> {
  return patchLatest(deps, request, (latest) => ({ effects: { ...latest.effects, ...flags } }));
}

/**
 * Applies `changes(latest)` to the latest version of the request: a concurrent change makes it
 * recompute from what is stored now, so bookkeeping never overwrites someone else's write.
 */
export async function patchLatest(
  deps: Pick<EffectDeps, 'store'>,
  request: AccessRequest,
  changes: (latest: AccessRequest) => RequestChanges,
  audit?: NewAuditEvent,
): Promise<AccessRequest> {
  for (let current = request; ;) {
    try {
      return await deps.store.update(current.requestId, current.version, changes(current), audit);
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      current = error.current;
    }
  }
}

/** A Slack user's own action on a request (cancel, a fresh token): whether they are its requester. */
export function isSlackRequester(
  request: AccessRequest,
  actor: { readonly userId: string; readonly teamId: string },
): boolean {
  return request.requester.slackUserId === actor.userId && request.requester.slackTeamId === actor.teamId;
}

/**
 * Refuses a Slack user's own action on a request, once per command: recorded in the audit trail
 * and told to them. False when this command was refused before (a redelivery).
 */
export async function refuseSlackAction(
  deps: Pick<EffectDeps, 'store' | 'clock' | 'notifier'>,
  command: {
    readonly commandId: string;
    readonly requestId: string;
    readonly actor: { readonly userId: string };
  },
  request: AccessRequest | undefined,
  action: 'cancel' | 'reissue' | 'revoke' | 'extend',
  refusal: DecisionRefusal,
): Promise<boolean> {
  const first = await recordRefusal(deps, command, request, {
    action: `${action}.refused`,
    actor: { kind: 'slack', id: command.actor.userId },
    channel: 'slack',
    reason: refusal.kind,
  });
  if (!first) return false;
  await deps.notifier.notify({
    kind: 'decision.refused',
    to: { userId: command.actor.userId },
    requestId: command.requestId,
    action,
    refusal,
  });
  return true;
}
