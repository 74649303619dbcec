import { createHmac, randomUUID } from 'node:crypto';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock } from '../../../shared/ports/clock.js';

/**
 * Outbound webhooks the way Jira Cloud sends admin webhooks (Settings → System → WebHooks, or
 * /rest/webhooks/1.0/webhook), from https://developer.atlassian.com/cloud/jira/platform/webhooks/:
 *
 * - a POST of the JSON event; with a secret, `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`
 *   (WebSub's `method=signature`);
 * - `X-Atlassian-Webhook-Identifier`, unique within the site and the same across retries;
 * - `X-Atlassian-Webhook-Flow: Primary` (the event itself, not the fallout of a bulk change);
 * - retries on 408, 409, 425, 429, any 5xx, and a failed or timed-out connection, with
 *   `X-Atlassian-Webhook-Retry: <n>` on the n-th retry; Jira Cloud gives up after five retries.
 *   Any other answer ends the delivery: 2xx delivered, anything else failed and not retried.
 *
 * Jira spaces retries minutes apart; the emulator waits `retryDelayMs` (default 0) so tests stay fast.
 */

/** The events the emulator can raise; registering for another one fails rather than staying silent. */
export const EMULATED_WEBHOOK_EVENTS = [
  'jira:issue_created',
  'jira:issue_updated',
  'comment_created',
] as const;
export type JiraWebhookEvent = (typeof EMULATED_WEBHOOK_EVENTS)[number];

export const DEFAULT_WEBHOOK_EVENTS: readonly JiraWebhookEvent[] = ['jira:issue_updated'];
export const DEFAULT_WEBHOOK_MAX_RETRIES = 5;
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 10_000;
export const WEBHOOK_USER_AGENT = 'Atlassian Webhook HTTP Client';
export const WEBHOOK_CONTENT_TYPE = 'application/json; charset=utf-8';
/** Statuses Jira Cloud retries, besides any 5xx and a connection that fails or times out. */
export const RETRIED_WEBHOOK_STATUSES: readonly number[] = [408, 409, 425, 429];

export interface JiraWebhookRegistration {
  url: string;
  /** When set, every delivery carries X-Hub-Signature: sha256=<hex HMAC-SHA256(secret, raw body)>. */
  secret?: string;
  /** Default ['jira:issue_updated']. Support at least 'jira:issue_updated' and 'comment_created'. */
  events?: string[];
}

export interface JiraWebhookDelivery {
  webhookId: string;
  /** X-Atlassian-Webhook-Identifier, the same across retries and redeliveries. */
  identifier: string;
  /** 1 for the first send, 2.. for retries and redeliveries. */
  attempt: number;
  /** The payload's webhookEvent. */
  event: string;
  /** The raw JSON sent. */
  body: string;
  /** The headers sent, lower-cased. */
  headers: Record<string, string>;
  status: number | 'network_error';
  at: Date;
}

export interface JiraPendingWebhook {
  identifier: string;
  event: string;
  issueKey?: string;
  webhookId: string;
}

export type JiraWebhookDeliveryMode = 'immediate' | 'manual';

export interface JiraWebhookDispatcherOptions {
  mode: JiraWebhookDeliveryMode;
  maxRetries: number;
  retryDelayMs: number;
  timeoutMs: number;
  clock: Clock;
}

