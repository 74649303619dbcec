import type { AccessRequest } from '../domain/access-request.js';
import type { DecisionRefusal } from '../domain/refusals.js';
import type { RequestCancel } from '../messages/commands.js';
import { type RequestStore, StaleStateError } from '../ports/request-store.js';
import {
  completeDecisionEffects,
  type EffectDeps,
  isSlackRequester,
  refuseSlackAction,
} from './decision-effects.js';
import { openSlotKeyOf } from './submit-request.js';

export type CancelDeps = EffectDeps & { readonly store: RequestStore };

export type CancelOutcome =
  | { kind: 'cancelled'; request: AccessRequest }
  | { kind: 'refused'; refusal: DecisionRefusal['kind'] }
  | { kind: 'ignored'; why: 'repeated_refusal' };

/**
 * `request.cancel` → CANCELLED, by the requester only, while the request waits for approval; the
 * ticket is commented and closed, the approvers' message loses its buttons, the requester is told.
 * A repeat finishes whatever a crashed attempt left undone.
 */
export async function cancelRequest(deps: CancelDeps, command: RequestCancel): Promise<CancelOutcome> {
  const request = await deps.store.get(command.requestId);
  // Refused for someone else's request even while pending: cancelling is the requester's alone.
  if (!request || !isSlackRequester(request, command.actor)) {
    return refuse(deps, command, request, request ? { kind: 'not_requester' } : { kind: 'unknown_request' });
  }
  if (request.state === 'CANCELLED') {
    return { kind: 'cancelled', request: await completeDecisionEffects(deps, request) };
  }
  if (request.state !== 'PENDING_APPROVAL') {
    return refuse(deps, command, request, { kind: 'not_pending', state: request.state });
  }
  const now = deps.clock.now().toISOString();
  let cancelled: AccessRequest;
  try {
    cancelled = await deps.store.transition(request.requestId, {
      event: 'cancel',
      by: 'requester',
      changes: {
        decision: { outcome: 'cancelled', channel: 'slack', actorId: command.actor.userId, at: now },
        effects: {},
      },
      audit: {
        at: now,
        action: 'cancel',
        actor: { kind: 'slack', id: command.actor.userId },
        channel: 'slack',
      },
    });
  } catch (error) {
    // Decided (or cancelled by a concurrent delivery) in the meantime: answer from the new state.
    if (error instanceof StaleStateError && error.current) return cancelRequest(deps, command);
    throw error;
  }
  await deps.store.releaseOpenSlot(openSlotKeyOf(cancelled), cancelled.requestId);
  return { kind: 'cancelled', request: await completeDecisionEffects(deps, cancelled) };
}

async function refuse(
  deps: CancelDeps,
  command: RequestCancel,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<CancelOutcome> {
  const first = await refuseSlackAction(deps, command, request, 'cancel', refusal);
  return first ? { kind: 'refused', refusal: refusal.kind } : { kind: 'ignored', why: 'repeated_refusal' };
}
