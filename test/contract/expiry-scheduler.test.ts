import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InProcessScheduler } from '../../local/in-process-scheduler.js';
import {
  type SchedulerEmulator,
  startSchedulerEmulator,
} from '../../local/emulators/scheduler/scheduler-emulator.js';
import {
  atExpression,
  EventBridgeExpiryScheduler,
  scheduleName,
} from '../../shared/adapters/scheduler/eventbridge-expiry-scheduler.js';
import { type GrantExpire, parseTopicCommand } from '../../shared/messages/commands.js';
import { SchedulerRejectedError } from '../../shared/ports/expiry-scheduler.js';
import { expirySchedulerContract } from './expiry-scheduler.contract.js';

const START = new Date('2026-11-21T10:00:00.000Z');
const TOPIC = 'arn:aws:sns:us-east-1:000000000000:jit-access-commands';
const ROLE = 'arn:aws:iam::000000000000:role/jit-access-scheduler';

expirySchedulerContract('in-process timer', () => {
  let now = START;
  const fired: GrantExpire[] = [];
  const scheduler = new InProcessScheduler({
    clock: { now: () => now },
    publish: (command) => {
      fired.push(command);
      return Promise.resolve();
    },
  });
  return {
    scheduler,
    now: START,
    fired: () => fired,
    advanceTo: async (at) => {
      now = at;
      await scheduler.fireDue();
    },
  };
});

let now = START;
const delivered: { arn: string; input: string }[] = [];
let emulator: SchedulerEmulator;
const client = () =>
  new SchedulerClient({
    endpoint: emulator.url,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });

beforeAll(async () => {
  emulator = await startSchedulerEmulator({
    clock: { now: () => now },
    groups: ['jit-access'],
    deliver: (arn, input) => {
      delivered.push({ arn, input });
      return Promise.resolve();
    },
  });
});

afterAll(async () => {
  await emulator?.stop();
});

expirySchedulerContract('EventBridge Scheduler (the real SDK client, on the emulator)', () => {
  emulator.reset();
  delivered.length = 0;
  now = START;
  return {
    scheduler: new EventBridgeExpiryScheduler({
      client: client(),
      groupName: 'jit-access',
      topicArn: TOPIC,
      roleArn: ROLE,
    }),
    now: START,
    // What the topic got: the schedule's Input, parsed as the worker parses a message.
    fired: () =>
      delivered.map((d) => {
        expect(d.arn).toBe(TOPIC);
        return parseTopicCommand(d.input) as GrantExpire;
      }),
    advanceTo: async (at) => {
      now = at;
      await emulator.fireDue();
    },
  };
});

describe('EventBridgeExpiryScheduler', () => {
  it('creates a one-time UTC schedule that deletes itself, with no flexible window, retrying for a day', async () => {
    emulator.reset();
    const scheduler = new EventBridgeExpiryScheduler({
      client: client(),
      groupName: 'jit-access',
      topicArn: TOPIC,
      roleArn: ROLE,
    });
    await scheduler.schedule('REQ-0K2M9Q7X', new Date('2026-11-21T11:00:00.250Z'));
    const [schedule] = emulator.list();
    expect(schedule).toMatchObject({
      name: scheduleName('REQ-0K2M9Q7X'),
      groupName: 'jit-access',
      // Rounded up: never before the grant's end.
      expression: 'at(2026-11-21T11:00:01)',
      actionAfterCompletion: 'DELETE',
      target: { Arn: TOPIC, RoleArn: ROLE },
    });
  });

  it.each([
    [new Date('2026-11-21T11:00:00.000Z'), 'at(2026-11-21T11:00:00)'],
    [new Date('2026-11-21T11:00:00.001Z'), 'at(2026-11-21T11:00:01)'],
    [new Date('2026-12-31T23:59:59.999Z'), 'at(2027-01-01T00:00:00)'],
  ])('at(%s) is %s', (at, expression) => {
    expect(atExpression(at)).toBe(expression);
  });

  it('names schedules within the 64 characters Scheduler allows, one per request', () => {
    const names = ['REQ-0K2M9Q7X', 'REQ-1ZZZZZZZ', 'database/creds/x'.repeat(10)].map(scheduleName);
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
    expect(new Set(names).size).toBe(3);
  });

  it('a missing schedule group is a refusal naming the setting, not a retry', async () => {
    const scheduler = new EventBridgeExpiryScheduler({
      client: client(),
      groupName: 'nope',
      topicArn: TOPIC,
      roleArn: ROLE,
    });
    const error = await scheduler.schedule('REQ-0K2M9Q7X', new Date()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(SchedulerRejectedError);
    expect((error as SchedulerRejectedError).setting).toContain('EXPIRY_SCHEDULE_GROUP');
  });

  it('a role ARN Scheduler would refuse is a ValidationException, refused for good', async () => {
    emulator.reset();
    const scheduler = new EventBridgeExpiryScheduler({
      client: client(),
      groupName: 'jit-access',
      topicArn: TOPIC,
      roleArn: 'role',
    });
    await expect(scheduler.schedule('REQ-0K2M9Q7X', new Date())).rejects.toBeInstanceOf(
      SchedulerRejectedError,
    );
  });
});
