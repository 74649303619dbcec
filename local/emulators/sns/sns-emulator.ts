import { createHash, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SNSEvent } from 'aws-lambda';
import { snsLambdaEvent } from './lambda-event.js';

/**
 * A local Amazon SNS endpoint for tests and benchmarks: speaks enough of the SNS Query API
 * (CreateTopic, Publish, ListTopics) that the real `@aws-sdk/client-sns` works against it
 * unchanged, records what was published, injects failures, and delivers to in-process
 * "Lambda" subscribers with the event shape Lambda really receives.
 */

export type SnsAction = 'CreateTopic' | 'Publish' | 'ListTopics';

/**
 * - `internal`: 500 `InternalError` (SDK: `InternalErrorException`, retried as transient).
 * - `throttled`: 429 `Throttled`, what the SNS model declares for Publish (SDK: `ThrottledException`).
 * - `rate-exceeded`: 400 `Throttling` "Rate exceeded", the generic AWS front-door throttle; SNS's
 *   model has no shape for it, so the SDK raises a plain `SNSServiceException` named `Throttling`.
 * - `network`: the socket is destroyed without an answer (SDK sees ECONNRESET, retried).
 */
export type SnsFailureKind = 'internal' | 'throttled' | 'rate-exceeded' | 'network';

export interface SnsMessageAttributeValue {
  DataType: string;
  StringValue?: string;
  BinaryValue?: Uint8Array;
}

export interface PublishedSnsMessage {
  topicArn: string;
  messageId: string;
  /** Exactly what the publisher sent, before any MessageStructure=json unpacking. */
  message: string;
  subject?: string;
  attributes: Record<string, SnsMessageAttributeValue>;
  messageStructure?: 'json';
  messageGroupId?: string;
  messageDeduplicationId?: string;
  /** FIFO topics only. */
  sequenceNumber?: string;
  at: Date;
}

export interface SnsRequestRecord {
  action: string;
  /** HTTP status answered, or null when the socket was destroyed (`network` failure). */
  status: number | null;
  /** The Query error `Code` when the answer was an error. */
  errorCode?: string;
  /** The SDK's `amz-sdk-request` header, e.g. "attempt=2; max=3": shows its retries. */
  sdkAttempt?: string;
  at: Date;
}

export interface SnsDeliveryRecord {
  subscriptionArn: string;
  topicArn: string;
  messageId: string;
  /** 1 for the first invocation, 2+ for redeliveries. */
  attempt: number;
  ok: boolean;
  error?: unknown;
  at: Date;
}

export type SnsSubscriber = (event: SNSEvent) => Promise<void>;

export interface SnsSubscribeOptions {
  /**
   * Invoke again this many times after the handler throws, like Lambda's async retries
   * (Lambda's default is 2). Default 0: the error is only recorded.
   */
  redeliverOnError?: number;
}

export interface SnsSubscription {
  readonly subscriptionArn: string;
  readonly topicArn: string;
  unsubscribe(): void;
}

export interface SnsEmulatorOptions {
  /** Default 'us-east-1'. */
  region?: string;
  /** Default '000000000000', the conventional placeholder account of local AWS emulators. */
  accountId?: string;
  /**
   * Publish rejects more attributes than this with 400 ParameterValueInvalid. Default 10.
   * Real SNS accepts more at Publish time and silently drops such messages for raw-delivery SQS
   * subscribers; failing loudly here catches that before it is a lost message in production.
   */
  maxMessageAttributes?: number;
}

export interface FailNextOptions {
  /** Only fail requests for this action; others pass untouched. Default: any action. */
  action?: SnsAction;
}

