import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  jiraWebhookSignature,
  verifyJiraWebhook,
} from '../../../shared/adapters/jira/webhook-verification.js';
import { parseJiraStatusChange } from '../../../shared/adapters/jira/webhook-payload.js';
import { interpretSlashText } from '../../../shared/adapters/slack/slash-command.js';
import { CatalogError, parseCatalog } from '../../../shared/config/load-catalog.js';
import { isTerminal, REQUEST_STATES, TRANSITIONS } from '../../../shared/domain/lifecycle.js';
import {
  checkTopicCommand,
  InvalidCommandError,
  parseTopicCommand,
  type RequestCancel,
  type RequestDecided,
} from '../../../shared/messages/commands.js';
import { cancelRequest } from '../../../shared/use-cases/cancel-request.js';
import { decideRequest } from '../../../shared/use-cases/decide-request.js';
import { submitRequest } from '../../../shared/use-cases/submit-request.js';
import { type Person, workerWorld } from '../../fakes/worker-world.js';
import { exampleCatalog, exampleCatalogText } from '../../fixtures/catalog.js';

/*
 * Generated input against the rules that hold everything else up: the slash grammar, the Jira
 * door, the topic contract, the catalog loader, and the request lifecycle. Each at 1,000 cases.
 */

const RUNS = 1000;
const catalog = exampleCatalog();

