import { App, AwsLambdaReceiver, LogLevel } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import {
  blockActions,
  computeSlackSignature,
  DEFAULT_COMMAND,
  encodeForm,
  SLACK_FORM_CONTENT_TYPE,
  signRequest,
  slashCommand,
  toLambdaEvent,
  viewSubmission,
} from '../../local/slack/signed-request.js';

// Slack's documented example ("Verifying requests from Slack").
const VECTOR = {
  signingSecret: '8f742231b10e8888abcd99yyyzzz85a5',
  timestamp: 1531420618,
  body: 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c',
  signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
};

const SECRET = 'test-signing-secret-0123456789abcdef';
const TEAM = 'T0JITTEAM01';
const USER = 'U0ALICE0001';

describe('Slack request signing', () => {
  it("reproduces Slack's documented signature", () => {
    expect(computeSlackSignature(VECTOR.body, VECTOR)).toBe(VECTOR.signature);
    expect(signRequest(VECTOR.body, VECTOR)).toEqual({
      'x-slack-signature': VECTOR.signature,
      'x-slack-request-timestamp': '1531420618',
    });
  });

  it("encodes form fields byte for byte as in Slack's example", () => {
    const fields = Object.fromEntries(new URLSearchParams(VECTOR.body));
    expect(encodeForm(fields)).toBe(VECTOR.body);
    expect(encodeForm(Object.entries(fields))).toBe(VECTOR.body);
  });

  it('signs the UTF-8 bytes of a body with non-ASCII text', () => {
    const a = computeSlackSignature('text=café', { signingSecret: 's', timestamp: 1 });
    const b = computeSlackSignature('text=cafe', { signingSecret: 's', timestamp: 1 });
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v0=[0-9a-f]{64}$/);
  });
});

