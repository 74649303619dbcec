import { describe, expect, it } from 'vitest';
import { ActorNotAllowedError } from '../../../shared/domain/errors.js';
import {
  ACTOR_ROLES,
  type ActorRole,
  isTerminal,
  LIFECYCLE_EVENTS,
  type LifecycleEvent,
  transitionBy,
  transitionFor,
  TRANSITIONS,
  type RequestState,
  TERMINAL_STATES,
} from '../../../shared/domain/lifecycle.js';

// The lifecycle exactly as ARCHITECTURE.md draws it: [from, event, to, who may cause it].
const LEGAL: [RequestState, LifecycleEvent, RequestState, ActorRole[]][] = [
  ['SUBMITTED', 'open', 'PENDING_APPROVAL', ['system']],
  ['SUBMITTED', 'reject', 'REJECTED', ['system']],
  ['PENDING_APPROVAL', 'approve', 'APPROVED', ['approver']],
  ['PENDING_APPROVAL', 'deny', 'DENIED', ['approver']],
  ['PENDING_APPROVAL', 'cancel', 'CANCELLED', ['requester']],
  ['PENDING_APPROVAL', 'time_out', 'TIMED_OUT', ['system']],
  ['APPROVED', 'grant', 'GRANTED', ['system']],
  ['APPROVED', 'fail', 'FAILED', ['system']],
  ['GRANTED', 'expire', 'EXPIRED', ['system']],
  ['GRANTED', 'revoke', 'REVOKED', ['requester', 'approver']],
  // An extension is decided while the grant goes on: GRANTED stays GRANTED whatever the outcome.
  ['GRANTED', 'ask_extension', 'GRANTED', ['requester']],
  ['GRANTED', 'extend', 'GRANTED', ['approver']],
  ['GRANTED', 'deny_extension', 'GRANTED', ['approver']],
];

const allowed = new Map(LEGAL.map(([, event, , actors]) => [event, actors]));
const everyEventAndActor = LIFECYCLE_EVENTS.flatMap((event) =>
  ACTOR_ROLES.map((actor) => [event, actor] as const),
);
const byAllowedActor = everyEventAndActor.filter(([event, actor]) => allowed.get(event)?.includes(actor));
const byWrongActor = everyEventAndActor.filter(([event, actor]) => !allowed.get(event)?.includes(actor));

describe('request lifecycle', () => {
  it('is exactly the diagram: one source state, one target and the actors for every event', () => {
    expect(TRANSITIONS.map((t) => [t.from, t.event, t.to, [...t.actors]])).toEqual(LEGAL);
    expect(TRANSITIONS.map((t) => t.event).sort()).toEqual([...LIFECYCLE_EVENTS].sort());
  });

  it.each(LEGAL)(
    '%s --%s--> %s: the state a conditional write expects, and the one it writes',
    (from, event, to) => {
      expect(transitionFor(event)).toMatchObject({ from, to });
    },
  );

  it.each(byAllowedActor)('%s by the %s is a move the lifecycle allows', (event, actor) => {
    expect(transitionBy(event, actor)).toBe(transitionFor(event));
  });

  it.each(byWrongActor)(
    '%s by the %s is refused whatever the state: that actor may never do it',
    (event, actor) => {
      expect(() => transitionBy(event, actor)).toThrow(ActorNotAllowedError);
    },
  );

  it.each([
    ['approve', 'requester', 'only approver may approve a request, not the requester'],
    ['time_out', 'approver', 'only system may time out a request, not the approver'],
    ['revoke', 'system', 'only requester or approver may revoke a request, not the system'],
    ['extend', 'requester', 'only approver may extend a request, not the requester'],
    ['ask_extension', 'approver', 'only requester may ask to extend a request, not the approver'],
  ] as const)('explains %s by the %s', (event, actor, message) => {
    expect(() => transitionBy(event, actor)).toThrow(message);
  });

  it('ends in exactly the terminal states of the diagram', () => {
    expect([...TERMINAL_STATES].sort()).toEqual(
      ['REJECTED', 'DENIED', 'CANCELLED', 'TIMED_OUT', 'FAILED', 'EXPIRED', 'REVOKED'].sort(),
    );
    for (const state of TERMINAL_STATES) {
      expect(isTerminal(state)).toBe(true);
      expect(TRANSITIONS.filter((t) => t.from === state)).toEqual([]);
    }
    expect(isTerminal('PENDING_APPROVAL')).toBe(false);
  });

  it.each(LEGAL)('a conditional write for %s --%s--> expects %s', (from, event) => {
    expect(transitionFor(event).from).toBe(from);
  });
});
