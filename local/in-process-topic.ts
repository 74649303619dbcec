import { randomUUID } from 'node:crypto';
import type { SNSEvent } from 'aws-lambda';
import { attributesOf, type TopicCommand } from '../shared/messages/commands.js';
import { contractChecked, type EventPublisher, PublishFailedError } from '../shared/ports/event-publisher.js';
import { snsLambdaEvent } from './emulators/sns/lambda-event.js';

export type TopicSubscriber = (event: SNSEvent) => Promise<void>;

export interface InProcessTopicOptions {
  readonly topicArn?: string;
  readonly region?: string;
  /**
   * At-least-once and unordered, on purpose (for tests): every delivery made `duplicates` extra
   * times with the same message id, as SNS and Lambda may; and, with `reorder`, each delivery held
   * back a random number of event-loop turns (up to `reorder`), so commands published close
   * together arrive in another order. Seeded, so a failure can be replayed.
   */
  readonly delivery?: { readonly duplicates?: number; readonly reorder?: number; readonly seed?: number };
}

/**
 * The access topic inside one process, for the local stack: `publish` answers once the command
 * is recorded, then each subscriber gets it as the SNSEvent Lambda would, asynchronously, like
 * SNS. A subscriber that throws is invoked again `redeliverOnError` times (Lambda's retries).
 */
export class InProcessTopic implements EventPublisher {
  readonly topicArn: string;
  private readonly region: string;
  private readonly subscribers = new Map<string, { handler: TopicSubscriber; redeliverOnError: number }>();
  private readonly inFlight = new Set<Promise<void>>();
  private readonly commands: TopicCommand[] = [];
  /** Deliveries whose every attempt threw: what Lambda would send to the failure destination. */
  readonly deadLetters: { readonly event: SNSEvent; readonly error: unknown }[] = [];
  /** Every subscriber invocation that threw, retried ones included. */
  readonly failedAttempts: { readonly event: SNSEvent; readonly error: unknown }[] = [];
  private failures = 0;
  private readonly copies: number;
  private readonly reorder: number;
  private readonly random: () => number;

  constructor(options: InProcessTopicOptions = {}) {
    this.region = options.region ?? 'us-east-1';
    this.copies = 1 + Math.max(0, options.delivery?.duplicates ?? 0);
    this.reorder = Math.max(0, options.delivery?.reorder ?? 0);
    this.random = seeded(options.delivery?.seed ?? 1);
    this.topicArn = options.topicArn ?? `arn:aws:sns:${this.region}:000000000000:jit-access-commands`;
  }

  subscribe(handler: TopicSubscriber, options: { redeliverOnError?: number } = {}): () => void {
    const arn = `${this.topicArn}:${randomUUID()}`;
    this.subscribers.set(arn, { handler, redeliverOnError: options.redeliverOnError ?? 0 });
    return () => this.subscribers.delete(arn);
  }

  /** The next `count` publishes fail as an unreachable topic does. */
  failNext(count = 1): void {
    this.failures += count;
  }

  /** Forgets what was published and failed; subscribers stay. Call drain() first. */
  reset(): void {
    this.commands.length = 0;
    this.deadLetters.length = 0;
    this.failedAttempts.length = 0;
    this.failures = 0;
  }

  /** Every command the topic accepted, in order. */
  published(): readonly TopicCommand[] {
    return this.commands;
  }

  async publish(command: TopicCommand): Promise<void> {
    contractChecked(command);
    if (this.failures > 0) {
      this.failures -= 1;
      throw new PublishFailedError(command.type, {
        cause: new Error('the in-process topic was told to fail'),
      });
    }
    this.commands.push(command);
    const { type, version } = attributesOf(command);
    const notification = {
      topicArn: this.topicArn,
      messageId: randomUUID(),
      message: JSON.stringify(command),
      at: new Date(),
      attributes: {
        type: { DataType: 'String', StringValue: type },
        version: { DataType: 'String', StringValue: version },
      },
      region: this.region,
    };
    for (const [subscriptionArn, subscriber] of this.subscribers) {
      for (let copy = 0; copy < this.copies; copy++) {
        const turns = this.reorder > 0 ? Math.floor(this.random() * (this.reorder + 1)) : 0;
        const delivery = this.deliver(
          subscriber,
          () => snsLambdaEvent({ ...notification, subscriptionArn }),
          turns,
        );
        this.inFlight.add(delivery);
        void delivery.finally(() => this.inFlight.delete(delivery));
      }
    }
  }

  /** Resolves once every delivery in flight (and any they publish meanwhile) has settled. */
  async drain(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  private async deliver(
    subscriber: { handler: TopicSubscriber; redeliverOnError: number },
    event: () => SNSEvent,
    heldTurns: number,
  ): Promise<void> {
    // After publish has answered, as SNS delivers.
    for (let turn = 0; turn <= heldTurns; turn++) await new Promise((resolve) => setImmediate(resolve));
    for (let attempt = 0; ; attempt++) {
      const invocation = event();
      try {
        await subscriber.handler(invocation);
        return;
      } catch (error) {
        this.failedAttempts.push({ event: invocation, error });
        // Lambda's async retries; after the last one the command goes to the failure destination.
        if (attempt >= subscriber.redeliverOnError) {
          this.deadLetters.push({ event: invocation, error });
          return;
        }
      }
    }
  }
}

/** mulberry32: a small seeded generator, so a reordering can be replayed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
