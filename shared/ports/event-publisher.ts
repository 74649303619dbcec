import { checkTopicCommand, InvalidCommandError, type TopicCommand } from '../messages/commands.js';

/**
 * Queues a command for the worker. Resolves only once the topic has accepted it. A command that
 * breaks the topic's contract is refused with CommandRefusedError and nothing is published: the
 * worker would drop it, and the person who acted would have been told it was queued.
 */
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

/** The command breaks the topic's contract (`issues` name fields, never values): nothing was published. */
export class CommandRefusedError extends EventPublisherError {
  constructor(
    commandType: TopicCommand['type'],
    readonly issues: readonly string[],
    options?: { cause?: unknown },
  ) {
    super(`the ${commandType} command breaks the topic contract: ${issues.join('; ')}`, commandType, options);
  }

  /** The fields at fault (`requester.userId`), each once: what the person who acted is told. */
  get fields(): string[] {
    return [...new Set(this.issues.map((issue) => issue.split(':')[0] ?? issue))];
  }
}

/** `command` as the contract allows it, or CommandRefusedError: what every publisher does first. */
export function contractChecked(command: TopicCommand): TopicCommand {
  try {
    return checkTopicCommand(command);
  } catch (error) {
    if (error instanceof InvalidCommandError) {
      throw new CommandRefusedError(command.type, error.issues, { cause: error });
    }
    throw error;
  }
}
