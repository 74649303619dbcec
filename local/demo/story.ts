import { type Connection, createConnection } from 'mysql2/promise';
import { runCli } from '../../bin/cli.js';
import type { AccessRequest } from '../../shared/domain/access-request.js';
import type { WrappedConnection } from '../../shared/ports/credential-broker.js';
import { blockActions, type SlackRequest, signRequest, slashCommand } from '../slack/signed-request.js';
import type { LocalStack } from '../stack.js';
import { APPROVERS, type DemoPerson, demoPeople, TEAM } from './world.js';

/*
 * The story `npm run demo` tells and test/e2e asserts, on a local stack of the demo's world: every
 * request a real signed HTTP request to the stack's front door, every check made on the real
 * MariaDB and the emulators' records. Each step says what happened and how long it took; the
 * first step that does not hold ends the story.
 */

export interface StoryStep {
  readonly step: string;
  readonly actor: string;
  /** What happened, in a line; what went wrong when `ok` is false. */
  readonly outcome: string;
  readonly ms: number;
  readonly ok: boolean;
}

export interface StoryOptions {
  /** The stack's clock moved forward to `at` (the expiry step skips to the end of a grant). */
  readonly skipTo: (at: Date) => void;
  /** Each step as it ends, for a live timeline. */
  readonly onStep?: (step: StoryStep) => void;
}

/** A check in the story that did not hold. */
export class StoryCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoryCheckError';
  }
}

function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new StoryCheckError(message);
}

export const STORY_SCHEMA = 'orders';
/** How many steps a story that holds throughout has. */
export const STORY_STEP_COUNT = 14;

/** The orders schema the catalog's levels grant on, with a row to read. */
export async function seedOrders(admin: Connection): Promise<void> {
  await admin.query(`CREATE DATABASE IF NOT EXISTS ${STORY_SCHEMA}`);
  await admin.query(
    `CREATE TABLE IF NOT EXISTS ${STORY_SCHEMA}.items (id INT PRIMARY KEY, name VARCHAR(40))`,
  );
  await admin.query(`INSERT IGNORE INTO ${STORY_SCHEMA}.items VALUES (1, 'widget')`);
}

