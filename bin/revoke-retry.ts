import { randomUUID } from 'node:crypto';
import { grantExpireCommand } from '../shared/messages/commands.js';
import { isRequestId } from '../shared/domain/request-id.js';

/*
 * `jit-access revoke --retry REQ-… --function <worker>`: for an operator who fixed what made a
 * revocation fail (the Vault connection, the database) and does not want to wait for reconcile's
 * backoff. It invokes the deployed worker with the grant's `grant.expire`, exactly as the expiry
 * schedule would deliver it: the worker retries the pending revocation now, records the attempt,
 * and, once Vault confirms, ends the grant and tells everyone. A grant that is not due and has no
 * pending revocation is left as it is.
 */

export interface RetryTarget {
  readonly functionName: string;
  readonly region?: string;
  /** An endpoint override (AWS_ENDPOINT_URL_LAMBDA); tests point it at the Lambda emulator. */
  readonly endpoint?: string;
}

export type RetryOutcome =
  { kind: 'done' } | { kind: 'failed'; message: string } | { kind: 'unreachable'; message: string };

export async function retryRevocation(
  requestId: string,
  target: RetryTarget,
  now = new Date(),
): Promise<RetryOutcome> {
  if (!isRequestId(requestId)) throw new TypeError(`${requestId} is not a request id (REQ-…)`);
  // Loaded here only: requesters' `creds` and `connect` never pay for the Lambda client.
  const { LambdaClient, InvokeCommand } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
  });
  const command = {
    ...grantExpireCommand(requestId, now, now),
    commandId: `retry:${requestId.toLowerCase()}:${randomUUID().slice(0, 8)}`,
  };
  const event = {
    Records: [
      {
        EventSource: 'aws:sns',
        EventVersion: '1.0',
        EventSubscriptionArn: 'jit-access-cli',
        Sns: {
          Type: 'Notification',
          MessageId: randomUUID(),
          TopicArn: 'jit-access-cli',
          Subject: null,
          Message: JSON.stringify(command),
          Timestamp: now.toISOString(),
          MessageAttributes: {
            type: { Type: 'String', Value: command.type },
            version: { Type: 'String', Value: String(command.version) },
          },
        },
      },
    ],
  };
  try {
    const answer = await client.send(
      new InvokeCommand({ FunctionName: target.functionName, Payload: Buffer.from(JSON.stringify(event)) }),
    );
    if (!answer.FunctionError) return { kind: 'done' };
    const payload = JSON.parse(Buffer.from(answer.Payload ?? new Uint8Array()).toString('utf8') || '{}') as {
      errorMessage?: string;
    };
    return { kind: 'failed', message: payload.errorMessage ?? answer.FunctionError };
  } catch (error) {
    const name = (error as { name?: string }).name ?? 'Error';
    return {
      kind: 'unreachable',
      message: `${name}: ${error instanceof Error ? error.message : String(error)}`,
    };
  } finally {
    client.destroy();
  }
}
