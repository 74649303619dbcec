import { afterAll, describe, expect, it } from 'vitest';
import { signRequest, slashCommand } from '../../local/slack/signed-request.js';
import { LOCAL_SIGNING_SECRET } from '../../local/stack.js';
import { TEAM } from '../fixtures/decision-stack.js';
import { runNpmScript, type ScriptProcess } from '../fixtures/script-process.js';

/*
 * `npm run dev` as a developer runs it, with nothing configured (every connector emulated, its
 * own MariaDB and Samba AD): it says where it listens, answers a signed slash command on
 * loopback and logs the request's progress, and on SIGTERM stops every server and leaves no
 * process and no temporary directory behind.
 */

let dev: ScriptProcess | undefined;
afterAll(() => dev?.cleanUp());

describe('npm run dev', () => {
  it('starts, answers a signed slash command on loopback, logs its progress, and stops cleanly on SIGTERM', async () => {
    dev = runNpmScript('dev');
    const [, commandsUrl] = await dev.waitFor(/POST (http:\/\/127\.0\.0\.1:\d+\/slack\/commands)/, 60_000);
    await dev.waitFor(/Ctrl-C stops it\./, 10_000);
    expect(dev.output()).toMatch(/Slack +emulated/);
    expect(dev.output()).toMatch(/LDAP +emulated: Samba AD at ldaps:\/\/127\.0\.0\.1:\d+/);

    const request = slashCommand({
      text: 'orders read 15m INC-4711 checking stuck orders',
      // alice, as local/demo/world.ts gives her to the emulated Slack.
      userId: 'U0ALICE01',
      userName: 'alice',
      teamId: TEAM,
      channelId: 'C0INCIDENT',
    });
    const signed = signRequest(request.body, {
      signingSecret: LOCAL_SIGNING_SECRET,
      timestamp: Math.floor(Date.now() / 1000),
    });
    const answer = await fetch(commandsUrl!, {
      method: 'POST',
      headers: { 'content-type': request.contentType, ...signed },
      body: request.body,
    });
    expect(answer.status).toBe(200);
    const text = String(((await answer.json()) as { text?: string }).text);
    const requestId = /Request \*(REQ-[0-9A-Z]{8})\* received/.exec(text)?.[1];
    expect(requestId, text).toBeDefined();
    // The request's progress, in readable lines: the front door, then the worker's verdict.
    await dev.waitFor(/POST \/slack\/commands → 200 \(\d+ ms\)/, 5_000);
    await dev.waitFor(
      new RegExp(`worker +${requestId} +request\\.submitted handled +outcome=pending`),
      20_000,
    );

    // An unsigned request is refused, and the log says why.
    const unsigned = await fetch(commandsUrl!, {
      method: 'POST',
      body: request.body,
      headers: { 'content-type': request.contentType },
    });
    expect(unsigned.status).toBe(401);
    await dev.waitFor(/WARN request refused +status=401/, 5_000);

    process.kill(dev.child.pid!, 'SIGTERM');
    expect(await dev.exited).toBe(0);
    expect(dev.output()).toContain('SIGTERM: stopping the servers');
    expect(dev.output()).toContain('stopped.');
    // Every process it started (tsx, node, mariadbd, samba, socat) is gone, and every temporary directory.
    expect(await dev.anyLeft()).toBe(false);
    expect(dev.tmpLeft()).toEqual([]);
  }, 120_000);
});
