import {
  CreateTopicCommand,
  InternalErrorException,
  InvalidParameterException,
  InvalidParameterValueException,
  ListTopicsCommand,
  NotFoundException,
  PublishCommand,
  type PublishCommandInput,
  SNSClient,
  type SNSClientConfig,
  SNSServiceException,
  ThrottledException,
} from '@aws-sdk/client-sns';
import type { SNSEvent } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SnsEmulator } from '../../local/emulators/sns/sns-emulator.js';

// Contract: the real SDK against the emulator. If the SDK changes how it reads the Query
// protocol (error codes, retries, env config), these fail before the ack Lambda's tests do.

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const emulator = new SnsEmulator();
const clients: SNSClient[] = [];
let topicArn: string;

function client(config: SNSClientConfig = {}): SNSClient {
  const created = new SNSClient({ endpoint: emulator.url, region: 'us-east-1', credentials, ...config });
  clients.push(created);
  return created;
}

function publishInput(overrides: Partial<PublishCommandInput> = {}): PublishCommandInput {
  return {
    TopicArn: topicArn,
    Message: JSON.stringify({ type: 'request.submitted', version: 1 }),
    MessageAttributes: {
      type: { DataType: 'String', StringValue: 'request.submitted' },
      version: { DataType: 'String', StringValue: '1' },
    },
    ...overrides,
  };
}

/** The rejection of `promise`, failing the test if it resolves. */
async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

beforeAll(async () => {
  await emulator.start();
  const created = await client().send(new CreateTopicCommand({ Name: 'jit-access-commands' }));
  topicArn = created.TopicArn ?? '';
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await emulator.drain();
  emulator.reset();
});

afterAll(async () => {
  for (const created of clients) created.destroy();
  await emulator.stop();
});

describe('CreateTopic / ListTopics', () => {
  it('returns the documented ARN and is idempotent by name', async () => {
    expect(topicArn).toBe('arn:aws:sns:us-east-1:000000000000:jit-access-commands');
    const again = await client().send(new CreateTopicCommand({ Name: 'jit-access-commands' }));
    expect(again.TopicArn).toBe(topicArn);
    expect(again.$metadata.httpStatusCode).toBe(200);
    expect(again.$metadata.requestId).toMatch(UUID);
  });

  it('lists the topics', async () => {
    const listed = await client().send(new ListTopicsCommand({}));
    expect(listed.Topics).toContainEqual({ TopicArn: topicArn });
    expect(listed.NextToken).toBeUndefined();
  });

  it('rejects an invalid name with InvalidParameterException', async () => {
    const error = await rejectionOf(client().send(new CreateTopicCommand({ Name: 'no spaces allowed' })));
    expect(error).toBeInstanceOf(InvalidParameterException);
  });
});

