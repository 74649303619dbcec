import type { AccessRequest } from '../domain/access-request.js';
import type { DecisionRefusal } from '../domain/refusals.js';
import type { GrantRevoke } from '../messages/commands.js';
import { isSlackRequester, refuseSlackAction } from './decision-effects.js';
import { type DecideDeps, verifyApprover } from './decide-request.js';
import { type EndGrantDeps, type EndOutcome, endGrant } from './end-grant.js';

export type RevokeDeps = EndGrantDeps & Pick<DecideDeps, 'directory' | 'identity' | 'lookupAttribute'>;

export type RevokeOutcome =
  | EndOutcome
  | { kind: 'refused'; refusal: DecisionRefusal['kind'] }
  | { kind: 'ignored'; why: 'repeated_refusal' };

/**
 * `grant.revoke` → the grant ends now: asked by its requester (handing access back), or by an
 * approver of the level, verified in the directory like any approver (pulling it during an
 * incident). Anyone else is refused, told why, and recorded.
 */
export async function revokeGrant(deps: RevokeDeps, command: GrantRevoke): Promise<RevokeOutcome> {
  const request = await deps.store.get(command.requestId);
  if (!request) return refuse(deps, command, undefined, { kind: 'unknown_request' });
  let role: 'requester' | 'approver';
  let account: string | undefined;
  if (isSlackRequester(request, command.actor)) {
    role = 'requester';
    account = request.requester.directoryAccount;
  } else {
    const verified = await verifyApprover(deps, command.actor, request);
    if ('kind' in verified) return refuse(deps, command, request, verified);
    role = 'approver';
    account = verified.user.sAMAccountName;
  }
  if (request.state !== 'GRANTED' && request.state !== 'REVOKED' && request.state !== 'EXPIRED') {
    return refuse(deps, command, request, { kind: 'not_granted', state: request.state });
  }
  return endGrant(deps, {
    requestId: request.requestId,
    why: 'revoked',
    role,
    actor: { kind: 'slack', id: command.actor.userId, ...(account ? { account } : {}) },
    channel: 'slack',
    reason: role === 'requester' ? 'handed back by the requester' : `revoked by approver ${account}`,
  });
}

async function refuse(
  deps: RevokeDeps,
  command: GrantRevoke,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<RevokeOutcome> {
  const first = await refuseSlackAction(deps, command, request, 'revoke', refusal);
  return first ? { kind: 'refused', refusal: refusal.kind } : { kind: 'ignored', why: 'repeated_refusal' };
}
