import type { types } from '@slack/bolt';
import type { Catalog } from '../../config/catalog-schema.js';
import { type Duration, formatDuration } from '../../domain/duration.js';
import { findLevel, type LevelRef } from '../../domain/eligibility.js';
import type { RequestId } from '../../domain/request-id.js';
import type { RequestProblems, ValidatedRequest } from '../../domain/request-validation.js';

export const REQUEST_MODAL_CALLBACK_ID = 'access_request';
export const TARGET_BLOCK_ID = 'target';
export const TARGET_ACTION_ID = 'target.select';
export const DURATION_ACTION_ID = 'duration.select';
export const JUSTIFICATION_BLOCK_ID = 'justification';
export const JUSTIFICATION_ACTION_ID = 'justification.input';
const DURATION_BLOCK_PREFIX = 'duration';

// Choices people actually pick; the level's own default and maximum are always added.
const DURATION_LADDER = [15, 30, 60, 120, 240, 480, 720, 1440];

interface PlainText {
  type: 'plain_text';
  text: string;
  emoji?: boolean;
}
interface SelectOption {
  text: PlainText;
  value: string;
}
export type ModalView = types.ModalView;

const plain = (text: string): PlainText => ({ type: 'plain_text', text: truncate(text, 75), emoji: true });

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function durationChoices(max: Duration, preferred?: Duration): Duration[] {
  const minutes = new Set(DURATION_LADDER.filter((m) => m <= max.minutes));
  minutes.add(max.minutes);
  if (preferred && preferred.minutes <= max.minutes) minutes.add(preferred.minutes);
  return [...minutes].sort((a, b) => a - b).map((m) => ({ minutes: m }));
}

const durationOption = (d: Duration): SelectOption => ({
  text: plain(formatDuration(d)),
  value: formatDuration(d),
});
const targetValue = (ref: LevelRef) => `${ref.database}/${ref.level}`;

export function parseTargetValue(value: string): LevelRef | undefined {
  const match = /^([a-z][a-z0-9_-]*)\/([a-z][a-z0-9_-]*)$/.exec(value);
  return match ? { database: match[1] ?? '', level: match[2] ?? '' } : undefined;
}

/** The duration block's id changes with the level, so Slack resets its value to the new default. */
export function durationBlockId(selected?: LevelRef): string {
  return selected ? `${DURATION_BLOCK_PREFIX}:${targetValue(selected)}` : DURATION_BLOCK_PREFIX;
}

export function isDurationBlockId(blockId: string): boolean {
  return blockId === DURATION_BLOCK_PREFIX || blockId.startsWith(`${DURATION_BLOCK_PREFIX}:`);
}

export interface ModalMetadata {
  /** Where the command was typed, so answers go back there. */
  readonly channelId: string;
}

/**
 * The request form. Levels are grouped under their database, so only the levels the catalog
 * defines for a database can be picked for it; choosing one narrows the durations to its maximum.
 */
export function requestModal(catalog: Catalog, metadata: ModalMetadata, selected?: LevelRef): ModalView {
  const level = selected ? findLevel(catalog, selected) : undefined;
  const longest = Math.max(
    ...Object.values(catalog.databases).flatMap((db) =>
      Object.values(db.levels).map((l) => l.maxDuration.minutes),
    ),
  );
  const choices = level
    ? durationChoices(level.maxDuration, level.defaultDuration)
    : durationChoices({ minutes: longest });

  const optionGroups = Object.entries(catalog.databases).map(([database, db]) => ({
    label: plain(`${database} (${db.environment})`),
    options: Object.entries(db.levels).map(([name, def]) => ({
      text: plain(
        `${name}: up to ${formatDuration(def.maxDuration)}${def.approvalsRequired > 1 ? `, ${def.approvalsRequired} approvals` : ''}`,
      ),
      value: targetValue({ database, level: name }),
      ...(def.description ? { description: plain(def.description) } : {}),
    })),
  }));
  const initialTarget =
    selected && level
      ? optionGroups.flatMap((g) => g.options).find((o) => o.value === targetValue(selected))
      : undefined;

  const justificationHint = level?.justification?.hint ?? 'Link the incident or ticket; approvers read this.';
  return {
    type: 'modal',
    callback_id: REQUEST_MODAL_CALLBACK_ID,
    title: plain('MySQL access'),
    submit: plain('Request'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify(metadata),
    blocks: [
      {
        type: 'input',
        block_id: TARGET_BLOCK_ID,
        dispatch_action: true,
        label: plain('Database and access level'),
        element: {
          type: 'static_select',
          action_id: TARGET_ACTION_ID,
          placeholder: plain('Choose a database and level'),
          option_groups: optionGroups,
          ...(initialTarget ? { initial_option: initialTarget } : {}),
        },
      },
      {
        type: 'input',
        block_id: durationBlockId(level ? selected : undefined),
        label: plain('Duration'),
        hint: plain(
          level
            ? `At most ${formatDuration(level.maxDuration)} for this level`
            : 'Starts when access is granted',
        ),
        element: {
          type: 'static_select',
          action_id: DURATION_ACTION_ID,
          placeholder: plain('How long'),
          options: choices.map(durationOption),
          ...(level ? { initial_option: durationOption(level.defaultDuration) } : {}),
        },
      },
      {
        type: 'input',
        block_id: JUSTIFICATION_BLOCK_ID,
        label: plain('Justification'),
        hint: plain(justificationHint),
        element: {
          type: 'plain_text_input',
          action_id: JUSTIFICATION_ACTION_ID,
          multiline: true,
          max_length: 1000,
          placeholder: plain('INC-1234: orders stuck in PENDING, need to read order_events'),
        },
      },
    ],
  };
}

/** Submission problems keyed by the block they belong to, as `response_action: errors` wants. */
export function modalErrors(problems: RequestProblems, durationBlock: string): Record<string, string> {
  const errors: Record<string, string> = {};
  if (problems.target) errors[TARGET_BLOCK_ID] = problems.target;
  if (problems.duration) errors[durationBlock] = problems.duration;
  if (problems.justification) errors[JUSTIFICATION_BLOCK_ID] = problems.justification;
  return errors;
}

/** Shown in place of the form once the request is queued. */
export function requestQueuedModal(requestId: RequestId, request: ValidatedRequest): ModalView {
  return {
    type: 'modal',
    callback_id: `${REQUEST_MODAL_CALLBACK_ID}.queued`,
    title: plain('MySQL access'),
    close: plain('Done'),
    private_metadata: '',
    blocks: [
      {
        type: 'section',
        text: {
          type: 'mrkdwn',
          text: `Request *${requestId}* received: \`${request.database}\` / \`${request.level}\` for ${formatDuration(request.duration)}.\nI check your directory groups, open a Jira ticket and DM you its link. Credentials come by DM once approved.`,
        },
      },
    ],
  };
}