describe('Publish', () => {
  it('returns a MessageId and records the message and attributes exactly', async () => {
    const input = publishInput({ Subject: 'Access request' });
    const output = await client().send(new PublishCommand(input));

    expect(output.MessageId).toMatch(UUID);
    expect(output.SequenceNumber).toBeUndefined();
    expect(emulator.publishedTo(topicArn)).toHaveLength(1);
    const [recorded] = emulator.published;
    expect(recorded).toStrictEqual({
      topicArn,
      messageId: output.MessageId,
      message: input.Message,
      subject: 'Access request',
      attributes: {
        type: { DataType: 'String', StringValue: 'request.submitted' },
        version: { DataType: 'String', StringValue: '1' },
      },
      at: expect.any(Date),
    });
  });

  it('keeps non-ASCII and XML-special characters intact', async () => {
    const message = 'Zoë <admin> & "ops" ✓';
    await client().send(new PublishCommand(publishInput({ Message: message })));
    expect(emulator.published[0]?.message).toBe(message);
  });

  it('records Binary and Number attributes', async () => {
    await client().send(
      new PublishCommand(
        publishInput({
          MessageAttributes: {
            blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 255]) },
            count: { DataType: 'Number', StringValue: '42' },
          },
        }),
      ),
    );
    expect(emulator.published[0]?.attributes).toStrictEqual({
      blob: { DataType: 'Binary', BinaryValue: new Uint8Array([0, 1, 255]) },
      count: { DataType: 'Number', StringValue: '42' },
    });
  });

  it('throws NotFoundException (404) for an unknown topic', async () => {
    const unknown = emulator.topicArn('no-such-topic');
    const error = await rejectionOf(client().send(new PublishCommand(publishInput({ TopicArn: unknown }))));
    expect(error).toBeInstanceOf(NotFoundException);
    expect(error).toMatchObject({
      name: 'NotFoundException',
      message: 'Topic does not exist',
      $fault: 'client',
      $metadata: { httpStatusCode: 404, attempts: 1 },
      Error: { Type: 'Sender', Code: 'NotFound', Message: 'Topic does not exist' },
    });
    expect(emulator.published).toHaveLength(0);
  });

  it('throws InvalidParameterException for a message over 256 KB, and accepts one at the limit', async () => {
    const tooLong = await rejectionOf(
      client().send(new PublishCommand({ TopicArn: topicArn, Message: 'x'.repeat(262_145) })),
    );
    expect(tooLong).toBeInstanceOf(InvalidParameterException);
    expect(tooLong).toMatchObject({
      message: 'Invalid parameter: Message too long',
      $metadata: { httpStatusCode: 400 },
    });

    await client().send(new PublishCommand({ TopicArn: topicArn, Message: 'x'.repeat(262_144) }));
    expect(emulator.published).toHaveLength(1);
  });

  it('counts attributes towards the 256 KB limit', async () => {
    // 262,144 - len("type") - len("String") - len("request.submitted") - len("version") - len("String") - len("1")
    const room = 262_144 - 4 - 6 - 17 - 7 - 6 - 1;
    await client().send(new PublishCommand(publishInput({ Message: 'x'.repeat(room) })));
    const error = await rejectionOf(
      client().send(new PublishCommand(publishInput({ Message: 'x'.repeat(room + 1) }))),
    );
    expect(error).toBeInstanceOf(InvalidParameterException);
  });

  it('throws InvalidParameterException for a missing or empty Message', async () => {
    for (const Message of [undefined, '']) {
      const error = await rejectionOf(client().send(new PublishCommand({ TopicArn: topicArn, Message })));
      expect(error).toBeInstanceOf(InvalidParameterException);
      expect(error).toMatchObject({ message: 'Invalid parameter: Empty message' });
    }
  });

  it('throws InvalidParameterValueException for more than 10 attributes or a bad attribute', async () => {
    const eleven = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [`a${i}`, { DataType: 'String', StringValue: 'v' }]),
    );
    const tooMany = await rejectionOf(
      client().send(new PublishCommand(publishInput({ MessageAttributes: eleven }))),
    );
    expect(tooMany).toBeInstanceOf(InvalidParameterValueException);
    expect(tooMany).toMatchObject({ $metadata: { httpStatusCode: 400 } });

    const notANumber = await rejectionOf(
      client().send(
        new PublishCommand(
          publishInput({ MessageAttributes: { n: { DataType: 'Number', StringValue: 'abc' } } }),
        ),
      ),
    );
    expect(notANumber).toBeInstanceOf(InvalidParameterValueException);

    const empty = await rejectionOf(
      client().send(
        new PublishCommand(
          publishInput({ MessageAttributes: { s: { DataType: 'String', StringValue: '' } } }),
        ),
      ),
    );
    expect(empty).toBeInstanceOf(InvalidParameterValueException);
    expect(emulator.published).toHaveLength(0);
  });

  it('enforces FIFO rules and deduplicates within the window', async () => {
    const fifo = await client().send(
      new CreateTopicCommand({ Name: 'commands.fifo', Attributes: { FifoTopic: 'true' } }),
    );
    const fifoArn = fifo.TopicArn ?? '';
    expect(fifoArn).toBe('arn:aws:sns:us-east-1:000000000000:commands.fifo');

    const noGroup = await rejectionOf(client().send(new PublishCommand({ TopicArn: fifoArn, Message: 'm' })));
    expect(noGroup).toBeInstanceOf(InvalidParameterException);

    const first = await client().send(
      new PublishCommand({
        TopicArn: fifoArn,
        Message: 'm',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd1',
      }),
    );
    const duplicate = await client().send(
      new PublishCommand({
        TopicArn: fifoArn,
        Message: 'm',
        MessageGroupId: 'g',
        MessageDeduplicationId: 'd1',
      }),
    );
    expect(first.SequenceNumber).toMatch(/^\d{20}$/);
    expect(duplicate.MessageId).toBe(first.MessageId);
    expect(emulator.publishedTo(fifoArn)).toHaveLength(1);
    expect(emulator.published[0]).toMatchObject({ messageGroupId: 'g', messageDeduplicationId: 'd1' });

    const dedupOnStandard = await rejectionOf(
      client().send(new PublishCommand(publishInput({ MessageDeduplicationId: 'd1' }))),
    );
    expect(dedupOnStandard).toBeInstanceOf(InvalidParameterException);
  });
});

