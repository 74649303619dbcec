import { testLogger } from '../fixtures/capturing-logger.js';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAckHandler } from '../../lambdas/ack/wiring.js';
import { SlackEmulator } from '../../local/emulators/slack/slack-emulator.js';
import { slackSpecAvailable, validateSlackCall } from '../../local/emulators/slack/slack-spec.js';
import { SnsEmulator } from '../../local/emulators/sns/sns-emulator.js';
import {
  blockActions,
  slashCommand,
  toLambdaEvent,
  viewSubmission,
  type LambdaEventOptions,
} from '../../local/slack/signed-request.js';
import { parseTopicCommand, type TopicCommand } from '../../shared/messages/commands.js';
import { EXAMPLE_CATALOG_PATH } from '../fixtures/catalog.js';

const SIGNING_SECRET = 'integration-signing-secret-0123456789';
const TEAM = 'T0JITTEAM';
const ALICE = 'U0ALICE01';
const NOW = new Date('2026-11-21T10:00:00Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
const clock = { now: () => NOW };

const slack = new SlackEmulator({ teamId: TEAM, clock });
const sns = new SnsEmulator();
let topicArn = '';
let handler: ReturnType<typeof createAckHandler>;
const logLines: string[] = [];

beforeAll(async () => {
  await Promise.all([slack.start(), sns.start()]);
  topicArn = sns.createTopic('jit-access-commands');
  // The real SNS client finds the emulator the way the SDK documents: AWS_ENDPOINT_URL_SNS.
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SNS: sns.url,
    AWS_REGION: sns.region,
    AWS_ACCESS_KEY_ID: 'test',
    AWS_SECRET_ACCESS_KEY: 'test',
  });
  const logger = testLogger('ack-test');
  // Everything the Lambda logs, to prove secrets and bodies never reach it.
  const capture = (level: 'info' | 'warn' | 'error' | 'debug') => {
    const original = logger[level].bind(logger) as (...args: unknown[]) => void;
    (logger as unknown as Record<string, (...args: unknown[]) => void>)[level] = (...args: unknown[]) => {
      logLines.push(
        JSON.stringify(args, (_k, v) => (v instanceof Error ? { name: v.name, message: v.message } : v)),
      );
      original(...args);
    };
  };
  for (const level of ['info', 'warn', 'error', 'debug'] as const) capture(level);
  handler = createAckHandler(
    {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: slack.token,
      ACCESS_TOPIC_ARN: topicArn,
      SLACK_API_URL: slack.apiUrl,
      SLACK_TEAM_ID: TEAM,
      JIT_ACCESS_CONFIG: EXAMPLE_CATALOG_PATH,
    },
    { clock, logger },
  );
});

afterAll(async () => {
  await Promise.all([slack.stop(), sns.stop()]);
});

beforeEach(() => {
  sns.reset();
  slack.reset();
});

const signing: LambdaEventOptions = { signingSecret: SIGNING_SECRET, timestamp: NOW_SECONDS, base64: true };

function slash(
  text: string,
  options: Partial<LambdaEventOptions> = {},
  input: Partial<Parameters<typeof slashCommand>[0]> = {},
) {
  const request = slashCommand({
    text,
    userId: ALICE,
    userName: 'alice',
    teamId: TEAM,
    channelId: 'C0INCIDENT',
    responseUrl: slack.newResponseUrl(),
    ...input,
  });
  return toLambdaEvent(request, { ...signing, ...options });
}

async function send(event: APIGatewayProxyEventV2) {
  const result = await handler(event, {});
  const body = result.body ? (JSON.parse(result.body) as Record<string, unknown>) : undefined;
  return { status: result.statusCode, body, text: String(body?.text ?? '') };
}

function published(): TopicCommand[] {
  return sns.publishedTo(topicArn).map((m) =>
    parseTopicCommand(m.message, {
      type: m.attributes.type?.StringValue as TopicCommand['type'],
      version: m.attributes.version?.StringValue,
    }),
  );
}

