import { SNSClient } from '@aws-sdk/client-sns';
import type { SNSEventRecord } from 'aws-lambda';
import { afterAll, beforeAll } from 'vitest';
import { SnsEmulator } from '../../local/emulators/sns/sns-emulator.js';
import { InProcessTopic } from '../../local/in-process-topic.js';
import { SnsEventPublisher } from '../../shared/adapters/sns/sns-event-publisher.js';
import { eventPublisherContract } from './event-publisher.contract.js';

const emulator = new SnsEmulator();
let client: SNSClient;
let topicArn: string;
const received: SNSEventRecord[] = [];

beforeAll(async () => {
  await emulator.start();
  // One attempt: the contract's transient failure must reach the adapter, not be retried away.
  client = new SNSClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
  });
  topicArn = emulator.createTopic('jit-access-commands');
  emulator.subscribe(topicArn, async (event) => {
    received.push(...event.Records);
  });
});

afterAll(async () => {
  client?.destroy();
  await emulator.stop();
});

eventPublisherContract('SnsEventPublisher on the SNS emulator', () => ({
  publisher: new SnsEventPublisher({ client, topicArn }),
  delivered: async () => {
    await emulator.drain();
    return received;
  },
  failNextTransient: () => emulator.failNext(1, 'internal', { action: 'Publish' }),
  misconfigured: () =>
    new SnsEventPublisher({ client, topicArn: 'arn:aws:sns:us-east-1:000000000000:no-such-topic' }),
}));

eventPublisherContract('InProcessTopic', () => {
  const topic = new InProcessTopic();
  const records: SNSEventRecord[] = [];
  topic.subscribe(async (event) => {
    records.push(...event.Records);
  });
  return {
    publisher: topic,
    delivered: async () => {
      await topic.drain();
      return records;
    },
    failNextTransient: () => topic.failNext(),
  };
});
