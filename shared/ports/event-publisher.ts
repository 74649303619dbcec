import type { TopicCommand } from '../messages/commands.js';

/** Queues a command for the worker. Resolves only once the topic has accepted it. */
export interface EventPublisher {
  publish(command: TopicCommand): Promise<void>;
}

/** Nothing was queued: the caller must tell the user so, never claim the request was received. */
export class PublishFailedError extends Error {
  constructor(
    readonly commandType: TopicCommand['type'],
    options?: { cause?: unknown },
  ) {
    super(`the ${commandType} command could not be queued`, options);
    this.name = 'PublishFailedError';
  }
}