describe('ack Lambda: the slash command', () => {
  it('queues a valid request: 200 with the request id, and exactly one request.submitted on the topic', async () => {
    const reply = await send(slash('orders read 1h INC-1234 checking stuck orders'));
    expect(reply.status).toBe(200);
    expect(reply.body?.response_type).toBe('ephemeral');
    const requestId = /Request \*(REQ-[0-9A-Z]{8})\* received/.exec(reply.text)?.[1];
    expect(requestId).toBeDefined();

    const commands = published();
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      type: 'request.submitted',
      version: 1,
      requestId,
      requester: { kind: 'slack', userId: ALICE, teamId: TEAM, userName: 'alice' },
      channelId: 'C0INCIDENT',
      target: { database: 'orders', level: 'read' },
      durationMinutes: 60,
      justification: 'INC-1234 checking stuck orders',
      via: 'slash_command',
    });
    expect(sns.publishedTo(topicArn)[0]?.attributes).toEqual({
      type: { DataType: 'String', StringValue: 'request.submitted' },
      version: { DataType: 'String', StringValue: '1' },
    });
  });

  it('calls no Slack API to answer a slash command (no auth.test, no postMessage)', async () => {
    await send(slash('orders read 1h INC-1234 checking stuck orders'));
    expect(slack.calls).toEqual([]);
  });

  it('gives a double-submitted request the same command id, so the worker keeps one', async () => {
    await send(slash('orders read 1h INC-1234 checking stuck orders'));
    await send(slash('orders read 1h INC-1234 checking stuck orders'));
    const [first, second] = published();
    expect(first?.commandId).toBe(second?.commandId);
  });

  it.each([
    ['orders read 5h checking the stuck orders', '"5h" exceeds the maximum of 4h'],
    [
      'payments read 1h checking stuck orders',
      'unknown database "payments"; choose one of: orders, billing-staging',
    ],
    [
      'orders admin 1h checking stuck orders',
      'orders has no access level "admin"; choose one of: read, write',
    ],
    ['orders read 2 hours please', '"2" has no unit'],
    ['orders read 0m checking stuck orders', '"0m" is zero'],
    ['orders read 1h', 'missing &lt;justification&gt;'],
    ['orders write 1h fixing the duplicated rows', 'the justification must match'],
    ['cancel REQ-123', 'is not a request id'],
    ['deny REQ-0K2M9Q7X', 'deny takes a request id and the reason'],
    ['deny REQ-0K2M9Q7X no', 'deny: say in at least 5 characters why'],
    ['approve REQ-0K2M9Q7X now', 'approve takes exactly one request id'],
  ])('refuses %j with a specific message and the usage, and publishes nothing', async (text, message) => {
    const reply = await send(slash(text));
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('Nothing was requested');
    expect(reply.text).toContain(message);
    expect(reply.text).toContain('`/request_mysql_access <database> <level> <duration> <justification>`');
    expect(sns.published).toHaveLength(0);
  });

  it('echoes what the user typed only escaped: no @channel, mention or link injection', async () => {
    const reply = await send(slash('<!channel> <@U0BOSS> <https://evil.example|x> 1h please'));
    expect(reply.text).toContain('unknown database "&lt;!channel&gt;"');
    expect(reply.text).not.toMatch(/<!channel>|<@U0BOSS>|<https:/);
    expect(sns.published).toHaveLength(0);
  });

  it('answers help with the usage and the catalog', async () => {
    const reply = await send(slash('help'));
    expect(reply.text).toContain('• `orders` (prod): `read` (up to 4h), `write` (up to 2h, 2 approvals)');
    expect(sns.published).toHaveLength(0);
  });

  it.each([
    ['cancel REQ-0K2M9Q7X', 'request.cancel', 'Cancellation of *REQ-0K2M9Q7X* received'],
    ['revoke req-0k2m9q7x', 'grant.revoke', 'Revocation of *REQ-0K2M9Q7X* received'],
    ['approve REQ-0K2M9Q7X', 'request.decided', 'Approval of *REQ-0K2M9Q7X* received'],
    ['deny REQ-0K2M9Q7X use the read replica', 'request.decided', 'Denial of *REQ-0K2M9Q7X* received'],
  ])('%j publishes %s with the acting Slack user', async (text, type, message) => {
    const reply = await send(slash(text));
    expect(reply.text).toContain(message);
    const commands = published();
    expect(commands).toHaveLength(1);
    expect(commands[0]).toMatchObject({
      type,
      requestId: 'REQ-0K2M9Q7X',
      actor: { kind: 'slack', userId: ALICE, teamId: TEAM },
    });
  });

  it('tells the user plainly that nothing was queued when SNS fails, and never claims "received"', async () => {
    sns.failNext(2, 'internal');
    const reply = await send(slash('orders read 1h INC-1234 checking stuck orders'));
    expect(reply.status).toBe(200);
    expect(reply.text).toContain('Nothing was queued');
    expect(reply.text).not.toMatch(/REQ-[0-9A-Z]{8}\* received/);
    expect(sns.published).toHaveLength(0);
    // And the next attempt goes through.
    const retry = await send(slash('orders read 1h INC-1234 checking stuck orders'));
    expect(retry.text).toMatch(/REQ-[0-9A-Z]{8}\* received/);
    expect(sns.published).toHaveLength(1);
  });
});

