import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import { attributesOf, type TopicCommand } from '../../messages/commands.js';
import { type EventPublisher, PublishFailedError } from '../../ports/event-publisher.js';

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
      throw new PublishFailedError(command.type, { cause: error });
    }
  }
}
