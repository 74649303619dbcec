import { describe, expect, it } from 'vitest';
import {
  type HttpEvent,
  slackSignature,
  verifySlackRequest,
} from '../../../shared/adapters/slack/request-verification.js';

const SECRET = 'test-signing-secret-0123456789abcdef';
const NOW = new Date('2026-11-21T10:00:00Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const SLASH_BODY = 'team_id=T0TEAM&user_id=U0ALICE&command=%2Frequest_mysql_access&text=help';
const policy = { signingSecret: SECRET, now: () => NOW };

function signed(
  body: string,
  options: { timestamp?: number; secret?: string; base64?: boolean } = {},
): HttpEvent {
  const timestamp = String(options.timestamp ?? NOW_SECONDS);
  return {
    body: options.base64 ? Buffer.from(body).toString('base64') : body,
    isBase64Encoded: options.base64 ?? false,
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': slackSignature(options.secret ?? SECRET, timestamp, body),
    },
    requestContext: { http: { method: 'POST' } },
  };
}

const interactivity = (payload: unknown) => `payload=${encodeURIComponent(JSON.stringify(payload))}`;

describe('verifySlackRequest', () => {
  it('matches the signature Slack documents', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(slackSignature('8f742231b10e8888abcd99yyyzzz85a5', '1531420618', body)).toBe(
      'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    );
  });

  it.each([
    ['a plain body', signed(SLASH_BODY)],
    ['a base64 body (Function URLs)', signed(SLASH_BODY, { base64: true })],
    ['a timestamp 299 s old', signed(SLASH_BODY, { timestamp: NOW_SECONDS - 299 })],
    ['a timestamp 299 s ahead', signed(SLASH_BODY, { timestamp: NOW_SECONDS + 299 })],
    [
      'a content type with charset',
      {
        ...signed(SLASH_BODY),
        headers: {
          ...signed(SLASH_BODY).headers,
          'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
        },
      },
    ],
  ])('accepts %s', (_what, event) => {
    const result = verifySlackRequest(event, policy);
    expect(result).toEqual({ ok: true, rawBody: SLASH_BODY, teamId: 'T0TEAM' });
  });

  const tampered = { ...signed(SLASH_BODY), body: SLASH_BODY.replace('help', 'orders+write+1d+x') };
  const headerless = {
    ...signed(SLASH_BODY),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
  const uppercaseSignature = {
    ...signed(SLASH_BODY),
    headers: {
      ...signed(SLASH_BODY).headers,
      'x-slack-signature': String(signed(SLASH_BODY).headers?.['x-slack-signature']).toUpperCase(),
    },
  };

  it.each([
    [
      'a forged signature (wrong secret)',
      signed(SLASH_BODY, { secret: 'another-secret-0123456789abcdef' }),
      401,
      'signature mismatch',
    ],
    ['a tampered body', tampered, 401, 'signature mismatch'],
    ['no signature headers', headerless, 401, 'missing or malformed timestamp'],
    ['a malformed signature', uppercaseSignature, 401, 'missing or malformed signature'],
    [
      'a stale timestamp (301 s old)',
      signed(SLASH_BODY, { timestamp: NOW_SECONDS - 301 }),
      401,
      'timestamp 301s in the past',
    ],
    [
      'a future timestamp (301 s ahead)',
      signed(SLASH_BODY, { timestamp: NOW_SECONDS + 301 }),
      401,
      'timestamp 301s in the future',
    ],
    [
      'a far-future timestamp',
      signed(SLASH_BODY, { timestamp: NOW_SECONDS + 86_400 * 365 }),
      401,
      'in the future',
    ],
    ['a GET', { ...signed(SLASH_BODY), requestContext: { http: { method: 'GET' } } }, 405, 'method GET'],
    [
      'a JSON body',
      {
        ...signed(SLASH_BODY),
        headers: { ...signed(SLASH_BODY).headers, 'content-type': 'application/json' },
      },
      415,
      'content type application/json',
    ],
    ['an oversized body', signed(`team_id=T0TEAM&text=${'a'.repeat(70_000)}`), 413, 'body of'],
    ['a signed payload that is not JSON', signed('payload=%7Bnot-json'), 400, 'payload is not valid JSON'],
  ])('refuses %s', (_what, event, statusCode, reason) => {
    const result = verifySlackRequest(event, policy);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.statusCode).toBe(statusCode);
    expect(result.reason).toContain(reason);
  });

  it('never puts the signature or the body in its reason', () => {
    const event = signed(SLASH_BODY, { secret: 'another-secret-0123456789abcdef' });
    const result = verifySlackRequest(event, policy);
    expect(JSON.stringify(result)).not.toContain(String(event.headers?.['x-slack-signature']).slice(3, 20));
    expect(JSON.stringify(result)).not.toContain('request_mysql_access');
  });

  describe('with SLACK_TEAM_ID set', () => {
    const teamPolicy = { ...policy, teamId: 'T0TEAM' };
    it.each([
      ['a slash command from the workspace', signed(SLASH_BODY), true],
      ['a slash command from another workspace', signed(SLASH_BODY.replace('T0TEAM', 'T0OTHER')), false],
      ['a slash command without team', signed('user_id=U0ALICE&text=help'), false],
      [
        'a button click from the workspace',
        signed(
          interactivity({
            type: 'block_actions',
            team: { id: 'T0TEAM' },
            user: { id: 'U1', team_id: 'T0TEAM' },
          }),
        ),
        true,
      ],
      [
        'a button click from another workspace',
        signed(interactivity({ type: 'block_actions', team: { id: 'T0OTHER' }, user: { id: 'U1' } })),
        false,
      ],
      [
        'a view submission carrying the team only on the user',
        signed(interactivity({ type: 'view_submission', team: null, user: { id: 'U1', team_id: 'T0TEAM' } })),
        true,
      ],
    ])('%s → accepted: %s', (_what, event, accepted) => {
      const result = verifySlackRequest(event, teamPolicy);
      expect(result.ok).toBe(accepted);
      if (!result.ok) expect(result.statusCode).toBe(403);
    });
  });
});
