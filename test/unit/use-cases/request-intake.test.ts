import { describe, expect, it } from 'vitest';
import type { RequestId } from '../../../shared/domain/request-id.js';
import { parseTopicCommand, type TopicCommand } from '../../../shared/messages/commands.js';
import { type EventPublisher, PublishFailedError } from '../../../shared/ports/event-publisher.js';
import { submitAccessRequest } from '../../../shared/use-cases/request-intake.js';
import { InProcessTopic } from '../../../local/in-process-topic.js';

describe('submitAccessRequest', () => {
  const origin = {
    actor: { kind: 'slack' as const, userId: 'U0ALICE', teamId: 'T0TEAM', userName: 'alice' },
    channelId: 'C0GENERAL',
    responseUrl: 'https://hooks.slack.com/commands/T0TEAM/1/abc',
  };
  const request = {
    database: 'orders',
    level: 'read',
    duration: { minutes: 60 },
    justification: 'INC-1 checking rows',
  };

  function recorder(): EventPublisher & { published: TopicCommand[] } {
    const published: TopicCommand[] = [];
    return { published, publish: async (command) => void published.push(command) };
  }

  const deps = (
    publisher: EventPublisher,
    at = '2026-11-21T10:00:00Z',
    ids = ['REQ-0K2M9Q7X', 'REQ-0K2M9Q80'],
  ) => {
    const queue = [...ids];
    return { publisher, clock: { now: () => new Date(at) }, newRequestId: () => queue.shift() as RequestId };
  };

  it('publishes one request.submitted that the worker can parse', async () => {
    const publisher = recorder();
    const outcome = await submitAccessRequest(deps(publisher), request, origin, 'slash_command');
    expect(outcome).toEqual({ queued: true, value: { requestId: 'REQ-0K2M9Q7X' } });
    expect(publisher.published).toHaveLength(1);
    const command = parseTopicCommand(JSON.stringify(publisher.published[0]), {
      type: 'request.submitted',
      version: '1',
    });
    expect(command).toMatchObject({
      type: 'request.submitted',
      version: 1,
      requestId: 'REQ-0K2M9Q7X',
      requester: origin.actor,
      channelId: 'C0GENERAL',
      responseUrl: origin.responseUrl,
      via: 'slash_command',
      target: { database: 'orders', level: 'read' },
      durationMinutes: 60,
      justification: 'INC-1 checking rows',
      issuedAt: '2026-11-21T10:00:00.000Z',
    });
  });

  it('gives the same command id to the same request submitted twice in a row', async () => {
    const publisher = recorder();
    await submitAccessRequest(deps(publisher, '2026-11-21T10:00:01Z'), request, origin, 'slash_command');
    await submitAccessRequest(deps(publisher, '2026-11-21T10:00:09Z'), request, origin, 'slash_command');
    const [first, second] = publisher.published;
    expect(first?.commandId).toBe(second?.commandId);
  });

  it.each([
    ['another user', { ...origin, actor: { ...origin.actor, userId: 'U0BOB' } }, request],
    ['another level', origin, { ...request, level: 'write' }],
    ['another duration', origin, { ...request, duration: { minutes: 30 } }],
    ['another justification', origin, { ...request, justification: 'INC-2 other rows' }],
  ])('gives a different command id for %s', async (_what, otherOrigin, otherRequest) => {
    const publisher = recorder();
    await submitAccessRequest(deps(publisher), request, origin, 'slash_command');
    await submitAccessRequest(deps(publisher), otherRequest, otherOrigin, 'slash_command');
    expect(publisher.published[0]?.commandId).not.toBe(publisher.published[1]?.commandId);
  });

  it('reports "not queued" when the topic refuses, instead of claiming success', async () => {
    const failing: EventPublisher = {
      publish: async (command) => {
        throw new PublishFailedError(command.type, { cause: new Error('connect ECONNREFUSED') });
      },
    };
    expect(await submitAccessRequest(deps(failing), request, origin, 'slash_command')).toEqual({
      queued: false,
      why: 'unavailable',
    });
  });

  it.each([
    ['an empty user id', { ...origin.actor, userId: '' }, ['requester.userId']],
    ['a team id that is a list', { ...origin.actor, teamId: ['T0TEAM', 'T0OTHER'] }, ['requester.teamId']],
  ])('queues nothing for %s, and says which field was wrong', async (_case, actor, fields) => {
    const topic = new InProcessTopic();
    const malformed = { ...origin, actor: actor as unknown as typeof origin.actor };
    expect(await submitAccessRequest(deps(topic), request, malformed, 'slash_command')).toEqual({
      queued: false,
      why: 'malformed',
      fields,
    });
    expect(topic.published()).toEqual([]);
  });

  it('does not swallow programming errors as "not queued"', async () => {
    const broken: EventPublisher = {
      publish: async () => {
        throw new TypeError('bug');
      },
    };
    await expect(submitAccessRequest(deps(broken), request, origin, 'slash_command')).rejects.toThrow(
      TypeError,
    );
  });
});
