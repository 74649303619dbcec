import { afterEach, describe, expect, inject, it } from 'vitest';
import { playStory, STORY_STEP_COUNT, type StoryStep } from '../../local/demo/story.js';
import { demoPeople, worldStack } from '../../local/demo/world.js';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack.js';
import { testLogger } from '../fixtures/capturing-logger.js';

/*
 * The demo's story, end to end, through the same local-stack module `npm run demo` uses: every
 * step must hold. Then the same story with every command delivered twice and out of order, as
 * SNS and Lambda may: the same ending, and still one ticket, one mint and one DM per request.
 */

const ad = inject('activeDirectory');
const db = inject('mariadb');
let stack: LocalStack | undefined;

afterEach(async () => {
  await stack?.stop();
  stack = undefined;
});

const STEPS = [
  ['asks for read access to orders for 15 minutes', 'alice · Slack'],
  ['approves in Jira', 'bob · Jira (via dba-oncall → db-approvers)'],
  ['gets a DM with a single-use token', 'jit-access → alice · Slack'],
  ['runs jit-access creds on the token', 'alice · CLI'],
  ['logs in and reads: SELECT works', 'alice · MariaDB'],
  ['tries to write: INSERT is refused', 'alice · MariaDB'],
  ['asks for write access (needs two approvals)', 'alice · Slack'],
  ['approves, in no approver group', 'dave · Slack'],
  ['approves, with a disabled account', 'carol · Slack'],
  ['approves her own request', 'alice · Slack'],
  ['approves in Slack: 1 of 2', 'bob · Slack'],
  ['approves in Slack: 2 of 2', 'frank · Slack'],
  ['revokes the read access early', 'alice · Slack'],
  ['the write access expires', 'expiry schedule'],
];

async function play(
  delivery?: LocalStackOptions['delivery'],
  before: (stack: LocalStack) => void = () => {},
): Promise<StoryStep[]> {
  let offset = 0;
  stack = await startLocalStack({
    ...worldStack(ad, demoPeople(ad)),
    database: db,
    clock: { now: () => new Date(Date.now() + offset) },
    logger: testLogger,
    ...(delivery ? { delivery } : {}),
  });
  before(stack);
  return playStory(stack, { skipTo: (at) => (offset += Math.max(0, at.getTime() - Date.now() - offset)) });
}

const failed = (steps: StoryStep[]) => steps.filter((s) => !s.ok).map((s) => `${s.step}: ${s.outcome}`);

describe('the demo story, end to end', () => {
  it('holds at every step: ask, Jira approval, token, creds, SELECT not INSERT, refusals, two approvals, revoke, expiry', async () => {
    const steps = await play();
    expect(failed(steps)).toEqual([]);
    expect(steps.map((s) => [s.step, s.actor])).toEqual(STEPS);
    expect(STORY_STEP_COUNT).toBe(STEPS.length);
    expect(steps[1]?.outcome).toMatch(/approved by bob; Vault made \S+/);
    expect(steps[12]?.outcome).toBe('REVOKED: open session closed, login refused, user gone from mysql.user');
    expect(stack!.topic.failedAttempts()).toEqual([]);
  });

  it('ends the same with every command delivered twice and out of order: one ticket, one mint, one DM each', async () => {
    const copies = new Map<string, number>();
    const steps = await play({ duplicates: 1, reorder: 6, seed: 42 }, (stack) => {
      // A second subscriber sees the deliveries the worker gets: each message twice.
      stack.topic.subscribe(async (event) => {
        for (const r of event.Records) copies.set(r.Sns.MessageId, (copies.get(r.Sns.MessageId) ?? 0) + 1);
      });
    });
    expect(failed(steps)).toEqual([]);
    expect(steps).toHaveLength(STEPS.length);
    const s = stack!;
    expect(s.jira.issues()).toHaveLength(2);
    expect(
      s.vault.requests.filter((r) => r.path.startsWith('database/creds/') && r.status === 200),
    ).toHaveLength(2);
    const alice = demoPeople(ad).alice.slackId;
    const ready = s.slack.messagesIn(alice).filter((m) => !m.ephemeral && m.text.includes('is ready'));
    expect(ready).toHaveLength(2);
    expect(copies.size).toBe(s.topic.published().length);
    expect(new Set(copies.values())).toEqual(new Set([2]));
  });
});