const XMLNS = 'http://sns.amazonaws.com/doc/2010-03-31/';
// Message body plus attribute names, types and values; Subject does not count (as in SNS).
const MAX_PUBLISH_BYTES = 262_144;
// Generous next to MAX_PUBLISH_BYTES because form encoding can triple a message's size.
const MAX_REQUEST_BYTES = 8 * 1024 * 1024;
const LIST_TOPICS_PAGE_SIZE = 100;
const FIFO_DEDUPLICATION_WINDOW_MS = 5 * 60_000;
const MAX_SUBJECT_LENGTH = 100;
const TOPIC_NAME = /^[A-Za-z0-9_-]{1,256}$/;
const FIFO_TOPIC_NAME = /^[A-Za-z0-9_-]{1,251}\.fifo$/;
const TOPIC_ARN = /^arn:aws[a-z-]*:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_.-]+)$/;
const ATTRIBUTE_NAME = /^[A-Za-z0-9_.-]{1,256}$/;
const ATTRIBUTE_TYPE = /^(String|Number|Binary)(\..+)?$/;
// Loose on purpose: SNS's own rule (range and precision) matters less than rejecting non-numbers.
const NUMBER = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** An answer SNS gives for a request it understood but refuses; becomes an ErrorResponse. */
class SnsQueryError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly type: 'Sender' | 'Receiver' = 'Sender',
  ) {
    super(message);
    this.name = 'SnsQueryError';
  }
}

const invalidParameter = (message: string) => new SnsQueryError(400, 'InvalidParameter', message);
// Query code ParameterValueInvalid is what the SDK maps to InvalidParameterValueException.
const invalidParameterValue = (message: string) => new SnsQueryError(400, 'ParameterValueInvalid', message);

interface Topic {
  arn: string;
  name: string;
  fifo: boolean;
  attributes: Map<string, string>;
  nextSequenceNumber: bigint;
}

interface Subscription {
  arn: string;
  topicArn: string;
  handler: SnsSubscriber;
  redeliverOnError: number;
}

interface DeduplicatedPublish {
  messageId: string;
  sequenceNumber: string;
  expiresAt: number;
}

type Outcome =
  { kind: 'answer'; status: number; body: string; errorCode?: string } | { kind: 'destroy-socket' };

interface QueuedFailure {
  kind: SnsFailureKind;
  remaining: number;
  action?: SnsAction;
}

export class SnsEmulator {
  readonly region: string;
  readonly accountId: string;
  /** Accepted publishes in order. Cleared in place by reset(), so a held reference stays live. */
  readonly published: PublishedSnsMessage[] = [];
  /** Every request answered (or dropped), failures included. */
  readonly requests: SnsRequestRecord[] = [];
  /** Every subscriber invocation with its outcome. */
  readonly deliveries: SnsDeliveryRecord[] = [];

  private readonly maxMessageAttributes: number;
  private readonly topics = new Map<string, Topic>();
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly deduplication = new Map<string, DeduplicatedPublish>();
  private readonly inFlight = new Set<Promise<void>>();
  private failures: QueuedFailure[] = [];
  private latencyMs = 0;
  private server: Server | undefined;
  private port: number | undefined;

  constructor(options: SnsEmulatorOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.maxMessageAttributes = options.maxMessageAttributes ?? 10;
  }

  /** http://127.0.0.1:<port>, for the SDK's `endpoint` or AWS_ENDPOINT_URL_SNS. */
  get url(): string {
    if (this.port === undefined) throw new Error('SnsEmulator is not started');
    return `http://127.0.0.1:${this.port}`;
  }

  get deliveryErrors(): SnsDeliveryRecord[] {
    return this.deliveries.filter((delivery) => !delivery.ok);
  }

  async start(): Promise<void> {
    if (this.server) throw new Error('SnsEmulator is already started');
    const server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent && !res.destroyed) {
          const failure = new SnsQueryError(
            500,
            'InternalFailure',
            `emulator bug: ${String(error)}`,
            'Receiver',
          );
          res.writeHead(500, { 'content-type': 'text/xml' }).end(errorXml(failure, randomUUID()));
        }
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  /** Closes the endpoint. In-flight deliveries are not awaited: call drain() first if they matter. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.port = undefined;
    await new Promise<void>((resolve, reject) => {
      server.close((error) => (error ? reject(error) : resolve()));
      // The SDK keeps sockets alive; close() alone would wait for the client to drop them.
      server.closeAllConnections();
    });
  }

  /** The ARN CreateTopic gives a topic of this name here. */
  topicArn(name: string): string {
    return `arn:aws:sns:${this.region}:${this.accountId}:${name}`;
  }

  /** CreateTopic without the SDK, for test setup. Idempotent by name. */
  createTopic(name: string, attributes: Record<string, string> = {}): string {
    return this.createTopicNamed(name, new Map(Object.entries(attributes))).arn;
  }

