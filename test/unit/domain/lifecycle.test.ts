import { describe, expect, it } from 'vitest';
import { ActorNotAllowedError, IllegalTransitionError } from '../../../shared/domain/errors.js';
import {
  ACTOR_ROLES,
  type ActorRole,
  isTerminal,
  LIFECYCLE_EVENTS,
  type LifecycleEvent,
  nextState,
  transitionFor,
  TRANSITIONS,
  REQUEST_STATES,
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
];

const legalKey = (from: string, event: string) => `${from}:${event}`;
const legalByKey = new Map(LEGAL.map(([from, event, to, actors]) => [legalKey(from, event), { to, actors }]));

const everyCombination = REQUEST_STATES.flatMap((from) =>
  LIFECYCLE_EVENTS.flatMap((event) => ACTOR_ROLES.map((actor) => [from, event, actor] as const)),
);
const legalMoves = everyCombination.filter(([from, event, actor]) =>
  legalByKey.get(legalKey(from, event))?.actors.includes(actor),
);
const wrongActor = everyCombination.filter(([, event, actor]) => {
  const allowed = LEGAL.find(([, e]) => e === event)?.[3] ?? [];
  return !allowed.includes(actor);
});
const wrongState = everyCombination.filter(([from, event, actor]) => {
  const allowed = LEGAL.find(([, e]) => e === event)?.[3] ?? [];
  return allowed.includes(actor) && !legalByKey.has(legalKey(from, event));
});

describe('request lifecycle', () => {
  it('covers every combination of state, event and actor exactly once in the tables below', () => {
    expect(legalMoves.length + wrongActor.length + wrongState.length).toBe(everyCombination.length);
    expect(legalMoves).toHaveLength(11);
  });

  it.each(legalMoves)('%s --%s--> by %s is legal', (from, event, actor) => {
    expect(nextState(from, event, actor)).toBe(legalByKey.get(legalKey(from, event))?.to);
  });

  it.each(wrongState)('%s --%s--> by %s is refused as an illegal transition', (from, event, actor) => {
    expect(() => nextState(from, event, actor)).toThrow(IllegalTransitionError);
  });

  it.each(wrongActor)('%s --%s--> by %s is refused: that actor may never do it', (from, event, actor) => {
    expect(() => nextState(from, event, actor)).toThrow(ActorNotAllowedError);
  });

  it.each([
    ['DENIED', 'approve', 'approver', 'a request that is DENIED cannot be approved'],
    ['GRANTED', 'grant', 'system', 'a request that is GRANTED cannot be granted'],
    ['TIMED_OUT', 'approve', 'approver', 'a request that is TIMED_OUT cannot be approved'],
    ['PENDING_APPROVAL', 'approve', 'requester', 'only approver may approve a request, not the requester'],
    ['PENDING_APPROVAL', 'time_out', 'approver', 'only system may time out a request, not the approver'],
  ] as const)('explains %s --%s--> by %s', (from, event, actor, message) => {
    expect(() => nextState(from, event, actor)).toThrow(message);
  });

  it('checks the actor before the state, so a refusal leaks nothing about the request', () => {
    expect(() => nextState('DENIED', 'approve', 'requester')).toThrow(ActorNotAllowedError);
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
