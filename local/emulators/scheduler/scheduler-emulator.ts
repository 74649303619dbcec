import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Clock } from '../../../shared/ports/clock.js';
import { type LoopbackServer, startLoopbackServer } from '../loopback-server.js';

/*
 * EventBridge Scheduler, as much as jit-access uses: CreateSchedule, GetSchedule and
 * DeleteSchedule (REST-JSON, as @aws-sdk/client-scheduler sends them), with the documented
 * validation and errors (ConflictException for a name taken, ResourceNotFoundException for a
 * missing group or schedule, ValidationException naming the field), and one-time `at(...)`
 * schedules that fire at the injected clock's time into a target (the SNS emulator), then delete
 * themselves when ActionAfterCompletion is DELETE. Sources: notes/vault-scheduler.md §7, trap 14.
 */

export interface SchedulerEmulatorOptions {
  readonly clock?: Clock;
  /** Groups that exist besides `default`. */
  readonly groups?: readonly string[];
  readonly region?: string;
  readonly accountId?: string;
  /** Delivers a firing's Input to its target ARN, as the scheduler's Publish with the role would. */
  readonly deliver: (targetArn: string, input: string) => Promise<void>;
}

export interface EmulatedSchedule {
  readonly name: string;
  readonly groupName: string;
  readonly expression: string;
  readonly at: Date;
  readonly actionAfterCompletion: 'NONE' | 'DELETE';
  readonly target: { readonly Arn: string; readonly RoleArn: string; readonly Input?: string };
  readonly arn: string;
}

const NAME = /^[0-9a-zA-Z\-_.]{1,64}$/;
const ROLE_ARN = /^arn:aws(-[a-z]+)?:iam::\d{12}:role\/[0-9a-zA-Z_/+=,.@-]+$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;

class SchedulerHttpError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

export class SchedulerEmulator {
  private server: LoopbackServer | undefined;
  private readonly clock: Clock;
  private readonly groups: Set<string>;
  private readonly schedules = new Map<string, EmulatedSchedule>();
  /** Every call, for tests to read. */
  readonly calls: { method: string; path: string; status: number }[] = [];
  /** Firings delivered, in order. */
  readonly fired: { name: string; at: Date; input?: string }[] = [];

  constructor(private readonly options: SchedulerEmulatorOptions) {
    this.clock = options.clock ?? { now: () => new Date() };
    this.groups = new Set(['default', ...(options.groups ?? [])]);
  }

  get url(): string {
    if (!this.server) throw new Error('SchedulerEmulator is not started');
    return this.server.url;
  }

  async start(): Promise<void> {
    this.server = await startLoopbackServer('scheduler-emulator', (req, res) => this.handle(req, res));
  }

  async stop(): Promise<void> {
    await this.server?.close();
    this.server = undefined;
  }

  list(): EmulatedSchedule[] {
    return [...this.schedules.values()];
  }

  reset(): void {
    this.schedules.clear();
    this.calls.length = 0;
    this.fired.length = 0;
  }