  publishedTo(topicArn: string): PublishedSnsMessage[] {
    return this.published.filter((message) => message.topicArn === topicArn);
  }

  /**
   * Forgets messages, requests, deliveries, queued failures, latency and FIFO deduplication.
   * Topics and subscriptions survive (suites usually create them once) unless `topics` is set.
   */
  reset(options: { topics?: boolean } = {}): void {
    this.published.length = 0;
    this.requests.length = 0;
    this.deliveries.length = 0;
    this.failures = [];
    this.latencyMs = 0;
    this.deduplication.clear();
    if (options.topics) {
      this.topics.clear();
      this.subscriptions.clear();
    }
  }

  /** The next `count` matching requests fail as `kind` instead of being processed. Calls queue up. */
  failNext(count: number, kind: SnsFailureKind, options: FailNextOptions = {}): void {
    if (!Number.isInteger(count) || count < 1)
      throw new RangeError(`count must be a positive integer: ${count}`);
    this.failures.push({ kind, remaining: count, ...(options.action ? { action: options.action } : {}) });
  }

  /**
   * Delay every answer by `ms`. The request is processed first, so a client that times out
   * still leaves its message published, as with real SNS: a timeout is not a failed publish.
   */
  setLatency(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`latency must be >= 0: ${ms}`);
    this.latencyMs = ms;
  }

  /**
   * Subscribes an in-process "Lambda" to a topic. After each publish to it has been answered,
   * the handler is invoked asynchronously with an SNSEvent shaped like Lambda's.
   */
  subscribe(topicArn: string, handler: SnsSubscriber, options: SnsSubscribeOptions = {}): SnsSubscription {
    const topic = this.topics.get(topicArn);
    if (!topic) throw new Error(`SnsEmulator.subscribe: topic does not exist: ${topicArn}`);
    // SNS FIFO topics only deliver to SQS; a test wiring a Lambda to one would pass here and fail in AWS.
    if (topic.fifo)
      throw new Error(`SnsEmulator.subscribe: Lambda cannot subscribe to FIFO topic ${topicArn}`);
    const redeliverOnError = options.redeliverOnError ?? 0;
    if (!Number.isInteger(redeliverOnError) || redeliverOnError < 0) {
      throw new RangeError(`redeliverOnError must be a non-negative integer: ${redeliverOnError}`);
    }
    const arn = `${topicArn}:${randomUUID()}`;
    this.subscriptions.set(arn, { arn, topicArn, handler, redeliverOnError });
    return { subscriptionArn: arn, topicArn, unsubscribe: () => this.subscriptions.delete(arn) };
  }

  /** Resolves once every delivery in flight (including ones scheduled meanwhile) has settled. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) {
      await Promise.allSettled([...this.inFlight]);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const requestId = randomUUID();
    // 'close' fires once the answer is flushed or the client went away; deliveries wait for it.
    const responded = new Promise<void>((resolve) => res.once('close', () => resolve()));
    let params: URLSearchParams;
    try {
      params = await readParams(req);
    } catch (error) {
      const tooLarge = new SnsQueryError(413, 'RequestEntityTooLarge', String(error));
      res
        .writeHead(413, { 'content-type': 'text/xml', connection: 'close' })
        .end(errorXml(tooLarge, requestId));
      return;
    }
    const action = params.get('Action') ?? '';
    const outcome = this.process(action, params, requestId, responded);

    const sdkAttempt = req.headers['amz-sdk-request'];
    this.requests.push({
      action,
      status: outcome.kind === 'answer' ? outcome.status : null,
      ...(outcome.kind === 'answer' && outcome.errorCode ? { errorCode: outcome.errorCode } : {}),
      ...(typeof sdkAttempt === 'string' ? { sdkAttempt } : {}),
      at: new Date(),
    });

    if (this.latencyMs > 0) await sleep(this.latencyMs);
    if (res.destroyed) return;
    if (outcome.kind === 'destroy-socket') {
      req.socket.destroy();
      return;
    }
    res
      .writeHead(outcome.status, {
        'content-type': 'text/xml',
        'content-length': Buffer.byteLength(outcome.body),
        'x-amzn-requestid': requestId,
      })
      .end(outcome.body);
  }

  private process(
    action: string,
    params: URLSearchParams,
    requestId: string,
    responded: Promise<void>,
  ): Outcome {
    const failure = this.takeFailure(action);
    try {
      if (failure === 'network') return { kind: 'destroy-socket' };
      if (failure) throw injectedError(failure);
      const body = this.dispatch(action, params, requestId, responded);
      return { kind: 'answer', status: 200, body };
    } catch (error) {
      if (!(error instanceof SnsQueryError)) throw error;
      return {
        kind: 'answer',
        status: error.status,
        body: errorXml(error, requestId),
        errorCode: error.code,
      };
    }
  }

  private takeFailure(action: string): SnsFailureKind | undefined {
    const index = this.failures.findIndex((failure) => !failure.action || failure.action === action);
    const failure = this.failures[index];
    if (!failure) return undefined;
    failure.remaining -= 1;
    if (failure.remaining === 0) this.failures.splice(index, 1);
    return failure.kind;
  }

  private dispatch(
    action: string,
    params: URLSearchParams,
    requestId: string,
    responded: Promise<void>,
  ): string {
    switch (action) {
      case 'CreateTopic': {
        const arn = this.createTopicFromQuery(params);
        return resultXml('CreateTopic', `<TopicArn>${escapeXml(arn)}</TopicArn>`, requestId);
      }
      case 'Publish': {
        const { messageId, sequenceNumber } = this.publish(params, responded);
        const sequence = sequenceNumber ? `<SequenceNumber>${sequenceNumber}</SequenceNumber>` : '';
        return resultXml('Publish', `<MessageId>${messageId}</MessageId>${sequence}`, requestId);
      }
      case 'ListTopics':
        return resultXml('ListTopics', this.listTopics(params.get('NextToken')), requestId);
      case '':
        throw new SnsQueryError(400, 'MissingAction', 'Missing Action');
      default:
        throw new SnsQueryError(
          400,
          'InvalidAction',
          `The action ${action} is not valid for this web service.`,
        );
    }
  }

  private createTopicFromQuery(params: URLSearchParams): string {
    const attributes = new Map<string, string>();
    for (const entry of indexedEntries(params, 'Attributes.entry')) {
      const key = entry.get('key');
      if (!key) throw invalidParameter('Invalid parameter: Attributes');
      attributes.set(key, entry.get('value') ?? '');
    }
    return this.createTopicNamed(params.get('Name') ?? '', attributes).arn;
  }

  private createTopicNamed(name: string, attributes: Map<string, string>): Topic {
    const fifoRequested = attributes.get('FifoTopic')?.toLowerCase() === 'true';
    // Lenient on purpose: a `.fifo` name alone makes a FIFO topic, so setup code needs no attribute.
    const fifo = fifoRequested || name.endsWith('.fifo');
    if (fifo && !FIFO_TOPIC_NAME.test(name)) {
      throw invalidParameter(
        'Invalid parameter: Fifo Topic names must end with .fifo and must be made up of only uppercase and ' +
          'lowercase ASCII letters, numbers, underscores, and hyphens, and must be between 1 and 256 characters long.',
      );
    }
    if (!fifo && !TOPIC_NAME.test(name)) throw invalidParameter('Invalid parameter: Topic Name');

    const arn = this.topicArn(name);
    const existing = this.topics.get(arn);
    if (existing) {
      for (const [key, value] of attributes) {
        if (existing.attributes.get(key) !== value) {
          throw invalidParameter(
            'Invalid parameter: Attributes Reason: Topic already exists with different attributes',
          );
        }
      }
      return existing;
    }
    const topic: Topic = { arn, name, fifo, attributes, nextSequenceNumber: 10_000_000_000_000_000_000n };
    this.topics.set(arn, topic);
    return topic;
  }

  private listTopics(nextToken: string | null): string {
    const arns = [...this.topics.keys()];
    let start = 0;
    if (nextToken !== null) {
      start = Number.parseInt(Buffer.from(nextToken, 'base64url').toString('utf8'), 10);
      if (!Number.isInteger(start) || start < 0 || start > arns.length) {
        throw invalidParameter('Invalid parameter: NextToken');
      }
    }
    const page = arns.slice(start, start + LIST_TOPICS_PAGE_SIZE);
    const members = page.map((arn) => `<member><TopicArn>${escapeXml(arn)}</TopicArn></member>`).join('');
    const end = start + page.length;
    const token =
      end < arns.length ? `<NextToken>${Buffer.from(String(end)).toString('base64url')}</NextToken>` : '';
    return `<Topics>${members}</Topics>${token}`;
  }

  private publish(
    params: URLSearchParams,
    responded: Promise<void>,
  ): { messageId: string; sequenceNumber?: string } {
    const subject = params.get('Subject') ?? undefined;
    if (subject !== undefined) validateSubject(subject);

    const message = params.get('Message');
    if (message === null || message === '') throw invalidParameter('Invalid parameter: Empty message');

    const structure = params.get('MessageStructure');
    if (structure !== null && structure !== 'json')
      throw invalidParameter('Invalid parameter: MessageStructure');
    const delivered = structure === 'json' ? defaultOfJsonStructure(message) : message;

    const topicArn = params.get('TopicArn') ?? params.get('TargetArn');
    if (!topicArn) {
      if (params.get('PhoneNumber'))
        throw invalidParameter('Invalid parameter: PhoneNumber is not supported here');
      throw invalidParameter(
        'Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter',
      );
    }
    if (!TOPIC_ARN.test(topicArn)) throw invalidParameter('Invalid parameter: TopicArn');

    const attributes = this.parseMessageAttributes(params);
    if (publishSize(message, attributes) > MAX_PUBLISH_BYTES) {
      throw invalidParameter('Invalid parameter: Message too long');
    }

    const topic = this.topics.get(topicArn);
    if (!topic) throw new SnsQueryError(404, 'NotFound', 'Topic does not exist');

    const messageGroupId = params.get('MessageGroupId') ?? undefined;
    let messageDeduplicationId = params.get('MessageDeduplicationId') ?? undefined;
    let sequenceNumber: string | undefined;
    if (topic.fifo) {
      if (!messageGroupId) {
        throw invalidParameter('Invalid parameter: The MessageGroupId parameter is required for FIFO topics');
      }
      if (!messageDeduplicationId) {
        if (topic.attributes.get('ContentBasedDeduplication')?.toLowerCase() !== 'true') {
          throw invalidParameter(
            'Invalid parameter: The topic should either have ContentBasedDeduplication enabled or ' +
              'MessageDeduplicationId provided explicitly',
          );
        }
        messageDeduplicationId = createHash('sha256').update(message).digest('hex');
      }
      const duplicate = this.findDuplicate(topic.arn, messageDeduplicationId);
      // SNS accepts a duplicate within the window with the original ids but does not deliver it again.
      if (duplicate) return { messageId: duplicate.messageId, sequenceNumber: duplicate.sequenceNumber };
      sequenceNumber = String(topic.nextSequenceNumber);
      topic.nextSequenceNumber += 1n;
    } else if (messageDeduplicationId) {
      throw invalidParameter(
        'Invalid parameter: MessageDeduplicationId Reason: The request includes MessageDeduplicationId ' +
          'parameter that is not valid for this topic type',
      );
    }

    const record: PublishedSnsMessage = {
      topicArn: topic.arn,
      messageId: randomUUID(),
      message,
      ...(subject !== undefined ? { subject } : {}),
      attributes,
      ...(structure === 'json' ? { messageStructure: 'json' as const } : {}),
      ...(messageGroupId ? { messageGroupId } : {}),
      ...(topic.fifo && messageDeduplicationId ? { messageDeduplicationId } : {}),
      ...(sequenceNumber ? { sequenceNumber } : {}),
      at: new Date(),
    };
    if (topic.fifo && messageDeduplicationId && sequenceNumber) {
      this.deduplication.set(`${topic.arn}\n${messageDeduplicationId}`, {
        messageId: record.messageId,
        sequenceNumber,
        expiresAt: Date.now() + FIFO_DEDUPLICATION_WINDOW_MS,
      });
    }
    this.published.push(record);
    this.scheduleDeliveries(record, delivered, responded);
    return { messageId: record.messageId, ...(sequenceNumber ? { sequenceNumber } : {}) };
  }

  private findDuplicate(topicArn: string, deduplicationId: string): DeduplicatedPublish | undefined {
    const key = `${topicArn}\n${deduplicationId}`;
    const entry = this.deduplication.get(key);
    if (entry && entry.expiresAt <= Date.now()) {
      this.deduplication.delete(key);
      return undefined;
    }
    return entry;
  }

  private parseMessageAttributes(params: URLSearchParams): Record<string, SnsMessageAttributeValue> {
    const entries = indexedEntries(params, 'MessageAttributes.entry');
    if (entries.length > this.maxMessageAttributes) {
      throw invalidParameterValue(
        `Number of message attributes [${entries.length}] exceeds the allowed maximum [${this.maxMessageAttributes}].`,
      );
    }
    const attributes: Record<string, SnsMessageAttributeValue> = {};
    for (const entry of entries) {
      const name = entry.get('Name');
      if (!name)
        throw invalidParameter('Invalid parameter: MessageAttributes Reason: an attribute has no name');
      validateAttributeName(name);
      if (Object.hasOwn(attributes, name)) {
        throw invalidParameterValue(`Message attribute name '${name}' is specified more than once.`);
      }
      attributes[name] = parseAttributeValue(name, entry);
    }
    return attributes;
  }

  private scheduleDeliveries(record: PublishedSnsMessage, delivered: string, responded: Promise<void>): void {
    for (const subscription of this.subscriptions.values()) {
      if (subscription.topicArn !== record.topicArn) continue;
      // Registered before the answer is written, so drain() right after the SDK resolves sees it.
      const delivery: Promise<void> = responded
        .then(() => this.deliver(subscription, record, delivered))
        .finally(() => this.inFlight.delete(delivery));
      this.inFlight.add(delivery);
    }
  }

  private async deliver(
    subscription: Subscription,
    record: PublishedSnsMessage,
    delivered: string,
  ): Promise<void> {
    for (let attempt = 1; attempt <= 1 + subscription.redeliverOnError; attempt += 1) {
      // A fresh event per invocation: a handler that mutates its event cannot affect a retry.
      const event = this.lambdaEvent(subscription, record, delivered);
      const base = {
        subscriptionArn: subscription.arn,
        topicArn: record.topicArn,
        messageId: record.messageId,
        attempt,
      };
      try {
        await subscription.handler(event);
        this.deliveries.push({ ...base, ok: true, at: new Date() });
        return;
      } catch (error) {
        this.deliveries.push({ ...base, ok: false, error, at: new Date() });
      }
    }
  }

  private lambdaEvent(subscription: Subscription, record: PublishedSnsMessage, delivered: string): SNSEvent {
    return snsLambdaEvent({
      subscriptionArn: subscription.arn,
      topicArn: record.topicArn,
      messageId: record.messageId,
      ...(record.subject !== undefined ? { subject: record.subject } : {}),
      message: delivered,
      at: record.at,
      attributes: record.attributes,
      region: this.region,
    });
  }
}

function injectedError(kind: Exclude<SnsFailureKind, 'network'>): SnsQueryError {
  switch (kind) {
    case 'internal':
      return new SnsQueryError(500, 'InternalError', 'Internal Error', 'Receiver');
    case 'throttled':
      return new SnsQueryError(429, 'Throttled', 'Rate exceeded');
    case 'rate-exceeded':
      return new SnsQueryError(400, 'Throttling', 'Rate exceeded');
  }
}

async function readParams(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_REQUEST_BYTES) throw new Error(`request body over ${MAX_REQUEST_BYTES} bytes`);
    chunks.push(buffer);
  }
  const params = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
  // The Query protocol also allows GET with the parameters in the URL.
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  for (const [key, value] of query) {
    if (!params.has(key)) params.set(key, value);
  }
  return params;
}

/** `Prefix.1.Field=…&Prefix.1.Other.Field=…` → one map of fields per index, in index order. */
function indexedEntries(params: URLSearchParams, prefix: string): Map<string, string>[] {
  const byIndex = new Map<number, Map<string, string>>();
  const head = `${prefix}.`;
  for (const [key, value] of params) {
    if (!key.startsWith(head)) continue;
    const rest = key.slice(head.length);
    const dot = rest.indexOf('.');
    const index = Number(rest.slice(0, dot));
    if (dot < 1 || !Number.isInteger(index)) continue;
    let fields = byIndex.get(index);
    if (!fields) {
      fields = new Map();
      byIndex.set(index, fields);
    }
    fields.set(rest.slice(dot + 1), value);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, fields]) => fields);
}

