import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEventRecord } from 'aws-lambda';
import {
  InvalidCommandError,
  parseTopicCommand,
  type RequestSubmitted,
} from '../../shared/messages/commands.js';
import type { SubmitOutcome } from '../../shared/use-cases/submit-request.js';

export interface CommandHandlers {
  readonly submit: (command: RequestSubmitted, invocationId: string) => Promise<SubmitOutcome>;
}

/**
 * One message from the topic → one use case. A message that is not a valid command is logged
 * (names of the fields at fault, never values) and dropped: retrying cannot fix it. Failures of
 * the use cases propagate, so Lambda retries them and finally sends them to the failure destination.
 */
export async function processRecord(
  handlers: CommandHandlers,
  logger: Logger,
  record: SNSEventRecord,
  invocationId: string,
): Promise<void> {
  const attribute = (name: string) => record.Sns.MessageAttributes?.[name]?.Value;
  let command;
  try {
    command = parseTopicCommand(record.Sns.Message, {
      ...(attribute('type') ? { type: attribute('type') as RequestSubmitted['type'] } : {}),
      ...(attribute('version') ? { version: attribute('version') } : {}),
    });
  } catch (error) {
    if (!(error instanceof InvalidCommandError)) throw error;
    logger.error('dropping a message that is not a valid command', {
      messageId: record.Sns.MessageId,
      reason: error.message,
      issues: error.issues,
    });
    return;
  }

  logger.appendKeys({ commandType: command.type, requestId: command.requestId });
  switch (command.type) {
    case 'request.submitted': {
      const outcome = await handlers.submit(command, invocationId);
      logger.info('request.submitted handled', { outcome: outcome.kind });
      return;
    }
    default:
      // Decisions, cancellations and grants arrive with the next issues; until then they are
      // acknowledged by the ack Lambda and recorded here, not retried.
      logger.warn('command type not handled by this version of the worker', { commandType: command.type });
  }
}
