import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { APPROVERS, demoPeople, TEAM, worldStack } from '../../local/demo/world.js';
import { JiraEmulator } from '../../local/emulators/jira/jira-emulator.js';
import { SlackEmulator } from '../../local/emulators/slack/slack-emulator.js';
import { signRequest, slashCommand } from '../../local/slack/signed-request.js';
import { LOCAL_SIGNING_SECRET, type LocalStack, startLocalStack } from '../../local/stack.js';
import { testLogger } from '../fixtures/capturing-logger.js';

/*
 * `npm run dev` with a real Slack app and a real Jira site: the local stack's `connect` hands the
 * Lambdas those services' settings instead of its own emulators'. Here the "real" services are
 * emulators of their own the stack knows nothing about, so the test can see where each call went.
 */

const ad = inject('activeDirectory');
const db = inject('mariadb');
const world = worldStack(ad, demoPeople(ad));
const site = new JiraEmulator({ ...world.jira, webhookDelivery: 'manual' });
const workspace = new SlackEmulator({ ...world.slack, botToken: 'xoxb-connected-workspace-token' });
const SIGNING_SECRET = 'connected-app-signing-secret-0123456789';
let stack: LocalStack;

beforeAll(async () => {
  await Promise.all([site.start(), workspace.start()]);
  stack = await startLocalStack({
    ...world,
    database: db,
    logger: testLogger,
    connect: {
      slack: { botToken: workspace.token, signingSecret: SIGNING_SECRET, apiUrl: workspace.apiUrl },
      jira: {
        baseUrl: site.url,
        ...site.credentials,
        webhookSecret: 'connected-site-webhook-secret-0123',
      },
    },
  });
}, 60_000);

afterAll(async () => {
  await stack?.stop();
  await Promise.allSettled([site.stop(), workspace.stop()]);
});

async function slash(secret: string): Promise<Response> {
  const request = slashCommand({
    text: 'orders read 15m INC-4711 checking stuck orders',
    userId: demoPeople(ad).alice.slackId,
    userName: 'alice',
    teamId: TEAM,
    channelId: 'C0INCIDENT',
    responseUrl: workspace.newResponseUrl(),
  });
  return fetch(stack.urls.slackCommands, {
    method: 'POST',
    headers: {
      'content-type': request.contentType,
      ...signRequest(request.body, { signingSecret: secret, timestamp: Math.floor(Date.now() / 1000) }),
    },
    body: request.body,
  });
}

describe('the local stack with connected services', () => {
  it('takes Slack requests signed with the connected app’s secret only', async () => {
    expect((await slash(LOCAL_SIGNING_SECRET)).status).toBe(401);
    expect(stack.signingSecret).toBe(SIGNING_SECRET);
  });

  it('opens the ticket on the connected Jira site and asks the approvers in the connected workspace, not in its own emulators', async () => {
    const answer = await slash(SIGNING_SECRET);
    expect(answer.status).toBe(200);
    const requestId = /Request \*(REQ-[0-9A-Z]{8})\* received/.exec(
      String(((await answer.json()) as { text?: string }).text),
    )?.[1];
    expect(requestId).toBeDefined();
    await stack.settle();

    const request = await stack.store().get(requestId!);
    expect(request?.state).toBe('PENDING_APPROVAL');
    expect(site.issueByRequestId(requestId!)?.key).toBe(request?.ticket?.key);
    expect(stack.jira.issues()).toEqual([]);
    expect(workspace.messagesIn(APPROVERS).some((m) => m.text.includes(requestId!))).toBe(true);
    expect(stack.slack.messagesIn(APPROVERS)).toEqual([]);
  });
});