describe('ack Lambda: request authenticity', () => {
  const good = () =>
    slashCommand({
      text: 'orders read 1h INC-1234 checking stuck orders',
      userId: ALICE,
      teamId: TEAM,
      channelId: 'C0INCIDENT',
    });

  it.each([
    ['a forged signature', { wrongSecret: 'attacker-secret-0123456789abcdef' }, 401],
    ['no signature', { unsigned: true }, 401],
    ['a stale timestamp (6 minutes old)', { timestamp: NOW_SECONDS - 360 }, 401],
    ['a future timestamp (6 minutes ahead)', { timestamp: NOW_SECONDS + 360 }, 401],
    ['a tampered body', { tamper: (body: string) => body.replace('read', 'write') }, 401],
  ] as const)('refuses %s (status in the table) and publishes nothing', async (_what, options, status) => {
    const reply = await send(toLambdaEvent(good(), { ...signing, ...options }));
    expect(reply.status).toBe(status);
    expect(reply.body).toBeUndefined();
    expect(sns.published).toHaveLength(0);
    expect(slack.calls).toEqual([]);
  });

  it('refuses a validly signed request from another workspace with 403', async () => {
    const other = slashCommand({
      text: 'orders read 1h INC-1234 checking',
      userId: ALICE,
      teamId: 'T0OTHER',
      channelId: 'C0X',
    });
    const reply = await send(toLambdaEvent(other, signing));
    expect(reply.status).toBe(403);
    expect(sns.published).toHaveLength(0);
  });

  it('refuses an oversized body with 413', async () => {
    const big = slashCommand({
      text: `orders read 1h ${'x'.repeat(80_000)}`,
      userId: ALICE,
      teamId: TEAM,
      channelId: 'C0X',
    });
    expect((await send(toLambdaEvent(big, signing))).status).toBe(413);
    expect(sns.published).toHaveLength(0);
  });

  it('never logs the signing secret, the bot token, signatures or request bodies', async () => {
    await send(slash('orders read 1h INC-1234 a-very-distinctive-justification'));
    await send(toLambdaEvent(good(), { ...signing, wrongSecret: 'attacker-secret-0123456789abcdef' }));
    const logs = logLines.join('\n');
    expect(logs).toContain('request refused');
    for (const secret of [SIGNING_SECRET, slack.token, 'a-very-distinctive-justification', 'v0=']) {
      expect(logs).not.toContain(secret);
    }
  });
});

