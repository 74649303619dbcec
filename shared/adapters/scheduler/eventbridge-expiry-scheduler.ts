import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { grantExpireCommand } from '../../messages/commands.js';
import {
  type ExpiryScheduler,
  SchedulerRejectedError,
  SchedulerUnavailableError,
} from '../../ports/expiry-scheduler.js';

/*
 * ExpiryScheduler on EventBridge Scheduler: one one-time `at(...)` schedule per grant, in
 * jit-access's own schedule group, that publishes `grant.expire` to the access topic and deletes
 * itself after it fires. The name is derived from the request id, so a redelivery finds the
 * schedule it made (ConflictException) and a cancel of one already fired finds nothing
 * (ResourceNotFoundException): both are success.
 */

export interface EventBridgeExpirySchedulerOptions {
  readonly client: SchedulerClient;
  /** The schedule group jit-access owns (the worker may act only in it). */
  readonly groupName: string;
  /** The access topic. */
  readonly topicArn: string;
  /** The role the scheduler assumes to publish; it may only sns:Publish to the topic. */
  readonly roleArn: string;
  /** Where the scheduler sends a firing it could not deliver, when configured (an SQS queue). */
  readonly deadLetterArn?: string;
}

/** Schedule names: 1-64 of [0-9a-zA-Z-_.]. Request ids fit, but a hash keeps any id format safe. */
export function scheduleName(requestId: string): string {
  const readable = requestId.replace(/[^0-9A-Za-z-_.]/g, '').slice(0, 32);
  const digest = createHash('sha256').update(requestId).digest('hex').slice(0, 16);
  return `expire-${readable}-${digest}`;
}

/** `at()` takes the UTC wall time without offset or milliseconds. */
export function atExpression(at: Date): string {
  // Rounded up to the second: a schedule must never fire before the grant's end.
  const seconds = new Date(Math.ceil(at.getTime() / 1000) * 1000);
  return `at(${seconds.toISOString().slice(0, 19)})`;
}

export class EventBridgeExpiryScheduler implements ExpiryScheduler {
  constructor(private readonly options: EventBridgeExpirySchedulerOptions) {}

  async schedule(requestId: string, at: Date): Promise<void> {
    const { groupName, topicArn, roleArn, deadLetterArn } = this.options;
    try {
      await this.options.client.send(
        new CreateScheduleCommand({
          Name: scheduleName(requestId),
          GroupName: groupName,
          ScheduleExpression: atExpression(at),
          ScheduleExpressionTimezone: 'UTC',
          FlexibleTimeWindow: { Mode: 'OFF' },
          ActionAfterCompletion: 'DELETE',
          State: 'ENABLED',
          Description: `jit-access: end of grant ${requestId}`,
          Target: {
            Arn: topicArn,
            RoleArn: roleArn,
            Input: JSON.stringify(grantExpireCommand(requestId, at)),
            // The grant must end even when the topic hiccups: retry for a day.
            RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
            ...(deadLetterArn ? { DeadLetterConfig: { Arn: deadLetterArn } } : {}),
          },
        }),
      );
    } catch (error) {
      if (nameOf(error) === 'ConflictException') return;
      throw classify('schedule the expiry', error);
    }
  }

  async cancel(requestId: string): Promise<void> {
    try {
      await this.options.client.send(
        new DeleteScheduleCommand({ Name: scheduleName(requestId), GroupName: this.options.groupName }),
      );
    } catch (error) {
      if (nameOf(error) === 'ResourceNotFoundException') return;
      throw classify('cancel the expiry schedule', error);
    }
  }
}

// By name: a second copy of the SDK in a bundle would defeat instanceof.
function nameOf(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function classify(what: string, error: unknown): Error {
  const name = nameOf(error) ?? 'unknown';
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 0;
  if (
    name === 'ValidationException' ||
    name === 'AccessDeniedException' ||
    name === 'ServiceQuotaExceededException'
  ) {
    return new SchedulerRejectedError(
      `EventBridge Scheduler refused to ${what}: ${name}`,
      name === 'AccessDeniedException'
        ? "the worker role's scheduler:CreateSchedule/DeleteSchedule on the group and iam:PassRole on the scheduler role"
        : name === 'ServiceQuotaExceededException'
          ? "the account's EventBridge Scheduler schedule quota"
          : 'EXPIRY_SCHEDULE_GROUP, EXPIRY_SCHEDULER_ROLE_ARN and ACCESS_TOPIC_ARN',
      { cause: error },
    );
  }
  if (name === 'ResourceNotFoundException') {
    return new SchedulerRejectedError(
      `EventBridge Scheduler could not ${what}: the schedule group does not exist`,
      'EXPIRY_SCHEDULE_GROUP (the group the stack creates)',
      { cause: error },
    );
  }
  return new SchedulerUnavailableError(`could not ${what}: ${name}${status ? ` (${status})` : ''}`, {
    cause: error,
  });
}
