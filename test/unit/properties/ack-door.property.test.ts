import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAckHandler } from '../../../lambdas/ack/wiring.js';
import { InProcessTopic } from '../../../local/in-process-topic.js';
import { SLACK_FORM_CONTENT_TYPE, toLambdaEvent } from '../../../local/slack/signed-request.js';
import { ACTION_IDS } from '../../../shared/adapters/slack/action-ids.js';
import { DENY_MODAL_CALLBACK_ID } from '../../../shared/adapters/slack/deny-modal.js';
import { REQUEST_MODAL_CALLBACK_ID, TARGET_ACTION_ID } from '../../../shared/adapters/slack/request-modal.js';
import { checkSlackBody } from '../../../shared/adapters/slack/payload-gate.js';
import { verifySlackRequest } from '../../../shared/adapters/slack/request-verification.js';
import { checkTopicCommand } from '../../../shared/messages/commands.js';
import { capturingLogger } from '../../fixtures/capturing-logger.js';
import { EXAMPLE_CATALOG_PATH } from '../../fixtures/catalog.js';
import { documentedStatuses } from '../../fixtures/documented-statuses.js';

/*
 * The ack Lambda's door under generated input: whatever a signed (or unsigned) body holds, the
 * Lambda answers with a documented status, never throws, puts nothing on the topic that breaks
 * its contract, and never logs a secret or the body.
 */

const RUNS = 1000;
const SIGNING_SECRET = 'property-signing-secret-0123456789abcdef';
const BOT_TOKEN = 'xoxb-property-bot-token-0000';
const NOW = new Date('2026-11-21T10:00:00Z');
const NOW_SECONDS = Math.floor(NOW.getTime() / 1000);
/** What the ack Lambda may answer: exactly the table in docs/slack.md. */
const DOCUMENTED = documentedStatuses('slack.md');

// Nothing listens on port 9: every Slack call fails at once instead of reaching the network.
const DEAD_END = 'http://127.0.0.1:9';

const text = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.constantFrom('', 'help', 'orders read 1h INC-1 checking', 'cancel REQ-0K2M9Q7X', 'deny REQ-0K2M9Q7X no'),
  fc.string({ unit: 'grapheme', maxLength: 30 }),
);
/** Valid, empty, absent or wrongly typed: what a field of a Slack payload may turn out to be. */
const field = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof(
    { weight: 4, arbitrary: valid },
    fc.constant(undefined),
    fc.constant(null),
    fc.constant(''),
    fc.integer(),
    fc.array(valid, { maxLength: 2 }),
    fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 2 }),
  );
const userId = fc.constantFrom('U0ALICE01', 'U0BOB0001', 'W0ORG0001', 'bob', 'U');
// Object.prototype's keys too: Bolt looks team ids up in a plain object (a counterexample once).
const teamId = fc.constantFrom(
  'T0JITTEAM',
  'T0OTHER01',
  'E0GRID001',
  'team',
  'valueOf',
  '__proto__',
  'constructor',
);
const requestIdValue = fc.constantFrom('REQ-0K2M9Q7X', 'REQ-0K2M9Q7X:60', 'REQ-0K2M9Q7X:0', 'nope', '');
const responseUrl = fc.constantFrom(`${DEAD_END}/commands/T0/1/x`, 'not a url', 'javascript:alert(1)');

const action = fc.record(
  {
    action_id: field(fc.constantFrom(...Object.values(ACTION_IDS), TARGET_ACTION_ID, 'other')),
    type: field(fc.constantFrom('button', 'static_select')),
    value: field(requestIdValue),
    action_ts: field(fc.constantFrom('1700000000.000001', 'x')),
    selected_option: field(fc.record({ value: fc.constantFrom('orders:read', 'orders', 'x:y:z') })),
  },
  { requiredKeys: [] },
);
const view = fc.record(
  {
    id: field(fc.constantFrom('V0VIEW001', 'V')),
    hash: field(fc.constant('1.abc')),
    callback_id: field(fc.constantFrom(REQUEST_MODAL_CALLBACK_ID, DENY_MODAL_CALLBACK_ID, 'other')),
    private_metadata: field(fc.constantFrom('{"requestId":"REQ-0K2M9Q7X"}', '{"channelId":"C0X"}', 'x')),
    state: field(
      fc.record({ values: field(fc.constant({ b: { a: { type: 'plain_text_input', value: 'x' } } })) }),
    ),
  },
  { requiredKeys: [] },
);
const payload = fc.record(
  {
    type: field(
      fc.constantFrom('block_actions', 'view_submission', 'shortcut', 'block_suggestion', 'event_callback'),
    ),
    user: field(
      fc.record({ id: field(userId), team_id: field(teamId), name: field(fc.string({ maxLength: 8 })) }),
    ),
    team: field(fc.record({ id: field(teamId) })),
    actions: field(action),
    view: field(view),
    channel: field(fc.record({ id: field(fc.constantFrom('C0APPROVALS', 'C')) })),
    container: field(fc.record({ message_ts: field(fc.constant('1.1')) })),
    response_url: field(responseUrl),
    trigger_id: field(fc.constant('1.2.abc')),
    event: field(fc.string({ maxLength: 5 })),
  },
  { requiredKeys: [] },
);
const slashFields = fc.record(
  {
    command: fc.constantFrom('/request_mysql_access', '/other', ''),
    text,
    user_id: fc.oneof(userId, fc.constant('')),
    team_id: fc.oneof(teamId, fc.constant('')),
    channel_id: fc.constantFrom('C0INCIDENT', '', 'x'),
    user_name: fc.string({ maxLength: 10 }),
    response_url: responseUrl,
    trigger_id: fc.constantFrom('1.2.abc', ''),
  },
  { requiredKeys: [] },
);
const formOf = (entries: [string, string][]) => new URLSearchParams(entries).toString();

