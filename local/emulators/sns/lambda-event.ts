import { randomBytes } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';

export interface SnsNotification {
  readonly subscriptionArn: string;
  readonly topicArn: string;
  readonly messageId: string;
  readonly subject?: string;
  readonly message: string;
  readonly at: Date;
  readonly attributes: Readonly<
    Record<string, { DataType: string; StringValue?: string; BinaryValue?: Uint8Array }>
  >;
  readonly region: string;
}

/** The SNSEvent Lambda receives for one notification, as AWS shapes it. */
export function snsLambdaEvent(notification: SnsNotification): SNSEvent {
  const endpoint = `https://sns.${notification.region}.amazonaws.com`;
  const messageAttributes: Record<string, { Type: string; Value: string }> = {};
  for (const [name, value] of Object.entries(notification.attributes)) {
    messageAttributes[name] = {
      Type: value.DataType,
      Value: value.BinaryValue
        ? Buffer.from(value.BinaryValue).toString('base64')
        : (value.StringValue ?? ''),
    };
  }
  const wire = {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: notification.subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: notification.messageId,
          TopicArn: notification.topicArn,
          // Lambda sends null, not an absent key, when there is no subject.
          Subject: notification.subject ?? null,
          Message: notification.message,
          Timestamp: notification.at.toISOString(),
          SignatureVersion: '1',
          Signature: randomBytes(256).toString('base64'),
          SigningCertUrl: `${endpoint}/SimpleNotificationService-${randomBytes(16).toString('hex')}.pem`,
          UnsubscribeUrl: `${endpoint}/?Action=Unsubscribe&SubscriptionArn=${notification.subscriptionArn}`,
          MessageAttributes: messageAttributes,
        },
      },
    ],
  };
  // Through JSON like the real invocation: no shared references, and Subject stays null even
  // though @types/aws-lambda declares it optional (handlers must cope with null).
  return JSON.parse(JSON.stringify(wire)) as SNSEvent;
}