/** `sha256=<hex>`: the X-Hub-Signature value for `body` under `secret`. */
export function signWebhookBody(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Whether Jira Cloud tries again after this outcome of an attempt. */
export function isRetriedWebhookOutcome(status: number | 'network_error'): boolean {
  return status === 'network_error' || RETRIED_WEBHOOK_STATUSES.includes(status) || status >= 500;
}

interface RegisteredWebhook {
  id: string;
  url: URL;
  secret: string | undefined;
  events: Set<string>;
}

/** One event on its way to one webhook: a fixed body and identifier, however often it is sent. */
interface Job {
  identifier: string;
  webhook: RegisteredWebhook;
  event: string;
  issueKey: string | undefined;
  body: string;
  attempts: number;
  sent: boolean;
}

/**
 * Holds registrations, the queue of events not sent yet ('manual' mode), the deliveries made, and
 * the attempts in flight. The emulator builds payloads; this sends them.
 */
export class JiraWebhookDispatcher {
  private readonly registered = new Map<string, RegisteredWebhook>();
  private nextWebhookId = 1;
  private queue: Job[] = [];
  private jobs = new Map<string, Job>();
  private made: JiraWebhookDelivery[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  /** Bumped by reset/stop: attempts of an older generation are neither recorded nor retried. */
  private generation = 0;
  private abort = new AbortController();

  constructor(private readonly options: JiraWebhookDispatcherOptions) {
    if (!Number.isInteger(options.maxRetries) || options.maxRetries < 0) {
      throw new Error('webhookMaxRetries must be a non-negative integer');
    }
    if (!(options.retryDelayMs >= 0)) throw new Error('webhookRetryDelayMs must not be negative');
  }

  register(registration: JiraWebhookRegistration): { id: string } {
    let url: URL;
    try {
      url = new URL(registration.url);
    } catch {
      throw new Error(`jira emulator: webhook url ${registration.url} is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new Error(`jira emulator: webhook url ${registration.url} must be http(s)`);
    }
    if (registration.secret !== undefined && registration.secret === '') {
      throw new Error('jira emulator: a webhook secret must not be empty (leave it out instead)');
    }
    const events = registration.events ?? [...DEFAULT_WEBHOOK_EVENTS];
    if (events.length === 0) throw new Error('jira emulator: a webhook needs at least one event');
    for (const event of events) {
      if (!(EMULATED_WEBHOOK_EVENTS as readonly string[]).includes(event)) {
        throw new Error(
          `jira emulator: the webhook event ${event} is not emulated (only ${EMULATED_WEBHOOK_EVENTS.join(', ')})`,
        );
      }
    }
    const id = String(this.nextWebhookId++);
    this.registered.set(id, { id, url, secret: registration.secret, events: new Set(events) });
    return { id };
  }

  unregister(id: string): boolean {
    return this.registered.delete(id);
  }

  /** Whether any webhook listens for `event`: the emulator builds no payload when none does. */
  wants(event: JiraWebhookEvent): boolean {
    for (const webhook of this.registered.values()) if (webhook.events.has(event)) return true;
    return false;
  }

  /**
   * One event raised: one delivery per webhook that listens for it, each with its own identifier.
   * The body is fixed now, so a late or repeated delivery carries the state at the time of the event.
   */
  emit(event: JiraWebhookEvent, payload: Record<string, unknown>, issueKey?: string): void {
    // Jira Cloud delivers webhooks at most a few times and gives up; some are simply never sent.
    if (this.toLose > 0) {
      this.toLose -= 1;
      return;
    }
    const body = JSON.stringify(payload);
    for (const webhook of this.registered.values()) {
      if (!webhook.events.has(event)) continue;
      const job: Job = {
        identifier: randomUUID(),
        webhook,
        event,
        issueKey,
        body,
        attempts: 0,
        sent: false,
      };
      this.jobs.set(job.identifier, job);
      if (this.options.mode === 'manual') this.queue.push(job);
      else this.track(this.run(job, this.generation));
    }
  }

  private toLose = 0;

  /** The next `count` events are never delivered to any webhook: what reconcile must make up for. */
  loseNext(count = 1): void {
    this.toLose += count;
  }

  pending(): JiraPendingWebhook[] {
    return this.queue.map((job) => {
      const entry: JiraPendingWebhook = {
        identifier: job.identifier,
        event: job.event,
        webhookId: job.webhook.id,
      };
      if (job.issueKey !== undefined) entry.issueKey = job.issueKey;
      return entry;
    });
  }

  /** Sends what is queued, one event at a time (each with its retries), in the order asked for. */
  async deliver(order: 'fifo' | 'lifo' = 'fifo'): Promise<void> {
    const batch = order === 'lifo' ? [...this.queue].reverse() : [...this.queue];
    this.queue = [];
    const generation = this.generation;
    const all = (async () => {
      for (const job of batch) {
        if (generation !== this.generation) return;
        await this.run(job, generation);
      }
    })();
    this.track(all);
    await all;
  }

  /** One more attempt of a delivery already sent: same identifier, same body. No retries. */
  async redeliver(identifier: string): Promise<number | 'network_error'> {
    const job = this.jobs.get(identifier);
    if (!job) throw new Error(`jira emulator: no webhook delivery with identifier ${identifier}`);
    if (!job.sent) throw new Error(`jira emulator: webhook ${identifier} has not been sent yet`);
    const attempt = this.attempt(job, this.generation);
    this.track(attempt);
    return attempt;
  }

  deliveries(): JiraWebhookDelivery[] {
    return this.made.map((delivery) => ({
      ...delivery,
      headers: { ...delivery.headers },
      at: new Date(delivery.at),
    }));
  }

  async flush(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.allSettled([...this.inFlight]);
  }

  /** Forgets deliveries and the queue and abandons attempts in flight; keeps registrations. */
  reset(): void {
    this.cancel();
    this.toLose = 0;
    this.queue = [];
    this.jobs = new Map();
    this.made = [];
  }

  /** Abandons attempts in flight and pending retries; what was recorded stays. */
  cancel(): void {
    this.generation += 1;
    this.abort.abort();
    this.abort = new AbortController();
  }

  private track(promise: Promise<unknown>): void {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.inFlight.add(settled);
    void settled.then(() => this.inFlight.delete(settled));
  }

  /** The first attempt and the retries Jira would make after it. Never rejects. */
  private async run(job: Job, generation: number): Promise<void> {
    for (let retry = 0; retry <= this.options.maxRetries; retry++) {
      if (retry > 0 && this.options.retryDelayMs > 0) {
        await new Promise((resolve) => setTimeout(resolve, this.options.retryDelayMs));
      }
      if (generation !== this.generation) return;
      const status = await this.attempt(job, generation);
      if (generation !== this.generation || !isRetriedWebhookOutcome(status)) return;
    }
  }

  private async attempt(job: Job, generation: number): Promise<number | 'network_error'> {
    job.sent = true;
    job.attempts += 1;
    const attempt = job.attempts;
    const headers: Record<string, string> = {
      'content-type': WEBHOOK_CONTENT_TYPE,
      'content-length': String(Buffer.byteLength(job.body, 'utf8')),
      'user-agent': WEBHOOK_USER_AGENT,
      'x-atlassian-webhook-identifier': job.identifier,
      'x-atlassian-webhook-flow': 'Primary',
    };
    if (attempt > 1) headers['x-atlassian-webhook-retry'] = String(attempt - 1);
    if (job.webhook.secret !== undefined)
      headers['x-hub-signature'] = signWebhookBody(job.webhook.secret, job.body);
    const at = this.options.clock.now();
    const status = await post(job.webhook.url, headers, job.body, this.options.timeoutMs, this.abort.signal);
    if (generation === this.generation) {
      this.made.push({
        webhookId: job.webhook.id,
        identifier: job.identifier,
        attempt,
        event: job.event,
        body: job.body,
        headers,
        status,
        at,
      });
    }
    return status;
  }
}

/** A POST on a connection of its own; the status, or 'network_error' for no answer in time. */
function post(
  url: URL,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<number | 'network_error'> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (status: number | 'network_error') => {
      if (settled) return;
      settled = true;
      resolve(status);
    };
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const request = send(
      url,
      { method: 'POST', headers, agent: false, signal, timeout: timeoutMs },
      (response: IncomingMessage) => {
        const status = response.statusCode ?? 0;
        response.on('error', () => finish(status));
        response.on('end', () => finish(status));
        response.on('close', () => finish(status));
        response.resume();
      },
    );
    request.on('timeout', () => request.destroy(new Error('webhook timed out')));
    request.on('error', () => finish('network_error'));
    request.end(body);
  });
}