function validateSubject(subject: string): void {
  // Subjects become email headers: ASCII, no line breaks, at most 100 characters.
  const printableAscii = /^[\x20-\x7e]+$/.test(subject);
  if (!printableAscii || subject.length > MAX_SUBJECT_LENGTH)
    throw invalidParameter('Invalid parameter: Subject');
}

function defaultOfJsonStructure(message: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    throw invalidParameter('Invalid parameter: Message Structure - JSON message body failed to parse');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw invalidParameter('Invalid parameter: Message Structure - JSON message body failed to parse');
  }
  const byProtocol = parsed as Record<string, unknown>;
  // A Lambda subscriber gets the "lambda" entry when present, else "default".
  const chosen = byProtocol.lambda ?? byProtocol.default;
  if (typeof byProtocol.default !== 'string') {
    throw invalidParameter('Invalid parameter: Message Structure - No default entry in JSON message body');
  }
  return typeof chosen === 'string' ? chosen : byProtocol.default;
}

function validateAttributeName(name: string): void {
  if (name.startsWith('.') || name.endsWith('.') || name.includes('..')) {
    throw invalidParameterValue(
      `Invalid message attribute name '${name}': no leading, trailing or successive '.'.`,
    );
  }
  if (!ATTRIBUTE_NAME.test(name)) {
    throw invalidParameterValue(
      `Invalid message attribute name '${name}'. Can only include alphanumeric characters, hyphens, underscores, or dots.`,
    );
  }
  const lower = name.toLowerCase();
  if (lower.startsWith('aws.') || lower.startsWith('amazon.')) {
    throw invalidParameterValue(`Message attribute name '${name}' uses a reserved prefix.`);
  }
}

