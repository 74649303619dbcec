import { REQUEST_ID_PATTERN } from '../../domain/request-id.js';
import { grantExtendSchema } from '../../messages/commands.js';

/** Ids of the buttons jit-access puts in Slack messages; the ack Lambda routes on them. */
export const ACTION_IDS = {
  approve: 'request.approve',
  deny: 'request.deny',
  revoke: 'grant.revoke',
  extend: 'grant.extend',
  reissue: 'grant.reissue',
  approveExtension: 'extension.approve',
  denyExtension: 'extension.deny',
} as const;

/** The Extend button carries the request and how many minutes to add, e.g. `REQ-0K2M9Q7X:60`. */
export function extendButtonValue(requestId: string, minutes: number): string {
  return `${requestId}:${minutes}`;
}

export function parseExtendButtonValue(value: string): { requestId: string; minutes: number } | undefined {
  const match = /^([^:]+):(\d{1,4})$/.exec(value);
  if (!match || !REQUEST_ID_PATTERN.test(match[1] ?? '')) return undefined;
  const minutes = Number(match[2]);
  // The topic contract's range for grant.extend: a value outside it is not a button we made.
  if (!grantExtendSchema.shape.durationMinutes.safeParse(minutes).success) return undefined;
  return { requestId: match[1] ?? '', minutes };
}
