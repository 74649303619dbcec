import { createHmac, timingSafeEqual } from 'node:crypto';
import { headerValue } from '../http-headers.js';

/** The parts of a Function URL / API Gateway v2 (or v1) event the gate reads. */
export interface HttpEvent {
  readonly body?: string | null;
  readonly isBase64Encoded?: boolean;
  readonly headers?: Record<string, string | undefined>;
  readonly requestContext?: { readonly http?: { readonly method?: string } };
  readonly httpMethod?: string;
}

export interface VerificationPolicy {
  readonly signingSecret: string;
  readonly now: () => Date;
  /** When set, a request from any other workspace is refused. */
  readonly teamId?: string;
  readonly maxBodyBytes?: number;
  /** Slack's replay window: requests older, or dated further ahead, are refused. */
  readonly windowSeconds?: number;
}

export type Refusal = {
  readonly ok: false;
  readonly statusCode: 400 | 401 | 403 | 405 | 413 | 415;
  /** For logs: says what failed, never echoes the body or the signature. */
  readonly reason: string;
};

export type Verified = {
  readonly ok: true;
  /** The body exactly as signed, decoded from base64 when the event carried it so. */
  readonly rawBody: string;
  readonly teamId?: string;
};

export const DEFAULT_MAX_BODY_BYTES = 64 * 1024;
const DEFAULT_WINDOW_SECONDS = 300;
const SIGNATURE_PATTERN = /^v0=[0-9a-f]{64}$/;

function header(event: HttpEvent, name: string): string | undefined {
  return headerValue(event.headers, name);
}

export function slackSignature(signingSecret: string, timestamp: string, body: string | Buffer): string {
  const hmac = createHmac('sha256', signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(body);
  return `v0=${hmac.digest('hex')}`;
}

/**
 * Checks that a request really comes from Slack, for this workspace, now. The order matters:
 * nothing is parsed until the signature is verified, so an attacker's body is never interpreted.
 */
export function verifySlackRequest(event: HttpEvent, policy: VerificationPolicy): Verified | Refusal {
  const method = event.requestContext?.http?.method ?? event.httpMethod;
  if (method !== undefined && method.toUpperCase() !== 'POST') return refuse(405, `method ${method}`);

  const raw = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (raw.length > (policy.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES))
    return refuse(413, `body of ${raw.length} bytes`);

  const timestamp = header(event, 'x-slack-request-timestamp') ?? '';
  if (!/^\d{1,12}$/.test(timestamp)) return refuse(401, 'missing or malformed timestamp');
  const skew = Math.floor(policy.now().getTime() / 1000) - Number(timestamp);
  const window = policy.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  // Bolt only refuses old timestamps; a far-future one is a replay prepared in advance.
  if (skew > window) return refuse(401, `timestamp ${skew}s in the past`);
  if (skew < -window) return refuse(401, `timestamp ${-skew}s in the future`);

  const signature = header(event, 'x-slack-signature') ?? '';
  if (!SIGNATURE_PATTERN.test(signature)) return refuse(401, 'missing or malformed signature');
  const expected = Buffer.from(slackSignature(policy.signingSecret, timestamp, raw));
  if (!timingSafeEqual(expected, Buffer.from(signature))) return refuse(401, 'signature mismatch');

  const contentType = (header(event, 'content-type') ?? '').split(';')[0]?.trim().toLowerCase();
  if (contentType !== 'application/x-www-form-urlencoded')
    return refuse(415, `content type ${contentType || 'missing'}`);

  const rawBody = raw.toString('utf8');
  const teamId = teamIdOf(rawBody);
  if (teamId === null) return refuse(400, 'payload is not valid JSON');
  if (policy.teamId !== undefined && teamId !== policy.teamId)
    return refuse(403, `team ${teamId ?? 'missing'}`);
  return { ok: true, rawBody, ...(teamId ? { teamId } : {}) };
}

/** The workspace a signed body comes from; `null` when its interactivity payload is not JSON. */
function teamIdOf(rawBody: string): string | undefined | null {
  const form = new URLSearchParams(rawBody);
  const payload = form.get('payload');
  if (payload === null) return form.get('team_id') ?? undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(payload);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null) return null;
  const { team, user } = parsed as { team?: { id?: unknown } | null; user?: { team_id?: unknown } };
  const id = team?.id ?? user?.team_id;
  return typeof id === 'string' ? id : undefined;
}

function refuse(statusCode: Refusal['statusCode'], reason: string): Refusal {
  return { ok: false, statusCode, reason };
}