function parseAttributeValue(name: string, entry: Map<string, string>): SnsMessageAttributeValue {
  const dataType = entry.get('Value.DataType');
  if (!dataType) {
    throw invalidParameterValue(
      `The message attribute '${name}' must contain non-empty message attribute type.`,
    );
  }
  const prefix = ATTRIBUTE_TYPE.exec(dataType)?.[1];
  if (!prefix) {
    throw invalidParameterValue(
      `The message attribute '${name}' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.`,
    );
  }
  const field = prefix === 'Binary' ? 'Binary' : 'String';
  const raw = entry.get(`Value.${field}Value`);
  if (raw === undefined) {
    throw invalidParameterValue(
      `The message attribute '${name}' with type '${dataType}' must use field '${field}'.`,
    );
  }
  if (raw === '') {
    throw invalidParameterValue(
      `The message attribute '${name}' must contain non-empty message attribute value for message attribute type '${dataType}'.`,
    );
  }
  if (field === 'Binary')
    return { DataType: dataType, BinaryValue: new Uint8Array(Buffer.from(raw, 'base64')) };
  if (prefix === 'Number' && !NUMBER.test(raw)) {
    throw invalidParameterValue(`Could not cast message attribute '${name}' value to number.`);
  }
  return { DataType: dataType, StringValue: raw };
}

function publishSize(message: string, attributes: Record<string, SnsMessageAttributeValue>): number {
  let size = Buffer.byteLength(message);
  for (const [name, value] of Object.entries(attributes)) {
    size += Buffer.byteLength(name) + Buffer.byteLength(value.DataType);
    size += value.BinaryValue ? value.BinaryValue.byteLength : Buffer.byteLength(value.StringValue ?? '');
  }
  return size;
}

function resultXml(action: SnsAction, result: string, requestId: string): string {
  return (
    `<${action}Response xmlns="${XMLNS}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>`
  );
}

function errorXml(error: SnsQueryError, requestId: string): string {
  return (
    `<ErrorResponse xmlns="${XMLNS}"><Error><Type>${error.type}</Type><Code>${escapeXml(error.code)}</Code>` +
    `<Message>${escapeXml(error.message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`
  );
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => XML_ENTITIES[char] ?? char);
}