describe('slash command bodies', () => {
  it('has the fields Slack sends, in its order, form-encoded', () => {
    const request = slashCommand({
      text: 'orders-db read 2h because INC-42',
      userId: USER,
      userName: 'alice',
      teamId: TEAM,
      channelId: 'C0GENERAL01',
      triggerId: '1234567890.12345678901.0123456789abcdef',
      responseUrl: 'https://hooks.slack.com/commands/T0JITTEAM01/1/abc',
    });
    expect(request.contentType).toBe('application/x-www-form-urlencoded');
    const fields = [...new URLSearchParams(request.body).keys()];
    expect(fields).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    const decoded = Object.fromEntries(new URLSearchParams(request.body));
    expect(decoded).toMatchObject({
      team_id: TEAM,
      user_id: USER,
      user_name: 'alice',
      command: DEFAULT_COMMAND,
      text: 'orders-db read 2h because INC-42',
      trigger_id: '1234567890.12345678901.0123456789abcdef',
    });
    expect(decoded).toEqual(request.payload);
    // Spaces travel as `+` and the slash of the command is percent-encoded, as Slack does.
    expect(request.body).toContain('text=orders-db+read+2h+because+INC-42');
    expect(request.body).toContain('command=%2Frequest_mysql_access');
  });

  it('fills plausible defaults for what the caller leaves out', () => {
    const { payload } = slashCommand({ text: '', userId: USER, teamId: TEAM, channelId: 'D0DIRECT001' });
    expect(payload.channel_name).toBe('directmessage');
    expect(payload.trigger_id).toMatch(/^\d+\.\d+\.[0-9a-f]+$/);
    expect(payload.response_url).toMatch(/^https:\/\/hooks\.slack\.com\/commands\/T0JITTEAM01\//);
  });
});

describe('interactivity bodies', () => {
  it('sends a view_submission as a single payload field holding JSON', () => {
    const request = viewSubmission({
      view: {
        id: 'V0MODAL0001',
        callback_id: 'request_access',
        private_metadata: '{"channel":"C0GENERAL01"}',
        state: { values: { reason: { reason_input: { type: 'plain_text_input', value: 'INC-42' } } } },
      },
      userId: USER,
      teamId: TEAM,
    });
    const form = new URLSearchParams(request.body);
    expect([...form.keys()]).toEqual(['payload']);
    const payload: unknown = JSON.parse(form.get('payload') ?? '');
    expect(payload).toEqual(request.payload);
    expect(request.payload).toMatchObject({
      type: 'view_submission',
      team: { id: TEAM },
      user: { id: USER, team_id: TEAM },
      view: {
        id: 'V0MODAL0001',
        type: 'modal',
        root_view_id: 'V0MODAL0001',
        callback_id: 'request_access',
        state: { values: { reason: { reason_input: { value: 'INC-42' } } } },
      },
      response_urls: [],
      enterprise: null,
    });
  });

  it('sends block_actions with the container, channel, message and filled-in actions', () => {
    const request = blockActions({
      actions: [{ action_id: 'approve', value: 'REQ-0K2M9Q7X' }],
      userId: 'U0BOB000001',
      teamId: TEAM,
      channel: { id: 'C0APPROVERS', name: 'db-approvers' },
      message: { ts: '1700000000.000100', text: 'Access request REQ-0K2M9Q7X' },
      responseUrl: 'https://hooks.slack.com/actions/T0JITTEAM01/1/abc',
    });
    const payload: unknown = JSON.parse(new URLSearchParams(request.body).get('payload') ?? '');
    expect(payload).toEqual(request.payload);
    expect(request.payload).toMatchObject({
      type: 'block_actions',
      container: {
        type: 'message',
        message_ts: '1700000000.000100',
        channel_id: 'C0APPROVERS',
        is_ephemeral: false,
      },
      channel: { id: 'C0APPROVERS', name: 'db-approvers' },
      message: { type: 'message', ts: '1700000000.000100' },
      response_url: 'https://hooks.slack.com/actions/T0JITTEAM01/1/abc',
      actions: [
        {
          action_id: 'approve',
          value: 'REQ-0K2M9Q7X',
          type: 'button',
          text: { type: 'plain_text', text: 'approve' },
        },
      ],
    });
    const [action] = request.payload.actions;
    expect(action?.block_id).toEqual(expect.any(String));
    expect(action?.action_ts).toMatch(/^\d{10}\.\d{6}$/);
  });

  it('refuses block_actions with neither a message nor a view, which Slack never sends', () => {
    expect(() => blockActions({ actions: [{ action_id: 'x' }], userId: USER, teamId: TEAM })).toThrow(
      /view, or a channel/,
    );
  });
});

describe('Lambda Function URL events', () => {
  const request = slashCommand({
    text: 'orders-db read 1h',
    userId: USER,
    teamId: TEAM,
    channelId: 'C0GENERAL01',
  });

  it('has the HTTP API v2 shape with lower-case headers and a valid signature', () => {
    const event = toLambdaEvent(request, { signingSecret: SECRET, timestamp: 1_700_000_000 });
    expect(event).toMatchObject({
      version: '2.0',
      routeKey: '$default',
      rawPath: '/slack/events',
      rawQueryString: '',
      body: request.body,
      isBase64Encoded: false,
      requestContext: {
        http: { method: 'POST', path: '/slack/events', protocol: 'HTTP/1.1' },
        routeKey: '$default',
        stage: '$default',
        time: '14/Nov/2023:22:13:20 +0000',
        timeEpoch: 1_700_000_000_000,
      },
    });
    for (const name of Object.keys(event.headers)) expect(name).toBe(name.toLowerCase());
    expect(event.headers['content-type']).toBe(SLACK_FORM_CONTENT_TYPE);
    expect(event.headers['x-slack-request-timestamp']).toBe('1700000000');
    expect(event.headers['x-slack-signature']).toBe(
      computeSlackSignature(request.body, { signingSecret: SECRET, timestamp: 1_700_000_000 }),
    );
    expect(event.headers['content-length']).toBe(String(Buffer.byteLength(request.body)));
  });

  it('base64-encodes the body on request, signing the decoded bytes', () => {
    const event = toLambdaEvent(request, { signingSecret: SECRET, timestamp: 1_700_000_000, base64: true });
    expect(event.isBase64Encoded).toBe(true);
    expect(Buffer.from(event.body ?? '', 'base64').toString('utf8')).toBe(request.body);
    expect(event.headers['x-slack-signature']).toBe(
      computeSlackSignature(request.body, { signingSecret: SECRET, timestamp: 1_700_000_000 }),
    );
  });

  it('tampers after signing, signs with a wrong secret, or leaves the signature out', () => {
    const tampered = toLambdaEvent(request, {
      signingSecret: SECRET,
      timestamp: 1_700_000_000,
      tamper: (body) => body.replace('read', 'admin'),
    });
    expect(tampered.body).toContain('admin');
    expect(tampered.headers['x-slack-signature']).toBe(
      computeSlackSignature(request.body, { signingSecret: SECRET, timestamp: 1_700_000_000 }),
    );
    const forged = toLambdaEvent(request, {
      signingSecret: SECRET,
      wrongSecret: 'not-the-secret',
      timestamp: 1,
    });
    expect(forged.headers['x-slack-signature']).toBe(
      computeSlackSignature(request.body, { signingSecret: 'not-the-secret', timestamp: 1 }),
    );
    const unsigned = toLambdaEvent(request, { signingSecret: SECRET, unsigned: true });
    expect(unsigned.headers['x-slack-signature']).toBeUndefined();
    expect(unsigned.headers['x-slack-request-timestamp']).toBeUndefined();
  });
});

// The strongest check that the shapes are what Slack sends: Bolt's own Lambda receiver accepts
// the events, verifies the signature, and routes them to the right listener.
describe("Bolt's AwsLambdaReceiver", () => {
  function boltApp() {
    const receiver = new AwsLambdaReceiver({ signingSecret: SECRET, logLevel: LogLevel.ERROR });
    const app = new App({
      receiver,
      logLevel: LogLevel.ERROR,
      authorize: async () => ({ botToken: 'xoxb-test', botId: 'B0JITBOT001', botUserId: 'U0JITBOT001' }),
    });
    const seen: { commands: unknown[]; views: unknown[]; actions: unknown[] } = {
      commands: [],
      views: [],
      actions: [],
    };
    app.command(DEFAULT_COMMAND, async ({ ack, command }) => {
      seen.commands.push(command);
      await ack();
    });
    app.view('request_access', async ({ ack, view }) => {
      seen.views.push(view.state.values);
      await ack();
    });
    app.action('approve', async ({ ack, action }) => {
      seen.actions.push(action);
      await ack();
    });
    return { handler: receiver.toHandler(), seen };
  }

  it('routes a signed slash command, plain or base64, to the command listener', async () => {
    const { handler, seen } = boltApp();
    const request = slashCommand({
      text: 'orders-db read 1h',
      userId: USER,
      teamId: TEAM,
      channelId: 'C0GENERAL01',
    });
    expect((await handler(toLambdaEvent(request, { signingSecret: SECRET }), {})).statusCode).toBe(200);
    expect(
      (await handler(toLambdaEvent(request, { signingSecret: SECRET, base64: true }), {})).statusCode,
    ).toBe(200);
    expect(seen.commands).toEqual([request.payload, request.payload]);
  });

  it('routes a view_submission and a block action to their listeners', async () => {
    const { handler, seen } = boltApp();
    const values = { reason: { reason_input: { type: 'plain_text_input', value: 'INC-42' } } };
    const submission = viewSubmission({
      view: { callback_id: 'request_access', state: { values } },
      userId: USER,
      teamId: TEAM,
    });
    const click = blockActions({
      actions: [{ action_id: 'approve', value: 'REQ-0K2M9Q7X' }],
      userId: 'U0BOB000001',
      teamId: TEAM,
      channel: { id: 'C0APPROVERS' },
      message: { ts: '1700000000.000100' },
    });
    expect((await handler(toLambdaEvent(submission, { signingSecret: SECRET }), {})).statusCode).toBe(200);
    expect((await handler(toLambdaEvent(click, { signingSecret: SECRET }), {})).statusCode).toBe(200);
    expect(seen.views).toEqual([values]);
    expect(seen.actions).toEqual([click.payload.actions[0]]);
  });

  it('answers 401 to a tampered body, a wrong secret, a stale timestamp or no signature', async () => {
    const { handler, seen } = boltApp();
    const request = slashCommand({
      text: 'orders-db read 1h',
      userId: USER,
      teamId: TEAM,
      channelId: 'C0GENERAL01',
    });
    const sixMinutesAgo = Math.floor(Date.now() / 1000) - 6 * 60;
    const events = [
      toLambdaEvent(request, { signingSecret: SECRET, tamper: (body) => body.replace('read', 'admin') }),
      toLambdaEvent(request, { signingSecret: SECRET, wrongSecret: 'forged' }),
      toLambdaEvent(request, { signingSecret: SECRET, timestamp: sixMinutesAgo }),
      toLambdaEvent(request, { signingSecret: SECRET, unsigned: true }),
    ];
    for (const event of events) expect((await handler(event, {})).statusCode).toBe(401);
    expect(seen.commands).toEqual([]);
  });
});
