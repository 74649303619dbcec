import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type SlackEmulator, startSlackEmulator } from '../../local/emulators/slack/slack-emulator.js';
import {
  loadSlackSpec,
  slackSpecAvailable,
  validateSlackCall,
} from '../../local/emulators/slack/slack-spec.js';
import { SlackNotifier } from '../../shared/adapters/slack/slack-notifier.js';
import { SlackWebApi } from '../../shared/adapters/slack/slack-web-api.js';
import { ChatRejectedError } from '../../shared/ports/chat.js';
import { exampleCatalog } from '../fixtures/catalog.js';
import { notifierContract, type SeenMessage } from './notifier.contract.js';

const BOT_TOKEN = 'xoxb-test-token-notifier';
const REQUESTER = 'U0ALICE01';
const APPROVER = 'U0BOB0001';
const catalog = exampleCatalog();
const APPROVERS = catalog.global.slack.approversChannel;
const availability = slackSpecAvailable();
const spec = availability.available ? loadSlackSpec(availability.path) : undefined;

let emulator: SlackEmulator;

beforeAll(async () => {
  emulator = await startSlackEmulator({
    botToken: BOT_TOKEN,
    users: [
      { id: REQUESTER, name: 'alice', realName: 'Alice Engineer', email: 'alice@example.com' },
      { id: APPROVER, name: 'bob', realName: 'Bob Approver', email: 'bob@example.com' },
    ],
    channels: [
      { id: APPROVERS, name: 'db-approvals', members: [APPROVER] },
      { id: 'C0INCIDENT', name: 'incident', members: [APPROVER, REQUESTER] },
      { id: 'C0ELSEWHERE', name: 'elsewhere', members: [REQUESTER] },
    ],
  });
});

afterAll(async () => {
  await emulator?.stop();
});

// What the adapter sends goes over the wire as Slack's spec documents.
afterEach(() => {
  if (!spec) return;
  expect(emulator.calls.flatMap((call) => validateSlackCall(call, spec))).toEqual([]);
});

notifierContract('SlackNotifier on the Slack emulator', () => {
  emulator.reset();
  const slack = new SlackWebApi({ botToken: BOT_TOKEN, slackApiUrl: emulator.apiUrl });
  return {
    notifier: new SlackNotifier(slack, catalog),
    requester: REQUESTER,
    approver: APPROVER,
    sharedChannel: 'C0INCIDENT',
    foreignChannel: 'C0ELSEWHERE',
    async seenBy(userId) {
      const seen: SeenMessage[] = [];
      const dm = emulator.dmChannelOf(userId);
      for (const message of dm ? emulator.messagesIn(dm) : []) {
        seen.push({ where: 'direct', onlyForThem: true, text: message.text });
      }
      for (const channel of [APPROVERS, 'C0INCIDENT', 'C0ELSEWHERE']) {
        for (const message of emulator.messagesIn(channel)) {
          if (message.ephemeral && message.user === userId) {
            seen.push({ where: channel, onlyForThem: true, text: message.text });
          }
        }
      }
      return seen;
    },
    async approversMessages() {
      return emulator
        .messagesIn(APPROVERS)
        .filter((message) => !message.ephemeral)
        .map((message) => ({ ts: message.ts, text: message.text, edits: message.history.length }));
    },
    failNext(kind) {
      const failure = {
        rate_limited: { error: 'ratelimited', retryAfterSeconds: 30 },
        unavailable: { error: 'internal_error' },
        bad_token: { error: 'invalid_auth' },
        channel_gone: { error: 'channel_not_found' },
      }[kind];
      emulator.failNext('chat.postMessage', failure);
    },
  };
});

describe('SlackNotifier: what a refusal tells the operator to fix', () => {
  it('blames the person’s account, not the approvers channel, when a DM cannot be delivered', async () => {
    emulator.reset();
    const notifier = new SlackNotifier(
      new SlackWebApi({ botToken: BOT_TOKEN, slackApiUrl: emulator.apiUrl }),
      catalog,
    );
    emulator.failNext('chat.postMessage', { error: 'channel_not_found' });
    const error = await notifier
      .notify({ kind: 'request.delayed', to: { userId: REQUESTER }, requestId: 'REQ-0K2M9Q7X' })
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ChatRejectedError);
    expect((error as ChatRejectedError).setting).toMatch(/the person's Slack account/);
    expect((error as ChatRejectedError).setting).not.toMatch(/approversChannel/);
  });
});