describe('ack Lambda: the request form', () => {
  it('opens a modal built from the catalog on an empty command, with a request Slack accepts', async () => {
    const triggerId = slack.issueTriggerId({ userId: ALICE });
    const reply = await send(slash('', {}, { triggerId }));
    expect(reply.status).toBe(200);
    const [call] = slack.callsTo('views.open');
    expect(call?.params.trigger_id).toBe(triggerId);
    const view = JSON.parse(String(call?.params.view)) as {
      callback_id: string;
      blocks: { block_id: string }[];
    };
    expect(view.callback_id).toBe('access_request');
    expect(view.blocks.map((b) => b.block_id)).toEqual(['target', 'duration', 'justification']);
    expect(slack.openedViews()).toHaveLength(1);
    expect(sns.published).toHaveLength(0);
  });

  it.skipIf(!slackSpecAvailable().available)(
    'sends views.open exactly as the Slack Web API spec describes it',
    async () => {
      await send(slash('', {}, { triggerId: slack.issueTriggerId({ userId: ALICE }) }));
      const [call] = slack.callsTo('views.open');
      expect(call).toBeDefined();
      expect(
        validateSlackCall({
          method: call!.method,
          params: call!.params,
          token: call!.token,
          encoding: call!.encoding,
        }),
      ).toEqual([]);
    },
  );

  it('tells the user to retry when the trigger expired', async () => {
    const reply = await send(slash('', {}, { triggerId: '1234.5678.expired' }));
    expect(reply.text).toContain('the form did not open in time');
    expect(sns.published).toHaveLength(0);
  });

  function submission(
    values: { target?: string; duration?: string; durationBlock?: string; justification?: string },
    viewId = 'V0FORM0001',
  ) {
    const durationBlock = values.durationBlock ?? 'duration';
    return toLambdaEvent(
      viewSubmission({
        userId: ALICE,
        userName: 'alice',
        teamId: TEAM,
        view: {
          id: viewId,
          callback_id: 'access_request',
          private_metadata: JSON.stringify({ channelId: 'C0INCIDENT' }),
          state: {
            values: {
              target: {
                'target.select': {
                  type: 'static_select',
                  selected_option: values.target
                    ? { text: { type: 'plain_text', text: values.target }, value: values.target }
                    : null,
                },
              },
              [durationBlock]: {
                'duration.select': {
                  type: 'static_select',
                  selected_option: values.duration
                    ? { text: { type: 'plain_text', text: values.duration }, value: values.duration }
                    : null,
                },
              },
              justification: {
                'justification.input': { type: 'plain_text_input', value: values.justification ?? null },
              },
            },
          },
        },
      }),
      signing,
    );
  }

  it('shows each problem inline under its field, and publishes nothing', async () => {
    const reply = await send(
      submission({
        target: 'orders/write',
        duration: '4h',
        durationBlock: 'duration:orders/write',
        justification: 'fix rows',
      }),
    );
    expect(reply.body).toEqual({
      response_action: 'errors',
      errors: {
        'duration:orders/write': '"4h" exceeds the maximum of 2h',
        justification:
          'the justification must be at least 15 characters; yours has 8 (Mention the incident or change key, e.g. INC-1234)',
      },
    });
    expect(sns.published).toHaveLength(0);
  });

  it('asks for a database and level when none was chosen', async () => {
    const reply = await send(submission({ duration: '1h', justification: 'INC-1 checking the rows' }));
    expect(reply.body).toMatchObject({
      response_action: 'errors',
      errors: { target: 'choose a database and access level' },
    });
  });

  it('queues a valid submission and replaces the form with the request id; a double submit is one command', async () => {
    const first = await send(
      submission({ target: 'orders/read', duration: '2h', justification: 'INC-7 reading order_events' }),
    );
    await send(
      submission({ target: 'orders/read', duration: '2h', justification: 'INC-7 reading order_events' }),
    );
    expect(first.body).toMatchObject({ response_action: 'update' });
    const commands = published();
    expect(commands).toHaveLength(2);
    expect(commands[0]).toMatchObject({
      type: 'request.submitted',
      via: 'modal',
      channelId: 'C0INCIDENT',
      durationMinutes: 120,
      target: { database: 'orders', level: 'read' },
    });
    expect(commands[0]?.commandId).toBe(commands[1]?.commandId);
    expect(JSON.stringify(first.body)).toContain(
      commands[0]?.type === 'request.submitted' ? commands[0].requestId : 'missing',
    );
  });

  it('narrows the durations when a level is picked, updating the open form in place', async () => {
    await send(slash('', {}, { triggerId: slack.issueTriggerId({ userId: ALICE }) }));
    const opened = slack.openedViews()[0]?.view as {
      id: string;
      hash: string;
      private_metadata: string;
      callback_id: string;
    };
    const event = toLambdaEvent(
      blockActions({
        actions: [
          {
            action_id: 'target.select',
            block_id: 'target',
            type: 'static_select',
            selected_option: { text: { type: 'plain_text', text: 'write' }, value: 'orders/write' },
          } as never,
        ],
        userId: ALICE,
        teamId: TEAM,
        view: opened as never,
      }),
      signing,
    );
    expect((await send(event)).status).toBe(200);
    const [update] = slack.callsTo('views.update');
    expect(update?.params).toMatchObject({ view_id: opened.id, hash: opened.hash });
    expect(update?.response.body).toMatchObject({ ok: true });
    const updated = JSON.parse(String(update?.params.view)) as {
      blocks: {
        block_id: string;
        element: { options?: { value: string }[]; initial_option?: { value: string } };
      }[];
    };
    expect(updated.blocks[1]?.block_id).toBe('duration:orders/write');
    expect(updated.blocks[1]?.element.options?.map((o) => o.value)).toEqual(['15m', '30m', '1h', '2h']);
    expect(updated.blocks[1]?.element.initial_option?.value).toBe('30m');
  });
});

