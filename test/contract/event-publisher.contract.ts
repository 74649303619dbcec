import type { SNSEventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { COMMAND_VERSION, parseTopicCommand, type TopicCommand } from '../../shared/messages/commands.js';
import {
  CommandRefusedError,
  type EventPublisher,
  PublishFailedError,
  PublishRejectedError,
} from '../../shared/ports/event-publisher.js';

/** What an EventPublisher implementation brings to the contract. */
export interface EventPublisherContractSubject {
  readonly publisher: EventPublisher;
  /** What the topic's subscriber (the worker) received so far, once deliveries settled. */
  delivered(): Promise<readonly SNSEventRecord[]>;
  /** Makes the next publish meet an unreachable or throttling topic. */
  failNextTransient(): void;
  /** A publisher of the same kind whose topic cannot take commands for good (none: skipped). */
  misconfigured?(): EventPublisher;
}

let sequence = 0;

/** A command no other test publishes. */
export function contractCommand(): TopicCommand {
  sequence += 1;
  return {
    type: 'request.cancel',
    version: COMMAND_VERSION,
    commandId: `contract:${process.pid}:${sequence}`,
    issuedAt: '2026-11-21T10:00:00.000Z',
    requestId: 'REQ-0K2M9Q7X',
    actor: { kind: 'slack', userId: 'U0ALICE01', teamId: 'T0JITTEAM' },
  };
}

/** The command a delivered record carries, read the way the worker reads it. */
function commandIn(record: SNSEventRecord): TopicCommand {
  const attribute = (name: string) => record.Sns.MessageAttributes?.[name]?.Value;
  return parseTopicCommand(record.Sns.Message, {
    type: attribute('type') as TopicCommand['type'],
    version: attribute('version') as string,
  });
}

export function eventPublisherContract(
  name: string,
  setup: () => Promise<EventPublisherContractSubject> | EventPublisherContractSubject,
): void {
  describe(`EventPublisher contract: ${name}`, () => {
    it('delivers a published command to the worker once, as it was sent, with its type and version', async () => {
      const subject = await setup();
      const command = contractCommand();
      await subject.publisher.publish(command);
      const mine = (await subject.delivered()).filter((r) => commandIn(r).commandId === command.commandId);
      expect(mine).toHaveLength(1);
      expect(commandIn(mine[0] as SNSEventRecord)).toEqual(command);
      expect(mine[0]?.Sns.MessageAttributes).toMatchObject({
        type: { Type: 'String', Value: 'request.cancel' },
        version: { Type: 'String', Value: String(COMMAND_VERSION) },
      });
    });

    it('keeps commands apart: each published command is delivered as its own record', async () => {
      const subject = await setup();
      const commands = [contractCommand(), contractCommand(), contractCommand()];
      await Promise.all(commands.map((command) => subject.publisher.publish(command)));
      const ids = (await subject.delivered()).map((r) => commandIn(r).commandId);
      for (const command of commands) expect(ids.filter((id) => id === command.commandId)).toHaveLength(1);
    });

    it.each([
      ['an empty user id', { actor: { kind: 'slack', userId: '', teamId: 'T0JITTEAM' } }, 'actor.userId'],
      [
        'a user id that is a list',
        { actor: { kind: 'slack', userId: ['U0ALICE01'], teamId: 'T0JITTEAM' } },
        'actor.userId',
      ],
      ['no team id', { actor: { kind: 'slack', userId: 'U0ALICE01' } }, 'actor.teamId'],
      ['a response_url that is not a URL', { responseUrl: 42 }, 'responseUrl'],
      ['a field the contract does not have', { extra: true }, '(root)'],
    ])(
      'refuses a command with %s (CommandRefusedError naming the field) and delivers nothing',
      async (_case, change, field) => {
        const subject = await setup();
        const command = { ...contractCommand(), ...change } as unknown as TopicCommand;
        const error = await subject.publisher.publish(command).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(CommandRefusedError);
        expect((error as CommandRefusedError).issues.join('\n')).toContain(field);
        expect((error as CommandRefusedError).message).not.toContain('U0ALICE01');
        const ids = (await subject.delivered()).map((r) => commandIn(r).commandId);
        expect(ids).not.toContain(command.commandId);
      },
    );

    it('fails with PublishFailedError when the topic cannot take it now, and delivers nothing', async () => {
      const subject = await setup();
      const command = contractCommand();
      subject.failNextTransient();
      const error = await subject.publisher.publish(command).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PublishFailedError);
      expect((error as PublishFailedError).commandType).toBe('request.cancel');
      const ids = (await subject.delivered()).map((r) => commandIn(r).commandId);
      expect(ids).not.toContain(command.commandId);
    });

    it('fails with PublishRejectedError naming what to fix when the topic refuses for good', async (context) => {
      const subject = await setup();
      if (!subject.misconfigured) return context.skip();
      const error = await subject
        .misconfigured()
        .publish(contractCommand())
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(PublishRejectedError);
      expect((error as PublishRejectedError).setting).toMatch(/ACCESS_TOPIC_ARN|permission|KMS/);
    });
  });
}
