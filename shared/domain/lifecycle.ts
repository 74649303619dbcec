import { ActorNotAllowedError } from './errors.js';

/** The states of one access request, as ARCHITECTURE.md draws them. */
export const REQUEST_STATES = [
  'SUBMITTED',
  'PENDING_APPROVAL',
  'REJECTED',
  'APPROVED',
  'DENIED',
  'CANCELLED',
  'TIMED_OUT',
  'GRANTED',
  'FAILED',
  'EXPIRED',
  'REVOKED',
] as const;
export type RequestState = (typeof REQUEST_STATES)[number];

/**
 * Who causes a transition. `system` is the worker acting on its own judgement (policy checks,
 * timers, Vault); `requester` and `approver` are people whose identity the worker verified.
 */
export const ACTOR_ROLES = ['system', 'requester', 'approver'] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const LIFECYCLE_EVENTS = [
  'open',
  'reject',
  'approve',
  'deny',
  'cancel',
  'time_out',
  'grant',
  'fail',
  'expire',
  'revoke',
  'ask_extension',
  'extend',
  'deny_extension',
] as const;
export type LifecycleEvent = (typeof LIFECYCLE_EVENTS)[number];

export interface Transition {
  readonly event: LifecycleEvent;
  readonly from: RequestState;
  readonly to: RequestState;
  readonly actors: readonly ActorRole[];
}

/**
 * The only legal moves. Each event has exactly one source state, so "approve a denied request",
 * "grant twice" and "approve after time-out" are all refused by construction.
 */
export const TRANSITIONS: readonly Transition[] = [
  { event: 'open', from: 'SUBMITTED', to: 'PENDING_APPROVAL', actors: ['system'] },
  { event: 'reject', from: 'SUBMITTED', to: 'REJECTED', actors: ['system'] },
  { event: 'approve', from: 'PENDING_APPROVAL', to: 'APPROVED', actors: ['approver'] },
  { event: 'deny', from: 'PENDING_APPROVAL', to: 'DENIED', actors: ['approver'] },
  { event: 'cancel', from: 'PENDING_APPROVAL', to: 'CANCELLED', actors: ['requester'] },
  { event: 'time_out', from: 'PENDING_APPROVAL', to: 'TIMED_OUT', actors: ['system'] },
  { event: 'grant', from: 'APPROVED', to: 'GRANTED', actors: ['system'] },
  { event: 'fail', from: 'APPROVED', to: 'FAILED', actors: ['system'] },
  { event: 'expire', from: 'GRANTED', to: 'EXPIRED', actors: ['system'] },
  // The requester may hand access back early; an approver may pull it during an incident.
  { event: 'revoke', from: 'GRANTED', to: 'REVOKED', actors: ['requester', 'approver'] },
  /*
   * Extending a live grant never leaves GRANTED: the current grant runs on, untouched, while the
   * approvers decide, and ends at its old time unless they approve. The request's `extensions`
   * say which one is pending; the store's version condition keeps one decision per extension.
   */
  { event: 'ask_extension', from: 'GRANTED', to: 'GRANTED', actors: ['requester'] },
  { event: 'extend', from: 'GRANTED', to: 'GRANTED', actors: ['approver'] },
  { event: 'deny_extension', from: 'GRANTED', to: 'GRANTED', actors: ['approver'] },
];

const BY_EVENT = new Map(TRANSITIONS.map((t) => [t.event, t]));

export const TERMINAL_STATES: readonly RequestState[] = REQUEST_STATES.filter(
  (state) => !TRANSITIONS.some((t) => t.from === state && t.to !== state),
);

export function isTerminal(state: RequestState): boolean {
  return TERMINAL_STATES.includes(state);
}

/** The one legal move `event` makes: the state it is allowed from, and the state it leads to. */
export function transitionFor(event: LifecycleEvent): Transition {
  const transition = BY_EVENT.get(event);
  // Unreachable while LIFECYCLE_EVENTS and TRANSITIONS agree; a unit test holds them together.
  if (!transition) throw new TypeError(`no transition is defined for event ${event}`);
  return transition;
}

/**
 * The move `event` makes when `actor` causes it, or ActorNotAllowedError when that actor may never
 * cause it (whatever state the request is in): the store refuses a wrongly attributed move before
 * it writes anything.
 */
export function transitionBy(event: LifecycleEvent, actor: ActorRole): Transition {
  const transition = transitionFor(event);
  if (!transition.actors.includes(actor)) throw new ActorNotAllowedError(event, actor, transition.actors);
  return transition;
}