  /** Fires what is due by the clock, soonest first; returns how many fired. */
  async fireDue(): Promise<number> {
    const now = this.clock.now().getTime();
    const due = this.list()
      .filter((s) => s.at.getTime() <= now)
      .sort((a, b) => a.at.getTime() - b.at.getTime());
    for (const schedule of due) {
      const key = keyOf(schedule.groupName, schedule.name);
      // One-time schedules fire once: deleted (DELETE) or kept but spent (NONE).
      this.schedules.delete(key);
      if (schedule.actionAfterCompletion === 'NONE') {
        this.schedules.set(key, { ...schedule, at: new Date(8.64e15) });
      }
      this.fired.push({
        name: schedule.name,
        at: this.clock.now(),
        ...(schedule.target.Input ? { input: schedule.target.Input } : {}),
      });
      await this.options.deliver(schedule.target.Arn, schedule.target.Input ?? '');
    }
    return due.length;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = req.method ?? 'GET';
    let status = 200;
    let body: unknown;
    let type: string | undefined;
    try {
      const match = /^\/schedules\/([^/]+)$/.exec(url.pathname);
      if (!match)
        throw new SchedulerHttpError(
          404,
          'UnknownOperationException',
          `no route for ${method} ${url.pathname}`,
        );
      const name = decodeURIComponent(match[1] ?? '');
      if (!NAME.test(name))
        throw validation('name', 'Member must satisfy regular expression pattern: [0-9a-zA-Z-_.]+');
      const input = chunks.length
        ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>)
        : {};
      if (method === 'POST') body = this.create(name, input);
      else if (method === 'GET') body = this.get(name, url.searchParams.get('groupName') ?? 'default');
      else if (method === 'DELETE') body = this.delete(name, url.searchParams.get('groupName') ?? 'default');
      else throw new SchedulerHttpError(405, 'UnknownOperationException', `${method} is not supported`);
    } catch (error) {
      if (!(error instanceof SchedulerHttpError)) throw error;
      status = error.status;
      type = error.type;
      body = { Message: error.message };
    }
    this.calls.push({ method, path: url.pathname, status });
    res
      .writeHead(status, {
        'content-type': 'application/json',
        ...(type ? { 'x-amzn-errortype': type } : {}),
      })
      .end(JSON.stringify(body ?? {}));
  }

  private create(name: string, input: Record<string, unknown>) {
    const groupName = typeof input.GroupName === 'string' ? input.GroupName : 'default';
    if (!this.groups.has(groupName)) throw notFound(`Schedule group ${groupName} does not exist.`);
    const key = keyOf(groupName, name);
    if (this.schedules.has(key))
      throw new SchedulerHttpError(409, 'ConflictException', `Schedule ${name} already exists.`);
    const expression = String(input.ScheduleExpression ?? '');
    const at = parseAt(expression);
    const zone = input.ScheduleExpressionTimezone ?? 'UTC';
    if (zone !== 'UTC') throw validation('scheduleExpressionTimezone', 'the emulator reads at() in UTC only');
    const window = input.FlexibleTimeWindow as
      { Mode?: unknown; MaximumWindowInMinutes?: unknown } | undefined;
    if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) {
      throw validation('flexibleTimeWindow.mode', 'Member must not be null and must be OFF or FLEXIBLE');
    }
    const after = input.ActionAfterCompletion ?? 'NONE';
    if (after !== 'NONE' && after !== 'DELETE')
      throw validation('actionAfterCompletion', 'must be NONE or DELETE');
    const target = input.Target as
      { Arn?: unknown; RoleArn?: unknown; Input?: unknown; RetryPolicy?: unknown } | undefined;
    if (!target || typeof target.Arn !== 'string' || !target.Arn)
      throw validation('target.arn', 'Member must not be null');
    if (typeof target.RoleArn !== 'string' || !ROLE_ARN.test(target.RoleArn)) {
      throw validation(
        'target.roleArn',
        'Member must satisfy regular expression pattern: arn:aws(-[a-z]+)?:iam::\\d{12}:role\\/[\\w+=,.@\\/-]+',
      );
    }
    const retry = target.RetryPolicy as
      { MaximumEventAgeInSeconds?: number; MaximumRetryAttempts?: number } | undefined;
    if (
      retry?.MaximumEventAgeInSeconds !== undefined &&
      (retry.MaximumEventAgeInSeconds < 60 || retry.MaximumEventAgeInSeconds > 86_400)
    ) {
      throw validation('target.retryPolicy.maximumEventAgeInSeconds', 'must be between 60 and 86400');
    }
    if (
      retry?.MaximumRetryAttempts !== undefined &&
      (retry.MaximumRetryAttempts < 0 || retry.MaximumRetryAttempts > 185)
    ) {
      throw validation('target.retryPolicy.maximumRetryAttempts', 'must be between 0 and 185');
    }
    const arn = `arn:aws:scheduler:${this.options.region ?? 'us-east-1'}:${this.options.accountId ?? '000000000000'}:schedule/${groupName}/${name}`;
    this.schedules.set(key, {
      name,
      groupName,
      expression,
      at,
      actionAfterCompletion: after,
      target: {
        Arn: target.Arn,
        RoleArn: target.RoleArn,
        ...(typeof target.Input === 'string' ? { Input: target.Input } : {}),
      },
      arn,
    });
    return { ScheduleArn: arn };
  }

  private get(name: string, groupName: string) {
    const schedule = this.schedules.get(keyOf(groupName, name));
    if (!schedule) throw notFound(`Schedule ${name} does not exist.`);
    return {
      Arn: schedule.arn,
      Name: schedule.name,
      GroupName: schedule.groupName,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      ActionAfterCompletion: schedule.actionAfterCompletion,
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: schedule.target,
    };
  }

  private delete(name: string, groupName: string) {
    if (!this.schedules.delete(keyOf(groupName, name))) throw notFound(`Schedule ${name} does not exist.`);
    return {};
  }
}

const keyOf = (group: string, name: string) => `${group}/${name}`;
const validation = (field: string, message: string) =>
  new SchedulerHttpError(
    400,
    'ValidationException',
    `1 validation error detected: Value at '${field}' failed to satisfy constraint: ${message}`,
  );
const notFound = (message: string) => new SchedulerHttpError(404, 'ResourceNotFoundException', message);

function parseAt(expression: string): Date {
  const m = AT.exec(expression);
  if (!m)
    throw validation(
      'scheduleExpression',
      'a one-time schedule is at(yyyy-mm-ddThh:mm:ss), without offset or milliseconds',
    );
  const at = new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`);
  if (Number.isNaN(at.getTime())) throw validation('scheduleExpression', `${expression} is not a valid time`);
  return at;
}

export async function startSchedulerEmulator(options: SchedulerEmulatorOptions): Promise<SchedulerEmulator> {
  const emulator = new SchedulerEmulator(options);
  await emulator.start();
  return emulator;
}
