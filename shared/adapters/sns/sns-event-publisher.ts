import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { attributesOf, type TopicCommand } from '../../messages/commands.js';
import {
  contractChecked,
  type EventPublisher,
  type EventPublisherError,
  PublishFailedError,
  PublishRejectedError,
} from '../../ports/event-publisher.js';

export interface SnsEventPublisherOptions {
  readonly client: SNSClient;
  readonly topicArn: string;
  /** Upper bound for one publish, retries included: the ack must answer Slack within 3 s. */
  readonly timeoutMs?: number;
}

/** Publishes each command as JSON with `type` and `version` message attributes. */
export class SnsEventPublisher implements EventPublisher {
  private readonly timeoutMs: number;

  constructor(private readonly options: SnsEventPublisherOptions) {
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async publish(command: TopicCommand): Promise<void> {
    contractChecked(command);
    const attributes = attributesOf(command);
    try {
      await this.options.client.send(
        new PublishCommand({
          TopicArn: this.options.topicArn,
          Message: JSON.stringify(command),
          MessageAttributes: {
            type: { DataType: 'String', StringValue: attributes.type },
            version: { DataType: 'String', StringValue: attributes.version },
          },
        }),
        { abortSignal: AbortSignal.timeout(this.timeoutMs) },
      );
    } catch (error) {
      throw publishError(command.type, error);
    }
  }
}

/** SNS errors no retry can fix, and what to change for each. */
const PERMANENT: Record<string, string> = {
  NotFoundException: 'ACCESS_TOPIC_ARN: no topic has this ARN in this account and region',
  NotFound: 'ACCESS_TOPIC_ARN: no topic has this ARN in this account and region',
  AuthorizationErrorException: "the Lambda role's sns:Publish permission on ACCESS_TOPIC_ARN",
  AuthorizationError: "the Lambda role's sns:Publish permission on ACCESS_TOPIC_ARN",
  InvalidParameterException: 'ACCESS_TOPIC_ARN (SNS refused the topic ARN or the message)',
  InvalidParameter: 'ACCESS_TOPIC_ARN (SNS refused the topic ARN or the message)',
  KMSDisabledException: "the topic's KMS key: it is disabled",
  KMSDisabled: "the topic's KMS key: it is disabled",
  KMSAccessDeniedException: "the topic's KMS key policy: the Lambda role may not use it",
  KMSAccessDenied: "the topic's KMS key policy: the Lambda role may not use it",
  KMSNotFoundException: "the topic's KMS key: it does not exist",
  KMSNotFound: "the topic's KMS key: it does not exist",
};

function publishError(commandType: TopicCommand['type'], error: unknown): EventPublisherError {
  const code = (error as { name?: string }).name ?? '';
  const setting = Object.hasOwn(PERMANENT, code) ? PERMANENT[code] : undefined;
  if (setting) return new PublishRejectedError(commandType, code, setting, { cause: error });
  return new PublishFailedError(commandType, { cause: error });
}
