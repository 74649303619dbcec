import { describe, expect, it } from 'vitest';
import { ackEnvSchema } from '../../lambdas/ack/config.js';
import { createAckHandler } from '../../lambdas/ack/wiring.js';
import { ConfigError, parseEnv } from '../../shared/config/env.js';
import { LAMBDA_TEST_ENV } from '../fixtures/lambda-env.js';

const valid = LAMBDA_TEST_ENV.ack!;
const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:jit/slack-AbCdEf';

function problems(env: Record<string, string | undefined>): string[] {
  try {
    parseEnv('the ack Lambda', ackEnvSchema, env);
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  return [];
}

describe('the ack Lambda environment', () => {
  it.each([
    ['the test environment', valid],
    [
      'secrets given as ARNs',
      {
        ...valid,
        SLACK_SIGNING_SECRET: undefined,
        SLACK_SIGNING_SECRET_ARN: ARN,
        SLACK_BOT_TOKEN: undefined,
        SLACK_BOT_TOKEN_ARN: ARN,
      },
    ],
    ['a team restriction', { ...valid, SLACK_TEAM_ID: 'T0123ABCD' }],
  ])('accepts %s', (_what, env) => {
    expect(problems(env)).toEqual([]);
  });

  it.each([
    ['no topic', { ...valid, ACCESS_TOPIC_ARN: undefined }, 'ACCESS_TOPIC_ARN: is not set'],
    [
      'a topic name instead of an ARN',
      { ...valid, ACCESS_TOPIC_ARN: 'jit-access' },
      'ACCESS_TOPIC_ARN: must be an SNS topic ARN',
    ],
    [
      'no signing secret at all',
      { ...valid, SLACK_SIGNING_SECRET: undefined },
      'SLACK_SIGNING_SECRET: is not set (nor SLACK_SIGNING_SECRET_ARN)',
    ],
    [
      'both a token and its ARN',
      { ...valid, SLACK_BOT_TOKEN_ARN: ARN },
      'SLACK_BOT_TOKEN: set either SLACK_BOT_TOKEN or SLACK_BOT_TOKEN_ARN, not both',
    ],
    [
      'a user token',
      { ...valid, SLACK_BOT_TOKEN: 'xoxp-123' },
      'SLACK_BOT_TOKEN: must be a bot token (xoxb-…)',
    ],
    [
      'a KMS ARN as secret',
      {
        ...valid,
        SLACK_SIGNING_SECRET: undefined,
        SLACK_SIGNING_SECRET_ARN: 'arn:aws:kms:eu-west-1:123456789012:key/x',
      },
      'SLACK_SIGNING_SECRET_ARN: must be a Secrets Manager secret ARN',
    ],
    [
      'a channel name as team',
      { ...valid, SLACK_TEAM_ID: 'acme' },
      'SLACK_TEAM_ID: must be a Slack team id such as T0123ABCD',
    ],
  ])('refuses %s, naming the variable', (_what, env, problem) => {
    expect(problems(env)).toContain(problem);
  });

  it('fails at cold start, not on the first request, and without echoing secret values', () => {
    const env = { ...valid, SLACK_BOT_TOKEN: 'xoxp-secret-user-token', ACCESS_TOPIC_ARN: undefined };
    expect(() => createAckHandler(env)).toThrow(ConfigError);
    expect(() => createAckHandler(env)).toThrow(/ACCESS_TOPIC_ARN: is not set/);
    expect(() => createAckHandler(env)).not.toThrow(/xoxp-secret-user-token/);
  });
});
