import type { TopicCommand } from '../messages/commands.js';

/** Queues a command for the worker. Resolves only once the topic has accepted it. */
export interface EventPublisher {
  publish(command: TopicCommand): Promise<void>;
}

/** Nothing was queued: the caller must tell the user so, never claim the request was received. */
export class EventPublisherError extends Error {
  constructor(
    message: string,
    readonly commandType: TopicCommand['type'],
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The topic could not be reached, throttled us or timed out: trying again later may work. */
export class PublishFailedError extends EventPublisherError {
  constructor(commandType: TopicCommand['type'], options?: { cause?: unknown }) {
    super(`the ${commandType} command could not be queued`, commandType, options);
  }
}

/**
 * The topic refused the command for good (no such topic, no permission, its key disabled):
 * retrying cannot fix it; an operator must change `setting`.
 */
export class PublishRejectedError extends EventPublisherError {
  constructor(
    commandType: TopicCommand['type'],
    readonly code: string,
    readonly setting: string,
    options?: { cause?: unknown },
  ) {
    super(`the ${commandType} command was refused by the topic (${code})`, commandType, options);
  }
}
