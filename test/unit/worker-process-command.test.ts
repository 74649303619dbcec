import type { SNSEventRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { type CommandHandlers, processRecord } from '../../lambdas/worker/process-command.js';
import { COMMAND_VERSION } from '../../shared/messages/commands.js';
import { ChatRejectedError, ChatUnavailableError } from '../../shared/ports/chat.js';
import { capturingLogger } from '../fixtures/capturing-logger.js';

const cancel = {
  type: 'request.cancel',
  version: COMMAND_VERSION,
  commandId: 'cancel:0123456789abcdef',
  issuedAt: '2026-11-21T10:00:00.000Z',
  requestId: 'REQ-0K2M9Q7X',
  actor: { kind: 'slack', userId: 'U0ALICE01', teamId: 'T0JITTEAM' },
};

const record = {
  Sns: {
    MessageId: 'm-1',
    Message: JSON.stringify(cancel),
    MessageAttributes: {
      type: { Type: 'String', Value: 'request.cancel' },
      version: { Type: 'String', Value: '1' },
    },
  },
} as unknown as SNSEventRecord;

function handlersFailingWith(error: unknown): CommandHandlers {
  const fail = async () => {
    throw error;
  };
  return {
    submit: fail,
    decide: fail,
    cancel: fail,
    reissue: fail,
    expire: fail,
    revoke: fail,
    reconcile: fail,
    extend: fail,
    decideExtension: fail,
  };
}

describe('processRecord', () => {
  it('ends a command Slack refused for good, logging the setting to fix, so Lambda does not retry it', async () => {
    const lines: string[] = [];
    const refused = new ChatRejectedError(
      'chat.postMessage refused: invalid_auth',
      'invalid_auth',
      'SLACK_BOT_TOKEN (SLACK_BOT_TOKEN_ARN): the bot token is invalid or revoked',
    );
    const counted: string[] = [];
    await expect(
      processRecord(handlersFailingWith(refused), capturingLogger('worker', lines), record, 'inv-1', (code) =>
        counted.push(code),
      ),
    ).resolves.toBeUndefined();
    expect(lines.join('\n')).toContain('Slack refused for good');
    expect(lines.join('\n')).toContain('SLACK_BOT_TOKEN');
    // Counted for the alarm, once.
    expect(counted).toEqual(['invalid_auth']);
  });

  it('lets a transient Slack failure through, so Lambda retries the command', async () => {
    const unavailable = new ChatUnavailableError('chat.postMessage failed: ratelimited', 'ratelimited');
    const counted: string[] = [];
    await expect(
      processRecord(
        handlersFailingWith(unavailable),
        capturingLogger('worker', []),
        record,
        'inv-1',
        (code) => counted.push(code),
      ),
    ).rejects.toBe(unavailable);
    expect(counted).toEqual([]);
  });
});
