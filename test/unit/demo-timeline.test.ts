import { describe, expect, it } from 'vitest';
import type { StoryStep } from '../../local/demo/story.js';
import { timelineLine, timelineSummary, wantsColour } from '../../local/demo/timeline.js';
import { formatAttributes, ReadableLogger } from '../../local/readable-logger.js';

const held: StoryStep = {
  step: 'approves in Jira',
  actor: 'bob · Jira',
  outcome: 'approved',
  ms: 158,
  ok: true,
};
const broke: StoryStep = {
  step: 'logs in',
  actor: 'alice · MariaDB',
  outcome: 'login refused',
  ms: 4,
  ok: false,
};
const PLAIN = { colour: false };
const ESC = String.fromCharCode(27);

describe('wantsColour', () => {
  it.each([
    ['a terminal', { isTTY: true }, {}, true],
    ['a pipe or a file', { isTTY: false }, {}, false],
    ['a terminal with NO_COLOR', { isTTY: true }, { NO_COLOR: '1' }, false],
    ['a pipe with FORCE_COLOR', { isTTY: false }, { FORCE_COLOR: '1' }, true],
    ['a terminal with FORCE_COLOR=0', { isTTY: true }, { FORCE_COLOR: '0' }, true],
  ])('%s → %s', (_name, stream, env, expected) => {
    expect(wantsColour(stream, env)).toBe(expected);
  });
});

describe('timeline', () => {
  it('prints a step as mark, milliseconds, actor, step and outcome, plain without colour', () => {
    expect(timelineLine(held, PLAIN)).toBe(
      `  ✓    158  ${'bob · Jira'.padEnd(44)}approves in Jira → approved`,
    );
    expect(timelineLine(broke, PLAIN)).toContain('✗      4');
    expect(timelineLine(broke, PLAIN)).not.toContain(ESC);
  });

  it('colours the marks and a failed outcome on a terminal', () => {
    expect(timelineLine(held, { colour: true })).toContain(`${ESC}[32m✓`);
    expect(timelineLine(broke, { colour: true })).toContain(`${ESC}[31mlogin refused`);
  });

  it.each([
    [
      'every step held',
      [held, held],
      2,
      'demo passed: 2 of 2 steps held in 9.0 s (servers and stack 7.5 s, story 1.5 s)',
    ],
    [
      'a step failed',
      [held, broke],
      3,
      'demo FAILED: 1 of 3 steps held; "logs in" did not hold: login refused in 9.0 s (servers and stack 7.5 s, story 1.5 s)',
    ],
    [
      'the story stopped short',
      [held],
      2,
      'demo FAILED: 1 of 2 steps held; only 1 steps ran in 9.0 s (servers and stack 7.5 s, story 1.5 s)',
    ],
  ])('sums up in one line when %s', (_name, steps, expected, line) => {
    expect(timelineSummary(steps, expected, { setupMs: 7500, totalMs: 9000 }, PLAIN)).toBe(line);
  });
});

describe('ReadableLogger', () => {
  it('prints one line per entry with the service, the request id and the attributes', () => {
    const lines: string[] = [];
    const logger = new ReadableLogger('worker', { write: (line) => lines.push(line) });
    logger.appendKeys({ commandType: 'request.decided', requestId: 'REQ-7K2M9Q4X' });
    logger.info('request.decided handled', { outcome: 'approved', why: 'two words' });
    logger.debug('not shown at info');
    logger.warn({ message: 'webhook refused', status: 401 });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} {2}worker {9}REQ-7K2M9Q4X {3}request\.decided handled {2}outcome=approved why="two words"$/,
    );
    expect(lines[1]).toMatch(/WARN webhook refused {2}status=401$/);
  });

  it('writes attributes as key=value, quoting what has spaces', () => {
    expect(formatAttributes({ a: 1, b: 'x y', c: undefined, d: { e: true } })).toBe(
      'a=1 b="x y" d={"e":true}',
    );
  });
});