describe('failure injection and the SDK retry strategy', () => {
  it('retries an injected 500, then succeeds', async () => {
    emulator.failNext(1, 'internal');
    const output = await client().send(new PublishCommand(publishInput()));
    expect(output.$metadata.attempts).toBe(2);
    expect(emulator.requests.map((r) => [r.status, r.sdkAttempt])).toEqual([
      [500, 'attempt=1; max=3'],
      [200, 'attempt=2; max=3'],
    ]);
    expect(emulator.published).toHaveLength(1);
  });

  it('surfaces InternalErrorException after the standard 3 attempts', async () => {
    emulator.failNext(3, 'internal');
    const error = await rejectionOf(client().send(new PublishCommand(publishInput())));
    expect(error).toBeInstanceOf(InternalErrorException);
    expect(error).toMatchObject({
      $fault: 'server',
      $metadata: { httpStatusCode: 500, attempts: 3 },
      Error: { Type: 'Receiver', Code: 'InternalError' },
    });
    expect(emulator.requests).toHaveLength(3);
    expect(emulator.published).toHaveLength(0);
  });

  it('honours maxAttempts and only fails the targeted action', async () => {
    emulator.failNext(1, 'internal', { action: 'Publish' });
    await client().send(new ListTopicsCommand({}));
    const error = await rejectionOf(client({ maxAttempts: 1 }).send(new PublishCommand(publishInput())));
    expect(error).toMatchObject({ $metadata: { attempts: 1 } });
  });

  it('maps throttling to ThrottledException (429) and Throttling to a retryable base exception', async () => {
    emulator.failNext(1, 'throttled');
    const throttled = await rejectionOf(client({ maxAttempts: 1 }).send(new PublishCommand(publishInput())));
    expect(throttled).toBeInstanceOf(ThrottledException);
    expect(throttled).toMatchObject({ $metadata: { httpStatusCode: 429 } });

    emulator.failNext(1, 'rate-exceeded');
    const rateExceeded = await rejectionOf(
      client({ maxAttempts: 1 }).send(new PublishCommand(publishInput())),
    );
    expect(rateExceeded).toBeInstanceOf(SNSServiceException);
    expect(rateExceeded).toMatchObject({ name: 'Throttling', message: 'Rate exceeded' });

    // Throttling backs off from a 1 s base (500 ms-ish jitter), so retry it once only.
    emulator.failNext(1, 'throttled');
    const output = await client().send(new PublishCommand(publishInput()));
    expect(output.$metadata.attempts).toBe(2);
  });

  it('retries a dropped connection', async () => {
    emulator.failNext(1, 'network');
    const output = await client().send(new PublishCommand(publishInput()));
    expect(output.$metadata.attempts).toBe(2);
    expect(emulator.requests[0]?.status).toBeNull();

    emulator.failNext(3, 'network');
    const error = await rejectionOf(client().send(new PublishCommand(publishInput())));
    expect(error).toMatchObject({ code: 'ECONNRESET', $metadata: { attempts: 3 } });
  });

  it('lets a slow answer time out while the message still gets published', async () => {
    emulator.setLatency(500);
    const error = await rejectionOf(
      client().send(new PublishCommand(publishInput()), { abortSignal: AbortSignal.timeout(100) }),
    );
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(emulator.published).toHaveLength(1);
  });
});

