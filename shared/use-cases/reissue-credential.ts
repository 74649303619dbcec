import type { AccessRequest, GrantRecord } from '../domain/access-request.js';
import type { DecisionRefusal } from '../domain/refusals.js';
import type { GrantReissue } from '../messages/commands.js';
import { CredentialBrokerError } from '../ports/credential-broker.js';
import { StaleStateError } from '../ports/request-store.js';
import { isSlackRequester, patchLatest, refuseSlackAction, ticketMayRefuse } from './decision-effects.js';
import {
  type GrantDeps,
  heldByAnother,
  grantSpecFor,
  leaseFor,
  recheckRequester,
  recordOf,
  released,
  revokeSuperseded,
  storeMinted,
  withoutDelivery,
} from './grant-access.js';

export type ReissueOutcome =
  | { kind: 'reissued'; request: AccessRequest }
  | { kind: 'refused'; refusal: DecisionRefusal['kind'] }
  | { kind: 'in_progress_elsewhere'; requestId: string }
  | { kind: 'ignored'; why: 'repeated_refusal' };

const MAX_ROUNDS = 5;

/**
 * `grant.reissue` → a fresh credential for the rest of the grant, the old one revoked: for a
 * token that expired unopened or was lost. Only the requester, only while the grant lives, and
 * only while their account is still enabled in the level's groups. One command makes one
 * credential however often it is delivered: the new grant records the command it came from.
 */
export async function reissueCredential(deps: GrantDeps, command: GrantReissue): Promise<ReissueOutcome> {
  let request = await deps.store.get(command.requestId);
  if (!request) return refuse(deps, command, undefined, { kind: 'unknown_request' });
  if (!isSlackRequester(request, command.actor))
    return refuse(deps, command, request, { kind: 'not_your_grant' });

  for (let round = 0; round < MAX_ROUNDS; round++) {
    const grant = request.grant;
    if (grant?.origin === command.commandId) {
      return { kind: 'reissued', request: await finish(deps, request) };
    }
    if (request.state !== 'GRANTED' || !grant || grant.expiresAt <= deps.clock.now().toISOString()) {
      const state = request.state === 'GRANTED' ? 'EXPIRED' : request.state;
      return refuse(deps, command, request, { kind: 'not_granted', state });
    }
    if (heldByAnother(deps, request)) return { kind: 'in_progress_elsewhere', requestId: request.requestId };
    try {
      if (await recheckRequester(deps, request)) {
        return refuse(deps, command, request, { kind: 'no_longer_eligible' });
      }
      const left = Math.ceil((Date.parse(grant.expiresAt) - deps.clock.now().getTime()) / 1000);
      const spec = grantSpecFor(deps, request, left);
      if (!spec) return refuse(deps, command, request, { kind: 'unknown_level' });
      const claimed = await deps.store.update(request.requestId, request.version, { lease: leaseFor(deps) });
      let minted;
      try {
        minted = await deps.broker.mint(spec);
      } catch (error) {
        if (!(error instanceof CredentialBrokerError)) throw error;
        // A click, not a lifecycle step: the person is told and may click again; nothing changed.
        await patchLatest(deps, claimed, () => ({ lease: released(deps) }));
        return refuse(deps, command, claimed, { kind: 'broker_failed' });
      }
      request = await storeMinted(
        deps,
        claimed,
        minted,
        {
          grant: {
            ...recordOf(deps, minted),
            origin: command.commandId,
            superseded: [...(grant.superseded ?? []), { leaseId: grant.leaseId, username: grant.username }],
            ...(grant.told ? { told: grant.told } : {}),
          },
        },
        {
          action: 'grant.reissued',
          reason: `requested by the requester: user ${minted.username} replaces ${grant.username}`,
        },
      );
    } catch (error) {
      if (!(error instanceof StaleStateError) || !error.current) throw error;
      request = error.current;
    }
  }
  throw new StaleStateError(command.requestId, request);
}

/** Revoke what was replaced, send the new token, note it on the ticket, then forget the wrap. */
async function finish(deps: GrantDeps, request: AccessRequest): Promise<AccessRequest> {
  const replaced = request.grant?.superseded?.at(-1)?.username;
  const current = await revokeSuperseded(deps, request);
  const grant = current.grant as GrantRecord;
  if (!grant.delivery) return current;
  await deps.notifier.notify({
    kind: 'grant.ready',
    request: current,
    wrappedToken: grant.delivery.wrappedToken,
    wrapExpiresAt: grant.delivery.wrapExpiresAt,
    fresh: true,
  });
  const ticket = current.ticket;
  if (ticket && replaced) {
    await ticketMayRefuse(deps, current, () =>
      deps.tickets.comment(ticket.key, { kind: 'grant.reissued', request: current, replaced }),
    );
  }
  return patchLatest(deps, current, (latest) => ({
    grant: withoutDelivery(latest.grant as GrantRecord),
    lease: released(deps),
  }));
}

async function refuse(
  deps: GrantDeps,
  command: GrantReissue,
  request: AccessRequest | undefined,
  refusal: DecisionRefusal,
): Promise<ReissueOutcome> {
  const first = await refuseSlackAction(deps, command, request, 'reissue', refusal);
  return first ? { kind: 'refused', refusal: refusal.kind } : { kind: 'ignored', why: 'repeated_refusal' };
}
