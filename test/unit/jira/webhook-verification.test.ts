import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  jiraWebhookSignature,
  verifyJiraWebhook,
} from '../../../shared/adapters/jira/webhook-verification.js';

const SECRET = 'jira-admin-webhook-secret-0123456789';
const TOKEN = 'automation-shared-token-0123456789abcdef';
const BODY = JSON.stringify({ webhookEvent: 'jira:issue_updated', issue: { id: '10042', key: 'DBA-7' } });

function event(headers: Record<string, string>, body = BODY, extra: Record<string, unknown> = {}) {
  return { body, isBase64Encoded: false, headers, requestContext: { http: { method: 'POST' } }, ...extra };
}
const signed = (body = BODY, secret = SECRET) => ({
  'x-hub-signature': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
  'x-atlassian-webhook-identifier': '4f8c1d2e-0001',
});

describe('verifyJiraWebhook', () => {
  it('accepts a body signed with the webhook secret and hands back the exact bytes and identifier', () => {
    expect(verifyJiraWebhook(event(signed()), { secret: SECRET })).toEqual({
      ok: true,
      rawBody: BODY,
      via: 'signature',
      identifier: '4f8c1d2e-0001',
    });
  });

  it('matches the signature format Jira documents (WebSub method=signature)', () => {
    expect(jiraWebhookSignature(SECRET, BODY)).toBe(signed()['x-hub-signature']);
  });

  it('reads a base64-encoded body as the bytes that were signed', () => {
    const body = JSON.stringify({ summary: 'Zugriff für Jürgen ✓' });
    const verified = verifyJiraWebhook(
      event(signed(body), Buffer.from(body).toString('base64'), { isBase64Encoded: true }),
      { secret: SECRET },
    );
    expect(verified).toMatchObject({ ok: true, rawBody: body });
  });

  it.each([
    ['unsigned', {}, BODY, 'no signature'],
    ['forged', { 'x-hub-signature': `sha256=${'ab'.repeat(32)}` }, BODY, 'signature does not match'],
    [
      're-signed with a wrong secret',
      signed(BODY, 'another-secret-0123456789abcdef'),
      BODY,
      'signature does not match',
    ],
    ['signed, then the body changed', signed(), BODY.replace('DBA-7', 'DBA-8'), 'signature does not match'],
    ['signed with sha1', { 'x-hub-signature': `sha1=${'ab'.repeat(20)}` }, BODY, 'malformed signature'],
    ['a signature without its method', { 'x-hub-signature': 'ab'.repeat(32) }, BODY, 'malformed signature'],
  ])('refuses a %s webhook with 401', (_case, headers, body, reason) => {
    expect(verifyJiraWebhook(event(headers, body), { secret: SECRET })).toEqual({
      ok: false,
      statusCode: 401,
      reason,
    });
  });

  it('does not fall back to the token when a signature is present but wrong', () => {
    const headers = { ...signed(BODY, 'wrong-secret-0123456789abcdef'), 'x-jit-access-token': TOKEN };
    expect(verifyJiraWebhook(event(headers), { secret: SECRET, token: TOKEN })).toMatchObject({
      ok: false,
      statusCode: 401,
    });
  });

  it.each([
    ['the right token', TOKEN, true],
    ['a wrong token', `${TOKEN}x`, false],
    ['an empty token', '', false],
  ])('with the Automation alternative, %s is %s', (_case, token, ok) => {
    const verified = verifyJiraWebhook(event({ 'x-jit-access-token': token }), { token: TOKEN });
    expect(verified.ok).toBe(ok);
    if (!ok) expect(verified).toMatchObject({ statusCode: 401 });
  });

  it('refuses a token when only a secret is configured', () => {
    expect(verifyJiraWebhook(event({ 'x-jit-access-token': TOKEN }), { secret: SECRET })).toMatchObject({
      ok: false,
      statusCode: 401,
    });
  });

  it('refuses other methods and oversized bodies before looking at the signature', () => {
    expect(
      verifyJiraWebhook(event(signed(), BODY, { requestContext: { http: { method: 'GET' } } }), {
        secret: SECRET,
      }),
    ).toMatchObject({ statusCode: 405 });
    const big = 'x'.repeat(300 * 1024);
    expect(verifyJiraWebhook(event(signed(big), big), { secret: SECRET })).toMatchObject({ statusCode: 413 });
  });

  it('never reports the signature, token or body in its reason', () => {
    const refusal = verifyJiraWebhook(event(signed(BODY, 'wrong-secret-0123456789abcdef')), {
      secret: SECRET,
    });
    expect(JSON.stringify(refusal)).not.toMatch(/sha256=|DBA-7|wrong-secret/);
  });

  it('cannot be configured without a secret or a token', () => {
    expect(() => verifyJiraWebhook(event(signed()), {})).toThrow(/secret or token/);
  });
});
