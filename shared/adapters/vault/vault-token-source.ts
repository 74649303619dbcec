import vault from 'node-vault';
import { type AwsCredentials, awsLoginPayload } from './aws-login.js';
import { BrokerRejectedError, BrokerUnavailableError } from '../../ports/credential-broker.js';
import type { Clock } from '../../ports/clock.js';

/*
 * The worker's own Vault token. In AWS it logs in with its IAM role (auth/aws) and logs in again
 * before the token runs out, so no Vault secret is stored anywhere; locally a token from the
 * environment does.
 */

export type TokenSource = () => Promise<string>;

export interface AwsLoginSourceOptions {
  readonly endpoint: string;
  /** The Vault AWS auth role (`bound_iam_principal_arn` = the worker's Lambda role). */
  readonly role: string;
  /** The Lambda role's current credentials (the SDK's default provider chain in AWS). */
  readonly credentials: () => Promise<AwsCredentials>;
  readonly clock: Clock;
  readonly region?: string;
  readonly serverId?: string;
  readonly namespace?: string;
  /** Log in again once this share of the token's TTL has passed. */
  readonly refreshAt?: number;
}

export function staticTokenSource(token: string): TokenSource {
  return () => Promise.resolve(token);
}

export function awsLoginTokenSource(options: AwsLoginSourceOptions): TokenSource {
  let current: { token: string; refreshAfter: number } | undefined;
  let inFlight: Promise<string> | undefined;
  const login = async (): Promise<string> => {
    const payload = await awsLoginPayload({
      role: options.role,
      credentials: await options.credentials(),
      now: () => options.clock.now(),
      ...(options.region ? { region: options.region } : {}),
      ...(options.serverId ? { serverId: options.serverId } : {}),
    });
    const client = vault({
      apiVersion: 'v1',
      endpoint: options.endpoint,
      noCustomHTTPVerbs: true,
      ...(options.namespace ? { namespace: options.namespace } : {}),
      requestOptions: { timeout: 5000 },
    });
    let auth: { client_token?: unknown; lease_duration?: unknown } | undefined;
    try {
      auth = ((await client.write('auth/aws/login', payload)) as { auth?: typeof auth }).auth;
    } catch (error) {
      const response = (error as { response?: { statusCode?: number; body?: { errors?: unknown } } })
        .response;
      const said = Array.isArray(response?.body?.errors) ? response.body.errors.map(String).join('; ') : '';
      if (response?.statusCode === 400 || response?.statusCode === 403) {
        throw new BrokerRejectedError(
          `Vault refused the worker's AWS login: ${response.statusCode} ${said.slice(0, 300)}`,
          response.statusCode,
          `VAULT_AWS_ROLE and the Vault AWS auth role's bound_iam_principal_arn (the worker's Lambda role)`,
        );
      }
      throw new BrokerUnavailableError(
        `the worker could not log in to Vault: ${response?.statusCode ?? 'unreachable'}`,
      );
    }
    const token = String(auth?.client_token ?? '');
    const ttl = Number(auth?.lease_duration ?? 0);
    current = {
      token,
      refreshAfter: options.clock.now().getTime() + ttl * 1000 * (options.refreshAt ?? 0.8),
    };
    return token;
  };
  return async () => {
    if (current && options.clock.now().getTime() < current.refreshAfter) return current.token;
    inFlight ??= login().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };
}