describe('property: the slash-command grammar', () => {
  const words = fc.constantFrom(
    'orders',
    'billing',
    'read',
    'write',
    'admin',
    '1h',
    '30m',
    '2h',
    '25h',
    '0m',
    'help',
    'cancel',
    'approve',
    'deny',
    'revoke',
    'REQ-0K2M9Q7X',
    'req-0k2m9q7x',
    'INC-1',
    'checking',
    '*',
    '@channel',
    '<!here>',
    '',
  );
  const line = fc.oneof(
    fc.array(words, { maxLength: 8 }).map((parts) => parts.join(' ')),
    fc.string({ maxLength: 120 }),
    fc.string({ unit: 'grapheme', maxLength: 60 }),
  );

  it(`interprets any text without throwing; a submit is always one the catalog allows (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(line, (text) => {
        const intent = interpretSlashText(text, catalog);
        expect(['open_modal', 'help', 'cancel', 'revoke', 'approve', 'deny', 'submit', 'invalid']).toContain(
          intent.kind,
        );
        if (intent.kind === 'submit') {
          const level = catalog.databases[intent.request.database]?.levels[intent.request.level];
          expect(level).toBeDefined();
          expect(intent.request.duration.minutes).toBeGreaterThan(0);
          expect(intent.request.duration.minutes).toBeLessThanOrEqual(level?.maxDuration.minutes ?? 0);
          expect(intent.request.justification.trim()).not.toBe('');
        }
        if (intent.kind === 'invalid') expect(intent.problems.length).toBeGreaterThan(0);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: the Jira webhook verifier and parser', () => {
  const SECRET = 'property-webhook-secret-0123456789';
  const statusItem = fc.record(
    {
      field: fc.constantFrom('status', 'assignee'),
      fieldtype: fc.constantFrom('jira', 'custom'),
      fieldId: fc.constantFrom('status', 'assignee'),
      fromString: fc.oneof(fc.constantFrom('To Do', 'Approved'), fc.string({ maxLength: 300 }), fc.integer()),
      toString: fc.oneof(
        fc.constantFrom('Approved', 'Declined'),
        fc.string({ maxLength: 20 }),
        fc.constant(null),
      ),
    },
    { requiredKeys: [] },
  );
  const webhook = fc.record(
    {
      webhookEvent: fc.constantFrom('jira:issue_updated', 'comment_created', 'x'),
      user: fc.record(
        { accountId: fc.oneof(fc.constant('712020:frank'), fc.string({ maxLength: 200 })) },
        { requiredKeys: [] },
      ),
      issue: fc.record(
        { id: fc.oneof(fc.constant('10001'), fc.string({ maxLength: 20 })), key: fc.constant('DBA-1') },
        { requiredKeys: [] },
      ),
      changelog: fc.record(
        { id: fc.constant('1'), items: fc.array(statusItem, { maxLength: 3 }) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: [] },
  );
  const body = fc.oneof(
    webhook.map((w) => JSON.stringify(w)),
    fc.string({ maxLength: 200 }),
    fc.json(),
  );

  it(`verifies any request without throwing: only the exact signed bytes pass (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(
        body,
        fc.boolean(),
        fc.constantFrom('x-hub-signature', 'X-Hub-Signature'),
        (raw, signed, name) => {
          const signature = signed ? jiraWebhookSignature(SECRET, raw) : `sha256=${'0'.repeat(64)}`;
          const result = verifyJiraWebhook(
            { body: raw, headers: { [name]: signature }, requestContext: { http: { method: 'POST' } } },
            { secret: SECRET },
          );
          expect(result.ok).toBe(signed);
          if (!result.ok) {
            expect([401, 405, 413]).toContain(result.statusCode);
            if (raw.length >= 12) expect(result.reason).not.toContain(raw);
          }
        },
      ),
      { numRuns: RUNS },
    );
  });

  it(`parses any verified body to a change or a reason, never throwing (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(body, fc.option(fc.string({ maxLength: 40 }), { nil: undefined }), (raw, identifier) => {
        const parsed = parseJiraStatusChange(raw, identifier);
        if (parsed.ok) {
          expect(typeof parsed.change.fromStatus).toBe('string');
          expect(typeof parsed.change.toStatus).toBe('string');
          expect(parsed.change.issueId).toMatch(/^\d+$/);
        } else {
          expect(['not_json', 'not_an_issue_update', 'no_status_change']).toContain(parsed.why);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: the topic contract', () => {
  const actor = fc.record(
    {
      kind: fc.constantFrom('slack', 'jira'),
      userId: fc.constantFrom('U0ALICE01', '', 'alice'),
      teamId: fc.constantFrom('T0JITTEAM', ''),
      accountId: fc.constantFrom('712020:frank', ''),
    },
    { requiredKeys: ['kind'] },
  );
  const candidate = fc.record(
    {
      type: fc.constantFrom(
        'request.submitted',
        'request.cancel',
        'request.decided',
        'grant.revoke',
        'grant.extend',
        'x',
      ),
      version: fc.constantFrom(1, 2, '1'),
      commandId: fc.constantFrom('submit:0123456789abcdef', 'short', 'x'.repeat(200)),
      issuedAt: fc.constantFrom('2026-11-21T10:00:00.000Z', 'yesterday'),
      requestId: fc.constantFrom('REQ-0K2M9Q7X', 'REQ-0K2M9Q7U', ''),
      requester: actor,
      actor,
      decision: fc.constantFrom('approve', 'deny', 'maybe'),
      source: fc.constantFrom('slack', 'jira'),
      via: fc.constantFrom('slash_command', 'modal', 'button'),
      target: fc.record({
        database: fc.constantFrom('orders', 'Orders'),
        level: fc.constantFrom('read', ''),
      }),
      durationMinutes: fc.oneof(fc.integer({ min: -5, max: 2000 }), fc.double()),
      justification: fc.string({ maxLength: 1100 }),
      responseUrl: fc.constantFrom('https://hooks.slack.com/x', 'ftp://x', 'nope'),
    },
    { requiredKeys: [] },
  );

  it(`accepts exactly what round-trips: anything published parses as the worker reads it (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(fc.oneof(candidate, fc.jsonValue()), (value) => {
        let command;
        try {
          command = checkTopicCommand(value);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidCommandError);
          for (const issue of (error as InvalidCommandError).issues) expect(issue).toMatch(/^[\w.()]+: /);
          return;
        }
        expect(parseTopicCommand(JSON.stringify(command), { type: command.type, version: '1' })).toEqual(
          command,
        );
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: the catalog loader', () => {
  const example = exampleCatalogText();
  const edit = fc.oneof(
    fc.string({ maxLength: 200 }),
    fc
      .tuple(fc.nat({ max: example.length }), fc.nat({ max: 40 }), fc.string({ maxLength: 20 }))
      .map(([at, remove, insert]) => example.slice(0, at) + insert + example.slice(at + remove)),
    fc.tuple(fc.nat({ max: example.split('\n').length }), fc.nat({ max: 5 })).map(([at, count]) => {
      const lines = example.split('\n');
      lines.splice(at, count);
      return lines.join('\n');
    }),
  );

  it(`loads any text or refuses it with a CatalogError whose problems carry a line (${RUNS} cases)`, () => {
    fc.assert(
      fc.property(edit, (text) => {
        try {
          parseCatalog(text, 'generated.yaml');
        } catch (error) {
          expect(error).toBeInstanceOf(CatalogError);
          const problems = (error as { problems?: { line?: number }[] }).problems ?? [];
          for (const problem of problems) {
            if (problem.line !== undefined) expect(problem.line).toBeGreaterThanOrEqual(1);
          }
          expect((error as Error).message).not.toMatch(/YAML\.parseAllDocuments|Implicit keys/);
        }
      }),
      { numRuns: RUNS },
    );
  });
});

describe('property: the request lifecycle', () => {
  type Step =
    | { kind: 'decide'; person: Person; decision: 'approve' | 'deny'; level: 'read' | 'write' }
    | { kind: 'cancel'; person: Person }
    | { kind: 'redeliver' };
  const person = fc.constantFrom<Person>('alice', 'bob', 'frank', 'carol', 'dave');
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({
      kind: fc.constant('decide' as const),
      person,
      decision: fc.constantFrom('approve' as const, 'deny' as const),
      level: fc.constantFrom('read' as const, 'write' as const),
    }),
    fc.record({ kind: fc.constant('cancel' as const), person }),
    fc.constant({ kind: 'redeliver' as const }),
  );
  const legal = new Set(TRANSITIONS.map((t) => `${t.from}>${t.to}`));

  it(`random decisions, cancels and redeliveries never reach an illegal state; every refusal is recorded (${RUNS} cases)`, async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('read', 'write'),
        fc.array(step, { maxLength: 10 }),
        async (level, steps) => {
          const world = workerWorld();
          const submitted = world.submitted('alice', {}, { database: 'orders', level });
          const opened = await submitRequest(world.deps, submitted);
          expect(opened.kind).toBe('pending');
          const { requestId } = submitted;
          let last: RequestDecided | RequestCancel | undefined;
          for (const next of steps) {
            const before = await world.store.get(requestId);
            const trailBefore = await world.store.auditTrail(requestId);
            let command: RequestDecided | RequestCancel;
            if (next.kind === 'redeliver') {
              if (!last) continue;
              command = last;
            } else {
              command =
                next.kind === 'cancel'
                  ? world.cancel(next.person, requestId)
                  : world.decidedInSlack(next.person, requestId, next.decision);
            }
            last = command;
            const outcome =
              command.type === 'request.cancel'
                ? await cancelRequest(world.deps, command)
                : await decideRequest(world.deps, command);
            const after = await world.store.get(requestId);
            const trail = await world.store.auditTrail(requestId);
            expect(REQUEST_STATES).toContain(after?.state);
            if (after?.state !== before?.state) {
              expect(legal.has(`${before?.state}>${after?.state}`)).toBe(true);
              expect(isTerminal(before?.state ?? 'SUBMITTED')).toBe(false);
            }
            if (outcome.kind === 'refused') {
              // Refused: nothing changed, and the refusal is in the trail (once per command).
              expect(after?.state).toBe(before?.state);
              expect(trail.length).toBe(trailBefore.length + 1);
              expect(trail.at(-1)?.action).toMatch(/\.refused$/);
            }
            if (after?.state === 'APPROVED') {
              const accounts = (after.approvals ?? []).map((a) => a.account);
              expect(new Set(accounts).size).toBe(accounts.length);
              expect(accounts).not.toContain('alice');
              expect(accounts.length).toBeGreaterThanOrEqual(level === 'write' ? 2 : 1);
            }
          }
        },
      ),
      { numRuns: RUNS },
    );
  }, 120_000);
});