describe('AWS_ENDPOINT_URL_SNS', () => {
  it('is honoured by a client built without an endpoint', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', emulator.url);
    const fromEnv = new SNSClient({ region: 'us-east-1', credentials });
    clients.push(fromEnv);
    const output = await fromEnv.send(new PublishCommand(publishInput()));
    expect(emulator.published[0]?.messageId).toBe(output.MessageId);
  });

  it('is read at the first request, not at construction', async () => {
    const early = new SNSClient({ region: 'us-east-1', credentials });
    clients.push(early);
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', emulator.url);
    await early.send(new PublishCommand(publishInput()));
    expect(emulator.published).toHaveLength(1);
  });

  it('loses to an explicit endpoint', async () => {
    vi.stubEnv('AWS_ENDPOINT_URL_SNS', 'http://127.0.0.1:1');
    await client().send(new PublishCommand(publishInput()));
    expect(emulator.published).toHaveLength(1);
  });
});

describe('subscriptions', () => {
  it('delivers an SNSEvent shaped like Lambda receives, after answering the publisher', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const events: SNSEvent[] = [];
    const subscription = emulator.subscribe(topicArn, async (event) => {
      events.push(event);
      await gate;
    });
    try {
      // The handler blocks on the gate, so resolving proves the publisher was not kept waiting.
      const output = await client().send(new PublishCommand(publishInput()));
      release();
      await emulator.drain();

      expect(events).toHaveLength(1);
      const [record] = events[0]?.Records ?? [];
      expect(record).toStrictEqual({
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: subscription.subscriptionArn,
        Sns: {
          Type: 'Notification',
          MessageId: output.MessageId,
          TopicArn: topicArn,
          Subject: null,
          Message: JSON.stringify({ type: 'request.submitted', version: 1 }),
          Timestamp: emulator.published[0]?.at.toISOString(),
          SignatureVersion: '1',
          Signature: expect.any(String),
          SigningCertUrl: expect.stringMatching(/^https:\/\/sns\.us-east-1\.amazonaws\.com\/.+\.pem$/),
          UnsubscribeUrl: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${subscription.subscriptionArn}`,
          MessageAttributes: {
            type: { Type: 'String', Value: 'request.submitted' },
            version: { Type: 'String', Value: '1' },
          },
        },
      });
      expect(subscription.subscriptionArn).toMatch(new RegExp(`^${topicArn}:[0-9a-f-]{36}$`));
      expect(emulator.deliveries).toMatchObject([{ ok: true, attempt: 1, messageId: output.MessageId }]);
    } finally {
      release();
      subscription.unsubscribe();
    }
  });

  it('records a throwing handler and redelivers when asked', async () => {
    const boom = new Error('worker failed');
    let calls = 0;
    const subscription = emulator.subscribe(
      topicArn,
      async () => {
        calls += 1;
        throw boom;
      },
      { redeliverOnError: 2 },
    );
    try {
      await client().send(new PublishCommand(publishInput()));
      await emulator.drain();
      expect(calls).toBe(3);
      expect(emulator.deliveryErrors.map((d) => [d.attempt, d.error])).toEqual([
        [1, boom],
        [2, boom],
        [3, boom],
      ]);
    } finally {
      subscription.unsubscribe();
    }
  });

  it('does not deliver when the publish failed', async () => {
    const handler = vi.fn(async () => {});
    const subscription = emulator.subscribe(topicArn, handler);
    try {
      emulator.failNext(3, 'internal');
      await rejectionOf(client().send(new PublishCommand(publishInput())));
      await emulator.drain();
      expect(handler).not.toHaveBeenCalled();
    } finally {
      subscription.unsubscribe();
    }
  });
});