describe('ack Lambda: buttons', () => {
  function click(actionId: string, value: string, channel = 'C0APPROVALS', triggerId?: string) {
    const responseUrl = slack.newResponseUrl();
    const event = toLambdaEvent(
      blockActions({
        ...(triggerId ? { triggerId } : {}),
        actions: [{ action_id: actionId, value, type: 'button' }],
        userId: 'U0BOB0001',
        userName: 'bob',
        teamId: TEAM,
        channel: { id: channel },
        message: { ts: '1763719200.000100' },
        responseUrl,
      }),
      signing,
    );
    return { event, responseUrl };
  }

  it.each([
    [
      'request.approve',
      'REQ-0K2M9Q7X',
      {
        type: 'request.decided',
        decision: 'approve',
        source: 'slack',
        slackMessage: { channelId: 'C0APPROVALS', ts: '1763719200.000100' },
      },
    ],
    ['grant.revoke', 'REQ-0K2M9Q7X', { type: 'grant.revoke', via: 'button' }],
  ])(
    '%s is acknowledged and published with the acting user; the ack decides nothing',
    async (actionId, value, expected) => {
      const { event, responseUrl } = click(actionId, value);
      expect((await send(event)).status).toBe(200);
      const commands = published();
      expect(commands).toHaveLength(1);
      expect(commands[0]).toMatchObject({
        ...expected,
        requestId: 'REQ-0K2M9Q7X',
        actor: { kind: 'slack', userId: 'U0BOB0001', teamId: TEAM },
      });
      expect(slack.responses(responseUrl).map((r) => (r.body as { text?: string }).text)).toEqual([
        expect.stringContaining('received'),
      ]);
    },
  );

  it('More time opens a form asking how much and why, and publishes nothing yet', async () => {
    const { event } = click(
      'grant.extend',
      'REQ-0K2M9Q7X:30',
      'D0ALICEDM',
      slack.issueTriggerId({ userId: ALICE }),
    );
    expect((await send(event)).status).toBe(200);
    expect(sns.published).toHaveLength(0);
    const [opened] = slack.openedViews();
    expect(opened?.view).toMatchObject({
      callback_id: 'grant.extend_form',
      private_metadata: JSON.stringify({ requestId: 'REQ-0K2M9Q7X' }),
    });
    expect(JSON.stringify(opened?.view)).toContain('"initial_value":"30m"');
  });

  function extendSubmission(duration: string, reason: string) {
    return toLambdaEvent(
      viewSubmission({
        userId: ALICE,
        userName: 'alice',
        teamId: TEAM,
        view: {
          id: 'V0EXTEND01',
          callback_id: 'grant.extend_form',
          private_metadata: '{"requestId":"REQ-0K2M9Q7X"}',
          state: {
            values: {
              extend_duration: { 'extend_duration.input': { type: 'plain_text_input', value: duration } },
              extend_reason: { 'extend_reason.input': { type: 'plain_text_input', value: reason } },
            },
          },
        },
      }),
      signing,
    );
  }

  it('publishes grant.extend once the form is submitted, the same command however often', async () => {
    expect((await send(extendSubmission('45m', ' the backfill runs long '))).body).toBeUndefined();
    await send(extendSubmission('45m', ' the backfill runs long '));
    const commands = published();
    expect(commands[0]).toMatchObject({
      type: 'grant.extend',
      requestId: 'REQ-0K2M9Q7X',
      durationMinutes: 45,
      reason: 'the backfill runs long',
      actor: expect.objectContaining({ userId: ALICE }),
    });
    expect(new Set(commands.map((c) => c.commandId)).size).toBe(1);
  });

  it.each([
    ['a duration it cannot read', 'soon', 'the backfill runs long', 'extend_duration'],
    ['no reason', '30m', 'ok', 'extend_reason'],
  ])(
    'refuses %s in the form, under that field, publishing nothing',
    async (_case, duration, reason, field) => {
      const reply = await send(extendSubmission(duration, reason));
      expect(reply.body).toMatchObject({
        response_action: 'errors',
        errors: { [field]: expect.any(String) },
      });
      expect(sns.published).toHaveLength(0);
    },
  );

  it('tells the clicker that nothing was recorded when SNS is down', async () => {
    sns.failNext(2, 'internal');
    const { event, responseUrl } = click('request.approve', 'REQ-0K2M9Q7X');
    expect((await send(event)).status).toBe(200);
    expect(sns.published).toHaveLength(0);
    expect(slack.responses(responseUrl).map((r) => (r.body as { text?: string }).text)).toEqual([
      expect.stringContaining('Nothing was queued'),
    ]);
  });

  it('Deny asks for the reason in a form and publishes nothing yet', async () => {
    const { event } = click(
      'request.deny',
      'REQ-0K2M9Q7X',
      'C0APPROVALS',
      slack.issueTriggerId({ userId: 'U0BOB0001' }),
    );
    expect((await send(event)).status).toBe(200);
    expect(sns.published).toHaveLength(0);
    const [opened] = slack.openedViews();
    expect(opened?.view).toMatchObject({
      callback_id: 'request.deny_reason',
      private_metadata: JSON.stringify({
        requestId: 'REQ-0K2M9Q7X',
        channelId: 'C0APPROVALS',
        ts: '1763719200.000100',
      }),
    });
  });

  it.each([
    ['deny', 'request.deny', 'REQ-0K2M9Q7X', 'C0APPROVALS', 'deny REQ-0K2M9Q7X <reason>'],
    ['More time', 'grant.extend', 'REQ-0K2M9Q7X:30', 'D0ALICEDM', 'extend REQ-0K2M9Q7X 30m <why>'],
  ])(
    'offers the typed command when the %s form cannot be opened',
    async (_form, actionId, value, channel, typed) => {
      const { event, responseUrl } = click(actionId, value, channel, '1234.5678.expired');
      expect((await send(event)).status).toBe(200);
      expect(sns.published).toHaveLength(0);
      expect(slack.responses(responseUrl).map((r) => (r.body as { text?: string }).text)).toEqual([
        expect.stringContaining(typed),
      ]);
    },
  );

  function denySubmission(reason: string, metadata: string, viewId = 'V0DENY0001') {
    return toLambdaEvent(
      viewSubmission({
        userId: 'U0BOB0001',
        userName: 'bob',
        teamId: TEAM,
        view: {
          id: viewId,
          callback_id: 'request.deny_reason',
          private_metadata: metadata,
          state: {
            values: { deny_reason: { 'deny_reason.input': { type: 'plain_text_input', value: reason } } },
          },
        },
      }),
      signing,
    );
  }
  const DENY_METADATA = JSON.stringify({
    requestId: 'REQ-0K2M9Q7X',
    channelId: 'C0APPROVALS',
    ts: '1763719200.000100',
  });

  it('publishes the denial with its reason and the message to update once the form is submitted', async () => {
    const reply = await send(denySubmission('  use the read replica  ', DENY_METADATA));
    expect(reply.status).toBe(200);
    expect(reply.body).toBeUndefined();
    expect(published()).toEqual([
      expect.objectContaining({
        type: 'request.decided',
        decision: 'deny',
        requestId: 'REQ-0K2M9Q7X',
        reason: 'use the read replica',
        slackMessage: { channelId: 'C0APPROVALS', ts: '1763719200.000100' },
        actor: expect.objectContaining({ userId: 'U0BOB0001' }),
      }),
    ]);
  });

  it.each([
    ['a too short reason', 'no', DENY_METADATA, 'at least 5 characters'],
    ['tampered metadata', 'use the read replica', '{"requestId":"*)(uid=*"}', 'no longer valid'],
  ])('refuses %s in the form, publishing nothing', async (_case, reason, metadata, expected) => {
    const reply = await send(denySubmission(reason, metadata));
    expect(reply.body).toMatchObject({
      response_action: 'errors',
      errors: { deny_reason: expect.stringContaining(expected) },
    });
    expect(sns.published).toHaveLength(0);
  });

  it('ignores a button whose value is not a request id', async () => {
    const { event } = click('request.approve', '*)(uid=*');
    expect((await send(event)).status).toBe(200);
    expect(sns.published).toHaveLength(0);
  });
});
