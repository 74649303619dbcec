import type { ActorRole, LifecycleEvent } from './lifecycle.js';

/**
 * Every refusal the domain can make. Messages are written for the person who caused them
 * (they end up in Slack or on a terminal), never containing secrets.
 */
export abstract class DomainError extends Error {
  abstract readonly code: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class DurationError extends DomainError {
  readonly code = 'duration.invalid';

  constructor(
    readonly input: string,
    message: string,
    readonly details: { maxMinutes?: number } = {},
  ) {
    super(message);
  }
}

/** Events whose name does not read as a verb in "may … a request". */
const EVENT_PHRASES: Partial<Record<LifecycleEvent, string>> = {
  ask_extension: 'ask to extend',
  deny_extension: 'deny the extension of',
};

export class ActorNotAllowedError extends DomainError {
  readonly code = 'lifecycle.actor_not_allowed';

  constructor(
    readonly event: LifecycleEvent,
    readonly role: ActorRole,
    readonly allowed: readonly ActorRole[],
  ) {
    super(
      `only ${allowed.join(' or ')} may ${EVENT_PHRASES[event] ?? event.replace('_', ' ')} a request, not the ${role}`,
    );
  }
}

export class InvalidRequestIdError extends DomainError {
  readonly code = 'request_id.invalid';

  constructor(readonly input: string) {
    super(`"${input}" is not a request id; it looks like REQ-0K2M9Q7X (REQ- and 8 letters or digits)`);
  }
}
