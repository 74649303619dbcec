import type { Logger } from '@aws-lambda-powertools/logger';
import type { SNSEventRecord } from 'aws-lambda';
import {
  type CommandType,
  InvalidCommandError,
  parseTopicCommand,
  type RequestCancel,
  type RequestDecided,
  type RequestSubmitted,
  type GrantReissue,
  type GrantExpire,
  type GrantRevoke,
  type GrantExtend,
  type Reconcile,
  type TopicCommand,
} from '../../shared/messages/commands.js';
import { ChatRejectedError } from '../../shared/ports/chat.js';
import type { CancelOutcome } from '../../shared/use-cases/cancel-request.js';
import type { DecideOutcome } from '../../shared/use-cases/decide-request.js';
import type { GrantOutcome } from '../../shared/use-cases/grant-access.js';
import type { ReissueOutcome } from '../../shared/use-cases/reissue-credential.js';
import type { EndOutcome } from '../../shared/use-cases/end-grant.js';
import type { ExtendOutcome } from '../../shared/use-cases/extend-grant.js';
import type { RevokeOutcome } from '../../shared/use-cases/revoke-grant.js';
import type { ReconcileReport } from '../../shared/use-cases/reconcile.js';
import type { SubmitOutcome } from '../../shared/use-cases/submit-request.js';

export interface CommandHandlers {
  readonly submit: (command: RequestSubmitted, invocationId: string) => Promise<SubmitOutcome>;
  /** The decision, and the grant an approval leads to. */
  readonly decide: (
    command: RequestDecided,
    invocationId: string,
  ) => Promise<{ decided: DecideOutcome; grant?: GrantOutcome }>;
  readonly cancel: (command: RequestCancel) => Promise<CancelOutcome>;
  readonly reissue: (command: GrantReissue, invocationId: string) => Promise<ReissueOutcome>;
  readonly expire: (command: GrantExpire, invocationId: string) => Promise<EndOutcome>;
  readonly revoke: (command: GrantRevoke, invocationId: string) => Promise<RevokeOutcome>;
  readonly reconcile: (command: Reconcile, invocationId: string) => Promise<ReconcileReport>;
  /** `grant.extend` (the requester asks), and `request.decided` on an extension (its approvers). */
  readonly extend: (command: GrantExtend, invocationId: string) => Promise<ExtendOutcome>;
  readonly decideExtension: (
    command: RequestDecided & { extension: number },
    invocationId: string,
  ) => Promise<ExtendOutcome>;
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
  /** Counts a refusal that ended the command (the alarm on it: a bot token revoked, the bot removed from a channel). */
  onSlackRejected: (code: string) => void = () => {},
): Promise<void> {
  const attribute = (name: string) => record.Sns.MessageAttributes?.[name]?.Value;
  let command;
  try {
    command = parseTopicCommand(record.Sns.Message, {
      ...(attribute('type') ? { type: attribute('type') as CommandType } : {}),
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

  logger.appendKeys({
    commandType: command.type,
    ...('requestId' in command ? { requestId: command.requestId } : {}),
  });
  try {
    await dispatch(handlers, logger, command, invocationId);
  } catch (error) {
    if (!(error instanceof ChatRejectedError)) throw error;
    // Retrying cannot fix it: the command ends here, and the log says what to change.
    logger.error('Slack refused for good; the command ends here', {
      slackError: error.code,
      fix: error.setting,
      reason: error.message,
    });
    onSlackRejected(error.code);
  }
}

async function dispatch(
  handlers: CommandHandlers,
  logger: Logger,
  command: TopicCommand,
  invocationId: string,
): Promise<void> {
  switch (command.type) {
    case 'request.submitted': {
      const outcome = await handlers.submit(command, invocationId);
      logger.info('request.submitted handled', { outcome: outcome.kind });
      return;
    }
    case 'request.decided': {
      if (command.extension !== undefined) {
        const outcome = await handlers.decideExtension(
          { ...command, extension: command.extension },
          invocationId,
        );
        logger.info('request.decided handled (extension)', {
          outcome: outcome.kind,
          extension: command.extension,
          decision: command.decision,
          ...(outcome.kind === 'refused' ? { refusal: outcome.refusal } : {}),
        });
        return;
      }
      const { decided, grant } = await handlers.decide(command, invocationId);
      logger.info('request.decided handled', {
        outcome: decided.kind,
        source: command.source,
        decision: command.decision,
        ...(decided.kind === 'refused' ? { refusal: decided.refusal } : {}),
        ...(grant ? { grant: grant.kind } : {}),
        ...(grant?.kind === 'failed' ? { grantFailure: grant.reason } : {}),
      });
      return;
    }
    case 'reconcile': {
      const report = await handlers.reconcile(command, invocationId);
      logger.info('reconcile handled', { ...report });
      return;
    }
    case 'grant.revoke': {
      const outcome = await handlers.revoke(command, invocationId);
      logger.info('grant.revoke handled', {
        outcome: outcome.kind,
        via: command.via,
        ...(outcome.kind === 'refused' ? { refusal: outcome.refusal } : {}),
      });
      return;
    }
    case 'grant.expire': {
      const outcome = await handlers.expire(command, invocationId);
      logger.info('grant.expire handled', { outcome: outcome.kind });
      return;
    }
    case 'grant.reissue': {
      const outcome = await handlers.reissue(command, invocationId);
      logger.info('grant.reissue handled', {
        outcome: outcome.kind,
        ...(outcome.kind === 'refused' ? { refusal: outcome.refusal } : {}),
      });
      return;
    }
    case 'request.cancel': {
      const outcome = await handlers.cancel(command);
      logger.info('request.cancel handled', {
        outcome: outcome.kind,
        ...(outcome.kind === 'refused' ? { refusal: outcome.refusal } : {}),
      });
      return;
    }
    case 'grant.extend': {
      const outcome = await handlers.extend(command, invocationId);
      logger.info('grant.extend handled', {
        outcome: outcome.kind,
        minutes: command.durationMinutes,
        ...(outcome.kind === 'refused' ? { refusal: outcome.refusal } : {}),
      });
      return;
    }
  }
}
