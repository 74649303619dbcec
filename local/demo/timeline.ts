import type { StoryStep } from './story.js';

/*
 * The demo's timeline, as text: one line per step (mark, milliseconds, actor, step, outcome), and
 * a one-line summary. Colour only when asked (a terminal without NO_COLOR); plain text otherwise,
 * so a CI log or a file reads the same.
 */

export interface TimelineStyle {
  readonly colour: boolean;
}

const GREEN = '\x1b[32m';
const RED = '\x1b[31m';
const DIM = '\x1b[2m';
const BOLD = '\x1b[1m';
const RESET = '\x1b[0m';

const paint = (style: TimelineStyle, code: string, text: string) =>
  style.colour ? `${code}${text}${RESET}` : text;

/** Whether the demo colours its output: a terminal, unless NO_COLOR says not (FORCE_COLOR says yes). */
export function wantsColour(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true;
}

export function timelineHeader(style: TimelineStyle): string {
  return paint(style, DIM, `${'    '}${'ms'.padStart(6)}  ${'actor'.padEnd(44)}step → outcome`);
}

export function timelineLine(step: StoryStep, style: TimelineStyle): string {
  const mark = step.ok ? paint(style, GREEN, '✓') : paint(style, RED, '✗');
  const outcome = step.ok ? step.outcome : paint(style, RED, step.outcome);
  return `  ${mark} ${String(step.ms).padStart(6)}  ${step.actor.padEnd(44)}${step.step} → ${outcome}`;
}

export function timelineSummary(
  steps: readonly StoryStep[],
  expected: number,
  times: { readonly setupMs: number; readonly totalMs: number },
  style: TimelineStyle,
): string {
  const held = steps.filter((s) => s.ok).length;
  const failed = steps.find((s) => !s.ok);
  const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
  const timing = `in ${seconds(times.totalMs)} (servers and stack ${seconds(times.setupMs)}, story ${seconds(times.totalMs - times.setupMs)})`;
  if (!failed && held === expected)
    return paint(style, `${BOLD}${GREEN}`, `demo passed: ${held} of ${expected} steps held ${timing}`);
  const where = failed ? `"${failed.step}" did not hold: ${failed.outcome}` : `only ${held} steps ran`;
  return paint(style, `${BOLD}${RED}`, `demo FAILED: ${held} of ${expected} steps held; ${where} ${timing}`);
}
