import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack.js';
import {
  blockActions,
  SLACK_FORM_CONTENT_TYPE,
  slashCommand,
  type SlackRequest,
} from '../../local/slack/signed-request.js';
import { capturingLogger } from '../fixtures/capturing-logger.js';
import { APPROVERS, decisionPeople, decisionStack, TEAM } from '../fixtures/decision-stack.js';

/*
 * Signed but malformed input at the ack Lambda's door: a buggy Slack client, a Slack change, or
 * someone holding a leaked signing secret. None of it may crash the Lambda, answer 5xx, or put a
 * command that breaks the topic contract on the topic.
 */

const ad = inject('activeDirectory');
const db = inject('mariadb');
const PEOPLE = decisionPeople(ad);
const NOW = new Date('2026-11-21T10:00:00Z');
const logLines: string[] = [];
let stack: LocalStack;

beforeAll(async () => {
  stack = await startLocalStack({
    ...decisionStack(ad),
    database: db,
    clock: { now: () => NOW },
    logger: (service) => capturingLogger(service, logLines),
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  logLines.length = 0;
  await stack.reset();
});

const raw = (body: string): Pick<SlackRequest<unknown>, 'body' | 'contentType'> => ({
  body,
  contentType: SLACK_FORM_CONTENT_TYPE,
});
const payload = (value: unknown) => raw(`payload=${encodeURIComponent(JSON.stringify(value))}`);

const user = { id: PEOPLE.bob.slackId, name: 'bob', team_id: TEAM };
const clickBase = {
  type: 'block_actions',
  user,
  team: { id: TEAM },
  trigger_id: '1.2.abc',
  channel: { id: APPROVERS },
  container: { type: 'message', message_ts: '1.1', channel_id: APPROVERS },
};
const approve = { action_id: 'request.approve', type: 'button', value: 'REQ-0K2M9Q7X', action_ts: '1.2' };

/** bob's Approve click on the approvers' message, as Slack sends it. */
const bobApproves = () =>
  blockActions({
    actions: [{ action_id: 'request.approve', value: 'REQ-0K2M9Q7X', type: 'button', action_ts: '1.2' }],
    userId: PEOPLE.bob.slackId,
    userName: 'bob',
    teamId: TEAM,
    channel: { id: APPROVERS },
    message: { ts: '1.1' },
    responseUrl: stack.slack.newResponseUrl(),
  });

async function send(request: Pick<SlackRequest<unknown>, 'body' | 'contentType'>) {
  const reply = await stack.ack(stack.signed(request as SlackRequest<unknown>), {});
  await stack.settle();
  return reply;
}

describe('ack Lambda: signed bodies Bolt would crash on are refused with 400 before it sees them', () => {
  it.each([
    ['block_actions whose actions is null', payload({ ...clickBase, actions: null }), 'actions'],
    ['block_actions whose actions is a number', payload({ ...clickBase, actions: 5 }), 'actions'],
    [
      'block_actions whose actions is an object',
      payload({ ...clickBase, actions: { 0: approve } }),
      'actions',
    ],
    ['block_actions whose actions is empty', payload({ ...clickBase, actions: [] }), 'at least one action'],
    ['block_actions whose actions holds null', payload({ ...clickBase, actions: [null] }), 'actions.0'],
    ['block_actions without user', payload({ ...clickBase, user: undefined, actions: [approve] }), 'user'],
    [
      'block_actions whose user id is a number',
      payload({ ...clickBase, user: { id: 7 }, actions: [approve] }),
      'user.id',
    ],
    [
      'block_actions whose response_url is a number',
      payload({ ...clickBase, actions: [approve], response_url: 42 }),
      'response_url',
    ],
    [
      'block_actions whose channel is a string',
      payload({ ...clickBase, actions: [approve], channel: APPROVERS }),
      'channel',
    ],
    [
      'a shortcut without user',
      payload({ type: 'shortcut', callback_id: 'x', trigger_id: '1' }),
      'is not an interaction',
    ],
    [
      'a block_suggestion without user',
      payload({ type: 'block_suggestion', action_id: 'x', value: '' }),
      'is not an interaction',
    ],
    ['view_submission without view', payload({ type: 'view_submission', user }), 'view'],
    [
      'an event_callback whose event is null',
      payload({ type: 'event_callback', event: null }),
      'is not an interaction',
    ],
    [
      'an event_callback whose event is a string',
      payload({ type: 'event_callback', event: 'x' }),
      'is not an interaction',
    ],
    ['a payload that is not JSON', raw('payload=%7Bnot-json'), 'not valid JSON'],
    ['a payload that is a list', payload([clickBase]), 'not an object'],
    ['a form with event=', raw('event=%7B%7D&team_id=T0JITTEAM'), 'neither a slash command'],
    ['a form with actions=', raw('actions=%5B%5D&team_id=T0JITTEAM'), 'neither a slash command'],
    ['a form with name=', raw('name=x&team_id=T0JITTEAM'), 'neither a slash command'],
    [
      'a form with a type but no command',
      raw('type=block_actions&user_id=U0BOB0001'),
      'neither a slash command',
    ],
    [
      'a slash command with user_id twice (the form parser would make it a list)',
      raw(
        `${slashCommand({ text: 'help', userId: PEOPLE.alice.slackId, teamId: TEAM, channelId: 'C0INCIDENT' }).body}&user_id=U0DAVE001`,
      ),
      'user_id appears more than once',
    ],
    [
      'a slash command without a trigger id',
      raw(
        slashCommand({
          text: 'help',
          userId: PEOPLE.alice.slackId,
          teamId: TEAM,
          channelId: 'C0INCIDENT',
        }).body.replace(/&?trigger_id=[^&]*/, ''),
      ),
      'without trigger_id',
    ],
    // Found by the ack property (seed -1981057505): Bolt looks team ids up in a plain object.
    [
      'a slash command whose team_id is valueOf',
      raw('command=%2Frequest_mysql_access&trigger_id=1.2.abc&team_id=valueOf'),
      'team_id is not a Slack team id',
    ],
    [
      'a slash command whose team_id is __proto__',
      raw('command=%2Frequest_mysql_access&trigger_id=1.2.abc&team_id=__proto__'),
      'team_id is not a Slack team id',
    ],
    [
      'a slash command whose team_id is constructor',
      raw('command=%2Frequest_mysql_access&trigger_id=1.2.abc&team_id=constructor'),
      'team_id is not a Slack team id',
    ],
    [
      'a click whose team id is toString',
      payload({ ...clickBase, team: { id: 'toString' }, actions: [approve] }),
      'team.id is not a Slack team id',
    ],
    [
      'a click whose user team id is valueOf',
      payload({ ...clickBase, user: { id: 'U0BOB0001', team_id: 'valueOf' }, actions: [approve] }),
      'user.team_id is not a Slack team id',
    ],
  ])('%s', async (_case, request, reason) => {
    const reply = await send(request);
    expect(reply.statusCode).toBe(400);
    expect(stack.topic.published()).toEqual([]);
    const refusal = logLines.find((line) => line.includes('request refused'));
    expect(refusal).toContain(reason);
    // The log says what was wrong, never what was sent.
    expect(refusal).not.toContain(PEOPLE.bob.slackId);
    expect(refusal).not.toContain('payload=');
    expect(logLines.join('\n')).not.toContain('unhandled error');
  });

  it('still takes the bodies Slack really sends: a click, and a slash command', async () => {
    const click = bobApproves();
    expect((await send(click)).statusCode).toBe(200);
    const help = slashCommand({
      text: 'help',
      userId: PEOPLE.alice.slackId,
      teamId: TEAM,
      channelId: 'C0INCIDENT',
    });
    expect((await send(help)).statusCode).toBe(200);
    expect((await send(raw('ssl_check=1&token=x'))).statusCode).toBe(200);
  });
});

describe('ack Lambda: a command that would break the topic contract is answered, never queued', () => {
  it.each([
    ['an empty user id', { userId: '' }, 'requester.userId'],
    ['an empty team id', { teamId: '' }, 'requester.teamId'],
    ['a user id that is not a Slack user id', { userId: 'alice' }, 'requester.userId'],
  ])(
    'a slash command request with %s: told what Slack sent wrong, nothing queued',
    async (_case, change, field) => {
      const request = slashCommand({
        text: 'orders read 1h INC-1 checking rows',
        userId: PEOPLE.alice.slackId,
        teamId: TEAM,
        channelId: 'C0INCIDENT',
        ...change,
      });
      const reply = await send(request);
      expect(reply.statusCode).toBe(200);
      const text = String((JSON.parse(reply.body ?? '{}') as { text?: string }).text);
      expect(text).toContain('Nothing was queued');
      expect(text).toContain(field);
      expect(text).not.toMatch(/REQ-[0-9A-Z]{8}/);
      expect(stack.topic.published()).toEqual([]);
    },
  );

  it('a click whose user id is not a Slack user id: the clicker is told, nothing queued', async () => {
    const responseUrl = stack.slack.newResponseUrl();
    const request = payload({
      ...clickBase,
      user: { id: 'bob', team_id: TEAM },
      actions: [approve],
      response_url: responseUrl,
    });
    expect((await send(request)).statusCode).toBe(200);
    expect(stack.topic.published()).toEqual([]);
    const answers = stack.slack.responses(responseUrl).map((post) => JSON.stringify(post.body));
    expect(answers.join('\n')).toContain('actor.userId');
  });
});

describe('ack Lambda: headers', () => {
  it('takes header names in any case, as API Gateway v1 events carry them', async () => {
    const event = stack.signed(
      slashCommand({
        text: 'orders read 1h INC-1 checking rows',
        userId: PEOPLE.alice.slackId,
        teamId: TEAM,
        channelId: 'C0INCIDENT',
      }),
    );
    const capitalised = Object.fromEntries(
      Object.entries(event.headers).map(([name, value]) => [
        name.replace(/(^|-)([a-z])/g, (_m, dash: string, letter: string) => dash + letter.toUpperCase()),
        value,
      ]),
    );
    // A proxy that adds a charset, under the capitalised name only.
    capitalised['Content-Type'] = 'application/x-www-form-urlencoded; charset=utf-8';
    expect(capitalised).toHaveProperty('X-Slack-Signature');
    const reply = await stack.ack({ ...event, headers: capitalised }, {});
    await stack.settle();
    expect(reply.statusCode).toBe(200);
    expect(stack.topic.published().map((c) => c.type)).toEqual(['request.submitted']);
  });
});

describe('ack Lambda: Slack slow to answer its own calls', () => {
  // Slack shows the person an error for any answer later than 3 s, even for a queued command.
  const SLACK_LIMIT_MS = 3_000;

  it('a click whose response_url hangs is still answered in time, and the decision stays queued', async () => {
    stack.slack.slowNext('response_url', 10_000);
    const click = bobApproves();
    const started = Date.now();
    const reply = await stack.ack(stack.signed(click), {});
    expect(Date.now() - started).toBeLessThan(SLACK_LIMIT_MS);
    expect(reply.statusCode).toBe(200);
    expect(stack.topic.published().map((c) => c.type)).toEqual(['request.decided']);
    expect(logLines.join('\n')).toContain('response_url answer failed');
  });

  it('views.open that answers too late: answered in time, without claiming the form did not open', async () => {
    stack.slack.slowNext('views.open', 10_000);
    const request = slashCommand({
      text: '',
      userId: PEOPLE.alice.slackId,
      teamId: TEAM,
      channelId: 'C0INCIDENT',
      triggerId: stack.slack.issueTriggerId({ userId: PEOPLE.alice.slackId }),
    });
    const started = Date.now();
    const reply = await stack.ack(stack.signed(request), {});
    expect(Date.now() - started).toBeLessThan(SLACK_LIMIT_MS);
    expect(reply.statusCode).toBe(200);
    // Slack did open it; the person is told what is known, and what to do if it is not there.
    expect(stack.slack.openedViews()).toHaveLength(1);
    expect(String(JSON.parse(reply.body ?? '{}').text)).toContain('If it did not appear');
    expect(stack.topic.published()).toEqual([]);
  });
});
