import type { RequestChanges } from '../../ports/request-store.js';
import { requesterPk } from './request-table.js';

/* Building UpdateItem expressions from request changes, and the errors DynamoDB answers. */

// A Record, so a field added to RequestChanges does not compile until it is listed here.
export const CHANGE_FIELDS: Record<keyof RequestChanges, true> = {
  ticket: true,
  slack: true,
  eligibleVia: true,
  rejectionReason: true,
  requester: true,
  lease: true,
  notified: true,
  approvals: true,
  decision: true,
  effects: true,
  grant: true,
  grantAttempts: true,
  failure: true,
  revocation: true,
  extensions: true,
};
export const CHANGE_KEYS = Object.keys(CHANGE_FIELDS) as (keyof RequestChanges)[];

/** Collects SET clauses with placeholder names and values, so reserved words (state…) are safe. */
export class UpdateBuilder {
  private readonly clauses: string[] = [];
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, unknown> = {};

  /** Attribute names here are this file's own identifiers, so `#name` is a valid, unique placeholder. */
  name(attribute: string): string {
    const placeholder = `#${attribute}`;
    this.names[placeholder] = attribute;
    return placeholder;
  }

  value(value: unknown): string {
    const placeholder = `:v${Object.keys(this.values).length}`;
    this.values[placeholder] = value;
    return placeholder;
  }

  set(attribute: string, value: unknown): void {
    this.clauses.push(`${this.name(attribute)} = ${this.value(value)}`);
  }

  increment(attribute: string): void {
    const name = this.name(attribute);
    this.clauses.push(`${name} = ${name} + ${this.value(1)}`);
  }

  toInput(condition: string) {
    return {
      UpdateExpression: `SET ${this.clauses.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: this.names,
      ExpressionAttributeValues: this.values,
    };
  }
}

export function applyChanges(update: UpdateBuilder, changes: RequestChanges | undefined): void {
  if (!changes) return;
  // The type already forbids identity fields; this keeps a cast or a spread object from sneaking one in.
  const unknown = Object.keys(changes).filter((key) => !Object.hasOwn(CHANGE_FIELDS, key));
  if (unknown.length > 0) throw new TypeError(`a request change cannot set ${unknown.join(', ')}`);
  for (const key of CHANGE_KEYS) {
    const value = changes[key];
    if (value !== undefined) update.set(key, value);
  }
  if (changes.requester) {
    update.set('requesterPk', requesterPk(changes.requester.slackTeamId, changes.requester.slackUserId));
  }
}

/** Drops undefined members, which the marshaller removes too, so stored and given values compare equal. */
export function stored(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

export function isConditionFailed(error: unknown): boolean {
  // By name: a second copy of the SDK in the bundle would defeat instanceof.
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

export const TRANSIENT_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
  'ReplicatedWriteConflictException',
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
]);

export const TRANSIENT_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENETDOWN',
  'ENETUNREACH',
  'EHOSTUNREACH',
]);

/** Throttling, 5xx and network failures; never validation, missing tables or our own bugs. */
export function isTransient(error: unknown, depth = 0): boolean {
  if (!(error instanceof Error) || depth > 3) return false;
  if (TRANSIENT_NAMES.has(error.name)) return true;
  const { $metadata, code } = error as { $metadata?: { httpStatusCode?: number }; code?: unknown };
  if (($metadata?.httpStatusCode ?? 0) >= 500) return true;
  if (typeof code === 'string' && TRANSIENT_CODES.has(code)) return true;
  // Node's happy-eyeballs connect reports one error per address tried.
  if (error instanceof AggregateError && error.errors.some((inner) => isTransient(inner, depth + 1)))
    return true;
  return isTransient(error.cause, depth + 1);
}

export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as { code?: unknown };
  return [error.name, typeof code === 'string' ? code : undefined, error.message].filter(Boolean).join(': ');
}
