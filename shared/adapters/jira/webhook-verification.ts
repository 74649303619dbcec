import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue, loggableHeader } from '../http-headers.js';
import type { HttpEvent } from '../slack/request-verification.js';

export interface JiraWebhookPolicy {
  /** The secret of an admin webhook: Jira signs each body with it (X-Hub-Signature). */
  readonly secret?: string;
  /**
   * The shared token a Jira Automation "Send web request" action puts in the
   * X-Jit-Access-Token header, for sites that cannot register an admin webhook.
   */
  readonly token?: string;
  readonly maxBodyBytes?: number;
}

export type JiraWebhookRefusal = {
  readonly ok: false;
  readonly statusCode: 401 | 405 | 413;
  /** For logs: what failed, never the body, the signature or the token. */
  readonly reason: string;
};

export type VerifiedJiraWebhook = {
  readonly ok: true;
  readonly rawBody: string;
  readonly via: 'signature' | 'token';
  /** X-Atlassian-Webhook-Identifier: the same on every retry of one delivery. */
  readonly identifier?: string;
};

export const JIRA_SIGNATURE_HEADER = 'x-hub-signature';
export const JIRA_TOKEN_HEADER = 'x-jit-access-token';
export const JIRA_IDENTIFIER_HEADER = 'x-atlassian-webhook-identifier';
export const DEFAULT_MAX_WEBHOOK_BYTES = 256 * 1024;
const SIGNATURE_PATTERN = /^sha256=[0-9a-f]{64}$/i;

function header(event: HttpEvent, name: string): string | undefined {
  return headerValue(event.headers, name);
}

// Atlassian's identifiers are digits or a UUID; anything else is not used (logs, dedupe keys).
const IDENTIFIER_SHAPE = /^[A-Za-z0-9._:-]+$/;

/** `sha256=<hex>`: HMAC-SHA256 of the raw body with the webhook's secret (WebSub's method=signature). */
export function jiraWebhookSignature(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Equal-length digests compared in constant time, so the comparison leaks nothing of the secret. */
function sameSecret(presented: string, expected: string): boolean {
  const a = createHash('sha256').update(presented).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/**
 * Checks that a webhook comes from our Jira before anything of it is read: a valid signature of
 * the exact bytes received when a secret is configured, or else the shared token. Anything else
 * is a 401 and nothing is parsed.
 */
export function verifyJiraWebhook(
  event: HttpEvent,
  policy: JiraWebhookPolicy,
): VerifiedJiraWebhook | JiraWebhookRefusal {
  if (!policy.secret && !policy.token) throw new Error('a webhook secret or token must be configured');
  const method = event.requestContext?.http?.method ?? event.httpMethod;
  if (method !== undefined && method.toUpperCase() !== 'POST') return refuse(405, `method ${method}`);
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > (policy.maxBodyBytes ?? DEFAULT_MAX_WEBHOOK_BYTES)) {
    return refuse(413, `body of ${bytes.length} bytes`);
  }
  const identifier = loggableHeader(header(event, JIRA_IDENTIFIER_HEADER), IDENTIFIER_SHAPE);
  const verified = (via: 'signature' | 'token'): VerifiedJiraWebhook => ({
    ok: true,
    rawBody: bytes.toString('utf8'),
    via,
    ...(identifier ? { identifier } : {}),
  });

  const signature = header(event, JIRA_SIGNATURE_HEADER)?.trim();
  if (policy.secret && signature !== undefined) {
    if (!SIGNATURE_PATTERN.test(signature)) return refuse(401, 'malformed signature');
    return sameSecret(signature.toLowerCase(), jiraWebhookSignature(policy.secret, bytes))
      ? verified('signature')
      : refuse(401, 'signature does not match');
  }
  const token = header(event, JIRA_TOKEN_HEADER);
  if (policy.token && token !== undefined) {
    return sameSecret(token, policy.token) ? verified('token') : refuse(401, 'token does not match');
  }
  return refuse(401, policy.secret ? 'no signature' : 'no token');
}

function refuse(statusCode: JiraWebhookRefusal['statusCode'], reason: string): JiraWebhookRefusal {
  return { ok: false, statusCode, reason };
}