export async function playStory(stack: LocalStack, options: StoryOptions): Promise<StoryStep[]> {
  const { ad, db } = stack;
  if (!ad || !db) throw new Error('the story runs on the Samba AD and the MariaDB of the demo world');
  const people = demoPeople(ad);
  const steps: StoryStep[] = [];
  const admin = await createConnection({
    host: db.host,
    port: db.port,
    user: db.user,
    password: db.password,
  });
  const sessions: Connection[] = [];
  const state: {
    read?: string;
    write?: string;
    token?: string;
    creds?: WrappedConnection;
    session?: Connection;
    writeCreds?: WrappedConnection;
  } = {};

  const step = async (name: string, actor: string, run: () => Promise<string>): Promise<boolean> => {
    const start = performance.now();
    let outcome: string;
    let ok = true;
    try {
      outcome = await run();
    } catch (error) {
      ok = false;
      outcome = error instanceof Error ? error.message : String(error);
    }
    const done: StoryStep = { step: name, actor, outcome, ms: Math.round(performance.now() - start), ok };
    steps.push(done);
    options.onStep?.(done);
    return ok;
  };

  // ---- what the people do, as Slack and Jira send it --------------------------------------------
  const post = async (url: string, request: SlackRequest<unknown>) => {
    const timestamp = Math.floor(stack.clock.now().getTime() / 1000);
    const answer = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': request.contentType,
        ...signRequest(request.body, { signingSecret: stack.signingSecret, timestamp }),
      },
      body: request.body,
    });
    const text = await answer.text();
    check(answer.status === 200, `the front door answered ${answer.status}: ${text.slice(0, 200)}`);
    return text;
  };
  const slash = async (who: DemoPerson, text: string) => {
    const body = await post(
      stack.urls.slackCommands,
      slashCommand({
        text,
        userId: people[who].slackId,
        userName: who,
        teamId: TEAM,
        channelId: 'C0INCIDENT',
        responseUrl: stack.slack.newResponseUrl(),
      }),
    );
    await stack.settle();
    return body ? String((JSON.parse(body) as { text?: unknown }).text ?? '') : '';
  };
  const click = async (who: DemoPerson, actionId: string, requestId: string) => {
    const message = stack.slack.messagesIn(APPROVERS).find((m) => !m.ephemeral && m.text.includes(requestId));
    check(message, `no approvers' message for ${requestId} in #db-approvals`);
    await post(
      stack.urls.slackInteractivity,
      blockActions({
        actions: [
          { action_id: actionId, value: requestId, type: 'button', action_ts: `${Date.now() / 1000}` },
        ],
        userId: people[who].slackId,
        userName: who,
        teamId: TEAM,
        channel: { id: APPROVERS },
        message: { ts: message.ts },
        responseUrl: stack.slack.newResponseUrl(),
      }),
    );
    await stack.settle();
  };
  const request = async (requestId: string) => {
    const found = await stack.store().get(requestId);
    check(found, `${requestId} is not in the requests table`);
    return found;
  };
  const toldInChannel = (who: DemoPerson) =>
    stack.slack
      .messagesIn(APPROVERS)
      .filter((m) => m.ephemeral && m.user === people[who].slackId)
      .map((m) => m.text);
  const userExists = async (username: string) => {
    const [rows] = await admin.query('SELECT COUNT(*) AS n FROM mysql.user WHERE User = ?', [username]);
    return (rows as { n: number }[])[0]?.n !== 0;
  };
  const login = (creds: WrappedConnection) =>
    createConnection({
      host: creds.host,
      port: creds.port,
      user: creds.username,
      password: creds.password,
      database: creds.database,
    });
  const loginRefused = (creds: WrappedConnection) =>
    login(creds).then(
      async (c) => {
        await c.end();
        return false;
      },
      (error: { code?: string }) => error.code === 'ER_ACCESS_DENIED_ERROR',
    );
  /** The token in alice's "is ready" DM for the request, as its `jit-access connect` command shows it. */
  const readyToken = (requestId: string) => {
    const dm = stack.slack
      .messagesIn(people.alice.slackId)
      .find((m) => !m.ephemeral && m.text.includes(requestId) && m.text.includes('is ready'));
    check(dm, `alice has no "is ready" DM for ${requestId}`);
    const token = /jit-access connect (\S+?)(?:`|\\n|")/.exec(JSON.stringify(dm.blocks ?? []))?.[1];
    check(token, 'the DM holds no `jit-access connect` command');
    return token;
  };
  const creds = async (token: string) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(['creds', token, '--format', 'json'], {
      out: (line) => out.push(line),
      err: (line) => err.push(line),
      env: { VAULT_ADDR: stack.vault.url },
    });
    check(code === 0, `jit-access creds exited ${code}: ${err.join(' ')}`);
    return JSON.parse(out.join('\n')) as WrappedConnection;
  };
  const ask = async (level: 'read' | 'write', duration: string) => {
    const reply = await slash('alice', `orders ${level} ${duration} INC-4711 checking stuck orders`);
    const requestId = /Request \*(REQ-[0-9A-Z]{8})\* received/.exec(reply)?.[1];
    check(requestId, `the slash command's answer names no request: "${reply.slice(0, 120)}"`);
    const found = await request(requestId);
    check(found.state === 'PENDING_APPROVAL', `${requestId} is ${found.state}, not waiting for approval`);
    check(found.ticket, `${requestId} has no Jira ticket`);
    return found;
  };
  const refusedApproval = async (who: DemoPerson, requestId: string, expected: string) => {
    await click(who, 'request.approve', requestId);
    const told = toldInChannel(who).at(-1) ?? '';
    check(told.includes(expected), `${who} was not told "${expected}" (told: "${told.slice(0, 120)}")`);
    const now = await request(requestId);
    check(now.state === 'PENDING_APPROVAL', `${requestId} is ${now.state} after ${who}'s click`);
    const trail = await stack.store().auditTrail(requestId);
    check(trail.at(-1)?.action === 'approve.refused', `${who}'s refusal is not in the audit trail`);
    return `refused, told "${expected}", recorded as approve.refused`;
  };

  try {
    await seedOrders(admin);
    // In order; the first step that does not hold ends the story (the rest build on it).
    const plan: [step: string, actor: string, run: () => Promise<string>][] = [
      [
        'asks for read access to orders for 15 minutes',
        'alice · Slack',
        async () => {
          const found = await ask('read', '15m');
          state.read = found.requestId;
          return `${found.requestId} queued; Jira ${found.ticket?.key} opened; approvers asked in #db-approvals`;
        },
      ],
      [
        'approves in Jira',
        'bob · Jira (via dba-oncall → db-approvers)',
        async () => {
          const before = await request(state.read!);
          stack.jira.transitionAs(before.ticket!.key, people.bob.jiraId, 'Approve');
          await stack.settle();
          const after = await request(state.read!);
          check(
            after.state === 'GRANTED',
            `${after.requestId} is ${after.state} after bob's move, not GRANTED`,
          );
          check(after.approvals?.[0]?.account === 'bob', 'the approval is not recorded as bob’s');
          return `signed webhook → approved by bob; Vault made ${after.grant?.username}`;
        },
      ],
      [
        'gets a DM with a single-use token',
        'jit-access → alice · Slack',
        () => {
          state.token = readyToken(state.read!);
          return Promise.resolve('a wrapped token; no password in Slack');
        },
      ],
      [
        'runs jit-access creds on the token',
        'alice · CLI',
        async () => {
          state.creds = await creds(state.token!);
          return `unwrapped once: ${state.creds.username}@${state.creds.host}:${state.creds.port}/${state.creds.database}`;
        },
      ],
      [
        'logs in and reads: SELECT works',
        'alice · MariaDB',
        async () => {
          state.session = await login(state.creds!);
          sessions.push(state.session);
          const [rows] = await state.session.query(`SELECT name FROM ${STORY_SCHEMA}.items WHERE id = 1`);
          check((rows as { name: string }[])[0]?.name === 'widget', 'SELECT did not return the seeded row');
          return 'SELECT name FROM items → widget';
        },
      ],
      [
        'tries to write: INSERT is refused',
        'alice · MariaDB',
        async () => {
          const refused = await state
            .session!.query(`INSERT INTO ${STORY_SCHEMA}.items VALUES (${Date.now() % 100000}, 'gadget')`)
            .then(
              () => undefined,
              (error: { code?: string }) => error.code,
            );
          check(
            refused === 'ER_TABLEACCESS_DENIED_ERROR',
            `INSERT was not refused (${refused ?? 'it worked'})`,
          );
          return 'ER_TABLEACCESS_DENIED_ERROR: the read level grants SELECT only';
        },
      ],
      [
        'asks for write access (needs two approvals)',
        'alice · Slack',
        async () => {
          const found = await ask('write', '30m');
          state.write = found.requestId;
          return `${found.requestId} queued; Jira ${found.ticket?.key}; two approvers needed`;
        },
      ],
      [
        'approves, in no approver group',
        'dave · Slack',
        () => refusedApproval('dave', state.write!, 'only members of'),
      ],
      [
        'approves, with a disabled account',
        'carol · Slack',
        () => refusedApproval('carol', state.write!, 'your directory account is disabled'),
      ],
      [
        'approves her own request',
        'alice · Slack',
        () => refusedApproval('alice', state.write!, 'you cannot decide on your own request'),
      ],
      [
        'approves in Slack: 1 of 2',
        'bob · Slack',
        async () => {
          await click('bob', 'request.approve', state.write!);
          const now = await request(state.write!);
          check(
            now.state === 'PENDING_APPROVAL',
            `${now.requestId} is ${now.state} after one approval of two`,
          );
          check(now.approvals?.length === 1, `${now.approvals?.length ?? 0} approvals recorded, not 1`);
          return 'recorded; still waiting for a second approver';
        },
      ],
      [
        'approves in Slack: 2 of 2',
        'frank · Slack',
        async () => {
          await click('frank', 'request.approve', state.write!);
          const now = await request(state.write!);
          check(now.state === 'GRANTED', `${now.requestId} is ${now.state} after two approvals, not GRANTED`);
          state.writeCreds = await creds(readyToken(state.write!));
          return `granted: ${now.grant?.username}, until ${now.grant?.expiresAt.slice(11, 16)} UTC`;
        },
      ],
      [
        'revokes the read access early',
        'alice · Slack',
        async () => {
          await slash('alice', `revoke ${state.read}`);
          const now = await request(state.read!);
          check(now.state === 'REVOKED', `${now.requestId} is ${now.state}, not REVOKED`);
          const sessionClosed = await state.session!.query('SELECT 1').then(
            () => false,
            () => true,
          );
          check(sessionClosed, 'the session opened before the revocation still works');
          check(await loginRefused(state.creds!), 'a new login with the revoked credentials was not refused');
          check(
            !(await userExists(state.creds!.username)),
            `${state.creds!.username} is still in mysql.user`,
          );
          return 'REVOKED: open session closed, login refused, user gone from mysql.user';
        },
      ],
      [
        'the write access expires',
        'expiry schedule',
        async () => {
          const granted = (await request(state.write!)) as AccessRequest;
          options.skipTo(new Date(Date.parse(granted.grant!.expiresAt) + 1000));
          const fired = await stack.scheduler.fireDue();
          check(fired === 1, `${fired} schedules fired at the end of the grant, not 1`);
          await stack.settle();
          const now = await request(state.write!);
          check(now.state === 'EXPIRED', `${now.requestId} is ${now.state}, not EXPIRED`);
          check(await loginRefused(state.writeCreds!), 'a login after the expiry was not refused');
          check(
            !(await userExists(state.writeCreds!.username)),
            `${state.writeCreds!.username} is still there`,
          );
          return 'EXPIRED on schedule: login refused, user gone from mysql.user';
        },
      ],
    ];
    for (const [name, actor, run] of plan) if (!(await step(name, actor, run))) break;
  } finally {
    await Promise.allSettled(sessions.map((s) => s.destroy()));
    await admin.end();
  }
  return steps;
}
