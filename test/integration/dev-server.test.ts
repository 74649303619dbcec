import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { signRequest, slashCommand } from '../../local/slack/signed-request.js';
import { LOCAL_SIGNING_SECRET } from '../../local/stack.js';
import { TEAM } from '../fixtures/decision-stack.js';

/*
 * `npm run dev` as a developer runs it, in a process group of its own with nothing configured
 * (every connector emulated, its own MariaDB and Samba AD): it says where it listens, answers a
 * signed slash command on loopback and logs the request's progress, and on SIGTERM stops every
 * server and leaves no process and no temporary directory behind.
 */

const root = join(import.meta.dirname, '../..');
const scratch = mkdtempSync(join(tmpdir(), 'jit-dev-test-'));
// As root, MariaDB's data directory under TMPDIR must be reachable by the mysql user.
chmodSync(scratch, 0o755);
const envFile = join(scratch, 'empty.env');
writeFileSync(envFile, '');
const tmp = join(scratch, 'tmp');
let child: ChildProcess | undefined;

afterAll(() => {
  if (child?.pid) {
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone, as it should be
    }
  }
  rmSync(scratch, { recursive: true, force: true });
});

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves with the output so far once `pattern` appears in it. */
function waitFor(output: { text: string }, pattern: RegExp, ms: number): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const poll = setInterval(() => {
      const match = pattern.exec(output.text);
      if (match) {
        clearInterval(poll);
        resolve(match);
      } else if (Date.now() - started > ms) {
        clearInterval(poll);
        reject(new Error(`no ${pattern} within ${ms} ms; the output was:\n${output.text}`));
      }
    }, 50);
  });
}

describe('npm run dev', () => {
  it('starts, answers a signed slash command on loopback, logs its progress, and stops cleanly on SIGTERM', async () => {
    // A TMPDIR as /tmp is: MariaDB, running as mysql, writes its own temporary files there too.
    mkdirSync(tmp);
    chmodSync(tmp, 0o1777);
    const output = { text: '' };
    child = spawn('npm', ['run', '-s', 'dev'], {
      cwd: root,
      detached: true,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        TMPDIR: tmp,
        PORT: '0',
        DEV_ENV_FILE: envFile,
        NO_COLOR: '1',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => (output.text += chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child?.once('exit', (code) => resolve(code)));
    const pgid = child.pid!;

    const [, commandsUrl] = await waitFor(
      output,
      /POST (http:\/\/127\.0\.0\.1:\d+\/slack\/commands)/,
      60_000,
    );
    await waitFor(output, /Ctrl-C stops it\./, 10_000);
    expect(output.text).toMatch(/Slack +emulated/);
    expect(output.text).toMatch(/LDAP +emulated: Samba AD at ldaps:\/\/127\.0\.0\.1:\d+/);

    const request = slashCommand({
      text: 'orders read 15m INC-4711 checking stuck orders',
      // alice, as local/demo/world.ts gives her to the emulated Slack.
      userId: 'U0ALICE01',
      userName: 'alice',
      teamId: TEAM,
      channelId: 'C0INCIDENT',
    });
    const answer = await fetch(commandsUrl!, {
      method: 'POST',
      headers: {
        'content-type': request.contentType,
        ...signRequest(request.body, {
          signingSecret: LOCAL_SIGNING_SECRET,
          timestamp: Math.floor(Date.now() / 1000),
        }),
      },
      body: request.body,
    });
    expect(answer.status).toBe(200);
    const text = String(((await answer.json()) as { text?: string }).text);
    const requestId = /Request \*(REQ-[0-9A-Z]{8})\* received/.exec(text)?.[1];
    expect(requestId, text).toBeDefined();
    // The request's progress, in readable lines: the front door, then the worker's verdict.
    await waitFor(output, /POST \/slack\/commands → 200 \(\d+ ms\)/, 5_000);
    await waitFor(
      output,
      new RegExp(`worker +${requestId} +request\\.submitted handled +outcome=pending`),
      20_000,
    );

    // An unsigned request is refused, and says so in the log.
    const unsigned = await fetch(commandsUrl!, {
      method: 'POST',
      body: request.body,
      headers: { 'content-type': request.contentType },
    });
    expect(unsigned.status).toBe(401);

    process.kill(pgid, 'SIGTERM');
    const code = await exited;
    expect(output.text).toContain('SIGTERM: stopping the servers');
    expect(output.text).toContain('stopped.');
    expect(code).toBe(0);
    // Every process it started (tsx, node, mariadbd, samba, socat) is gone.
    for (let i = 0; i < 50 && groupAlive(pgid); i++) await new Promise((r) => setTimeout(r, 100));
    expect(groupAlive(pgid)).toBe(false);
    // And every temporary directory (tsx's own compile cache aside).
    expect(readdirSync(tmp).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
  }, 120_000);
});
