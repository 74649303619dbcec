/**
 * The first guard of "access always ends": a one-time `grant.expire` on the topic at the grant's
 * end. Both calls are idempotent: scheduling what is already scheduled, or cancelling what is not
 * (never was, already fired, already cancelled), succeeds.
 */
export interface ExpiryScheduler {
  schedule(requestId: string, at: Date): Promise<void>;
  cancel(requestId: string): Promise<void>;
}

export class ExpirySchedulerError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The scheduler could not be reached, throttled us, or failed: retry the command. */
export class SchedulerUnavailableError extends ExpirySchedulerError {}

/** The scheduler refused for good (permissions, a missing group, a bad target): an operator must change `setting`. */
export class SchedulerRejectedError extends ExpirySchedulerError {
  constructor(
    message: string,
    readonly setting: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
