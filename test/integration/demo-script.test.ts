import { afterEach, describe, expect, it } from 'vitest';
import { STORY_STEP_COUNT } from '../../local/demo/story.js';
import { runNpmScript, type ScriptProcess } from '../fixtures/script-process.js';

/*
 * `npm run demo` as a newcomer runs it: the timeline, plain text off a terminal, exit 0 when every
 * step held; and interrupted with Ctrl-C while --keep holds the stack up, nothing left behind.
 * (test/e2e asserts each step of the story itself.)
 */

let demo: ScriptProcess | undefined;
afterEach(() => {
  demo?.cleanUp();
  demo = undefined;
});

describe('npm run demo', () => {
  it('prints the whole timeline and a passing summary, exits 0, and leaves nothing behind', async () => {
    demo = runNpmScript('demo');
    expect(await demo.exited).toBe(0);
    const lines = demo.output().split('\n');
    const steps = lines.filter((line) => /^ {2}[✓✗] +\d+ {2}/.test(line));
    expect(steps).toHaveLength(STORY_STEP_COUNT);
    expect(steps.every((line) => line.startsWith('  ✓'))).toBe(true);
    expect(lines).toContainEqual(
      expect.stringMatching(
        new RegExp(`^demo passed: ${STORY_STEP_COUNT} of ${STORY_STEP_COUNT} steps held in \\d+\\.\\d s`),
      ),
    );
    // Not a terminal (and NO_COLOR): no escape codes.
    expect(demo.output()).not.toContain(String.fromCharCode(27));
    expect(await demo.anyLeft()).toBe(false);
    expect(demo.tmpLeft()).toEqual([]);
  }, 120_000);

  it('stops everything on Ctrl-C while --keep holds the stack up', async () => {
    demo = runNpmScript('demo', ['--keep']);
    await demo.waitFor(/The stack keeps running \(Ctrl-C stops it\)/, 90_000);
    expect(demo.output()).toMatch(/Slack slash command +POST http:\/\/127\.0\.0\.1:\d+\/slack\/commands/);
    // Ctrl-C at a terminal signals the whole foreground group.
    process.kill(-demo.child.pid!, 'SIGINT');
    expect(await demo.exited).toBe(130);
    expect(await demo.anyLeft()).toBe(false);
    expect(demo.tmpLeft()).toEqual([]);
  }, 120_000);

  it('refuses an unknown option with the ones it has', async () => {
    demo = runNpmScript('demo', ['--fast']);
    expect(await demo.exited).toBe(2);
    expect(demo.output()).toContain(
      'npm run demo: unknown option --fast; the options are --keep and --logs (see --help)',
    );
  }, 60_000);
});