/** What Slack itself sends for a request, with generated words in it: it must reach the topic. */
const genuineSlash = fc
  .tuple(fc.constantFrom('1h', '30m', '2h'), fc.string({ minLength: 10, maxLength: 60 }))
  .map(([duration, why]) =>
    formOf([
      ['command', '/request_mysql_access'],
      ['text', `orders read ${duration} INC-1 ${why}`],
      ['user_id', 'U0ALICE01'],
      ['team_id', 'T0JITTEAM'],
      ['channel_id', 'C0INCIDENT'],
      ['trigger_id', '1.2.abc'],
      ['response_url', `${DEAD_END}/commands/T0/1/x`],
    ]),
  );

/** A form body as Slack's clients, buggy clients and attackers might send it. */
const body = fc.oneof(
  genuineSlash,
  fc.string({ maxLength: 200 }),
  payload.map((p) => formOf([['payload', JSON.stringify(p) ?? '']])),
  fc.oneof(fc.string({ maxLength: 30 }), fc.json()).map((raw) => formOf([['payload', raw]])),
  slashFields.map((fields) => formOf(Object.entries(fields))),
  fc
    .tuple(slashFields, fc.constantFrom('user_id', 'team_id', 'command', 'text'), fc.string({ maxLength: 8 }))
    .map(([fields, key, extra]) => formOf([...Object.entries(fields), [key, extra]])),
  fc.constantFrom('ssl_check=1', 'event=%7B%7D', 'actions=%5B%5D', 'name=x', 'type=block_actions'),
);

function ackUnderTest() {
  const topic = new InProcessTopic();
  const logs: string[] = [];
  const handler = createAckHandler(
    {
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: BOT_TOKEN,
      ACCESS_TOPIC_ARN: 'arn:aws:sns:us-east-1:000000000000:jit-access-commands',
      SLACK_API_URL: `${DEAD_END}/api/`,
      JIT_ACCESS_CONFIG: EXAMPLE_CATALOG_PATH,
    },
    { clock: { now: () => NOW }, publisher: topic, logger: capturingLogger('ack', logs) },
  );
  return { handler, topic, logs };
}

describe('property: the ack Lambda door', () => {
  it('has its answers documented', () => {
    expect(DOCUMENTED).toEqual([200, 400, 401, 403, 404, 405, 413, 415]);
  });

  const { handler, topic, logs } = ackUnderTest();

  it(`answers any signed body with a documented status, queues only valid commands, logs no secret (${RUNS} cases)`, async () => {
    const seen = { queued: 0, statuses: new Set<number>() };
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (raw, signed) => {
        topic.reset();
        logs.length = 0;
        const event = toLambdaEvent(
          { body: raw, contentType: SLACK_FORM_CONTENT_TYPE },
          {
            signingSecret: SIGNING_SECRET,
            timestamp: NOW_SECONDS,
            ...(signed ? {} : { wrongSecret: 'forged' }),
          },
        );
        const reply = await handler(event, {});
        expect(DOCUMENTED).toContain(reply.statusCode);
        seen.statuses.add(reply.statusCode ?? 0);
        if (!signed) expect(reply.statusCode).toBe(401);
        await topic.drain();
        for (const command of topic.published()) expect(() => checkTopicCommand(command)).not.toThrow();
        seen.queued += topic.published().length;
        const logged = logs.join('\n');
        expect(logged).not.toContain(SIGNING_SECRET);
        expect(logged).not.toContain(BOT_TOKEN);
        expect(logged).not.toContain('v0=');
        if (raw.length >= 24) expect(logged).not.toContain(raw);
        expect(logged).not.toContain('unhandled error');
      }),
      { numRuns: RUNS },
    );
    // Not vacuous: the generated bodies reached every door, the topic included.
    expect(seen.queued).toBeGreaterThan(0);
    expect([...seen.statuses].sort()).toEqual(expect.arrayContaining([200, 400, 401]));
  }, 120_000);
});

describe('property: the signature gate and the payload gate', () => {
  const policy = { signingSecret: SIGNING_SECRET, now: () => NOW };
  const headers = fc.dictionary(
    fc.constantFrom(
      'x-slack-signature',
      'X-Slack-Request-Timestamp',
      'content-type',
      'Content-Type',
      'x-other',
    ),
    fc.oneof(fc.string({ maxLength: 80 }), fc.constantFrom(String(NOW_SECONDS), 'v0=' + 'a'.repeat(64))),
  );

  it(`never throws and refuses anything unsigned with a documented status (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), headers, fc.boolean(), (raw, sent, base64) => {
        const result = verifySlackRequest(
          {
            body: base64 ? Buffer.from(raw).toString('base64') : raw,
            isBase64Encoded: base64,
            headers: sent,
          },
          policy,
        );
        // Without the secret nobody can make a valid signature: every such request is refused.
        expect(result.ok).toBe(false);
        if (!result.ok) {
          expect([400, 401, 403, 405, 413, 415]).toContain(result.statusCode);
          if (raw.length >= 12) expect(result.reason).not.toContain(raw);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it(`checks any body's shape without throwing, naming no value in its reason (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(body, (raw) => {
        const result = checkSlackBody(raw);
        if (!result.ok) {
          expect(result.reason.length).toBeLessThan(300);
          for (const secret of ['U0ALICE01', 'U0BOB0001', 'REQ-0K2M9Q7X'])
            expect(result.reason).not.toContain(secret);
        }
      }),
      { numRuns: RUNS },
    );
  });
});
